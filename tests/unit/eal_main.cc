// main() of unit_dpdk: one EAL for every test (it cannot be initialised twice
// in a process), without hugepages, PCI devices or shared runtime files, under
// its own file prefix so that it never meets a running ipshare. (--in-memory
// is not used: with --no-huge the EAL refuses it as "legacy memory".)
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include <rte_eal.h>
#include <rte_errno.h>

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    std::vector<const char*> eal_args = {
        "unit_dpdk", "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--file-prefix=unit_dpdk",
        "--log-level=error", "-l", "0",
    };
    if (rte_eal_init(static_cast<int>(eal_args.size()), const_cast<char**>(eal_args.data())) < 0) {
        std::fprintf(stderr, "unit_dpdk: cannot initialise the EAL: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    const int rc = RUN_ALL_TESTS();
    rte_eal_cleanup();
    return rc;
}
