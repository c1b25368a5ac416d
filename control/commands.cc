// The control commands (docs/cli.md). Each command reads its words left to
// right through Args, which names what it expected when a word is missing or
// wrong; argument errors are thrown as UsageError and become "error: ...".
#include "commands.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <utility>

#include "../dataplane/tcp_state.h"
#include "config_parse.h"
#include "json.h"
#include "text_table.h"

namespace ipshare {
namespace {

struct UsageError {
    std::string message;
};

std::string quoted(std::string_view s) {
    std::string out = "'";
    out += s;
    out += '\'';
    return out;
}

constexpr bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// The words of one command, consumed left to right.
class Args {
public:
    explicit Args(std::vector<std::string> words) : words_(std::move(words)) {}

    bool done() const { return pos_ >= words_.size(); }
    const std::string& peek() const { return words_[pos_]; }

    // The words consumed so far, e.g. "show sessions proto".
    std::string consumed() const {
        std::string out;
        for (size_t i = 0; i < pos_; ++i) out += (i ? " " : "") + words_[i];
        return out;
    }

    // The next word; `expected` says what it should have been.
    std::string take(std::string_view expected) {
        if (done())
            throw UsageError{"missing argument after " + quoted(consumed()) + " (expected " + std::string(expected) +
                             ")"};
        return words_[pos_++];
    }

    // Removes every `flag` from the words not yet read; true if there was one.
    bool take_flag(std::string_view flag) {
        const auto it = std::remove(words_.begin() + static_cast<long>(pos_), words_.end(), flag);
        const bool found = it != words_.end();
        words_.erase(it, words_.end());
        return found;
    }

