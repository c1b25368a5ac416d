// ipshare [EAL options] -- --config FILE [--check]
//
// Order matters: the configuration is parsed before EAL starts (a bad file is
// refused before any device is probed), device names are checked after EAL
// has probed them and before any port is configured.
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>

#include "commands.h"
#include "config_parse.h"
#include "ctl_server.h"
#include "daemon.h"
#include "telemetry.h"

namespace {

using namespace ipshare;

struct Options {
    std::string config;
    std::string socket = "/run/ipshare/ipshare.sock";
    uint32_t mbuf_size = RTE_MBUF_DEFAULT_BUF_SIZE;
    bool check = false;
};

constexpr const char* kUsage =
    "usage: ipshare [EAL options] -- --config FILE [--socket PATH] [--mbuf-size BYTES] [--check]\n"
    "  --config FILE  the configuration (docs/configuration.md)\n"
    "  --socket PATH  the control socket for ipsharectl (default /run/ipshare/ipshare.sock)\n"
    "  --mbuf-size N  data room of a packet buffer, headroom included (default 2176);\n"
    "                 af_packet ports hand over datagrams the kernel reassembled:\n"
    "                 give them framesz=M in the vdev and N >= M + 128\n"
    "  --check        validate the configuration and the devices, then exit\n";

// Parses the options after "--". Returns false (after printing why) on error.
bool parse_options(int argc, char** argv, Options* o) {
    for (int i = 0; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--config" && i + 1 < argc) {
            o->config = argv[++i];
        } else if (a == "--socket" && i + 1 < argc) {
            o->socket = argv[++i];
        } else if (a == "--mbuf-size" && i + 1 < argc) {
            const long v = std::strtol(argv[++i], nullptr, 10);
            if (v < RTE_MBUF_DEFAULT_BUF_SIZE || v > 65535) {
                std::fprintf(stderr, "ipshare: --mbuf-size must be %d..65535\n", RTE_MBUF_DEFAULT_BUF_SIZE);
                return false;
            }
            o->mbuf_size = static_cast<uint32_t>(v);
        } else if (a == "--check") {
            o->check = true;
        } else if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        } else {
            std::fprintf(stderr, "ipshare: unknown option '%s'\n%s", a.c_str(), kUsage);
            return false;
        }
    }
    if (o->config.empty()) {
        std::fprintf(stderr, "ipshare: --config FILE is required\n%s", kUsage);
        return false;
    }
    return true;
}

// Resolves the three DPDK device names; prints FILE:LINE on failure.
bool resolve_ports(const Config& cfg, std::array<uint16_t, kNumZones>* ids) {
    for (Zone z : kAllZones) {
        const std::string& name = cfg.port_device[idx(z)];
        uint16_t id;
        if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0) {
            std::string known;
            uint16_t p;
            RTE_ETH_FOREACH_DEV(p) {
                char n[RTE_ETH_NAME_MAX_LEN];
                if (rte_eth_dev_get_name_by_port(p, n) == 0) known += (known.empty() ? "" : ", ") + std::string(n);
            }
            const ConfigError e{cfg.file, cfg.port_line[idx(z)],
                                "no DPDK device named '" + name + "' (devices: " +
                                    (known.empty() ? "none" : known) + ")"};
            std::fprintf(stderr, "%s\n", e.str().c_str());
            return false;
        }
        (*ids)[idx(z)] = id;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    // Signals are taken synchronously by the control thread (signalfd);
    // blocked here so every thread EAL creates inherits the mask.
    sigset_t sigs;
    sigemptyset(&sigs);
    for (int s : {SIGINT, SIGTERM, SIGUSR1, SIGHUP}) sigaddset(&sigs, s);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

    int sep = 1;
    while (sep < argc && std::strcmp(argv[sep], "--") != 0) ++sep;
    Options opt;
    if (!parse_options(sep < argc ? argc - sep - 1 : 0, argv + sep + 1, &opt)) return 2;

    Config cfg;
    if (auto e = load_config_file(opt.config, cfg)) {
        std::fprintf(stderr, "%s\n", e->str().c_str());
        return 2;
    }

    if (rte_eal_init(sep, argv) < 0) {
        std::fprintf(stderr, "ipshare: cannot initialise DPDK (EAL): %s\n", rte_strerror(rte_errno));
        return 1;
    }
    // dpdk-dumpcap (a secondary process) captures from our ports through pdump.
    const bool pdump = rte_pdump_init() == 0;
    std::array<uint16_t, kNumZones> ids{};
    int rc = 0;
    if (!resolve_ports(cfg, &ids)) {
        rc = 2;
    } else if (opt.check) {
        std::printf("ipshare: %s: configuration OK\n", opt.config.c_str());
    } else {
        const int sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
        Daemon d(std::move(cfg), ids, opt.mbuf_size);
        Commands commands(d);
        CtlServer server(opt.socket, commands);
        std::string err;
        // The socket first: a second daemon on the same socket stops here,
        // before touching any port.
        if (sfd < 0) {
            std::fprintf(stderr, "ipshare: cannot create a signalfd\n");
            rc = 1;
        } else if (!server.listen(&err) || !d.start(&err)) {
            std::fprintf(stderr, "ipshare: %s\n", err.c_str());
            rc = 1;
        } else {
            register_telemetry(d);
            d.run(sfd, &server);
        }
        unregister_telemetry();
        d.stop();
        if (sfd >= 0) close(sfd);
    }
    if (pdump) rte_pdump_uninit();
    rte_eal_cleanup();
    return rc;
}
