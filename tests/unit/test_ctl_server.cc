// Unit tests for the control socket server (control/ctl_server.h): real Unix
// sockets in a temporary directory, the server driven by poll_once() from the
// test thread as the daemon's control loop drives it, clients in the same
// thread (non-blocking) or in their own threads. Every wait is bounded.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "ctl_protocol.h"
#include "ctl_server.h"

namespace ipshare {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "ipshare-ctl-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) std::abort();
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

// Answers "echo X" with X, "big N" with N bytes of body, "quit" by closing,
// anything else with an error; counts the requests.
struct TestHandler {
    std::atomic<int> requests{0};
    std::string operator()(const std::string& line, bool* close_after) {
        ++requests;
        if (line.rfind("echo ", 0) == 0) return "ok\n" + line.substr(5) + "\n";
        if (line.rfind("big ", 0) == 0) {
            const size_t n = std::stoul(line.substr(4));
            std::string body;
            while (body.size() < n) body += std::string(99, 'x') + "\n";
            return "ok\n" + body;
        }
        if (line == "quit") {
            *close_after = true;
            return "ok\n";
        }
        if (line.size() == ctl::kMaxRequestLine) return "ok\nlength " + std::to_string(line.size()) + "\n";
        return "error: unknown '" + line + "'\n";
    }
};

CtlServer::Handler handler_of(TestHandler& h) {
    return [&h](const std::string& line, bool* close_after) { return h(line, close_after); };
}

int connect_to(const std::string& path) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

bool send_all(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
        const ssize_t w = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (w <= 0) return false;
        off += size_t(w);
    }
    return true;
}

// A client in the test thread: it never blocks, the server is pumped while
// it waits.
struct Client {
    int fd = -1;
    std::string pending;  // received, not yet consumed
    bool eof = false;

    explicit Client(const std::string& path) : fd(connect_to(path)) {}
    ~Client() {
        if (fd >= 0) close(fd);
    }

    void receive() {
        char buf[65536];
        for (;;) {
            const ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (r > 0) {
                pending.append(buf, size_t(r));
                continue;
            }
            if (r == 0 || (errno != EAGAIN && errno != EINTR)) eof = true;  // EOF or ECONNRESET
            return;
        }
    }

    // One reply's lines, pumping `server` until it is complete; nothing on
    // EOF or after the deadline.
    std::optional<std::vector<std::string>> reply(CtlServer& server, Clock::duration limit = 5s) {
        const auto deadline = Clock::now() + limit;
        ctl::ReplyReader r;
        while (Clock::now() < deadline) {
            pending.erase(0, r.feed(pending));
            if (r.done()) return r.lines();
            if (eof) return {};
            server.poll_once();
            receive();
            if (pending.empty()) std::this_thread::sleep_for(100us);
        }
        return {};
    }

    // Pumps until the server closes the connection; true if it did in time.
    bool wait_eof(CtlServer& server, Clock::duration limit = 5s) {
        const auto deadline = Clock::now() + limit;
        while (Clock::now() < deadline) {
            server.poll_once();
            receive();
            if (eof) return true;
            std::this_thread::sleep_for(200us);
        }
        return false;
    }
};

// Pumps the server until `done` or the deadline.
template <typename Pred>
bool pump_until(CtlServer& server, Pred done, Clock::duration limit = 5s) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
        server.poll_once();
        if (done()) return true;
        std::this_thread::sleep_for(200us);
    }
    return done();
}

// A server with the TestHandler on ctl.sock in a directory of its own,
// listening (or `listening` is false and EXPECT said why).
struct Served {
    explicit Served(CtlServer::Limits limits = {}) : server(path, handler_of(h), limits) {
        std::string err;
        listening = server.listen(&err);
        EXPECT_TRUE(listening) << err;
    }
    TempDir dir;
    TestHandler h;
    const std::string path = dir / "ctl.sock";
    CtlServer server;
    bool listening = false;
};

std::vector<std::string> lines(std::initializer_list<const char*> l) { return {l.begin(), l.end()}; }

