// ipsharectl [--socket PATH] [COMMAND ...]
//
// The command-line client of the control socket (docs/cli.md). With a
// command: sends it, prints the reply body (an error goes to stderr) and
// exits. Without one: an interactive shell with readline (history, tab
// completion), or, when standard input is not a terminal, one command per
// input line.
//
// Exit status: 0 ok; 1 the router answered with an error; 2 cannot connect;
// 3 no complete reply (timeout, connection lost); 64 bad usage.
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "ctl_protocol.h"

namespace {

using namespace ipshare;

constexpr int kExitOk = 0, kExitError = 1, kExitConnect = 2, kExitNoReply = 3, kExitUsage = 64;

constexpr const char* kUsage =
    "usage: ipsharectl [--socket PATH] [COMMAND ...]\n"
    "  --socket PATH  the daemon's control socket (default /run/ipshare/ipshare.sock)\n"
    "  COMMAND        one command, e.g. 'show sessions client 192.168.1.11';\n"
    "                 without one, an interactive shell ('help' lists the commands)\n"
    "exit status: 0 ok, 1 error reply, 2 cannot connect, 3 no reply, 64 bad usage\n";

class Connection {
public:
    explicit Connection(std::string path) : path_(std::move(path)) {}
    ~Connection() { disconnect(); }

    const std::string& path() const { return path_; }

    bool connect(std::string* err) {
        disconnect();
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        if (path_.empty() || path_.size() >= sizeof addr.sun_path)
            return *err = "cannot connect to " + path_ + ": path too long", false;
        std::memcpy(addr.sun_path, path_.data(), path_.size());
        fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) return *err = std::string("cannot create a socket: ") + std::strerror(errno), false;
        if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
            const int e = errno;
            disconnect();
            std::string hint;
            if (e == ENOENT || e == ECONNREFUSED) hint = " (is ipshare running?)";
            if (e == EACCES || e == EPERM) hint = " (the control socket is for root only)";
            *err = "cannot connect to " + path_ + ": " + std::strerror(e) + hint;
            return false;
        }
        return true;
    }

    void disconnect() {
        if (fd_ >= 0) close(fd_);
        fd_ = -1;
        pending_.clear();
    }

    // False when the daemon has closed the connection (idle timeout,
    // restart): the next request needs a new one.
    bool alive() const {
        if (fd_ < 0) return false;
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 0) <= 0) return true;
        if (p.revents & (POLLHUP | POLLERR)) return false;
        char c;
        return recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;  // 0: EOF
    }

    // Sends one request and reads its reply. False and *err when no
    // complete reply came (timeout, connection lost).
    bool request(const std::string& line, ctl::ReplyReader* reply, std::string* err) {
        reply->reset();
        const std::string msg = line + "\n";
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(ctl::kReplyTimeoutSeconds);
        size_t sent = 0;
        while (sent < msg.size()) {
            const ssize_t w = send(fd_, msg.data() + sent, msg.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0) {
                sent += size_t(w);
            } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
                if (!wait(POLLOUT, deadline)) return *err = timeout_text(), false;
            } else {
                return *err = "lost the connection to " + path_ + ": " + std::strerror(errno), false;
            }
        }
        if (!pending_.empty()) pending_.erase(0, reply->feed(pending_));
        char buf[65536];
        while (!reply->done()) {
            if (!wait(POLLIN, deadline)) return *err = timeout_text(), false;
            const ssize_t r = recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (r <= 0) {
                const std::string why = r == 0 ? "closed by the daemon" : std::strerror(errno);
                disconnect();
                // A reply that arrived whole before the close still counts.
                if (reply->done()) return true;
                return *err = "lost the connection to " + path_ + " (" + why + ") before a complete reply", false;
            }
            const std::string_view got(buf, size_t(r));
            const size_t used = reply->feed(got);
            if (used < got.size()) pending_.append(got.substr(used));
        }
        return true;
    }

private:
    std::string timeout_text() const {
        return "no reply from " + path_ + " within " + std::to_string(ctl::kReplyTimeoutSeconds) + " s";
    }

    bool wait(short events, std::chrono::steady_clock::time_point deadline) {
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            pollfd p{fd_, events, 0};
            const int rc = poll(&p, 1, int(left.count()));
            if (rc > 0) return true;
            if (rc < 0 && errno != EINTR) return false;
        }
    }

    std::string path_;
    int fd_ = -1;
    std::string pending_;  // bytes after the last reply's terminator
};

