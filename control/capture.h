// `capture PORT ... file FILE.pcap`: the control thread's half of a capture
// (the workers' half is dataplane/capture_tap.h). Frames copied by the
// workers are filtered with a BPF program compiled by libpcap and written
// with pcap_dump, so tcpdump and Wireshark read the file. One capture at a
// time; it ends by itself after `count` frames or `seconds`.
#pragma once

#include <cstdint>
#include <string>

#include "control_api.h"

struct rte_ring;
struct pcap;
struct pcap_dumper;
struct bpf_program;

namespace ipshare {

class Capture {
public:
    Capture() = default;
    ~Capture();
    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;

    // Compiles the filter, opens the file and the ring. False and *err on failure.
    bool open(const CaptureRequest& r, uint64_t now_ns, std::string* err);
    rte_ring* ring() const { return ring_; }
    bool active() const { return ring_ != nullptr; }

    // Writes what the workers copied; true when the capture is complete.
    bool poll(uint64_t now_ns);
    // Frees the remaining copies, closes the file (call after the workers no
    // longer see the ring).
    void close();
    uint64_t written() const { return written_; }
    const std::string& file() const { return file_; }

private:
    rte_ring* ring_ = nullptr;
    pcap* dead_ = nullptr;
    pcap_dumper* dumper_ = nullptr;
    bpf_program* prog_ = nullptr;
    uint64_t count_ = 0, written_ = 0, deadline_ns_ = 0;
    std::string file_;
};

}  // namespace ipshare
