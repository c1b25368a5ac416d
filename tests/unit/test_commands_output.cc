// Unit tests for what carries the replies of the control commands: the
// framing (control/ctl_protocol.h), the text and JSON writers
// (control/text_table.h, control/json.h) and the JSON checker the other
// command tests rely on (json_check.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "commands.h"
#include "ctl_protocol.h"
#include "json.h"
#include "json_check.h"
#include "text_table.h"

namespace ipshare {
namespace {

using namespace test;

// ---------------------------------------------------------------- the JSON checker

TEST(JsonCheck, AcceptsAndRejects) {
    EXPECT_TRUE(JsonCheck::valid(R"({"a": [1, -2.5, 3e4, true, false, null, "x\n\u00e9"], "b": {}})"));
    EXPECT_TRUE(JsonCheck::valid("[]"));
    EXPECT_FALSE(JsonCheck::valid("{\"a\": 1,}"));
    EXPECT_FALSE(JsonCheck::valid("[1 2]"));
    EXPECT_FALSE(JsonCheck::valid("{a: 1}"));
    EXPECT_FALSE(JsonCheck::valid("\"tab\there\""));
    EXPECT_FALSE(JsonCheck::valid("01"));
    EXPECT_FALSE(JsonCheck::valid("{} {}"));
}

// ---------------------------------------------------------------- framing

TEST(Protocol, FrameReplyStuffsDots) {
    EXPECT_EQ(ctl::frame_reply("ok\n"), "ok\n.\n");
    EXPECT_EQ(ctl::frame_reply("ok"), "ok\n.\n");
    EXPECT_EQ(ctl::frame_reply("ok\n.\n..x\nend\n"), "ok\n..\n...x\nend\n.\n");
    EXPECT_EQ(ctl::frame_reply("ok\n\nb\n"), "ok\n\nb\n.\n");
}

TEST(Protocol, ReaderUndoesTheFraming) {
    const std::string body = "ok\n.\n..x\n\n.hidden\nlast";
    const std::string framed = ctl::frame_reply(body) + "ok\n.\n";  // and the start of a next reply
    // Fed whole, and byte by byte.
    for (size_t step : {framed.size(), size_t{1}, size_t{3}}) {
        ctl::ReplyReader r;
        size_t pos = 0;
        size_t used_total = 0;
        while (!r.done() && pos < framed.size()) {
            const size_t n = std::min(step, framed.size() - pos);
            used_total += r.feed(std::string_view(framed).substr(pos, n));
            pos += n;
        }
        ASSERT_TRUE(r.done());
        EXPECT_TRUE(r.ok());
        EXPECT_EQ(r.lines(), (std::vector<std::string>{"ok", ".", "..x", "", ".hidden", "last"}));
        EXPECT_EQ(framed.substr(used_total), "ok\n.\n");
    }
    ctl::ReplyReader e;
    e.feed("error: no\r\n.\r\n");
    EXPECT_TRUE(e.done());
    EXPECT_FALSE(e.ok());
    EXPECT_EQ(e.lines(), std::vector<std::string>{"error: no"});
}

TEST(Protocol, JoinWordsRoundTrips) {
    const std::vector<std::string> words = {"capture", "wan", "filter", "tcp port 80 and not host \"x\"", "file",
                                            "/tmp/a b\\c.pcap"};
    const std::string line = ctl::join_words(words);
    EXPECT_EQ(line, R"(capture wan filter "tcp port 80 and not host \"x\"" file "/tmp/a b\\c.pcap")");
    std::vector<std::string> back;
    EXPECT_FALSE(split_words(line, &back));
    EXPECT_EQ(back, words);
    EXPECT_EQ(ctl::join_words({"show", "ports"}), "show ports");
}

// ---------------------------------------------------------------- writers

TEST(TextTable, AlignsNumbersRightAndTextLeft) {
    TextTable t({{"NAME", TextTable::Align::left}, {"N", TextTable::Align::right}, {"NOTE", TextTable::Align::left}});
    t.add({"a", "1", "x"});
    t.add({"longer", "12345", ""});
    t.add({"b"});
    EXPECT_EQ(t.str(),
              "NAME        N  NOTE\n"
              "a           1  x\n"
              "longer  12345\n"
              "b\n");
}

TEST(JsonWriter, NestingAndEscapes) {
    JsonWriter j;
    j.begin_object()
        .field("s", "a\"b\\c\n\x01")
        .field("n", uint64_t{18446744073709551615u})
        .field("neg", -5)
        .field("d", 2.50)
        .field("whole", 3.0)
        .field("nan", std::nan(""))
        .field("t", true)
        .key("empty")
        .begin_array()
        .end_array()
        .key("list")
        .begin_array()
        .value(1)
        .begin_object()
        .end_object()
        .end_array()
        .end_object();
    const std::string s = j.str();
    EXPECT_EQ(s,
              "{\n"
              "  \"s\": \"a\\\"b\\\\c\\n\\u0001\",\n"
              "  \"n\": 18446744073709551615,\n"
              "  \"neg\": -5,\n"
              "  \"d\": 2.5,\n"
              "  \"whole\": 3,\n"
              "  \"nan\": null,\n"
              "  \"t\": true,\n"
              "  \"empty\": [],\n"
              "  \"list\": [\n"
              "    1,\n"
              "    {}\n"
              "  ]\n"
              "}\n");
    EXPECT_TRUE(JsonCheck::valid(s));
}

}  // namespace
}  // namespace ipshare