    void finish() const {
        if (!done()) throw UsageError{"unexpected " + quoted(words_[pos_]) + " after " + quoted(consumed())};
    }

private:
    std::vector<std::string> words_;
    size_t pos_ = 0;
};

// ---------------------------------------------------------------- values

// Plain decimal, no sign, no leading zero, at most `max`.
std::optional<uint64_t> parse_number(std::string_view s, uint64_t max) {
    if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return {};
    uint64_t v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return {};
        const uint64_t d = uint64_t(c - '0');
        if (v > (max - d) / 10) return {};
        v = v * 10 + d;
    }
    return v;
}

uint64_t number_arg(Args& a, std::string_view what, uint64_t lo, uint64_t hi) {
    const std::string range = std::to_string(lo) + ".." + std::to_string(hi);
    const std::string tok = a.take("a number " + range);
    const auto v = parse_number(tok, hi);
    if (!v || *v < lo) throw UsageError{"bad " + std::string(what) + " " + quoted(tok) + " (expected " + range + ")"};
    return *v;
}

uint32_t address_arg(Args& a) {
    const std::string tok = a.take("an address A.B.C.D");
    const auto v = parse_ipv4(tok);
    if (!v) throw UsageError{"bad address " + quoted(tok) + " (expected A.B.C.D)"};
    return *v;
}

struct ProtoName {
    const char* name;
    uint8_t number;
};
constexpr std::array<ProtoName, 6> kProtoNames = {
    {{"icmp", 1}, {"tcp", 6}, {"udp", 17}, {"gre", 47}, {"esp", 50}, {"sctp", 132}}};

uint8_t proto_arg(Args& a) {
    const std::string tok = a.take("tcp, udp, icmp, gre, esp, sctp or a protocol number 0..255");
    for (const auto& p : kProtoNames)
        if (tok == p.name) return p.number;
    const auto v = parse_number(tok, 255);
    if (!v) throw UsageError{"bad protocol " + quoted(tok) + " (expected tcp, udp, icmp, gre, esp, sctp or 0..255)"};
    return uint8_t(*v);
}

std::string state_arg(Args& a) {
    std::string names;
    for (const char* n : kTcpStateNames) names += std::string(n) + ", ";
    names += "or active";
    const std::string tok = a.take("a state: " + names);
    for (const char* n : kTcpStateNames)
        if (tok == n) return tok;
    if (tok == "active") return tok;
    throw UsageError{"unknown state " + quoted(tok) + " (expected " + names + ")"};
}

// ---------------------------------------------------------------- formatting

std::string endpoint(uint32_t ip, uint16_t port, const std::string& proto) {
    const bool ported = proto == "tcp" || proto == "udp" || proto == "sctp";
    if (!ported && port == 0) return format_ipv4(ip);
    return format_ipv4(ip) + ":" + std::to_string(port);
}

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string num(uint64_t v) { return std::to_string(v); }

using Col = TextTable::Column;
constexpr auto L = TextTable::Align::left;
constexpr auto R = TextTable::Align::right;

std::string ok(const std::string& body = {}) {
    if (body.empty()) return "ok\n";
    return "ok\n" + body + (body.back() == '\n' ? "" : "\n");
}

std::string error(const std::string& message) { return "error: " + message + "\n"; }

std::string outcome_reply(const Outcome& o, const std::string& fallback) {
    if (!o.ok) return error(o.message.empty() ? "failed" : o.message);
    return ok(o.message.empty() ? fallback : o.message);
}

bool is_policy(const std::string& statement) {
    return statement.rfind("policy", 0) == 0 || statement.rfind("filter policy", 0) == 0;
}

constexpr std::string_view kConfigWords[] = {"port",    "lan",     "wan",    "server",  "napt", "timeout",
                                             "route",   "forward", "filter", "hairpin", "no"};

constexpr const char* kShowExpected =
    "ports, drops, neighbours, sessions, forwards, filter, config, workers or memory";

constexpr const char* kHelp =
    "show ports [--json]                      ports: link, MAC, packets, rates, NIC errors\n"
    "show drops [nonzero] [--json]            dropped packets by reason\n"
    "show neighbours [--json]                 the ARP table (also: show neighbors)\n"
    "show sessions [FILTERS] [limit N] [--json]\n"
    "                                         NAT sessions (at most 1000 unless limit N)\n"
    "show sessions count [FILTERS] [--json]   how many sessions match\n"
    "show forwards [--json]                   port forwards and their live sessions\n"
    "show filter [--json]                     filter rules with packet and byte counts\n"
    "show config [--json]                     the running configuration\n"
    "show workers [--json]                    worker lcores: load and sessions\n"
    "show memory [--json]                     tables and pools: used and capacity\n"
    "flush sessions [FILTERS]                 delete the matching sessions\n"
    "clear counters                           set every counter to zero\n"
    "reload                                   read the configuration file again\n"
    "capture wan|lan|dmz [count N] [seconds S] [filter \"BPF\"] file /PATH.pcap\n"
    "                                         write packets to a pcap file\n"
    "STATEMENT                                apply a configuration statement:\n"
    "                                         port, lan, wan, server, napt, timeout,\n"
    "                                         route, forward, filter, hairpin\n"
    "no STATEMENT                             remove a configuration statement\n"
    "help                                     this list\n"
    "quit, exit                               close the connection\n"
    "FILTERS: proto tcp|udp|icmp|N  client A.B.C.D  remote A.B.C.D  port P  state NAME\n";

// ---------------------------------------------------------------- the commands

class Runner {
public:
    Runner(ControlApi& api, Args& args) : api_(api), a_(args) {}

    std::string show() {
        const bool json = a_.take_flag("--json");
        const std::string what = a_.take(kShowExpected);
        if (what == "ports") return a_.finish(), show_ports(json);
        if (what == "drops") {
            bool nonzero = false;
            if (!a_.done() && a_.peek() == "nonzero") {
                a_.take("");
                nonzero = true;
            }
            a_.finish();
            return show_drops(json, nonzero);
        }
        if (what == "neighbours" || what == "neighbors") return a_.finish(), show_neighbours(json);
        if (what == "sessions") return show_sessions(json);
        if (what == "forwards") return a_.finish(), show_forwards(json);
        if (what == "filter" || what == "filters") return a_.finish(), show_filter(json);
        if (what == "config") return a_.finish(), show_config(json);
        if (what == "workers") return a_.finish(), show_workers(json);
        if (what == "memory") return a_.finish(), show_memory(json);
        throw UsageError{"unknown 'show' " + quoted(what) + " (expected " + kShowExpected + ")"};
    }

