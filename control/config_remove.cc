// `no STATEMENT`: removes a forward, route or filter rule, or puts a setting
// back to its default; removing what is not there is an error.
#include <algorithm>
#include <string>
#include <vector>

#include "config_grammar.h"
#include "config_parse.h"

namespace ipshare {
namespace grammar {
namespace {

std::string no_match(std::string_view kind, const std::string& args) {
    return "no " + std::string(kind) + " matches " + quoted(args);
}

// `no SETTING [VALUE]` for a single-valued setting: back to its default. With
// a value (`no timeout udp 300`, as `show config` writes it), the value must
// be the current one. `w` stands after the setting's name.
template <typename Reset>
Error remove_setting(Config& cfg, Words& w, const std::string& setting, Reset reset) {
    if (!w.done()) {
        const std::string value = w.remaining();
        Config probe = cfg;
        if (auto e = apply_statement(probe, setting + " " + value, 0)) return e;
        if (!(probe == cfg)) return no_match(setting, value);
    }
    reset(cfg);
    return {};
}

// remove_setting for a setting held in `value`, with its line in `line`.
template <typename T>
Error remove_field(Config& cfg, Words& w, const std::string& setting, T Config::*value, int Config::*line) {
    return remove_setting(cfg, w, setting, [value, line](Config& c) {
        const Config defaults;
        c.*value = defaults.*value;
        c.*line = 0;
    });
}

Error remove_napt(Config& cfg, Words& w) {
    std::string_view setting;
    if (auto e = w.take(setting)) return e;
    const std::string name = "napt " + std::string(setting);
    if (setting == "ports") return remove_field(cfg, w, name, &Config::napt_ports, &Config::napt_ports_line);
    if (setting == "sessions")
        return remove_field(cfg, w, name, &Config::napt_sessions, &Config::napt_sessions_line);
    if (setting == "ports-per-client")
        return remove_field(cfg, w, name, &Config::napt_ports_per_client, &Config::napt_ports_per_client_line);
    if (setting == "filtering")
        return remove_field(cfg, w, name, &Config::napt_filtering, &Config::napt_filtering_line);
    return unknown_napt_setting(setting);
}

Error remove_timeout(Config& cfg, Words& w) {
    std::string_view kind;
    size_t i = 0;
    if (auto e = w.take(kind)) return e;
    if (auto e = find_timeout_kind(kind, i)) return e;
    return remove_setting(cfg, w, "timeout " + std::string(kind), [i](Config& c) {
        c.timeouts.*kTimeoutKinds[i].field = Timeouts{}.*kTimeoutKinds[i].field;
        c.timeout_line[i] = 0;
    });
}

Error remove_hairpin(Config& cfg, Words& w) {
    if (auto e = w.expect("source")) return e;
    return remove_field(cfg, w, "hairpin source", &Config::hairpin_source, &Config::hairpin_line);
}

// `no KIND NAME` removes the first item of that name (`same_name`); `no KIND
// NAME REST`, the whole statement, the first item equal to it. `parse_name`
// and `parse_rest` read the two parts, as the statement itself does.
template <typename T, typename SameName>
Error remove_item(std::vector<T>& items, Words& w, std::string_view kind, Error (*parse_name)(Words&, T&),
                  Error (*parse_rest)(Words&, T&), SameName same_name) {
    const std::string args = w.remaining();
    T item;
    if (auto e = parse_name(w, item)) return e;
    const bool whole = !w.done();
    if (whole)
        if (auto e = parse_rest(w, item)) return e;
    const auto it = std::find_if(items.begin(), items.end(),
                                 [&](const T& x) { return whole ? x == item : same_name(x, item); });
    if (it == items.end()) return no_match(kind, args);
    items.erase(it);
    return {};
}

// `no forward tcp 8080` removes the forward of these protocols and outside
// ports; `no forward tcp 8080 to A [port P]` the forward equal to it.
Error remove_forward(Config& cfg, Words& w) {
    return remove_item(cfg.forwards, w, "forward", parse_forward_ports, parse_forward_target,
                       [](const Forward& x, const Forward& f) { return x.protos == f.protos && x.ports == f.ports; });
}

// `no route PREFIX` removes the route to PREFIX; `no route PREFIX via A` (or
// `dev Z`) the route equal to it.
Error remove_route(Config& cfg, Words& w) {
    return remove_item(cfg.routes, w, "route", parse_route_prefix, parse_route_target,
                       [](const Route& x, const Route& r) { return x.dst == r.dst; });
}

// `no filter ACTION ...` removes the first rule equal to it (options in any
// order); `no filter policy from A to B [ACTION]` restores the default.
Error remove_filter(Config& cfg, Words& w) {
    const std::string args = w.remaining();
    std::string_view tok;
    FilterRule rule;
    if (auto e = w.take(tok)) return e;
    if (tok == "policy") {
        Zone from{};
        Zone to{};
        if (auto e = parse_policy_zones(w, from, to)) return e;
        const size_t f = size_t(from);
        const size_t t = size_t(to);
        return remove_setting(cfg, w, policy_name(from, to), [f, t](Config& c) {
            c.policies[f][t] = kDefaultPolicies[f][t];
            c.policy_line[f][t] = 0;
        });
    }
    if (auto e = parse_filter_action(tok, " or policy", rule.action)) return e;
    if (auto e = parse_filter_rule(w, rule)) return e;
    const auto it = std::find(cfg.filters.begin(), cfg.filters.end(), rule);
    if (it == cfg.filters.end()) return no_match("filter", args);
    cfg.filters.erase(it);
    return {};
}

}  // namespace

Error apply_no(Config& cfg, Words& w) {
    std::string_view kind;
    if (auto e = w.take(kind)) return e;
    std::string_view name;
    if (kind == "port") {
        std::string_view zone_tok;
        Zone zone{};
        if (auto e = w.take(zone_tok)) return e;
        if (auto e = parse_zone(zone_tok, zone)) return e;
        return quoted(port_name(size_t(zone))) + " cannot be removed, only changed";
    }
    if (kind == "lan") name = "lan address";
    if (kind == "wan") name = "wan network";
    if (kind == "server") name = "server address";
    if (!name.empty()) return quoted(name) + " cannot be removed, only changed";
    if (kind == "napt") return remove_napt(cfg, w);
    if (kind == "timeout") return remove_timeout(cfg, w);
    if (kind == "hairpin") return remove_hairpin(cfg, w);
    if (kind == "forward") return remove_forward(cfg, w);
    if (kind == "route") return remove_route(cfg, w);
    if (kind == "filter") return remove_filter(cfg, w);
    if (kind == "no") return "'no' cannot be removed";
    return "unknown statement " + quoted(kind);
}

}  // namespace grammar
}  // namespace ipshare