TEST(CtlServer, AnswersWithFramedReplies) {
    Served s;
    ASSERT_TRUE(s.listening);
    EXPECT_GE(s.server.fd(), 0);

    Client c(s.path);
    ASSERT_GE(c.fd, 0);
    ASSERT_TRUE(send_all(c.fd, "echo hello\n"));
    EXPECT_EQ(c.reply(s.server), lines({"ok", "hello"}));
    // The bytes on the wire: dot-stuffed lines, then the terminator.
    ASSERT_TRUE(send_all(c.fd, "echo .dot\n"));
    ASSERT_TRUE(pump_until(s.server, [&] {
        c.receive();
        return c.pending.size() >= 11;
    }));
    EXPECT_EQ(c.pending, "ok\n..dot\n.\n");
    c.pending.clear();
    ASSERT_TRUE(send_all(c.fd, "frob\r\n"));
    EXPECT_EQ(c.reply(s.server), lines({"error: unknown 'frob'"}));
    EXPECT_EQ(s.server.clients(), 1u);
}

TEST(CtlServer, PipelinedRequestsAreAnsweredInOrder) {
    Served s;
    ASSERT_TRUE(s.listening);
    Client c(s.path);
    ASSERT_TRUE(send_all(c.fd, "echo 1\necho 2\n\necho 3\n"));
    EXPECT_EQ(c.reply(s.server), lines({"ok", "1"}));
    EXPECT_EQ(c.reply(s.server), lines({"ok", "2"}));
    EXPECT_EQ(c.reply(s.server), lines({"error: unknown ''"}));
    EXPECT_EQ(c.reply(s.server), lines({"ok", "3"}));
}

TEST(CtlServer, QuitClosesAfterTheReply) {
    Served s;
    ASSERT_TRUE(s.listening);
    Client c(s.path);
    ASSERT_TRUE(send_all(c.fd, "quit\n"));
    EXPECT_EQ(c.reply(s.server), lines({"ok"}));
    EXPECT_TRUE(c.wait_eof(s.server));
    EXPECT_EQ(s.server.clients(), 0u);
}

TEST(CtlServer, HalfClosedClientStillGetsItsReplies) {
    Served s;
    ASSERT_TRUE(s.listening);
    Client c(s.path);
    // `echo ... | nc -U`: the last line may lack its LF.
    ASSERT_TRUE(send_all(c.fd, "echo a\necho b"));
    shutdown(c.fd, SHUT_WR);
    EXPECT_EQ(c.reply(s.server), lines({"ok", "a"}));
    EXPECT_EQ(c.reply(s.server), lines({"ok", "b"}));
    EXPECT_TRUE(c.wait_eof(s.server));
}

TEST(CtlServer, SecondServerOnTheSamePathRefuses) {
    TempDir dir;
    TestHandler h;
    const std::string path = dir / "ctl.sock";
    CtlServer first(path, handler_of(h));
    std::string err;
    ASSERT_TRUE(first.listen(&err)) << err;
    {
        CtlServer second(path, handler_of(h));
        EXPECT_FALSE(second.listen(&err));
        EXPECT_EQ(err, "another ipshare is running on " + path);
    }  // the refused server leaves the file alone
    Client c(path);
    ASSERT_GE(c.fd, 0);
    ASSERT_TRUE(send_all(c.fd, "echo still here\n"));
    EXPECT_EQ(c.reply(first), lines({"ok", "still here"}));
}

TEST(CtlServer, StaleSocketFileIsReplaced) {
    TempDir dir;
    const std::string path = dir / "ctl.sock";
    {  // A socket file whose process is gone: bound, never unlinked.
        const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, path.data(), path.size());
        ASSERT_EQ(bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
        close(fd);
    }
    struct stat st;
    ASSERT_EQ(lstat(path.c_str(), &st), 0);
    ASSERT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_LT(connect_to(path), 0);

    TestHandler h;
    CtlServer server(path, handler_of(h));
    std::string err;
    ASSERT_TRUE(server.listen(&err)) << err;
    Client c(path);
    ASSERT_GE(c.fd, 0);
    ASSERT_TRUE(send_all(c.fd, "echo fresh\n"));
    EXPECT_EQ(c.reply(server), lines({"ok", "fresh"}));
}

