#include "capture.h"

#include <pcap/pcap.h>
#include <sys/time.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

namespace ipshare {
namespace {
constexpr unsigned kRingSize = 4096;
constexpr int kSnapLen = 65535;
}  // namespace

Capture::~Capture() { close(); }

bool Capture::open(const CaptureRequest& r, uint64_t now_ns, std::string* err) {
    if (active()) return *err = "a capture to " + file_ + " is already running", false;
    dead_ = pcap_open_dead(DLT_EN10MB, kSnapLen);
    if (!dead_) return *err = "cannot open libpcap", false;
    prog_ = new bpf_program{};
    if (pcap_compile(dead_, prog_, r.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
        *err = "bad filter '" + r.filter + "': " + pcap_geterr(dead_);
        close();
        return false;
    }
    dumper_ = pcap_dump_open(dead_, r.file.c_str());
    if (!dumper_) {
        *err = "cannot write " + r.file + ": " + pcap_geterr(dead_);
        close();
        return false;
    }
    ring_ = rte_ring_create("ipshare_capture", kRingSize, SOCKET_ID_ANY, RING_F_SC_DEQ);
    if (!ring_) {
        *err = "cannot create the capture ring";
        close();
        return false;
    }
    count_ = r.count;
    written_ = 0;
    deadline_ns_ = r.seconds ? now_ns + uint64_t{r.seconds} * 1000000000ull : 0;
    file_ = r.file;
    return true;
}

bool Capture::poll(uint64_t now_ns) {
    if (!active()) return false;
    void* objs[64];
    unsigned n;
    while ((n = rte_ring_sc_dequeue_burst(ring_, objs, 64, nullptr)) > 0) {
        for (unsigned i = 0; i < n; ++i) {
            auto* m = static_cast<rte_mbuf*>(objs[i]);
            const auto* data = rte_pktmbuf_mtod(m, const u_char*);
            pcap_pkthdr h{};
            gettimeofday(&h.ts, nullptr);
            h.caplen = h.len = rte_pktmbuf_data_len(m);
            if ((count_ == 0 || written_ < count_) && pcap_offline_filter(prog_, &h, data)) {
                pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, data);
                ++written_;
            }
            rte_pktmbuf_free(m);
        }
    }
    return (count_ && written_ >= count_) || (deadline_ns_ && now_ns >= deadline_ns_);
}

void Capture::close() {
    if (ring_) {
        void* obj;
        while (rte_ring_dequeue(ring_, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
        rte_ring_free(ring_);
        ring_ = nullptr;
    }
    if (dumper_) pcap_dump_close(dumper_);
    dumper_ = nullptr;
    if (prog_) {
        pcap_freecode(prog_);
        delete prog_;
        prog_ = nullptr;
    }
    if (dead_) pcap_close(dead_);
    dead_ = nullptr;
}

}  // namespace ipshare