    std::string flush() {
        const std::string what = a_.take("sessions");
        if (what != "sessions") throw UsageError{"unknown 'flush' " + quoted(what) + " (expected sessions)"};
        const SessionFilter f = session_filter(/*allow_limit=*/false, nullptr);
        const uint64_t n = api_.flush_sessions(f);
        return ok("flushed " + num(n) + (n == 1 ? " session" : " sessions"));
    }

    std::string clear() {
        const std::string what = a_.take("counters");
        if (what != "counters") throw UsageError{"unknown 'clear' " + quoted(what) + " (expected counters)"};
        a_.finish();
        api_.clear_counters();
        return ok("counters cleared");
    }

    std::string reload() {
        a_.finish();
        return outcome_reply(api_.reload(), "configuration reloaded");
    }

    std::string capture() {
        CaptureRequest r;
        r.zone = a_.take("wan, lan or dmz");
        if (r.zone != "wan" && r.zone != "lan" && r.zone != "dmz")
            throw UsageError{"unknown zone " + quoted(r.zone) + " (expected wan, lan or dmz)"};
        bool have_count = false, have_seconds = false, have_filter = false, have_file = false;
        auto once = [](bool& seen, const std::string& k) {
            if (seen) throw UsageError{"duplicate " + quoted(k) + " in 'capture'"};
            seen = true;
        };
        while (!a_.done()) {
            const std::string k = a_.take("");
            if (k == "count") {
                once(have_count, k);
                r.count = number_arg(a_, "count", 1, 1000000000);
            } else if (k == "seconds") {
                once(have_seconds, k);
                r.seconds = uint32_t(number_arg(a_, "seconds", 1, 86400));
            } else if (k == "filter") {
                once(have_filter, k);
                r.filter = a_.take("a BPF expression, in double quotes if it has blanks");
            } else if (k == "file") {
                once(have_file, k);
                r.file = a_.take("an absolute path ending in .pcap");
                if (r.file.empty() || r.file[0] != '/')
                    throw UsageError{"capture file " + quoted(r.file) + " must be an absolute path"};
                if (r.file.size() < 6 || r.file.compare(r.file.size() - 5, 5, ".pcap") != 0)
                    throw UsageError{"capture file " + quoted(r.file) + " must end in .pcap"};
            } else {
                throw UsageError{"unknown capture option " + quoted(k) +
                                 " (expected count, seconds, filter or file; a filter with blanks goes in "
                                 "double quotes: filter \"tcp port 80\")"};
            }
        }
        if (!have_count && !have_seconds) throw UsageError{"capture needs 'count N' or 'seconds S' (or both)"};
        if (!have_file) throw UsageError{"capture needs 'file /PATH.pcap'"};
        std::string what = "capturing on " + r.zone;
        if (have_count) what += ", " + num(r.count) + (r.count == 1 ? " packet" : " packets");
        if (have_seconds) what += ", " + num(r.seconds) + (r.seconds == 1 ? " second" : " seconds");
        if (have_filter) what += ", filter \"" + r.filter + "\"";
        what += ", to " + r.file;
        return outcome_reply(api_.capture(r), what);
    }

private:
    // The filters of `show sessions`, `show sessions count`, `flush sessions`.
    SessionFilter session_filter(bool allow_limit, size_t* limit) {
        const std::string cmd = a_.consumed();
        SessionFilter f;
        bool have_limit = false;
        const char* expected = allow_limit ? "proto, client, remote, port, state or limit"
                                           : "proto, client, remote, port or state";
        auto once = [&](bool seen, const std::string& k) {
            if (seen) throw UsageError{"duplicate " + quoted(k) + " in " + quoted(cmd)};
        };
        while (!a_.done()) {
            const std::string k = a_.take(expected);
            if (k == "proto") {
                once(f.proto.has_value(), k);
                f.proto = proto_arg(a_);
            } else if (k == "client") {
                once(f.client.has_value(), k);
                f.client = address_arg(a_);
            } else if (k == "remote") {
                once(f.remote.has_value(), k);
                f.remote = address_arg(a_);
            } else if (k == "port") {
                once(f.port.has_value(), k);
                f.port = uint16_t(number_arg(a_, "port", 0, 65535));
            } else if (k == "state") {
                once(f.state.has_value(), k);
                f.state = state_arg(a_);
            } else if (k == "limit" && allow_limit) {
                once(have_limit, k);
                have_limit = true;
                *limit = size_t(number_arg(a_, "limit", 1, Commands::kMaxLimit));
            } else if (k == "limit") {
                throw UsageError{"'limit' does not apply to " + quoted(cmd)};
            } else {
                throw UsageError{"unknown session filter " + quoted(k) + " (expected " + expected + ")"};
            }
        }
        return f;
    }

