// TCP connection tracking for NAT sessions: RFC 7857 section 2.1 and the
// state machine of RFC 6146 section 3.5.2, reduced to what a NAT needs to
// choose a timeout, with one more step for flows opened from outside, as
// Linux conntrack's SYN_RECV: the inside host's SYN-ACK does not establish
// the session, the outside host's ACK does. A SYN flood from spoofed
// sources to a forward whose target answers stays half-open, bounded and
// short-lived (RFC 5382 REQ-4 and section 5: transitory states may age
// fast). Drawn in docs/nat.md.
//
//            SYN out                      SYN in             SYN(-ACK) out
//   closed ---------> syn_out    closed ---------> syn_in -------------> syn_recv
//   syn_out --(any packet in)--> established <--(ACK in of the inside SYN)-- syn_recv
//   established --FIN out--> fin_out --FIN in--> fin_both (time-wait)
//   established --FIN in---> fin_in  --FIN out-> fin_both
//   any --RST--> rst (but syn_in, syn_recv: tcp_track);   fin_both / rst --SYN--> syn_out / syn_in (reopen)
//
// tcp_track() adds the one sequence check a NAT needs for flows opened from
// outside (as Linux conntrack in SYN_RECV): the outside host's ACK completes
// the handshake only when it acknowledges the inside host's SYN (ack = its
// ISN + 1), so a blind attacker who sent the SYN from a spoofed address
// cannot establish the session; and an RST ends a half-open inbound
// attempt where it stands (it ages out with the 6 s of its class) instead
// of holding it 4 minutes as `rst`. Everything else is tcp_next().
//
// Timeouts: `established` and the half-closed states (`fin_out`, `fin_in`:
// data may still flow the other way) use tcp-established (RFC 5382 REQ-5: at
// least 2 h 4 min, default 7440 s), as RFC 6146's V4/V6 FIN RCV states do;
// the half-open inbound states (`syn_in`, `syn_recv`) use tcp-syn-in and
// count against the half-open bound (nat.h); every other state uses
// tcp-transitory (4 min, default 240 s).
#pragma once

#include <cstdint>

namespace ipshare {

enum class TcpState : uint8_t { closed, syn_out, syn_in, established, fin_out, fin_in, fin_both, rst, syn_recv };
inline constexpr const char* kTcpStateNames[] = {"closed", "syn-out",   "syn-in", "established", "fin-out",
                                                 "fin-in", "time-wait", "reset",  "syn-recv"};

enum class Dir : uint8_t { out, in };  // out: LAN client -> internet; in: internet -> client

TcpState tcp_next(TcpState s, Dir d, uint8_t tcp_flags);

// The fields of a TCP segment the state machine reads (host order).
struct TcpSegment {
    uint8_t flags;
    uint32_t seq, ack;
};

// tcp_next() with the handshake check described above. `expect_ack` is the
// session's record of the ACK that completes an inbound handshake: written
// when the inside host's SYN(-ACK) moves it to syn_recv, read after.
TcpState tcp_track(TcpState s, Dir d, const TcpSegment& seg, uint32_t* expect_ack);

// Whether a flow opened from outside has not completed its handshake.
inline bool tcp_is_half_open_inbound(TcpState s) { return s == TcpState::syn_in || s == TcpState::syn_recv; }

// Whether the state ages with tcp-established (else tcp-transitory).
inline bool tcp_is_established(TcpState s) {
    return s == TcpState::established || s == TcpState::fin_out || s == TcpState::fin_in;
}

}  // namespace ipshare
