#include "ctl_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include "commands.h"
#include "ctl_protocol.h"

namespace ipshare {
namespace {

// A client's requests are answered only while less than this much of its
// earlier answers waits to be written, and its socket is read only while
// less than this much input waits: a client that sends without reading
// stalls itself, not the daemon.
constexpr size_t kHighWater = 64 * 1024;
constexpr size_t kReadChunk = 16 * 1024;
constexpr int kReadsPerPoll = 4;
constexpr int kAcceptsPerPoll = 64;

std::string errno_text(int e) { return std::strerror(e); }

// mkdir -p with mode 0755 for the directories it creates.
bool make_parents(const std::string& dir, std::string* err) {
    if (dir.empty()) return true;
    size_t pos = 0;
    while (pos != std::string::npos) {
        pos = dir.find('/', pos + 1);
        const std::string part = dir.substr(0, pos);
        if (part.empty()) continue;
        if (mkdir(part.c_str(), 0755) == 0) {
            chmod(part.c_str(), 0755);  // whatever the umask
        } else if (errno != EEXIST) {
            *err = "cannot create directory " + part + ": " + errno_text(errno);
            return false;
        }
    }
    struct stat st;
    if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        *err = dir + " is not a directory";
        return false;
    }
    return true;
}

bool fill_address(const std::string& path, sockaddr_un* addr, std::string* err) {
    std::memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr->sun_path) {
        *err = "bad control socket path '" + path + "' (1.." + std::to_string(sizeof addr->sun_path - 1) +
               " bytes)";
        return false;
    }
    std::memcpy(addr->sun_path, path.data(), path.size());
    return true;
}

}  // namespace

CtlServer::CtlServer(std::string path, Handler handler, Limits limits)
    : path_(std::move(path)), handler_(std::move(handler)), limits_(limits) {}

CtlServer::CtlServer(std::string path, Commands& commands)
    : CtlServer(std::move(path), [&commands](const std::string& line, bool* close_after) {
          return commands.execute(line, close_after);
      }) {}

CtlServer::~CtlServer() {
    for (Client& c : clients_) close(c.fd);
    clients_.clear();
    if (listen_fd_ >= 0) close(listen_fd_);
    // Only the file this server bound: a successor may have replaced it.
    struct stat st;
    if (bound_ && lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == bound_ino_)
        unlink(path_.c_str());
}

bool CtlServer::listen(std::string* err) {
    if (listen_fd_ >= 0) return *err = "already listening on " + path_, false;
    sockaddr_un addr;
    if (!fill_address(path_, &addr, err)) return false;
    const size_t slash = path_.rfind('/');
    if (slash != std::string::npos && slash > 0 && !make_parents(path_.substr(0, slash), err)) return false;

    // Someone there already? A live listener accepts the connection (or its
    // backlog is full: EAGAIN); a socket file left by a process that died
    // refuses it.
    struct stat st;
    if (lstat(path_.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) return *err = path_ + " exists and is not a socket", false;
        const int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (probe < 0) return *err = "cannot create a socket: " + errno_text(errno), false;
        const int rc = connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
        const int e = errno;
        close(probe);
        if (rc == 0 || e == EAGAIN || e == EINPROGRESS)
            return *err = "another ipshare is running on " + path_, false;
        if (e != ECONNREFUSED && e != ENOENT) return *err = "cannot check " + path_ + ": " + errno_text(e), false;
        if (e == ECONNREFUSED && unlink(path_.c_str()) != 0 && errno != ENOENT)
            return *err = "cannot remove the stale socket " + path_ + ": " + errno_text(errno), false;
    }

    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return *err = "cannot create a socket: " + errno_text(errno), false;
    // The file is created owner-only, not just chmod-ed afterwards.
    const mode_t old_umask = umask(0177);
    const int brc = bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    const int be = errno;
    umask(old_umask);
    if (brc != 0) {
        close(fd);
        if (be == EADDRINUSE) return *err = "another ipshare is running on " + path_, false;
        return *err = "cannot bind " + path_ + ": " + errno_text(be), false;
    }
    if (chmod(path_.c_str(), 0600) != 0 || ::listen(fd, 64) != 0 || lstat(path_.c_str(), &st) != 0) {
        const int e = errno;
        close(fd);
        unlink(path_.c_str());
        return *err = "cannot listen on " + path_ + ": " + errno_text(e), false;
    }
    listen_fd_ = fd;
    bound_ = true;
    bound_ino_ = st.st_ino;
    return true;
}

void CtlServer::append_pollfds(std::vector<pollfd>* fds) const {
    if (listen_fd_ < 0) return;
    fds->push_back(pollfd{listen_fd_, POLLIN, 0});
    for (const Client& c : clients_) {
        short ev = 0;
        if (!c.eof && (c.discard || (!c.closing && c.in.size() < kHighWater))) ev |= POLLIN;
        if (c.out_off < c.out.size()) ev |= POLLOUT;
        fds->push_back(pollfd{c.fd, ev, 0});
    }
}

