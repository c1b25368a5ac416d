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
    case TcpState::syn_in:
        return out ? (fin ? TcpState::fin_out : TcpState::established) : TcpState::syn_in;
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

}  // namespace ipshare
