-- ipshare: zero-loss NAT throughput, RFC 2544 style (README.md).
--
--   pktgen ... -s 0:lan-seed.pcap -f scripts/pktgen/rfc2544-nat.lua
--
-- A binary search on the offered rate (percent of port 0's link): a trial
-- passes when at most IPSHARE_LOSS_TOLERANCE percent of the frames (default
-- 0, RFC 2544's zero loss) fail to come back; the search stops when the
-- pass/fail interval is narrower than IPSHARE_RESOLUTION percent (default
-- 0.5). The best passing rate is then confirmed by IPSHARE_CONFIRM trials
-- (default 3). Each trial re-seeds ARP (ipshare_nat.lua) and sends for
-- IPSHARE_SECONDS. Results go to the screen and to ipshare_rfc2544.txt.
--
-- RFC 2544 section 26.1 asks for trials of at least 60 s at the final
-- rate; set IPSHARE_SECONDS=60 for the record (the seeds precede each
-- trial, and ipshare keeps a neighbour for about 60 s after its last ARP,
-- plus its three probes: a 60-second trial stays inside that).

local here = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./")
package.path = here .. "?.lua;" .. package.path
require "Pktgen"
local nat = require "ipshare_nat"

local tolerance = tonumber(os.getenv("IPSHARE_LOSS_TOLERANCE") or "0")
local resolution = tonumber(os.getenv("IPSHARE_RESOLUTION") or "0.5")
local confirm = tonumber(os.getenv("IPSHARE_CONFIRM") or "3")
local max_rate = tonumber(os.getenv("IPSHARE_MAX_RATE") or "100")

pktgen.screen("off")
nat.logfile = io.open("ipshare_rfc2544.txt", "a")
nat.setup()
nat.log("[rfc2544] ipshare NAT, %d flows, %d-byte frames, %d s trials, loss tolerance %g%%, resolution %g%%",
        nat.flows(), nat.pkt_size, nat.seconds, tolerance, resolution)

local function run(rate)
    local tx, rx = nat.trial(rate, nat.seconds)
    local loss = tx > 0 and 100.0 * (tx - rx) / tx or 100
    local pass = tx > 0 and loss <= tolerance
    nat.log("[rfc2544] rate %7.3f%%: sent %d received %d lost %d (%.4f%%) %s; %.3f Mpps offered",
            rate, tx, rx, tx - rx, loss, pass and "PASS" or "FAIL", tx / nat.seconds / 1e6)
    return pass, tx
end

local lo, hi = 0, max_rate
local best_tx = 0
local rate = max_rate
while true do
    local pass, tx = run(rate)
    if pass then
        lo = rate
        best_tx = tx
    else
        hi = rate
    end
    if hi - lo <= resolution or (pass and rate >= max_rate) then break end
    rate = (lo + hi) / 2
end

if lo == 0 then
    nat.log("[rfc2544] no rate passed above %g%%: check the seeds, the reflector and ipshare's counters", resolution)
else
    local passed = 0
    for i = 1, confirm do
        if run(lo) then passed = passed + 1 end
    end
    nat.log("[rfc2544] RESULT: %g%% of the link, %.3f Mpps offered (%.3f Mpps through ipshare, both directions); "
            .. "confirmed %d of %d", lo, best_tx / nat.seconds / 1e6, 2 * best_tx / nat.seconds / 1e6, passed, confirm)
end
nat.logfile:close()
