-- ipshare bare-metal NAT test: what the two pktgen scripts share
-- (nat-throughput.lua, rfc2544-nat.lua). See README.md for the cabling.
--
-- pktgen port 0 is wired to ipshare's lan port. It sends 64-byte UDP frames
-- from the LAN clients 192.168.1.10-250 (and a range of source ports) to an
-- internet host 198.51.100.20 port 9: ipshare translates them (NAPT to
-- wan-ip 203.0.113.10) out of its wan port, where reflector.sh (testpmd
-- 5tswap) sends each one back as the host's reply; ipshare translates the
-- reply back to the client, and pktgen port 0 receives it. Every frame
-- crosses ipshare twice, and a frame is lost if either crossing loses it.
--
-- Settings come from the environment (or edit the defaults here):
--   IPSHARE_LAN_MAC   MAC of ipshare's lan port        (required in practice)
--   IPSHARE_PORTS     source ports per client, P: flows = 241 x P  (default 4)
--   IPSHARE_SECONDS   seconds of traffic per trial                (default 10)
--   IPSHARE_REFLECTOR command that re-seeds the reflector before a trial
--                     (default: reflector.sh seed, next to this file;
--                      "none" to skip it, e.g. when you run it by hand)
--   IPSHARE_PKT_SIZE  frame size with FCS                         (default 64)

local M = {}

local function env(name, default)
    local v = os.getenv(name)
    if v == nil or v == "" then return default end
    return v
end

local here = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./")

M.port        = "0"
M.lan_mac     = env("IPSHARE_LAN_MAC", "02:ee:00:00:00:02")
M.ports       = tonumber(env("IPSHARE_PORTS", "4"))
M.seconds     = tonumber(env("IPSHARE_SECONDS", "10"))
M.pkt_size    = tonumber(env("IPSHARE_PKT_SIZE", "64"))
M.reflector   = env("IPSHARE_REFLECTOR", here .. "reflector.sh seed")
M.first_client, M.last_client = 10, 250
M.nclients    = M.last_client - M.first_client + 1   -- 241, a prime
M.sport       = 1024
M.remote      = "198.51.100.20"
M.dport       = 9
-- The LAN seed (lan-seed.pcap, loaded with pktgen -s 0:FILE) holds one ARP
-- reply per client.
M.seed_frames = M.nclients

function M.flows()
    -- The source address and the source port both step by one per frame,
    -- with periods 241 and P: since 241 is prime, every (address, port)
    -- pair occurs once per 241 x P frames (for P < 241).
    return M.nclients * M.ports
end

function M.log(fmt, ...)
    local s = string.format(fmt, ...)
    print(s)
    if M.logfile then
        M.logfile:write(s .. "\n")
        M.logfile:flush()
    end
end

-- The traffic: range mode on port 0.
function M.setup()
    local p = M.port
    pktgen.stop(p)
    pktgen.set_type(p, "ipv4")
    pktgen.set_proto(p, "udp")
    pktgen.set(p, "size", M.pkt_size)
    pktgen.range.ip_proto(p, "udp")
    pktgen.range.dst_mac(p, "start", M.lan_mac)
    pktgen.range.dst_mac(p, "min", M.lan_mac)
    pktgen.range.dst_mac(p, "max", M.lan_mac)
    pktgen.range.dst_mac(p, "inc", "00:00:00:00:00:00")

    local first = "192.168.1." .. M.first_client
    pktgen.range.src_ip(p, "start", first)
    pktgen.range.src_ip(p, "min", first)
    pktgen.range.src_ip(p, "max", "192.168.1." .. M.last_client)
    pktgen.range.src_ip(p, "inc", "0.0.0.1")

    pktgen.range.dst_ip(p, "start", M.remote)
    pktgen.range.dst_ip(p, "min", M.remote)
    pktgen.range.dst_ip(p, "max", M.remote)
    pktgen.range.dst_ip(p, "inc", "0.0.0.0")

    pktgen.range.src_port(p, "start", M.sport)
    pktgen.range.src_port(p, "min", M.sport)
    pktgen.range.src_port(p, "max", M.sport + M.ports - 1)
    pktgen.range.src_port(p, "inc", 1)

    pktgen.range.dst_port(p, "start", M.dport)
    pktgen.range.dst_port(p, "min", M.dport)
    pktgen.range.dst_port(p, "max", M.dport)
    pktgen.range.dst_port(p, "inc", 0)

    pktgen.range.pkt_size(p, "start", M.pkt_size)
    pktgen.range.pkt_size(p, "min", M.pkt_size)
    pktgen.range.pkt_size(p, "max", M.pkt_size)
    pktgen.range.pkt_size(p, "inc", 0)
    pktgen.set_range(p, "on")
end

-- ARP: the clients (from port 0's pcap) and the gateway (the reflector).
-- Run before every trial: ipshare forgets a neighbour that no ARP
-- confirmed for about 60 s.
function M.seed()
    local p = M.port
    if M.reflector ~= "none" then
        local ok = os.execute(M.reflector)
        if not ok then M.log("[WARN] '%s' failed: the gateway may be unresolved", M.reflector) end
    end
    pktgen.set_range(p, "off")
    pktgen.pcap(p, "on")
    pktgen.set(p, "rate", 1)
    pktgen.set(p, "count", M.seed_frames)
    pktgen.start(p)
    pktgen.delay(500)
    pktgen.stop(p)
    pktgen.pcap(p, "off")
    pktgen.set(p, "count", 0)
    pktgen.set_range(p, "on")
    pktgen.delay(200)
end

-- One trial at `rate` percent of the link for `seconds`; returns the frames
-- sent and received on port 0 (the received ones made the round trip).
function M.trial(rate, seconds)
    local p = M.port
    M.seed()
    pktgen.set(p, "rate", rate)
    pktgen.set(p, "count", 0)
    pktgen.clr()
    pktgen.delay(100)
    pktgen.start(p)
    pktgen.delay(seconds * 1000)
    pktgen.stop(p)
    pktgen.delay(2000)  -- frames still in flight come back
    local st = pktgen.portStats(p, "port")[tonumber(p)]
    return st.opackets, st.ipackets
end

return M
