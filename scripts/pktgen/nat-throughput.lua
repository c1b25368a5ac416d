-- ipshare: 64-byte NAT throughput at one rate, N flows (README.md).
--
--   pktgen ... -s 0:lan-seed.pcap -f scripts/pktgen/nat-throughput.lua
--
-- IPSHARE_RATE (percent of the link, default 100) and the settings of
-- ipshare_nat.lua. Prints frames sent and received back on port 0, the
-- round-trip rate and the loss, for IPSHARE_TRIALS trials (default 3).

local here = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./")
package.path = here .. "?.lua;" .. package.path
require "Pktgen"
local nat = require "ipshare_nat"

local rate = tonumber(os.getenv("IPSHARE_RATE") or "100")
local trials = tonumber(os.getenv("IPSHARE_TRIALS") or "3")

pktgen.screen("off")
nat.logfile = io.open("ipshare_nat_throughput.txt", "a")
nat.setup()
nat.log("[ipshare] %d flows (192.168.1.%d-%d x %d source ports), %d-byte frames, rate %g%%, %d s",
        nat.flows(), nat.first_client, nat.last_client, nat.ports, nat.pkt_size, rate, nat.seconds)
for t = 1, trials do
    local tx, rx = nat.trial(rate, nat.seconds)
    local loss = tx > 0 and 100.0 * (tx - rx) / tx or 0
    nat.log("[ipshare] trial %d: sent %d received %d (%.3f%% lost); %.3f Mpps offered, %.3f Mpps round trips "
            .. "(ipshare forwarded about %.3f Mpps)",
            t, tx, rx, loss, tx / nat.seconds / 1e6, rx / nat.seconds / 1e6, (tx + rx) / nat.seconds / 1e6)
end
nat.logfile:close()