    std::string show_ports(bool json) {
        const auto rows = api_.ports();
        if (json) {
            JsonWriter j;
            j.begin_object().key("ports").begin_array();
            for (const auto& p : rows) {
                j.begin_object()
                    .field("zone", p.zone)
                    .field("device", p.device)
                    .field("link", p.link)
                    .field("mac", p.mac)
                    .field("rx", p.rx)
                    .field("tx", p.tx)
                    .field("dropped", p.dropped)
                    .field("rx_pps", p.rx_pps)
                    .field("tx_pps", p.tx_pps)
                    .field("nic_missed", p.nic_missed)
                    .field("nic_errors", p.nic_errors)
                    .end_object();
            }
            j.end_array().end_object();
            return ok(j.str());
        }
        TextTable t({{"ZONE", L},
                     {"DEVICE", L},
                     {"LINK", L},
                     {"MAC", L},
                     {"RX", R},
                     {"TX", R},
                     {"DROPPED", R},
                     {"RX-PPS", R},
                     {"TX-PPS", R},
                     {"NIC-MISSED", R},
                     {"NIC-ERRORS", R}});
        for (const auto& p : rows)
            t.add({p.zone, p.device, p.link, p.mac, num(p.rx), num(p.tx), num(p.dropped), fixed(p.rx_pps, 0),
                   fixed(p.tx_pps, 0), num(p.nic_missed), num(p.nic_errors)});
        return ok(t.str());
    }

    std::string show_drops(bool json, bool nonzero) {
        auto rows = api_.drops();
        if (nonzero) std::erase_if(rows, [](const DropRow& d) { return d.count == 0; });
        if (json) {
            JsonWriter j;
            j.begin_object().key("drops").begin_array();
            for (const auto& d : rows)
                j.begin_object()
                    .field("reason", d.name)
                    .field("count", d.count)
                    .field("description", d.description)
                    .end_object();
            j.end_array().end_object();
            return ok(j.str());
        }
        TextTable t({{"REASON", L}, {"COUNT", R}, {"DESCRIPTION", L}});
        for (const auto& d : rows) t.add({d.name, num(d.count), d.description});
        return ok(t.str());
    }

    std::string show_neighbours(bool json) {
        const auto rows = api_.neighbours();
        if (json) {
            JsonWriter j;
            j.begin_object().key("neighbours").begin_array();
            for (const auto& n : rows)
                j.begin_object()
                    .field("zone", n.zone)
                    .field("address", format_ipv4(n.ip))
                    .field("mac", n.mac)
                    .field("state", n.state)
                    .field("age_seconds", n.age_seconds)
                    .end_object();
            j.end_array().end_object();
            return ok(j.str());
        }
        TextTable t({{"ZONE", L}, {"ADDRESS", L}, {"MAC", L}, {"STATE", L}, {"AGE", R}});
        for (const auto& n : rows) t.add({n.zone, format_ipv4(n.ip), n.mac, n.state, num(n.age_seconds)});
        return ok(t.str());
    }

