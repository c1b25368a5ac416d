// Unit tests for the control commands (control/commands.h): unknown and
// malformed requests, help and quit, exceptions of the API, and the
// splitting of a request into words.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "commands_test_support.h"

namespace ipshare {
namespace {

using namespace test;

// ---------------------------------------------------------------- errors, help and quit

TEST(Commands, UnknownCommand) {
    FakeApi api;
    EXPECT_EQ(run(api, "frob").reply, "error: unknown command 'frob' (try 'help')\n");
    EXPECT_EQ(run(api, "SHOW ports").reply, "error: unknown command 'SHOW' (try 'help')\n");
    EXPECT_EQ(run(api, "show\x01 ports").reply, "error: invalid control character in command\n");
    EXPECT_TRUE(api.calls.empty());
}

TEST(Commands, HelpQuitAndEmpty) {
    FakeApi api;
    const Result help = run(api, "help");
    EXPECT_EQ(help.reply.rfind("ok\n", 0), 0u);
    for (const char* w : {"show ports", "show drops", "show neighbours", "show sessions", "show forwards",
                          "show filter", "show config", "show workers", "show memory", "flush sessions",
                          "clear counters", "reload", "capture", "no STATEMENT", "quit"})
        EXPECT_NE(help.reply.find(w), std::string::npos) << w;
    EXPECT_FALSE(help.close);
    EXPECT_EQ(error_of(api, "help me"), "unexpected 'me' after 'help'");

    const Result quit = run(api, "quit");
    EXPECT_EQ(quit.reply, "ok\n");
    EXPECT_TRUE(quit.close);
    EXPECT_TRUE(run(api, "exit").close);
    EXPECT_FALSE(run(api, "quit now").close);

    EXPECT_EQ(run(api, "").reply, "ok\n");
    EXPECT_EQ(run(api, "   \t ").reply, "ok\n");
    EXPECT_EQ(ok_body(api, "  show   sessions   count  \r"), "4\n");
}

TEST(Commands, ApiExceptionsBecomeErrors) {
    class Throwing : public FakeApi {
        std::vector<PortRow> ports() override { throw std::runtime_error("port table busy"); }
    } api;
    Commands cmds(api);
    EXPECT_EQ(cmds.execute("show ports"), "error: internal error: port table busy\n");
}

TEST(SplitWords, QuotesAndBlanks) {
    std::vector<std::string> w;
    EXPECT_FALSE(split_words(" capture\twan  filter \"tcp port 80\" file /a.pcap ", &w));
    EXPECT_EQ(w, (std::vector<std::string>{"capture", "wan", "filter", "tcp port 80", "file", "/a.pcap"}));
    EXPECT_FALSE(split_words(R"(a "b \"c\" \\ d" e"f g"h "")", &w));
    EXPECT_EQ(w, (std::vector<std::string>{"a", R"(b "c" \ d)", "ef gh", ""}));
    EXPECT_TRUE(split_words("a \"b", &w));
    EXPECT_FALSE(split_words("", &w));
    EXPECT_TRUE(w.empty());
}

}  // namespace
}  // namespace ipshare