TEST(CtlServer, OtherFilesAreNotReplaced) {
    TempDir dir;
    const std::string path = dir / "ctl.sock";
    std::ofstream(path) << "precious\n";
    TestHandler h;
    CtlServer server(path, handler_of(h));
    std::string err;
    EXPECT_FALSE(server.listen(&err));
    EXPECT_EQ(err, path + " exists and is not a socket");
    std::ifstream in(path);
    std::string text;
    std::getline(in, text);
    EXPECT_EQ(text, "precious");
}

TEST(CtlServer, CreatesItsDirectoryAndIsOwnerOnly) {
    TempDir dir;
    const std::string path = dir / "run/ipshare/ctl.sock";
    TestHandler h;
    {
        CtlServer server(path, handler_of(h));
        std::string err;
        ASSERT_TRUE(server.listen(&err)) << err;
        struct stat st;
        ASSERT_EQ(lstat(path.c_str(), &st), 0);
        EXPECT_TRUE(S_ISSOCK(st.st_mode));
        EXPECT_EQ(st.st_mode & 07777, 0600u);
        ASSERT_EQ(stat((dir / "run/ipshare").c_str(), &st), 0);
        EXPECT_TRUE(S_ISDIR(st.st_mode));
        EXPECT_EQ(st.st_mode & 07777, 0755u);
    }
    // The destructor removed the socket file.
    struct stat st;
    EXPECT_NE(lstat(path.c_str(), &st), 0);
}

TEST(CtlServer, BadPathsAreErrors) {
    TestHandler h;
    std::string err;
    CtlServer too_long("/tmp/" + std::string(200, 'x') + ".sock", handler_of(h));
    EXPECT_FALSE(too_long.listen(&err));
    EXPECT_NE(err.find("bad control socket path"), std::string::npos) << err;
    CtlServer empty("", handler_of(h));
    EXPECT_FALSE(empty.listen(&err));
    EXPECT_EQ(empty.fd(), -1);
    empty.poll_once();  // harmless before listen()
}

TEST(CtlServer, OversizedLineGetsAnErrorAndIsClosed) {
    Served s;
    ASSERT_TRUE(s.listening);

    Client fits(s.path);  // exactly the maximum is fine
    ASSERT_TRUE(send_all(fits.fd, std::string(ctl::kMaxRequestLine, 'a') + "\n"));
    EXPECT_EQ(fits.reply(s.server), lines({"ok", "length 4096"}));

    Client c(s.path);
    ASSERT_TRUE(send_all(c.fd, std::string(5000, 'a') + "\necho after\n"));
    EXPECT_EQ(c.reply(s.server), lines({"error: line too long (at most 4096 bytes)"}));
    EXPECT_TRUE(c.wait_eof(s.server));
    EXPECT_EQ(s.h.requests, 1);  // neither the long line nor the next one reached the handler

    // Without any LF, the server does not wait for the end of the line.
    Client endless(s.path);
    ASSERT_TRUE(send_all(endless.fd, std::string(3 * ctl::kMaxRequestLine, 'b')));
    EXPECT_EQ(endless.reply(s.server), lines({"error: line too long (at most 4096 bytes)"}));
    EXPECT_TRUE(endless.wait_eof(s.server));
    EXPECT_TRUE(pump_until(s.server, [&] { return s.server.clients() == 1; }));  // `fits` stays
}

TEST(CtlServer, FiftyConcurrentClients) {
    Served s;
    ASSERT_TRUE(s.listening);

    constexpr int kClients = 50, kRequests = 5;
    std::atomic<int> finished{0};
    std::vector<int> good(kClients, 0);
    std::vector<std::thread> threads;
    for (int i = 0; i < kClients; ++i) {
        threads.emplace_back([&, i] {
            const int fd = connect_to(s.path);
            if (fd >= 0) {
                ctl::ReplyReader r;
                std::string pending;
                char buf[4096];
                for (int k = 0; k < kRequests; ++k) {
                    const std::string word = std::to_string(i) + "/" + std::to_string(k);
                    if (!send_all(fd, "echo " + word + "\n")) break;
                    r.reset();
                    pending.erase(0, r.feed(pending));
                    while (!r.done()) {
                        const ssize_t n = recv(fd, buf, sizeof buf, 0);  // SO_RCVTIMEO bounds it
                        if (n <= 0) break;
                        const std::string_view got(buf, size_t(n));
                        const size_t used = r.feed(got);
                        pending.append(got.substr(used));
                    }
                    if (!r.done() || r.lines() != std::vector<std::string>{"ok", word}) break;
                    ++good[size_t(i)];
                }
                close(fd);
            }
            ++finished;
        });
    }
    const bool all = pump_until(s.server, [&] { return finished == kClients; }, 20s);
    for (auto& t : threads) t.join();
    EXPECT_TRUE(all);
    for (int i = 0; i < kClients; ++i) EXPECT_EQ(good[size_t(i)], kRequests) << "client " << i;
    EXPECT_EQ(s.h.requests, kClients * kRequests);
    EXPECT_TRUE(pump_until(s.server, [&] { return s.server.clients() == 0; }));
}

