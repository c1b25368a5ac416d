// Unit tests for the configuration grammar (control/config_parse.h): `forward`
// and `hairpin source`.
#include <gtest/gtest.h>

#include <string>

#include "config_test_support.h"

namespace ipshare {
namespace {

using namespace test;

// ---------------------------------------------------------------- forward

TEST(ConfigForward, SinglePortToOtherPort) {
    const Config c = must_parse(ref_plus("forward tcp 8080 to 192.168.1.101 port 80"));
    ASSERT_EQ(c.forwards.size(), 1u);
    const Forward& f = c.forwards[0];
    EXPECT_EQ(f.protos, kProtoTcp);
    EXPECT_EQ(f.ports, (PortRange{8080, 8080}));
    EXPECT_EQ(f.target, ip("192.168.1.101"));
    EXPECT_EQ(f.target_port, 80);
    EXPECT_EQ(f.line, 10);
    EXPECT_EQ(f.target_port_for(8080), 80);
}

TEST(ConfigForward, RangeToSamePorts) {
    const Config c = must_parse(ref_plus("forward udp 27015-27020 to 192.168.1.102"));
    ASSERT_EQ(c.forwards.size(), 1u);
    const Forward& f = c.forwards[0];
    EXPECT_EQ(f.protos, kProtoUdp);
    EXPECT_EQ(f.ports, (PortRange{27015, 27020}));
    EXPECT_EQ(f.target, ip("192.168.1.102"));
    EXPECT_EQ(f.target_port, 0);
    EXPECT_EQ(f.target_port_for(27017), 27017);
}

TEST(ConfigForward, RangeToOtherRange) {
    const Config c = must_parse(ref_plus("forward tcp+udp 5000-5009 to 192.168.1.103 port 6000-6009"));
    ASSERT_EQ(c.forwards.size(), 1u);
    const Forward& f = c.forwards[0];
    EXPECT_EQ(f.protos, kProtoTcp | kProtoUdp);
    EXPECT_EQ(f.ports, (PortRange{5000, 5009}));
    EXPECT_EQ(f.target, ip("192.168.1.103"));
    EXPECT_EQ(f.target_port, 6000);
    EXPECT_EQ(f.target_port_for(5000), 6000);
    EXPECT_EQ(f.target_port_for(5009), 6009);
}

TEST(ConfigForward, SingleTargetPortStartsARange) {
    const Config a = must_parse(ref_plus("forward tcp+udp 5000-5009 to 192.168.1.103 port 6000"));
    const Config b = must_parse(ref_plus("forward tcp+udp 5000-5009 to 192.168.1.103 port 6000-6009"));
    EXPECT_EQ(a, b);
    EXPECT_EQ(a.forwards.at(0).target_port, 6000);
}

TEST(ConfigForward, TargetPortEqualToOutsideIsStoredAsZero) {
    const Config a = must_parse(ref_plus("forward tcp 80 to 192.168.1.101 port 80"));
    EXPECT_EQ(a.forwards.at(0).target_port, 0);
    EXPECT_EQ(a, must_parse(ref_plus("forward tcp 80 to 192.168.1.101")));
    const Config b = must_parse(ref_plus("forward udp 27015-27020 to 192.168.1.102 port 27015"));
    EXPECT_EQ(b.forwards.at(0).target_port, 0);
}

TEST(ConfigForward, SeveralKeptInOrder) {
    const Config c = must_parse(reference() +
                                "forward tcp 8080 to 192.168.1.101 port 80\n"
                                "forward udp 27015-27020 to 192.168.1.102\n"
                                "forward tcp 53 to 192.168.1.103\n"
                                "forward udp 53 to 192.168.1.104\n"
                                "forward tcp 8000-8079 to 192.168.1.105\n");
    ASSERT_EQ(c.forwards.size(), 5u);
    EXPECT_EQ(c.forwards[0].ports.lo, 8080);
    EXPECT_EQ(c.forwards[1].protos, kProtoUdp);
    EXPECT_EQ(c.forwards[2].target, ip("192.168.1.103"));  // tcp 53 and udp 53: no shared protocol
    EXPECT_EQ(c.forwards[3].target, ip("192.168.1.104"));
    EXPECT_EQ(c.forwards[4].ports, (PortRange{8000, 8079}));  // adjacent to 8080, not overlapping
    EXPECT_EQ(c.forwards[4].line, 14);
}

TEST(ConfigForward, FullPortRange) {
    const Config c = must_parse(ref_with(7, "napt ports 1024-1087") + "forward tcp 1088-65535 to 192.168.1.101\n" +
                                "forward udp 1 to 192.168.1.101 port 65535\n");
    EXPECT_EQ(c.forwards.at(0).ports, (PortRange{1088, 65535}));
    EXPECT_EQ(c.forwards.at(1).target_port, 65535);
}

TEST(ConfigForward, Protocol) {
    expect_appended_errors({
        {"forward icmp 8080 to 192.168.1.101", "unknown forward protocol 'icmp' (expected tcp, udp or tcp+udp)"},
        {"forward udp+tcp 8080 to 192.168.1.101", "unknown forward protocol 'udp+tcp'"},
        {"forward TCP 8080 to 192.168.1.101", "unknown forward protocol 'TCP'"},
    });
}

TEST(ConfigForward, BadPort) {
    for (const std::string bad : {"http", "80-", "-80", "080", "80-090", "1-2-3", "+80", "8O", "80--90"})
        expect_error(ref_plus("forward tcp " + bad + " to 192.168.1.101"), 10,
                     "bad port '" + bad + "' (expected PORT or LO-HI)");
    expect_appended_errors({
        {"forward tcp 80 -90 to 192.168.1.101", "expected 'to' after 'forward tcp 80', got '-90'"},
        {"forward tcp 8080 to 192.168.1.101 port http", "bad port 'http' (expected PORT or LO-HI)"},
    });
}

TEST(ConfigForward, PortBeyond65535) {
    expect_appended_errors({
        {"forward tcp 65536 to 192.168.1.101", "forward port '65536' is beyond 65535"},
        {"forward tcp 65000-99999999999 to 192.168.1.101", "forward port '65000-99999999999' is beyond 65535"},
    });
}

TEST(ConfigForward, PortRangeReversed) {
    expect_error(ref_plus("forward tcp 90-80 to 192.168.1.101"), 10,
                 "forward port range '90-80' is reversed (LO must not exceed HI)");
}

TEST(ConfigForward, OutsidePortZero) {
    expect_appended_errors({
        {"forward tcp 0 to 192.168.1.101 port 80", "port 0 cannot be forwarded"},
        {"forward udp 0-10 to 192.168.1.101", "port 0 cannot be forwarded"},
    });
}

TEST(ConfigForward, Syntax) {
    expect_appended_errors({
        {"forward", "missing argument after 'forward'"},
        {"forward tcp", "missing argument after 'forward tcp'"},
        {"forward tcp 8080", "missing argument after 'forward tcp 8080'"},
        {"forward tcp 8080 192.168.1.101", "expected 'to' after 'forward tcp 8080', got '192.168.1.101'"},
        {"forward tcp 8080 to", "missing argument after 'forward tcp 8080 to'"},
        {"forward tcp 8080 to 192.168.1", "bad address '192.168.1'"},
        {"forward tcp 8080 to 192.168.1.101 80", "expected 'port' after 'forward tcp 8080 to 192.168.1.101', got '80'"},
        {"forward tcp 8080 to 192.168.1.101 port", "missing argument after 'forward tcp 8080 to 192.168.1.101 port'"},
        {"forward tcp 8080 to 192.168.1.101 port 80 extra", "unexpected 'extra' after statement"},
    });
}

TEST(ConfigForward, TargetRangeLength) {
    expect_appended_errors({
        {"forward tcp+udp 5000-5009 to 192.168.1.103 port 6000-6008",
         "forward target port range '6000-6008' has 9 ports, the outside range 5000-5009 has 10"},
        {"forward tcp 8080 to 192.168.1.101 port 80-81",
         "forward target port range '80-81' has 2 ports, the outside range 8080 has 1"},
    });
}

TEST(ConfigForward, TargetRangeBeyond65535) {
    expect_appended_errors({
        {"forward tcp 5000-5009 to 192.168.1.103 port 65530",
         "forward target port range 65530-65539 goes beyond 65535"},
        {"forward tcp 8080 to 192.168.1.101 port 65536", "forward target port '65536' is beyond 65535"},
        {"forward tcp 5000-5009 to 192.168.1.103 port 65530-65539",
         "forward target port '65530-65539' is beyond 65535"},
    });
}

TEST(ConfigForward, TargetPortZeroOrReversed) {
    expect_appended_errors({
        {"forward tcp 8080 to 192.168.1.101 port 0", "port 0 cannot be a forward target"},
        {"forward tcp 5000-5009 to 192.168.1.103 port 6009-6000",
         "forward target port range '6009-6000' is reversed (LO must not exceed HI)"},
    });
}

TEST(ConfigForward, TargetNotALanHost) {
    expect_appended_errors({
        {"forward tcp 8080 to 10.20.0.5", "forward target 10.20.0.5 is outside the lan subnet 192.168.1.0/24"},
        {"forward tcp 8080 to 203.0.113.10", "forward target 203.0.113.10 is outside the lan subnet 192.168.1.0/24"},
        {"forward tcp 8080 to 192.168.1.0",
         "forward target 192.168.1.0 is the network address of the lan subnet 192.168.1.0/24"},
        {"forward tcp 8080 to 192.168.1.255",
         "forward target 192.168.1.255 is the broadcast address of the lan subnet 192.168.1.0/24"},
        {"forward tcp 8080 to 192.168.1.1", "forward target 192.168.1.1 is lan-ip (the router itself)"},
    });
}

TEST(ConfigForward, OverlapSameProtocol) {
    expect_error(reference() + "forward tcp 8000-8100 to 192.168.1.101\nforward tcp 8080 to 192.168.1.102\n", 11,
                 "forward tcp 8080 overlaps forward tcp 8000-8100 (line 10)");
    expect_error(reference() + "forward udp 53 to 192.168.1.101\nforward udp 53 to 192.168.1.101\n", 11,
                 "forward udp 53 overlaps forward udp 53 (line 10)");
}

TEST(ConfigForward, TcpUdpOverlapsBoth) {
    expect_error(
        reference() + "forward tcp+udp 27000-27100 to 192.168.1.103\nforward udp 27015-27020 to 192.168.1.102\n", 11,
        "forward udp 27015-27020 overlaps forward tcp+udp 27000-27100 (line 10)");
    expect_error(reference() + "forward tcp 27100 to 192.168.1.102\nforward tcp+udp 27000-27100 to 192.168.1.103\n",
                 11, "forward tcp+udp 27000-27100 overlaps forward tcp 27100 (line 10)");
    // The overlap is reported against the first forward it meets.
    expect_error(reference() +
                     "forward udp 27015 to 192.168.1.102\n"
                     "forward tcp 27016 to 192.168.1.102\n"
                     "forward tcp+udp 27000-27100 to 192.168.1.103\n",
                 12, "forward tcp+udp 27000-27100 overlaps forward udp 27015 (line 10)");
}

TEST(ConfigForward, OverlapsNaptPorts) {
    expect_appended_errors({
        {"forward tcp 61000 to 192.168.1.101", "forward tcp 61000 overlaps the napt port range 61000-65535"},
        {"forward udp 60000-61000 to 192.168.1.101",
         "forward udp 60000-61000 overlaps the napt port range 61000-65535"},
    });
    // Checked after the whole file: the napt range may come later.
    expect_error(ref_with(7, "forward tcp 50000 to 192.168.1.101") + "napt ports 49000-50000\n", 7,
                 "forward tcp 50000 overlaps the napt port range 49000-50000");
    const Config c = must_parse(ref_with(7, "forward tcp 61000 to 192.168.1.101") + "napt ports 50000-60999\n");
    EXPECT_EQ(c.forwards.at(0).ports.lo, 61000);
}

TEST(ConfigForward, BuiltConfigChecked) {
    Config c = reference_config();
    c.forwards.push_back(Forward{kProtoTcp, PortRange{8080, 8080}, ip("192.168.1.101"), 80, 12});
    EXPECT_FALSE(validate_config(c).has_value());
    c.forwards[0].ports = PortRange{0, 10};
    expect_invalid(c, 12, "port 0 cannot be forwarded");
    c.forwards[0].ports = PortRange{90, 80};
    expect_invalid(c, 12, "forward port range '90-80' is reversed (LO must not exceed HI)");
    c.forwards[0].ports = PortRange{5000, 5009};
    c.forwards[0].target_port = 65530;
    expect_invalid(c, 12, "forward target port range 65530-65539 goes beyond 65535");
    c.forwards[0].target_port = 0;
    c.forwards[0].protos = 0;
    expect_invalid(c, 12, "forward has no valid protocol (expected tcp, udp or tcp+udp)");
    c.forwards[0].protos = 4;
    expect_invalid(c, 12, "forward has no valid protocol");
}

// ---------------------------------------------------------------- hairpin

TEST(ConfigHairpin, DefaultIsWan) {
    const Config c = reference_config();
    EXPECT_EQ(c.hairpin_source, HairpinSource::wan);
    EXPECT_EQ(c.hairpin_line, 0);
}

TEST(ConfigHairpin, Parses) {
    const Config lan = must_parse(ref_plus("hairpin source lan"));
    EXPECT_EQ(lan.hairpin_source, HairpinSource::lan);
    EXPECT_EQ(lan.hairpin_line, 10);
    const Config wan = must_parse(ref_plus("hairpin source wan"));
    EXPECT_EQ(wan.hairpin_source, HairpinSource::wan);
    EXPECT_EQ(wan.hairpin_line, 10);
    EXPECT_EQ(wan, reference_config());
}

TEST(ConfigHairpin, Errors) {
    expect_appended_errors({
        {"hairpin source dmz", "unknown hairpin source 'dmz' (expected wan or lan)"},
        {"hairpin lan", "expected 'source' after 'hairpin', got 'lan'"},
        {"hairpin source", "missing argument after 'hairpin source'"},
        {"hairpin source lan wan", "unexpected 'wan' after statement"},
    });
    expect_error(reference() + "hairpin source lan\nhairpin source lan\n", 11,
                 "duplicate 'hairpin source' (first at line 10)");
}

TEST(ConfigHairpin, LineZeroReplaces) {
    Config c = must_parse(ref_plus("hairpin source lan"));
    apply_ok(c, "hairpin source wan");
    EXPECT_EQ(c.hairpin_source, HairpinSource::wan);
    EXPECT_EQ(c.hairpin_line, 0);
}

}  // namespace
}  // namespace ipshare