    std::string show_sessions(bool json) {
        if (!a_.done() && a_.peek() == "count") {
            a_.take("");
            const SessionFilter f = session_filter(false, nullptr);
            const uint64_t n = api_.session_count(f);
            if (json) return ok(JsonWriter().begin_object().field("count", n).end_object().str());
            return ok(num(n));
        }
        size_t limit = Commands::kDefaultLimit;
        const SessionFilter f = session_filter(true, &limit);
        auto rows = api_.sessions(f, limit);
        if (rows.size() > limit) rows.resize(limit);
        uint64_t more = 0;
        if (rows.size() >= limit) {
            const uint64_t total = api_.session_count(f);
            more = total > rows.size() ? total - rows.size() : 0;
        }
        if (json) {
            JsonWriter j;
            j.begin_object().key("sessions").begin_array();
            for (const auto& s : rows)
                j.begin_object()
                    .field("proto", s.proto)
                    .field("kind", s.kind)
                    .field("client_ip", format_ipv4(s.client_ip))
                    .field("client_port", s.client_port)
                    .field("outside_ip", format_ipv4(s.outside_ip))
                    .field("outside_port", s.outside_port)
                    .field("remote_ip", format_ipv4(s.remote_ip))
                    .field("remote_port", s.remote_port)
                    .field("state", s.state)
                    .field("idle_seconds", s.idle_seconds)
                    .field("expires_in", s.expires_in)
                    .field("packets_out", s.packets_out)
                    .field("packets_in", s.packets_in)
                    .field("worker", s.worker)
                    .end_object();
            j.end_array().field("more", more).end_object();
            return ok(j.str());
        }
        TextTable t({{"PROTO", L},
                     {"KIND", L},
                     {"CLIENT", L},
                     {"OUTSIDE", L},
                     {"REMOTE", L},
                     {"STATE", L},
                     {"IDLE", R},
                     {"EXPIRES", R},
                     {"PKTS-OUT", R},
                     {"PKTS-IN", R},
                     {"WORKER", R}});
        for (const auto& s : rows)
            t.add({s.proto, s.kind, endpoint(s.client_ip, s.client_port, s.proto),
                   endpoint(s.outside_ip, s.outside_port, s.proto), endpoint(s.remote_ip, s.remote_port, s.proto),
                   s.state, num(s.idle_seconds), num(s.expires_in), num(s.packets_out), num(s.packets_in),
                   num(s.worker)});
        std::string body = t.str();
        if (more > 0) body += "... " + num(more) + " more\n";
        return ok(body);
    }

    std::string show_forwards(bool json) {
        const auto rows = api_.forwards();
        if (json) {
            JsonWriter j;
            j.begin_object().key("forwards").begin_array();
            for (const auto& f : rows)
                j.begin_object().field("statement", f.statement).field("sessions", f.sessions).end_object();
            j.end_array().end_object();
            return ok(j.str());
        }
        TextTable t({{"SESSIONS", R}, {"FORWARD", L}});
        for (const auto& f : rows) t.add({num(f.sessions), f.statement});
        return ok(t.str());
    }

    std::string show_filter(bool json) {
        auto rows = api_.filters();
        std::stable_partition(rows.begin(), rows.end(), [](const FilterRow& r) { return !is_policy(r.statement); });
        if (json) {
            JsonWriter j;
            j.begin_object().key("filters").begin_array();
            for (const auto& f : rows)
                j.begin_object()
                    .field("statement", f.statement)
                    .field("policy", is_policy(f.statement))
                    .field("packets", f.packets)
                    .field("bytes", f.bytes)
                    .end_object();
            j.end_array().end_object();
            return ok(j.str());
        }
        TextTable t({{"PKTS", R}, {"BYTES", R}, {"RULE", L}});
        for (const auto& f : rows) t.add({num(f.packets), num(f.bytes), f.statement});
        return ok(t.str());
    }

    std::string show_config(bool json) {
        const Config& cfg = api_.running_config();
        const std::string text = format_config(cfg);
        if (!json) return ok(text);
        JsonWriter j;
        j.begin_object().field("file", cfg.file).key("statements").begin_array();
        size_t pos = 0;
        while (pos < text.size()) {
            size_t nl = text.find('\n', pos);
            if (nl == std::string::npos) nl = text.size();
            if (nl > pos) j.value(std::string_view(text).substr(pos, nl - pos));
            pos = nl + 1;
        }
        j.end_array().end_object();
        return ok(j.str());
    }