TEST(CtlServer, ClientsBeyondTheLimitAreToldAndClosed) {
    CtlServer::Limits limits;
    limits.max_clients = 2;
    Served s(limits);
    ASSERT_TRUE(s.listening);
    Client a(s.path), b(s.path);
    ASSERT_TRUE(pump_until(s.server, [&] { return s.server.clients() == 2; }));
    Client c(s.path);
    EXPECT_EQ(c.reply(s.server), lines({"error: too many control connections (at most 2)"}));
    EXPECT_TRUE(c.wait_eof(s.server));
    ASSERT_TRUE(send_all(a.fd, "echo a\n"));
    EXPECT_EQ(a.reply(s.server), lines({"ok", "a"}));
}

TEST(CtlServer, ClientLeavingMidReplyDoesNotDisturbOthers) {
    CtlServer::Limits limits;
    limits.idle = 1s;
    Served s(limits);
    ASSERT_TRUE(s.listening);

    // One client reads a little of a 3 MB reply and goes away; another asks
    // for the same and never reads; a third talks normally.
    Client leaver(s.path), sleeper(s.path), normal(s.path);
    ASSERT_TRUE(send_all(normal.fd, "echo first\n"));
    EXPECT_EQ(normal.reply(s.server), lines({"ok", "first"}));
    ASSERT_TRUE(send_all(leaver.fd, "big 3000000\n"));
    ASSERT_TRUE(send_all(sleeper.fd, "big 3000000\n"));
    ASSERT_TRUE(pump_until(s.server, [&] {
        leaver.receive();
        return leaver.pending.size() >= 1000;
    }));
    close(leaver.fd);
    leaver.fd = -1;
    // The one who left is dropped at once (its next write fails).
    EXPECT_TRUE(pump_until(s.server, [&] { return s.server.clients() == 2; }, 500ms));

    auto slowest = Clock::duration::zero();
    for (int k = 0; k < 20; ++k) {
        ASSERT_TRUE(send_all(normal.fd, "echo " + std::to_string(k) + "\n"));
        const auto t0 = Clock::now();
        const auto r = normal.reply(s.server);
        slowest = std::max(slowest, Clock::now() - t0);
        ASSERT_TRUE(r);
        EXPECT_EQ(*r, (std::vector<std::string>{"ok", std::to_string(k)}));
    }
    EXPECT_LT(slowest, 1s);
    // The one who does not read is dropped after the idle time, while the
    // normal client, which keeps talking, stays.
    const auto deadline = Clock::now() + 3s;
    for (int k = 0; s.server.clients() != 1 && Clock::now() < deadline; ++k) {
        ASSERT_TRUE(send_all(normal.fd, "echo " + std::to_string(k) + "\n"));
        ASSERT_EQ(normal.reply(s.server), (std::vector<std::string>{"ok", std::to_string(k)}));
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(s.server.clients(), 1u);
    ASSERT_TRUE(send_all(normal.fd, "echo still\n"));
    EXPECT_EQ(normal.reply(s.server), lines({"ok", "still"}));
}

TEST(CtlServer, PollOnceNeverBlocks) {
    Served s;
    ASSERT_TRUE(s.listening);
    // Clients that send nothing, half a line, or ask for more than their
    // socket holds without reading.
    Client silent(s.path), half(s.path), greedy(s.path);
    ASSERT_TRUE(send_all(half.fd, "echo no end"));
    std::string many;
    for (int i = 0; i < 50; ++i) many += "big 100000\n";
    ASSERT_TRUE(send_all(greedy.fd, many));
    auto slowest = Clock::duration::zero();
    for (int i = 0; i < 200; ++i) {
        const auto t0 = Clock::now();
        s.server.poll_once();
        slowest = std::max(slowest, Clock::now() - t0);
    }
    EXPECT_LT(slowest, 100ms);
    std::vector<pollfd> fds;
    s.server.append_pollfds(&fds);
    EXPECT_EQ(fds.size(), 4u);
    EXPECT_EQ(fds[0].fd, s.server.fd());
}

TEST(CtlServer, IdleClientsAreClosed) {
    CtlServer::Limits limits;
    limits.idle = 100ms;
    Served s(limits);
    ASSERT_TRUE(s.listening);
    Client c(s.path);
    ASSERT_TRUE(pump_until(s.server, [&] { return s.server.clients() == 1; }));
    const auto t0 = Clock::now();
    EXPECT_TRUE(c.wait_eof(s.server));
    EXPECT_GE(Clock::now() - t0, 50ms);
    EXPECT_EQ(s.server.clients(), 0u);
}

TEST(CtlServer, RepliesBeyondTheOutputLimitBecomeErrors) {
    CtlServer::Limits limits;
    limits.max_output = 10000;
    Served s(limits);
    ASSERT_TRUE(s.listening);
    Client c(s.path);
    ASSERT_TRUE(send_all(c.fd, "big 20000\necho next\n"));
    const auto r = c.reply(s.server);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].rfind("error: reply too large (", 0), 0u) << (*r)[0];
    EXPECT_EQ(c.reply(s.server), lines({"ok", "next"}));
}

