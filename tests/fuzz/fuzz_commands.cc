// fuzz_commands: Commands::execute (the control socket's commands, and the
// configuration statements the CLI accepts) on arbitrary request lines,
// against a fake ControlApi that behaves like the daemon: it validates a
// configuration before taking it, and refuses what needs a restart. Each input is a session of up to 64 lines
// (split at LF), run in order against a fresh fake, so that statements build
// on each other.
//
// Checked on every line: no crash, no exception escapes; the reply is "ok" or
// "error: MESSAGE" as its first line, and every line of it ends with LF; no
// "internal error" (an exception other than a usage error); a `--json` reply
// that is ok holds one JSON document; and whatever configuration the commands
// made the router take is one that format_config writes and parse_config
// reads back equal (`show config` must give a loadable file).
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "commands.h"
#include "config_parse.h"

using namespace ipshare;

namespace {

constexpr const char* kReferenceConfig =
    "port wan net_af_packet0\n"
    "port lan net_af_packet1\n"
    "port dmz net_af_packet2\n"
    "lan address 192.168.1.1/24\n"
    "wan network 203.0.113.0/24 gateway 203.0.113.1\n"
    "server address 203.0.113.10\n"
    "napt ports 61000-65535\n"
    "timeout udp 600\n"
    "route 10.20.0.0/16 via 192.168.1.254\n"
    "route 203.0.113.128/25 dev wan\n"
    "forward tcp 2222 to 192.168.1.11 port 22\n"
    "filter deny from wan to lan proto tcp port 23\n";

uint32_t ip(const char* s) { return *parse_ipv4(s); }

// A ControlApi with fixed rows (the reference addresses) and a configuration
// that changes when a valid one is applied.
class FakeApi : public ControlApi {
public:
    FakeApi() {
        if (auto err = parse_config(kReferenceConfig, "ipshare.conf", config)) {
            std::fprintf(stderr, "fuzz_commands: %s\n", err->str().c_str());
            std::abort();
        }
        SessionRow s;
        s = {"tcp", "napt", ip("192.168.1.11"), 40000, ip("203.0.113.10"), 61001, ip("198.51.100.20"), 80,
             "established", 2, 7438, 15, 13, 0};
        sessions_.push_back(s);
        s = {"udp", "napt", ip("192.168.1.12"), 5353, ip("203.0.113.10"), 61002, ip("198.51.100.20"), 53,
             "active", 10, 290, 1, 1, 1};
        sessions_.push_back(s);
        s = {"icmp", "napt", ip("192.168.1.11"), 7, ip("203.0.113.10"), 61003, ip("198.51.100.20"), 0,
             "active", 1, 59, 4, 4, 0};
        sessions_.push_back(s);
    }

    std::vector<PortRow> ports() override {
        return {{"wan", "net_af_packet0", "up 10000 Mbps full-duplex", "02:00:00:00:00:01", 1523411, 1498702, 12, 0,
                 0, 1520.4, 1488.6},
                {"lan", "net_af_packet1", "down", "02:00:00:00:00:02", 0, 0, 0, 17, 2, 0, 0}};
    }
    std::vector<DropRow> drops() override {
        return {{"spoofed_source", "source address not valid for the ingress port", 7},
                {"no_route", "no route to the destination", 0}};
    }
    std::vector<NeighbourRow> neighbours() override {
        return {{"wan", ip("203.0.113.1"), "02:00:00:00:01:01", "reachable", 12},
                {"lan", ip("192.168.1.12"), "", "incomplete", 0}};
    }
    std::vector<SessionRow> sessions(const SessionFilter&, size_t limit) override {
        std::vector<SessionRow> out = sessions_;
        if (out.size() > limit) out.resize(limit);
        return out;
    }
    uint64_t session_count(const SessionFilter&) override { return sessions_.size(); }
    std::vector<ForwardRow> forwards() override {
        std::vector<ForwardRow> rows;
        for (const Forward& f : config.forwards) rows.push_back({format_forward(f), 1});
        return rows;
    }
    std::vector<FilterRow> filters() override {
        std::vector<FilterRow> rows;
        for (const FilterRule& r : config.filters) rows.push_back({format_filter_rule(r), 3, 180});
        return rows;
    }
    std::vector<WorkerRow> workers() override { return {{0, 1, 1234567, 8765432, 12.5, 2}}; }
    std::vector<MemoryRow> memory() override { return {{"mbuf pool", 2310, 14335}, {"fragments", 0, 0}}; }
    const Config& running_config() override { return config; }
    // As Daemon::apply_config: validated whole, and what the daemon sized its
    // tables and ports by cannot change while it runs.
    Outcome apply_config(const Config& next) override {
        if (auto err = validate_config(next)) return Outcome{false, err->str()};
        const Config& a = config;
        if (a.port_device != next.port_device || a.lan != next.lan || a.wan_network != next.wan_network ||
            a.wan_gateway != next.wan_gateway || a.server != next.server || a.napt_ports != next.napt_ports ||
            a.napt_sessions != next.napt_sessions || a.napt_ports_per_client != next.napt_ports_per_client ||
            a.timeouts.port_rest != next.timeouts.port_rest)
            return Outcome{false, "needs a restart"};
        config = next;
        ++applied;
        return Outcome{true, ""};
    }
    Outcome reload() override { return Outcome{true, ""}; }
    uint64_t flush_sessions(const SessionFilter&) override { return 2; }
    void clear_counters() override {}
    Outcome capture(const CaptureRequest&) override { return Outcome{false, "no capture in the fuzzer"}; }

