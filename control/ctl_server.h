// The control socket: a Unix stream socket that the daemon's control thread
// serves without threads and without ever blocking. The daemon calls
// poll_once() from its control loop (every millisecond); each call accepts
// new clients, reads what they sent, answers every complete request line and
// writes as much of the answers as the sockets take. The framing is in
// ctl_protocol.h, the commands in commands.h, the reference in docs/cli.md.
#pragma once

#include <poll.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <string>
#include <vector>

namespace ipshare {

class Commands;

class CtlServer {
public:
    // Answers one request line (without its LF) with an unframed reply whose
    // first line is "ok" or "error: ..."; sets *close_after to end the
    // connection once the reply is sent.
    using Handler = std::function<std::string(const std::string& line, bool* close_after)>;

    struct Limits {
        size_t max_clients = 64;                 // more are told so and closed
        size_t max_output = 4u << 20;            // bytes queued for one client
        std::chrono::milliseconds idle{60000};   // no byte either way for this long: closed
    };

    CtlServer(std::string path, Handler handler, Limits limits);
    CtlServer(std::string path, Handler handler) : CtlServer(std::move(path), std::move(handler), Limits{}) {}
    CtlServer(std::string path, Commands& commands);  // answers with commands.execute()
    ~CtlServer();  // closes every connection and removes the socket file
    CtlServer(const CtlServer&) = delete;
    CtlServer& operator=(const CtlServer&) = delete;

    // Creates the parent directory if missing (0755), refuses when another
    // live process listens on the path ("another ipshare is running on
    // PATH"), replaces a stale socket file, binds, restricts the file to its
    // owner (0600) and listens. False and *err on failure.
    bool listen(std::string* err);

    // The listening socket (-1 before listen()), for the daemon's poll set:
    // it is readable when a client connects.
    int fd() const { return listen_fd_; }

    // Adds the listening socket and every client socket, with the events the
    // server waits for, to `fds`; a poll() over them wakes the control loop
    // exactly when poll_once() has something to do.
    void append_pollfds(std::vector<pollfd>* fds) const;

    // Non-blocking: one round of accept, read, answer, write, idle check.
    void poll_once();

    const std::string& path() const { return path_; }
    size_t clients() const { return clients_.size(); }

private:
    using Clock = std::chrono::steady_clock;

    struct Client {
        int fd = -1;
        std::string in;    // bytes received, not yet a complete line
        std::string out;   // reply bytes; those before out_off are written
        size_t out_off = 0;
        bool closing = false;    // no more requests: close once `out` is written
        bool discard = false;    // after an oversized line: read and drop input
        bool eof = false;        // the client will send no more
        Clock::time_point last_activity;
    };

    void accept_clients(Clock::time_point now);
    // False when the client must be dropped now.
    bool read_client(Client& c, Clock::time_point now);
    void handle_lines(Client& c);
    bool write_client(Client& c, Clock::time_point now);
    static void drain(Client& c);
    void queue(Client& c, const std::string& unframed);

    std::string path_;
    Handler handler_;
    Limits limits_;
    int listen_fd_ = -1;
    bool bound_ = false;     // the socket file is ours to remove
    unsigned long bound_ino_ = 0;
    std::list<Client> clients_;
};

}  // namespace ipshare
