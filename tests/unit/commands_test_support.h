// Test helpers for the control commands (control/commands.h): one request
// line run against a FakeApi, and its reply checked as "ok" or "error: ...".
// Addresses are written with ip() of config_test_support.h.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "commands.h"
#include "config_test_support.h"
#include "fake_control_api.h"
#include "json_check.h"

namespace ipshare::test {

struct Result {
    std::string reply;
    bool close = false;
};

inline Result run(FakeApi& api, const std::string& line) {
    Commands cmds(api);
    Result r;
    r.reply = cmds.execute(line, &r.close);
    return r;
}

// The reply must be "ok"; returns what follows the "ok" line.
inline std::string ok_body(FakeApi& api, const std::string& line) {
    const std::string reply = run(api, line).reply;
    EXPECT_EQ(reply.rfind("ok\n", 0), 0u) << line << " -> " << reply;
    return reply.size() >= 3 ? reply.substr(3) : reply;
}

// The reply must be "ok" and valid JSON (the line ends in --json); returns it.
inline std::string json_body(FakeApi& api, const std::string& line) {
    const std::string json = ok_body(api, line);
    EXPECT_TRUE(JsonCheck::valid(json)) << line << ":\n" << json;
    return json;
}

// The reply must be "error: MESSAGE"; returns MESSAGE.
inline std::string error_of(FakeApi& api, const std::string& line) {
    const std::string reply = run(api, line).reply;
    EXPECT_EQ(reply.rfind("error: ", 0), 0u) << line << " -> " << reply;
    EXPECT_EQ(reply.back(), '\n');
    return reply.substr(7, reply.size() - 8);
}

}  // namespace ipshare::test