    std::string show_workers(bool json) {
        const auto rows = api_.workers();
        if (json) {
            JsonWriter j;
            j.begin_object().key("workers").begin_array();
            for (const auto& w : rows)
                j.begin_object()
                    .field("worker", w.worker)
                    .field("lcore", w.lcore)
                    .field("busy_percent", w.busy_percent)
                    .field("sessions", w.sessions)
                    .field("busy_polls", w.busy_polls)
                    .field("idle_polls", w.idle_polls)
                    .end_object();
            j.end_array().end_object();
            return ok(j.str());
        }
        TextTable t({{"WORKER", R}, {"LCORE", R}, {"BUSY%", R}, {"SESSIONS", R}, {"BUSY-POLLS", R}, {"IDLE-POLLS", R}});
        for (const auto& w : rows)
            t.add({num(w.worker), num(w.lcore), fixed(w.busy_percent, 1), num(w.sessions), num(w.busy_polls),
                   num(w.idle_polls)});
        return ok(t.str());
    }

    std::string show_memory(bool json) {
        const auto rows = api_.memory();
        if (json) {
            JsonWriter j;
            j.begin_object().key("memory").begin_array();
            for (const auto& m : rows)
                j.begin_object().field("name", m.name).field("used", m.used).field("capacity", m.capacity).end_object();
            j.end_array().end_object();
            return ok(j.str());
        }
        TextTable t({{"NAME", L}, {"USED", R}, {"CAPACITY", R}, {"USE%", R}});
        for (const auto& m : rows)
            t.add({m.name, num(m.used), num(m.capacity),
                   m.capacity ? fixed(100.0 * double(m.used) / double(m.capacity), 1) : "-"});
        return ok(t.str());
    }

    ControlApi& api_;
    Args& a_;
};

}  // namespace

std::optional<std::string> split_words(std::string_view line, std::vector<std::string>* out) {
    out->clear();
    size_t i = 0;
    while (i < line.size()) {
        if (is_blank(line[i])) {
            ++i;
            continue;
        }
        std::string word;
        while (i < line.size() && !is_blank(line[i])) {
            const char c = line[i];
            if ((c >= 0 && c < 0x20) || c == 0x7f) return "invalid control character in command";
            if (c != '"') {
                word += c;
                ++i;
                continue;
            }
            ++i;  // the opening quote
            for (;;) {
                if (i >= line.size()) return "unterminated quote in command";
                const char q = line[i++];
                if (q == '"') break;
                if ((q >= 0 && q < 0x20 && q != '\t') || q == 0x7f) return "invalid control character in command";
                if (q == '\\' && i < line.size() && (line[i] == '"' || line[i] == '\\')) {
                    word += line[i++];
                } else {
                    word += q;
                }
            }
        }
        out->push_back(std::move(word));
    }
    return {};
}

std::string Commands::execute(std::string_view line, bool* close_after) {
    if (close_after) *close_after = false;
    try {
        // A statement of the configuration grammar goes to its own parser,
        // text untouched (it has no quoting).
        std::vector<std::string> plain;
        {
            size_t b = 0;
            while (b < line.size() && is_blank(line[b])) ++b;
            size_t e = b;
            while (e < line.size() && !is_blank(line[e])) ++e;
            const std::string_view first = line.substr(b, e - b);
            if (std::find(std::begin(kConfigWords), std::end(kConfigWords), first) != std::end(kConfigWords)) {
                Config next = api_.running_config();
                if (auto err = apply_statement(next, line, 0)) return error(*err);
                return outcome_reply(api_.apply_config(next), "");
            }
        }
        std::vector<std::string> words;
        if (auto err = split_words(line, &words)) return error(*err);
        if (words.empty()) return ok();
        const std::string cmd = words[0];
        Args args(std::move(words));
        args.take("");
        Runner run(api_, args);
        if (cmd == "show") return run.show();
        if (cmd == "flush") return run.flush();
        if (cmd == "clear") return run.clear();
        if (cmd == "reload") return run.reload();
        if (cmd == "capture") return run.capture();
        if (cmd == "help") return args.finish(), ok(kHelp);
        if (cmd == "quit" || cmd == "exit") {
            args.finish();
            if (close_after) *close_after = true;
            return ok();
        }
        return error("unknown command " + quoted(cmd) + " (try 'help')");
    } catch (const UsageError& e) {
        return error(e.message);
    } catch (const std::exception& e) {
        return error(std::string("internal error: ") + e.what());
    }
}

}  // namespace ipshare