    Config config;
    unsigned applied = 0;

private:
    std::vector<SessionRow> sessions_;
};

// RFC 8259, recursive descent: true when `s` is exactly one JSON value.
class JsonCheck {
public:
    static bool valid(const std::string& s) {
        JsonCheck c(s);
        c.ws();
        if (!c.value(0)) return false;
        c.ws();
        return c.i_ == s.size();
    }

private:
    explicit JsonCheck(const std::string& s) : s_(s) {}
    bool eat(char c) {
        if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
        return false;
    }
    void ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
    }
    bool literal(const char* w) {
        const std::string lit = w;
        if (s_.compare(i_, lit.size(), lit) != 0) return false;
        i_ += lit.size();
        return true;
    }
    bool string() {
        if (!eat('"')) return false;
        while (i_ < s_.size()) {
            const auto c = static_cast<unsigned char>(s_[i_++]);
            if (c == '"') return true;
            if (c < 0x20) return false;
            if (c == '\\') {
                if (i_ >= s_.size()) return false;
                const char e = s_[i_++];
                if (e == 'u') {
                    for (int k = 0; k < 4; ++k)
                        if (i_ >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[i_++]))) return false;
                } else if (std::string("\"\\/bfnrt").find(e) == std::string::npos) {
                    return false;
                }
            }
        }
        return false;
    }
    bool digits() {
        const size_t start = i_;
        while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
        return i_ > start;
    }
    bool number() {
        eat('-');
        if (!eat('0') && !digits()) return false;
        if (eat('.') && !digits()) return false;
        if (eat('e') || eat('E')) {
            if (!eat('+')) eat('-');
            if (!digits()) return false;
        }
        return true;
    }
    bool value(int depth) {
        if (depth > 64 || i_ >= s_.size()) return false;
        const char c = s_[i_];
        if (c == '{') {
            ++i_;
            ws();
            if (eat('}')) return true;
            do {
                ws();
                if (!string()) return false;
                ws();
                if (!eat(':')) return false;
                ws();
                if (!value(depth + 1)) return false;
                ws();
            } while (eat(','));
            return eat('}');
        }
        if (c == '[') {
            ++i_;
            ws();
            if (eat(']')) return true;
            do {
                ws();
                if (!value(depth + 1)) return false;
                ws();
            } while (eat(','));
            return eat(']');
        }
        if (c == '"') return string();
        if (c == 't') return literal("true");
        if (c == 'f') return literal("false");
        if (c == 'n') return literal("null");
        return number();
    }

    const std::string& s_;
    size_t i_ = 0;
};

[[noreturn]] void fail(const char* what, std::string_view line, const std::string& reply) {
    std::fprintf(stderr, "\n==== fuzz_commands: %s\n---- line (%zu bytes):\n%.*s\n---- reply:\n%s\n", what,
                 line.size(), static_cast<int>(line.size()), line.data(), reply.c_str());
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    FakeApi api;
    Commands cmds(api);
    size_t b = 0;
    for (int n = 0; n < 64 && b <= input.size(); ++n) {
        size_t e = input.find('\n', b);
        if (e == std::string_view::npos) e = input.size();
        const std::string_view line = input.substr(b, e - b);
        b = e + 1;

        const unsigned applied = api.applied;
        bool close = false;
        const std::string reply = cmds.execute(line, &close);
        const bool ok = reply.rfind("ok", 0) == 0 && (reply.size() == 2 || reply[2] == '\n');
        if (!ok && reply.rfind("error: ", 0) != 0) fail("reply is neither 'ok' nor 'error: ...'", line, reply);
        if (reply.empty() || reply.back() != '\n') fail("reply does not end with LF", line, reply);
        if (reply.rfind("error: internal error", 0) == 0) fail("an unexpected exception", line, reply);
        std::vector<std::string> words;
        if (ok && !split_words(line, &words) && !words.empty() && words[0] == "show" &&
            std::find(words.begin(), words.end(), "--json") != words.end()) {
            const std::string body = reply.substr(reply.find('\n') + 1);
            if (!JsonCheck::valid(body)) fail("--json reply is not one JSON document", line, reply);
        }
        if (api.applied != applied) {
            const std::string text = format_config(api.config);
            Config back;
            if (auto err = parse_config(text, "show-config.conf", back))
                fail("the configuration the CLI built is written as a file that does not load", line,
                     text + "\n---- error: " + err->str());
            if (!(back == api.config))
                fail("the configuration the CLI built does not read back equal", line, text);
        }
        if (close) break;
    }
    return 0;
}
