// tcp_next: the NAT's TCP state machine, as drawn at the top of tcp_state.h.
//
//   closed  --SYN out--> syn_out          closed --SYN in--> syn_in --SYN(-ACK) out--> syn_recv
//   syn_out --(any packet in)--> established <--(ACK in)-- syn_recv
//   established --FIN out--> fin_out --FIN in--> fin_both
//   established --FIN in---> fin_in  --FIN out-> fin_both
//   any --RST--> rst;   fin_both / rst --SYN--> syn_out / syn_in (reopen)
//
// A packet that both completes the handshake and carries a FIN (FIN in while
// syn_out or syn_recv) takes both steps: established, then the FIN.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>

#include "headers.h"
#include "tcp_state.h"

namespace ipshare {
namespace {

using S = TcpState;

std::string name(S s) { return kTcpStateNames[static_cast<int>(s)]; }

struct Flags {
    const char* label;
    uint8_t bits;
};
constexpr std::array<Flags, 5> kFlags = {{
    {"SYN", kTcpSyn},
    {"SYN+ACK", kTcpSyn | kTcpAck},
    {"ACK", kTcpAck},
    {"FIN+ACK", kTcpFin | kTcpAck},
    {"RST+ACK", kTcpRst | kTcpAck},
}};
enum FlagIdx { kSyn, kSynAck, kAck, kFin, kRst };

constexpr std::array<S, 9> kStates = {S::closed,  S::syn_out, S::syn_in,   S::established, S::fin_out,
                                      S::fin_in,  S::fin_both, S::rst, S::syn_recv};

// expected[state][flags] for one direction, in the order of kStates / kFlags.
using Table = std::array<std::array<S, 5>, 9>;

constexpr Table kOut = {{
    //            SYN           SYN+ACK       ACK             FIN             RST
    /* closed  */ {S::syn_out, S::syn_out, S::closed, S::closed, S::rst},
    /* syn_out */ {S::syn_out, S::syn_out, S::syn_out, S::syn_out, S::rst},
    /* syn_in  */ {S::syn_recv, S::syn_recv, S::syn_in, S::syn_in, S::rst},
    /* estab   */ {S::established, S::established, S::established, S::fin_out, S::rst},
    /* fin_out */ {S::fin_out, S::fin_out, S::fin_out, S::fin_out, S::rst},
    /* fin_in  */ {S::fin_in, S::fin_in, S::fin_in, S::fin_both, S::rst},
    /* fin_both*/ {S::syn_out, S::syn_out, S::fin_both, S::fin_both, S::rst},
    /* rst     */ {S::syn_out, S::syn_out, S::rst, S::rst, S::rst},
    /* syn_recv*/ {S::syn_recv, S::syn_recv, S::syn_recv, S::syn_recv, S::rst},
}};

constexpr Table kIn = {{
    //            SYN             SYN+ACK         ACK             FIN           RST
    /* closed  */ {S::syn_in, S::syn_in, S::closed, S::closed, S::rst},
    /* syn_out */ {S::established, S::established, S::established, S::fin_in, S::rst},
    /* syn_in  */ {S::syn_in, S::syn_in, S::syn_in, S::syn_in, S::rst},
    /* estab   */ {S::established, S::established, S::established, S::fin_in, S::rst},
    /* fin_out */ {S::fin_out, S::fin_out, S::fin_out, S::fin_both, S::rst},
    /* fin_in  */ {S::fin_in, S::fin_in, S::fin_in, S::fin_in, S::rst},
    /* fin_both*/ {S::syn_in, S::syn_in, S::fin_both, S::fin_both, S::rst},
    /* rst     */ {S::syn_in, S::syn_in, S::rst, S::rst, S::rst},
    /* syn_recv*/ {S::syn_recv, S::syn_recv, S::established, S::fin_in, S::rst},
}};

void check_table(Dir d, const Table& t) {
    for (size_t s = 0; s < kStates.size(); ++s)
        for (size_t f = 0; f < kFlags.size(); ++f)
            EXPECT_EQ(name(tcp_next(kStates[s], d, kFlags[f].bits)), name(t[s][f]))
                << "from " << name(kStates[s]) << ", " << kFlags[f].label << (d == Dir::out ? " out" : " in");
}

TEST(TcpState, EveryTransitionOutbound) { check_table(Dir::out, kOut); }

TEST(TcpState, EveryTransitionInbound) { check_table(Dir::in, kIn); }

TEST(TcpState, ClientOpensAndClosesFirst) {
    S s = S::closed;
    s = tcp_next(s, Dir::out, kTcpSyn);
    EXPECT_EQ(s, S::syn_out);
    s = tcp_next(s, Dir::in, kTcpSyn | kTcpAck);
    EXPECT_EQ(s, S::established);
    s = tcp_next(s, Dir::out, kTcpAck);
    EXPECT_EQ(s, S::established);
    EXPECT_TRUE(tcp_is_established(s));
    s = tcp_next(s, Dir::out, kTcpFin | kTcpAck);
    EXPECT_EQ(s, S::fin_out);
    EXPECT_TRUE(tcp_is_established(s));  // half-closed: data may still come in
    s = tcp_next(s, Dir::in, kTcpAck);
    EXPECT_EQ(s, S::fin_out);
    s = tcp_next(s, Dir::in, kTcpFin | kTcpAck);
    EXPECT_EQ(s, S::fin_both);
    EXPECT_FALSE(tcp_is_established(s));
    s = tcp_next(s, Dir::out, kTcpAck);
    EXPECT_EQ(s, S::fin_both);
}

TEST(TcpState, RemoteOpensAndClosesFirst) {
    S s = tcp_next(S::closed, Dir::in, kTcpSyn);
    EXPECT_EQ(s, S::syn_in);
    s = tcp_next(s, Dir::out, kTcpSyn | kTcpAck);
    EXPECT_EQ(s, S::syn_recv);
    EXPECT_TRUE(tcp_is_half_open_inbound(s));
    s = tcp_next(s, Dir::in, kTcpAck);
    EXPECT_EQ(s, S::established);
    EXPECT_FALSE(tcp_is_half_open_inbound(s));
    s = tcp_next(s, Dir::in, kTcpFin | kTcpAck);
    EXPECT_EQ(s, S::fin_in);
    s = tcp_next(s, Dir::out, kTcpFin | kTcpAck);
    EXPECT_EQ(s, S::fin_both);
}

TEST(TcpState, SimultaneousOpen) {
    S s = tcp_next(S::closed, Dir::out, kTcpSyn);
    ASSERT_EQ(s, S::syn_out);
    s = tcp_next(s, Dir::in, kTcpSyn);  // the remote's SYN crosses ours
    EXPECT_EQ(s, S::established);
    // and the other way round
    s = tcp_next(S::closed, Dir::in, kTcpSyn);
    ASSERT_EQ(s, S::syn_in);
    s = tcp_next(s, Dir::out, kTcpSyn);
    EXPECT_EQ(s, S::syn_recv);
    s = tcp_next(s, Dir::in, kTcpSyn | kTcpAck);  // the remote's SYN-ACK: still no ACK alone
    EXPECT_EQ(s, S::syn_recv);
    s = tcp_next(s, Dir::in, kTcpAck);
    EXPECT_EQ(s, S::established);
}

// A SYN flood from spoofed sources to a forward whose target answers: the
// target's SYN-ACKs (and its retransmissions, and anything else it sends)
// never establish the session; only the outside host's ACK does.
TEST(TcpState, InboundHandshakeNeedsTheOutsideHostsAck) {
    S s = tcp_next(S::closed, Dir::in, kTcpSyn);
    for (uint8_t f : {uint8_t(kTcpSyn | kTcpAck), uint8_t(kTcpSyn | kTcpAck), uint8_t(kTcpAck),
                      uint8_t(kTcpAck | kTcpPsh), uint8_t(kTcpFin | kTcpAck)}) {
        s = tcp_next(s, Dir::out, f);
        EXPECT_EQ(name(s), name(S::syn_recv)) << "after flags " << int(f) << " out";
        EXPECT_TRUE(tcp_is_half_open_inbound(s));
        EXPECT_FALSE(tcp_is_established(s));
    }
    EXPECT_EQ(tcp_next(s, Dir::in, kTcpSyn), S::syn_recv) << "a retransmitted SYN";
    EXPECT_EQ(tcp_next(s, Dir::in, kTcpAck), S::established);
    // Before the SYN-ACK, the inside host's other packets change nothing.
    EXPECT_EQ(tcp_next(S::syn_in, Dir::out, kTcpAck), S::syn_in);
    EXPECT_EQ(tcp_next(S::syn_in, Dir::out, kTcpFin | kTcpAck), S::syn_in);
}

TEST(TcpState, HalfOpenInboundStates) {
    for (S s : kStates)
        EXPECT_EQ(tcp_is_half_open_inbound(s), s == S::syn_in || s == S::syn_recv) << name(s);
}

TEST(TcpState, RetransmittedSynDoesNotEstablish) {
    EXPECT_EQ(tcp_next(S::syn_out, Dir::out, kTcpSyn), S::syn_out);
    EXPECT_EQ(tcp_next(S::syn_in, Dir::in, kTcpSyn), S::syn_in);
}

TEST(TcpState, ReopenAfterTimeWait) {
    EXPECT_EQ(tcp_next(S::fin_both, Dir::out, kTcpSyn), S::syn_out);
    EXPECT_EQ(tcp_next(S::fin_both, Dir::in, kTcpSyn), S::syn_in);
    S s = tcp_next(S::fin_both, Dir::out, kTcpSyn);
    s = tcp_next(s, Dir::in, kTcpSyn | kTcpAck);
    EXPECT_EQ(s, S::established);
}

TEST(TcpState, ReopenAfterReset) {
    EXPECT_EQ(tcp_next(S::rst, Dir::out, kTcpSyn), S::syn_out);
    EXPECT_EQ(tcp_next(S::rst, Dir::in, kTcpSyn), S::syn_in);
    S s = tcp_next(S::rst, Dir::in, kTcpSyn);
    s = tcp_next(s, Dir::out, kTcpSyn | kTcpAck);
    s = tcp_next(s, Dir::in, kTcpAck);
    EXPECT_EQ(s, S::established);
}

TEST(TcpState, RstFromAnyStateWinsOverOtherFlags) {
    const uint8_t combos[] = {kTcpRst, kTcpRst | kTcpAck, kTcpRst | kTcpSyn, kTcpRst | kTcpFin,
                              kTcpRst | kTcpSyn | kTcpFin | kTcpAck | kTcpPsh};
    for (S s : kStates)
        for (Dir d : {Dir::out, Dir::in})
            for (uint8_t f : combos)
                EXPECT_EQ(name(tcp_next(s, d, f)), name(S::rst))
                    << "from " << name(s) << " flags " << int(f) << (d == Dir::out ? " out" : " in");
}

// established and the half-closed states age with tcp-established; the
// others (no handshake yet, time-wait, reset) with tcp-transitory.
TEST(TcpState, WhichStatesAgeAsEstablished) {
    for (S s : kStates) {
        const bool want = s == S::established || s == S::fin_out || s == S::fin_in;
        EXPECT_EQ(tcp_is_established(s), want) << name(s);
    }
}

// tcp_track: the handshake of a flow opened from outside completes only with
// the outside host's ACK of the inside host's SYN (ack = ISN + 1), as Linux
// conntrack checks in SYN_RECV. A spoofed SYN's sender never sees the
// SYN-ACK, so its blind ACK leaves the session half-open.
TEST(TcpTrack, InboundHandshakeCompletesOnlyWithTheAckOfTheInsideSyn) {
    uint32_t expect = 0;
    S s = tcp_track(S::closed, Dir::in, {kTcpSyn, 7000, 0}, &expect);
    ASSERT_EQ(s, S::syn_in);
    s = tcp_track(s, Dir::out, {uint8_t(kTcpSyn | kTcpAck), 0xfffffff0u, 7001}, &expect);
    ASSERT_EQ(s, S::syn_recv);
    EXPECT_EQ(expect, 0xfffffff1u);
    for (uint32_t ack : {0u, 1u, 0xfffffff0u, 0xfffffff2u, 0x7ffffff1u})
        EXPECT_EQ(tcp_track(s, Dir::in, {kTcpAck, 7001, ack}, &expect), S::syn_recv) << "blind ACK " << ack;
    EXPECT_EQ(tcp_track(s, Dir::in, {uint8_t(kTcpAck | kTcpPsh), 7001, 0x1234}, &expect), S::syn_recv);
    EXPECT_EQ(tcp_track(s, Dir::in, {uint8_t(kTcpFin | kTcpAck), 7001, 0x1234}, &expect), S::syn_recv);
    EXPECT_EQ(tcp_track(s, Dir::in, {kTcpFin, 7001, 0xfffffff1u}, &expect), S::syn_recv) << "no ACK flag";
    EXPECT_EQ(tcp_track(s, Dir::in, {kTcpAck, 7001, 0xfffffff1u}, &expect), S::established);
    EXPECT_EQ(tcp_track(s, Dir::in, {uint8_t(kTcpFin | kTcpAck), 7001, 0xfffffff1u}, &expect), S::fin_in);
}

TEST(TcpTrack, ARetransmittedSynAckWithAnotherIsnMovesTheExpectedAck) {
    uint32_t expect = 0;
    S s = tcp_track(S::closed, Dir::in, {kTcpSyn, 1, 0}, &expect);
    s = tcp_track(s, Dir::out, {uint8_t(kTcpSyn | kTcpAck), 100, 2}, &expect);
    s = tcp_track(s, Dir::out, {uint8_t(kTcpSyn | kTcpAck), 500, 2}, &expect);
    EXPECT_EQ(tcp_track(s, Dir::in, {kTcpAck, 2, 101}, &expect), S::syn_recv);
    EXPECT_EQ(tcp_track(s, Dir::in, {kTcpAck, 2, 501}, &expect), S::established);
}

// Simultaneous open with the remote's SYN first: the client's SYN is what
// the remote's ACK must acknowledge.
TEST(TcpTrack, SimultaneousOpenFromOutside) {
    uint32_t expect = 0;
    S s = tcp_track(S::closed, Dir::in, {kTcpSyn, 10, 0}, &expect);
    s = tcp_track(s, Dir::out, {kTcpSyn, 90, 0}, &expect);
    ASSERT_EQ(s, S::syn_recv);
    EXPECT_EQ(tcp_track(s, Dir::in, {uint8_t(kTcpSyn | kTcpAck), 10, 91}, &expect), S::syn_recv);
    EXPECT_EQ(tcp_track(s, Dir::in, {kTcpAck, 11, 91}, &expect), S::established);
}

// An RST in a half-open inbound state (the target refusing a blind ACK, or
// a closed port) leaves it half-open, to age out with the 6 s of its class,
// not held 4 minutes as `reset`. Once established, RST is tcp_next's.
TEST(TcpTrack, RstEndsAHalfOpenAttemptWhereItStands) {
    for (S half : {S::syn_in, S::syn_recv})
        for (Dir d : {Dir::out, Dir::in}) {
            uint32_t expect = 5;
            EXPECT_EQ(name(tcp_track(half, d, {uint8_t(kTcpRst | kTcpAck), 0, 0}, &expect)), name(half));
        }
    uint32_t expect = 0;
    for (S s : kStates) {
        if (tcp_is_half_open_inbound(s)) continue;
        EXPECT_EQ(name(tcp_track(s, Dir::in, {kTcpRst, 0, 0}, &expect)), name(S::rst)) << name(s);
    }
}

// Outside the half-open inbound states tcp_track is tcp_next: no sequence
// number matters.
TEST(TcpTrack, IsTcpNextElsewhere) {
    for (S s : kStates) {
        if (tcp_is_half_open_inbound(s)) continue;
        for (Dir d : {Dir::out, Dir::in})
            for (const auto& f : kFlags) {
                uint32_t expect = 0;
                EXPECT_EQ(name(tcp_track(s, d, {f.bits, 123, 456}, &expect)), name(tcp_next(s, d, f.bits)))
                    << name(s) << " " << f.label;
            }
    }
}

TEST(TcpState, StateNames) {
    EXPECT_STREQ(kTcpStateNames[static_cast<int>(S::established)], "established");
    EXPECT_STREQ(kTcpStateNames[static_cast<int>(S::fin_both)], "time-wait");
    EXPECT_STREQ(kTcpStateNames[static_cast<int>(S::rst)], "reset");
    EXPECT_STREQ(kTcpStateNames[static_cast<int>(S::syn_recv)], "syn-recv");
}

}  // namespace
}  // namespace ipshare
