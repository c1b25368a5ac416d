// fuzz_commands: Commands::execute (the control socket's commands, and the
// configuration statements the CLI accepts) on arbitrary request lines,
// against the unit tests' fake ControlApi made to behave like the daemon: it
// validates a configuration before taking it, and refuses what needs a restart. Each input is a session of up to 64 lines
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
#include "fake_control_api.h"
#include "json_check.h"

using namespace ipshare;

namespace {

// The fake's reference configuration, with a forward and a filter rule.
constexpr const char* kMoreConfig =
    "forward tcp 2222 to 192.168.1.11 port 22\n"
    "filter deny from wan to lan proto tcp port 23\n";

// The unit tests' fake (tests/unit/fake_control_api.h), made to behave like
// the daemon where the fuzzer needs it: it validates a configuration before
// taking it, refuses what needs a restart, and shows the forwards and filters
// of the configuration it runs.
class FuzzApi : public test::FakeApi {
public:
    FuzzApi() {
        config = Config{};
        if (auto err = parse_config(std::string(kConfigText) + kMoreConfig, "ipshare.conf", config)) {
            std::fprintf(stderr, "fuzz_commands: %s\n", err->str().c_str());
            std::abort();
        }
        capture_result = Outcome{false, "no capture in the fuzzer"};
    }

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
        ++taken;
        return Outcome{true, ""};
    }

    unsigned taken = 0;  // configurations taken
};

[[noreturn]] void fail(const char* what, std::string_view line, const std::string& reply) {
    std::fprintf(stderr, "\n==== fuzz_commands: %s\n---- line (%zu bytes):\n%.*s\n---- reply:\n%s\n", what,
                 line.size(), static_cast<int>(line.size()), line.data(), reply.c_str());
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    FuzzApi api;
    Commands cmds(api);
    size_t b = 0;
    for (int n = 0; n < 64 && b <= input.size(); ++n) {
        size_t e = input.find('\n', b);
        if (e == std::string_view::npos) e = input.size();
        const std::string_view line = input.substr(b, e - b);
        b = e + 1;

        const unsigned taken = api.taken;
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
            if (!test::JsonCheck::valid(body)) fail("--json reply is not one JSON document", line, reply);
        }
        if (api.taken != taken) {
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
