#include "tcp_state.h"

#include "headers.h"

namespace ipshare {

TcpState tcp_next(TcpState s, Dir d, uint8_t flags) {
    const bool out = d == Dir::out;
    if (flags & kTcpRst) return TcpState::rst;
    const bool syn = flags & kTcpSyn;
    const bool fin = flags & kTcpFin;
    switch (s) {
    case TcpState::closed:
    case TcpState::fin_both:
    case TcpState::rst:
        if (syn) return out ? TcpState::syn_out : TcpState::syn_in;
        return s;
    case TcpState::syn_out:
        return out ? TcpState::syn_out : (fin ? TcpState::fin_in : TcpState::established);
    case TcpState::syn_in:  // only the inside host's SYN-ACK moves it on
        return (out && syn) ? TcpState::syn_recv : TcpState::syn_in;
    case TcpState::syn_recv:  // the outside host's ACK completes the handshake
        if (out || syn) return TcpState::syn_recv;
        return fin ? TcpState::fin_in : TcpState::established;
    case TcpState::established:
        if (fin) return out ? TcpState::fin_out : TcpState::fin_in;
        return s;
    case TcpState::fin_out:
        return (fin && !out) ? TcpState::fin_both : s;
    case TcpState::fin_in:
        return (fin && out) ? TcpState::fin_both : s;
    }
    return s;
}

TcpState tcp_track(TcpState s, Dir d, const TcpSegment& seg, uint32_t* expect_ack) {
    if (!tcp_is_half_open_inbound(s)) return tcp_next(s, d, seg.flags);
    if (seg.flags & kTcpRst) return s;  // the attempt failed: it ages out as half-open
    const bool syn = seg.flags & kTcpSyn;
    if (d == Dir::out && syn) *expect_ack = seg.seq + 1;  // the inside host's SYN-ACK (or SYN), first or again
    if (s == TcpState::syn_recv && d == Dir::in && !syn && !((seg.flags & kTcpAck) && seg.ack == *expect_ack))
        return s;  // does not acknowledge the inside host's SYN: a blind guess
    return tcp_next(s, d, seg.flags);
}

}  // namespace ipshare