void CtlServer::poll_once() {
    if (listen_fd_ < 0) return;
    std::vector<pollfd> fds;
    fds.reserve(clients_.size() + 1);
    append_pollfds(&fds);
    if (::poll(fds.data(), fds.size(), 0) < 0) return;  // EINTR: next time
    const Clock::time_point now = Clock::now();

    size_t i = 1;
    for (auto it = clients_.begin(); it != clients_.end(); ++i) {
        Client& c = *it;
        bool keep = true;
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) keep = read_client(c, now);
        if (keep) {
            handle_lines(c);
            if (c.out_off < c.out.size()) keep = write_client(c, now);
        }
        const bool flushed = c.out_off == c.out.size();
        if (keep && flushed && (c.closing || (c.eof && c.in.empty()))) keep = false;
        if (keep && now - c.last_activity > limits_.idle) keep = false;
        if (keep) {
            ++it;
        } else {
            if (c.discard) drain(c);
            close(c.fd);
            it = clients_.erase(it);
        }
    }
    // New clients last: they are in the poll set from the next call.
    if (fds[0].revents & POLLIN) accept_clients(now);
}

void CtlServer::accept_clients(Clock::time_point now) {
    for (int n = 0; n < kAcceptsPerPoll; ++n) {
        const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            return;  // EAGAIN, or out of descriptors (the client waits in the backlog)
        }
        if (clients_.size() >= limits_.max_clients) {
            const std::string msg = ctl::frame_reply("error: too many control connections (at most " +
                                                     std::to_string(limits_.max_clients) + ")\n");
            [[maybe_unused]] const ssize_t w = send(fd, msg.data(), msg.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
            close(fd);
            continue;
        }
        Client c;
        c.fd = fd;
        c.last_activity = now;
        clients_.push_back(std::move(c));
    }
}

bool CtlServer::read_client(Client& c, Clock::time_point now) {
    char buf[kReadChunk];
    for (int n = 0; n < kReadsPerPoll && !c.eof; ++n) {
        if (!c.discard && (c.closing || c.in.size() >= kHighWater)) break;
        const ssize_t r = recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r > 0) {
            c.last_activity = now;
            if (!c.discard) c.in.append(buf, size_t(r));
            if (size_t(r) < sizeof buf) break;
        } else if (r == 0) {
            c.eof = true;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else {
            return false;  // ECONNRESET and the like
        }
    }
    return true;
}

void CtlServer::queue(Client& c, const std::string& unframed) {
    std::string framed = ctl::frame_reply(unframed);
    const size_t room = limits_.max_output > c.out.size() - c.out_off ? limits_.max_output - (c.out.size() - c.out_off)
                                                                      : 0;
    if (framed.size() > room)
        framed = ctl::frame_reply("error: reply too large (" + std::to_string(framed.size()) + " bytes, at most " +
                                  std::to_string(limits_.max_output) + "): narrow it with filters or a limit\n");
    if (c.out_off == c.out.size()) {
        c.out.clear();
        c.out_off = 0;
    }
    c.out += framed;
}

void CtlServer::handle_lines(Client& c) {
    while (!c.closing && c.out.size() - c.out_off < kHighWater) {
        size_t nl = c.in.find('\n');
        if (nl == std::string::npos) {
            // A line that can no longer fit, or a last line without LF.
            if (c.in.size() > ctl::kMaxRequestLine + 1) {
                nl = c.in.size();
            } else if (c.eof && !c.in.empty()) {
                nl = c.in.size();
            } else {
                return;
            }
        }
        std::string line = c.in.substr(0, nl);
        c.in.erase(0, nl == c.in.size() ? nl : nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.size() > ctl::kMaxRequestLine) {
            queue(c, "error: line too long (at most " + std::to_string(ctl::kMaxRequestLine) + " bytes)\n");
            c.closing = true;
            c.discard = true;  // read and drop the rest until the reply is out
            c.in.clear();
            return;
        }
        bool close_after = false;
        std::string reply;
        try {
            reply = handler_(line, &close_after);
        } catch (const std::exception& e) {
            reply = std::string("error: internal error: ") + e.what() + "\n";
        } catch (...) {
            reply = "error: internal error\n";
        }
        queue(c, reply);
        if (close_after) c.closing = true;
    }
}

// Input left unread when a socket is closed makes the peer's next read fail
// with ECONNRESET, possibly before it has read our last reply: read it first.
void CtlServer::drain(Client& c) {
    char buf[kReadChunk];
    for (int n = 0; n < 64; ++n)
        if (recv(c.fd, buf, sizeof buf, MSG_DONTWAIT) <= 0) return;
}

bool CtlServer::write_client(Client& c, Clock::time_point now) {
    if (c.out.size() - c.out_off > limits_.max_output) return false;
    while (c.out_off < c.out.size()) {
        const ssize_t w = send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0) {
            c.out_off += size_t(w);
            c.last_activity = now;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return true;
        } else {
            return false;  // EPIPE, ECONNRESET: the client is gone
        }
    }
    c.out.clear();
    c.out_off = 0;
    return true;
}

}  // namespace ipshare