// Prints a reply: the body on stdout after "ok"; an error on stderr.
int print_reply(const ctl::ReplyReader& reply) {
    const auto& lines = reply.lines();
    if (reply.ok()) {
        for (size_t i = 1; i < lines.size(); ++i) std::cout << lines[i] << '\n';
        std::cout.flush();
        return kExitOk;
    }
    for (const auto& l : lines) std::cerr << l << '\n';
    if (lines.empty()) std::cerr << "error: empty reply\n";
    return kExitError;
}

// One request: the connection is (re)made when needed.
int run_one(Connection& conn, const std::string& line) {
    if (line.size() > ctl::kMaxRequestLine) {
        std::cerr << "ipsharectl: command too long (at most " << ctl::kMaxRequestLine << " bytes)\n";
        return kExitUsage;
    }
    std::string err;
    if (!conn.alive() && !conn.connect(&err)) {
        std::cerr << "ipsharectl: " << err << '\n';
        return kExitConnect;
    }
    ctl::ReplyReader reply;
    if (!conn.request(line, &reply, &err)) {
        std::cerr << "ipsharectl: " << err << '\n';
        return kExitNoReply;
    }
    return print_reply(reply);
}

std::string trim(const std::string& s) {
    const size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// ---------------------------------------------------------------- completion

std::vector<std::string> g_candidates;
size_t g_next = 0;

template <typename List>
void add(std::vector<std::string>& v, const List& list) {
    for (const char* w : list) v.emplace_back(w);
}

// The words that may follow `prev` (the complete words before the cursor);
// empty with *files set when a file name is expected.
std::vector<std::string> next_words(const std::vector<std::string>& prev, bool* files) {
    std::vector<std::string> v;
    *files = false;
    if (prev.empty()) {
        add(v, kCommandWords);
        return v;
    }
    const std::string& cmd = prev[0];
    const std::string& last = prev.back();
    const size_t n = prev.size();
    auto session_words = [&](bool with_limit) {
        if (last == "proto") return std::vector<std::string>{"tcp", "udp", "icmp", "gre", "esp", "sctp"};
        if (last == "state")
            return std::vector<std::string>{"established", "syn-out", "syn-in", "syn-recv", "fin-out",
                                            "fin-in",      "time-wait", "reset", "closed",  "active"};
        if (last == "client" || last == "remote" || last == "port" || last == "limit") return std::vector<std::string>{};
        std::vector<std::string> w = {"proto", "client", "remote", "port", "state"};
        if (with_limit) w.emplace_back("limit");
        return w;
    };
    if (cmd == "show") {
        if (n == 1) {
            add(v, kShowWords);
        } else if (prev[1] == "sessions") {
            v = session_words(true);
            if (n == 2) v.emplace_back("count");
            if (!v.empty()) v.emplace_back("--json");
        } else if (prev[1] == "drops" && n == 2) {
            v = {"nonzero", "--json"};
        } else {
            v = {"--json"};
        }
    } else if (cmd == "flush") {
        if (n == 1)
            v = {"sessions"};
        else
            v = session_words(false);
    } else if (cmd == "clear" && n == 1) {
        v = {"counters"};
    } else if (cmd == "capture") {
        if (n == 1)
            v = {"wan", "lan", "dmz"};
        else if (last == "file")
            *files = true;
        else if (last != "count" && last != "seconds" && last != "filter")
            add(v, kCaptureWords);
    } else if (cmd == "no" && n == 1) {
        v = {"forward", "filter", "route", "hairpin", "napt", "timeout"};
    } else if (cmd == "timeout" && n == 1) {
        v = {"tcp-established", "tcp-transitory", "udp", "icmp", "port-rest"};
    } else if (cmd == "napt" && n == 1) {
        v = {"ports", "sessions", "ports-per-client", "filtering"};
    } else if (cmd == "napt" && n == 2 && prev[1] == "filtering") {
        v = {"address-and-port-dependent", "endpoint-independent"};
    } else if (cmd == "hairpin") {
        if (n == 1) v = {"source"};
        if (n == 2) v = {"wan", "lan"};
    } else if (cmd == "forward" && n == 1) {
        v = {"tcp", "udp", "tcp+udp"};
    } else if (cmd == "filter") {
        if (n == 1) v = {"allow", "deny", "reject", "policy"};
        if (last == "from" || last == "to") v = {"wan", "lan", "dmz"};
    } else if (cmd == "port" && n == 1) {
        v = {"wan", "lan", "dmz"};
    }
    return v;
}

char* generator(const char* text, int state) {
    if (state == 0) g_next = 0;
    const size_t len = std::strlen(text);
    while (g_next < g_candidates.size()) {
        const std::string& c = g_candidates[g_next++];
        if (c.compare(0, len, text) == 0) return strdup(c.c_str());
    }
    return nullptr;
}

char** complete(const char* text, int start, int /*end*/) {
    std::vector<std::string> prev;
    if (ipshare::split_words(std::string_view(rl_line_buffer, size_t(start)), &prev)) prev.clear();
    bool files = false;
    g_candidates = next_words(prev, &files);
    if (files) return nullptr;  // readline's file name completion
    rl_attempted_completion_over = 1;
    return rl_completion_matches(text, generator);
}

std::string history_file() {
    const char* home = std::getenv("HOME");
    if (!home || !*home) {
        const passwd* pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : nullptr;
    }
    return home ? std::string(home) + "/.ipsharectl_history" : std::string();
}

int interactive(Connection& conn) {
    std::string err;
    if (!conn.connect(&err)) {
        std::cerr << "ipsharectl: " << err << '\n';
        return kExitConnect;
    }
    std::cout << "ipshare control on " << conn.path() << "; 'help' lists the commands, 'quit' leaves.\n";
    rl_readline_name = "ipsharectl";
    rl_attempted_completion_function = complete;
    rl_completer_quote_characters = "\"";
    using_history();
    const std::string hist = history_file();
    if (!hist.empty()) read_history(hist.c_str());
    for (;;) {
        char* raw = readline("ipshare> ");
        if (!raw) {  // Ctrl-D
            std::cout << '\n';
            break;
        }
        const std::string line = trim(raw);
        std::free(raw);
        if (line.empty()) continue;
        add_history(line.c_str());
        if (!hist.empty() && append_history(1, hist.c_str()) != 0) write_history(hist.c_str());
        if (line == "quit" || line == "exit") break;
        run_one(conn, line);
    }
    if (!hist.empty()) history_truncate_file(hist.c_str(), 1000);
    return kExitOk;
}

// Standard input is not a terminal: one command per line, blank lines and
// lines starting with '#' skipped. The status is that of the worst command.
int batch(Connection& conn) {
    int status = kExitOk;
    std::string raw;
    while (std::getline(std::cin, raw)) {
        const std::string line = trim(raw);
        if (line.empty() || line[0] == '#') continue;
        if (line == "quit" || line == "exit") break;
        const int rc = run_one(conn, line);
        if (rc == kExitConnect || rc == kExitNoReply) return rc;
        if (rc != kExitOk) status = kExitError;
    }
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    std::string socket = ctl::kDefaultSocket;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--socket" || a == "-s") {
            if (i + 1 >= argc) {
                std::cerr << "ipsharectl: " << a << " needs a PATH\n" << kUsage;
                return kExitUsage;
            }
            socket = argv[++i];
        } else if (a.rfind("--socket=", 0) == 0) {
            socket = a.substr(9);
        } else if (a == "--help" || a == "-h") {
            std::cout << kUsage;
            return kExitOk;
        } else if (a == "--") {
            ++i;
            break;
        } else if (a.size() > 1 && a[0] == '-') {
            std::cerr << "ipsharectl: unknown option '" << a << "'\n" << kUsage;
            return kExitUsage;
        } else {
            break;
        }
    }
    std::vector<std::string> words(argv + i, argv + argc);
    Connection conn(socket);
    if (words.empty()) return isatty(STDIN_FILENO) ? interactive(conn) : batch(conn);

    // One argument holding blanks is a whole command line, quotes included
    // (`ipsharectl 'capture wan filter "tcp port 80" ...'`); separate
    // arguments are words, re-quoted when they hold blanks (a BPF filter).
    std::string line = words.size() == 1 ? words[0] : ctl::join_words(words);
    for (const char c : line)
        if (c == '\n') {
            std::cerr << "ipsharectl: a command cannot contain a line break\n";
            return kExitUsage;
        }
    return run_one(conn, line);
}