TEST(CtlServer, HandlerExceptionsBecomeErrors) {
    TempDir dir;
    CtlServer server(dir / "ctl.sock", [](const std::string&, bool*) -> std::string {
        throw std::runtime_error("boom");
    });
    std::string err;
    ASSERT_TRUE(server.listen(&err)) << err;
    Client c(dir / "ctl.sock");
    ASSERT_TRUE(send_all(c.fd, "anything\n"));
    EXPECT_EQ(c.reply(server), lines({"error: internal error: boom"}));
}

// The real command layer behind the socket, over a minimal router.
class StubApi : public ControlApi {
public:
    std::vector<PortRow> ports() override { return {}; }
    std::vector<DropRow> drops() override { return {{"no_route", "no route to the destination", 2}}; }
    std::vector<NeighbourRow> neighbours() override { return {}; }
    std::vector<SessionRow> sessions(const SessionFilter&, size_t) override { return {}; }
    uint64_t session_count(const SessionFilter& f) override { return f.proto ? 7 : 9; }
    std::vector<ForwardRow> forwards() override { return {}; }
    std::vector<FilterRow> filters() override { return {}; }
    std::vector<WorkerRow> workers() override { return {}; }
    std::vector<MemoryRow> memory() override { return {}; }
    const Config& running_config() override { return config_; }
    Outcome apply_config(const Config&) override { return {false, "not in this test"}; }
    Outcome reload() override { return {}; }
    uint64_t flush_sessions(const SessionFilter&) override { return 0; }
    void clear_counters() override {}
    Outcome capture(const CaptureRequest&) override { return {}; }

private:
    Config config_;
};

TEST(CtlServer, ServesCommands) {
    TempDir dir;
    StubApi api;
    Commands commands(api);
    CtlServer server(dir / "ctl.sock", commands);
    std::string err;
    ASSERT_TRUE(server.listen(&err)) << err;
    Client c(dir / "ctl.sock");
    ASSERT_TRUE(send_all(c.fd, "show sessions count proto tcp\nshow drops\nfrob\nquit\n"));
    EXPECT_EQ(c.reply(server), lines({"ok", "7"}));
    EXPECT_EQ(c.reply(server), lines({"ok", "REASON    COUNT  DESCRIPTION", "no_route      2  no route to the destination"}));
    EXPECT_EQ(c.reply(server), lines({"error: unknown command 'frob' (try 'help')"}));
    EXPECT_EQ(c.reply(server), lines({"ok"}));
    EXPECT_TRUE(c.wait_eof(server));
}

}  // namespace
}  // namespace ipshare
