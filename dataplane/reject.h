// TCP reset for `filter reject` (RFC 9293 3.10.7.1, as iptables' REJECT
// --reject-with tcp-reset does): built in place from the offending segment.
#pragma once

#include <cstdint>

#include "icmp.h"

namespace ipshare {

// Turns the TCP segment at frame+14 into the RST that answers it, from its
// destination back to its source; Ethernet goes back to the previous hop
// with source `mac`. Returns the new frame. The segment must be a first
// fragment with a whole TCP header (flow_of said `ports`), and not a RST.
FrameSpan tcp_build_rst(uint8_t* frame, const uint8_t mac[6]);

}  // namespace ipshare
