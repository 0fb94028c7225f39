//! Link messages of the route family (`RTM_NEWLINK` and the others of its group), as strace
//! 6.1 prints them: `struct ifinfomsg`, then the `IFLA_*` attributes.
//!
//! glibc's getifaddrs dumps the links (`RTM_GETLINK`) before the addresses; PostgreSQL calls
//! it to match `samehost` and `samenet` in pg_hba.conf, so a DBA tracing a backend's
//! authentication meets these replies:
//!
//! ```text
//! [{nlmsg_len=1468, nlmsg_type=RTM_NEWLINK, ...}, {ifi_family=AF_UNSPEC,
//!  ifi_type=ARPHRD_LOOPBACK, ifi_index=if_nametoindex("lo"), ifi_flags=IFF_UP|IFF_LOOPBACK|...,
//!  ifi_change=0}, [[{nla_len=7, nla_type=IFLA_IFNAME}, "lo"], ...]]
//! ```
//!
//! Decoded: the scalars, names and hardware addresses, the two statistics structures,
//! `IFLA_MAP`, and the nested `IFLA_XDP`, `IFLA_LINKINFO` (its kind names),
//! `IFLA_PROP_LIST`, `IFLA_PROTO_DOWN_REASON` and `IFLA_AF_SPEC` (IPv4's and IPv6's
//! configuration arrays, IPv6's statistics, flags, token and cache information). Not yet
//! (strace decodes them, in hex here): the per-kind `IFLA_INFO_DATA` (bridge, tun, ...),
//! the VF lists and ports, `AF_BRIDGE` inside `IFLA_AF_SPEC`. At strace's default `-s 32`
//! only the first 32 attributes of a link print, all of them among those decoded.
//!
//! Pure: the bytes come from [`super::netlink`].

use super::Ctx;
use super::netlink::{
    attributes, attributes_named, bytes_field, family, family_field, flags_field, hex,
    ifindex_field, inet6_field, label, label_plain, le_u16,
};
use super::util::{hex0, le_u32, le_u64, styled, xlat};
use crate::syscalls::{ConstStyle, Value};

const IFLA: [&str; 62] = [
    "IFLA_UNSPEC",
    "IFLA_ADDRESS",
    "IFLA_BROADCAST",
    "IFLA_IFNAME",
    "IFLA_MTU",
    "IFLA_LINK",
    "IFLA_QDISC",
    "IFLA_STATS",
    "IFLA_COST",
    "IFLA_PRIORITY",
    "IFLA_MASTER",
    "IFLA_WIRELESS",
    "IFLA_PROTINFO",
    "IFLA_TXQLEN",
    "IFLA_MAP",
    "IFLA_WEIGHT",
    "IFLA_OPERSTATE",
    "IFLA_LINKMODE",
    "IFLA_LINKINFO",
    "IFLA_NET_NS_PID",
    "IFLA_IFALIAS",
    "IFLA_NUM_VF",
    "IFLA_VFINFO_LIST",
    "IFLA_STATS64",
    "IFLA_VF_PORTS",
    "IFLA_PORT_SELF",
    "IFLA_AF_SPEC",
    "IFLA_GROUP",
    "IFLA_NET_NS_FD",
    "IFLA_EXT_MASK",
    "IFLA_PROMISCUITY",
    "IFLA_NUM_TX_QUEUES",
    "IFLA_NUM_RX_QUEUES",
    "IFLA_CARRIER",
    "IFLA_PHYS_PORT_ID",
    "IFLA_CARRIER_CHANGES",
    "IFLA_PHYS_SWITCH_ID",
    "IFLA_LINK_NETNSID",
    "IFLA_PHYS_PORT_NAME",
    "IFLA_PROTO_DOWN",
    "IFLA_GSO_MAX_SEGS",
    "IFLA_GSO_MAX_SIZE",
    "IFLA_PAD",
    "IFLA_XDP",
    "IFLA_EVENT",
    "IFLA_NEW_NETNSID",
    "IFLA_IF_NETNSID",
    "IFLA_CARRIER_UP_COUNT",
    "IFLA_CARRIER_DOWN_COUNT",
    "IFLA_NEW_IFINDEX",
    "IFLA_MIN_MTU",
    "IFLA_MAX_MTU",
    "IFLA_PROP_LIST",
    "IFLA_ALT_IFNAME",
    "IFLA_PERM_ADDRESS",
    "IFLA_PROTO_DOWN_REASON",
    "IFLA_PARENT_DEV_NAME",
    "IFLA_PARENT_DEV_BUS_NAME",
    "IFLA_GRO_MAX_SIZE",
    "IFLA_TSO_MAX_SIZE",
    "IFLA_TSO_MAX_SEGS",
    "IFLA_ALLMULTI",
];

const ARPHRD: &[(u64, &str)] = &[
    (0, "ARPHRD_NETROM"),
    (1, "ARPHRD_ETHER"),
    (2, "ARPHRD_EETHER"),
    (3, "ARPHRD_AX25"),
    (4, "ARPHRD_PRONET"),
    (5, "ARPHRD_CHAOS"),
    (6, "ARPHRD_IEEE802"),
    (7, "ARPHRD_ARCNET"),
    (8, "ARPHRD_APPLETLK"),
    (15, "ARPHRD_DLCI"),
    (19, "ARPHRD_ATM"),
    (23, "ARPHRD_METRICOM"),
    (24, "ARPHRD_IEEE1394"),
    (27, "ARPHRD_EUI64"),
    (32, "ARPHRD_INFINIBAND"),
    (256, "ARPHRD_SLIP"),
    (257, "ARPHRD_CSLIP"),
    (258, "ARPHRD_SLIP6"),
    (259, "ARPHRD_CSLIP6"),
    (260, "ARPHRD_RSRVD"),
    (264, "ARPHRD_ADAPT"),
    (270, "ARPHRD_ROSE"),
    (271, "ARPHRD_X25"),
    (272, "ARPHRD_HWX25"),
    (280, "ARPHRD_CAN"),
    (290, "ARPHRD_MCTP"),
    (512, "ARPHRD_PPP"),
    (513, "ARPHRD_CISCO"),
    (516, "ARPHRD_LAPB"),
    (517, "ARPHRD_DDCMP"),
    (518, "ARPHRD_RAWHDLC"),
    (519, "ARPHRD_RAWIP"),
    (768, "ARPHRD_TUNNEL"),
    (769, "ARPHRD_TUNNEL6"),
    (770, "ARPHRD_FRAD"),
    (771, "ARPHRD_SKIP"),
    (772, "ARPHRD_LOOPBACK"),
    (773, "ARPHRD_LOCALTLK"),
    (774, "ARPHRD_FDDI"),
    (775, "ARPHRD_BIF"),
    (776, "ARPHRD_SIT"),
    (777, "ARPHRD_IPDDP"),
    (778, "ARPHRD_IPGRE"),
    (779, "ARPHRD_PIMREG"),
    (780, "ARPHRD_HIPPI"),
    (781, "ARPHRD_ASH"),
    (782, "ARPHRD_ECONET"),
    (783, "ARPHRD_IRDA"),
    (784, "ARPHRD_FCPP"),
    (785, "ARPHRD_FCAL"),
    (786, "ARPHRD_FCPL"),
    (787, "ARPHRD_FCFABRIC"),
    (800, "ARPHRD_IEEE802_TR"),
    (801, "ARPHRD_IEEE80211"),
    (802, "ARPHRD_IEEE80211_PRISM"),
    (803, "ARPHRD_IEEE80211_RADIOTAP"),
    (804, "ARPHRD_IEEE802154"),
    (805, "ARPHRD_IEEE802154_MONITOR"),
    (820, "ARPHRD_PHONET"),
    (821, "ARPHRD_PHONET_PIPE"),
    (822, "ARPHRD_CAIF"),
    (823, "ARPHRD_IP6GRE"),
    (824, "ARPHRD_NETLINK"),
    (825, "ARPHRD_6LOWPAN"),
    (826, "ARPHRD_VSOCKMON"),
    (0xfffe, "ARPHRD_NONE"),
    (0xffff, "ARPHRD_VOID"),
];

const IFF: &[(u64, &str)] = &[
    (0x1, "IFF_UP"),
    (0x2, "IFF_BROADCAST"),
    (0x4, "IFF_DEBUG"),
    (0x8, "IFF_LOOPBACK"),
    (0x10, "IFF_POINTOPOINT"),
    (0x20, "IFF_NOTRAILERS"),
    (0x40, "IFF_RUNNING"),
    (0x80, "IFF_NOARP"),
    (0x100, "IFF_PROMISC"),
    (0x200, "IFF_ALLMULTI"),
    (0x400, "IFF_MASTER"),
    (0x800, "IFF_SLAVE"),
    (0x1000, "IFF_MULTICAST"),
    (0x2000, "IFF_PORTSEL"),
    (0x4000, "IFF_AUTOMEDIA"),
    (0x8000, "IFF_DYNAMIC"),
    (0x10000, "IFF_LOWER_UP"),
    (0x20000, "IFF_DORMANT"),
    (0x40000, "IFF_ECHO"),
];

/// `struct rtnl_link_stats64`'s fields; `struct rtnl_link_stats` has all but the last.
const STATS: [&str; 25] = [
    "rx_packets",
    "tx_packets",
    "rx_bytes",
    "tx_bytes",
    "rx_errors",
    "tx_errors",
    "rx_dropped",
    "tx_dropped",
    "multicast",
    "collisions",
    "rx_length_errors",
    "rx_over_errors",
    "rx_crc_errors",
    "rx_frame_errors",
    "rx_fifo_errors",
    "rx_missed_errors",
    "tx_aborted_errors",
    "tx_carrier_errors",
    "tx_fifo_errors",
    "tx_heartbeat_errors",
    "tx_window_errors",
    "rx_compressed",
    "tx_compressed",
    "rx_nohandler",
    "rx_otherhost_dropped",
];

const RTEXT_FILTER: &[(u64, &str)] = &[
    (0x1, "RTEXT_FILTER_VF"),
    (0x2, "RTEXT_FILTER_BRVLAN"),
    (0x4, "RTEXT_FILTER_BRVLAN_COMPRESSED"),
    (0x8, "RTEXT_FILTER_SKIP_STATS"),
    (0x10, "RTEXT_FILTER_MRP"),
    (0x20, "RTEXT_FILTER_CFM_CONFIG"),
    (0x40, "RTEXT_FILTER_CFM_STATUS"),
];

const IFLA_EVENT: &[(u64, &str)] = &[
    (0, "IFLA_EVENT_NONE"),
    (1, "IFLA_EVENT_REBOOT"),
    (2, "IFLA_EVENT_FEATURES"),
    (3, "IFLA_EVENT_BONDING_FAILOVER"),
    (4, "IFLA_EVENT_NOTIFY_PEERS"),
    (5, "IFLA_EVENT_IGMP_RESEND"),
    (6, "IFLA_EVENT_BONDING_OPTIONS"),
];

const XDP_ATTRS: [&str; 9] = [
    "IFLA_XDP_UNSPEC",
    "IFLA_XDP_FD",
    "IFLA_XDP_ATTACHED",
    "IFLA_XDP_FLAGS",
    "IFLA_XDP_PROG_ID",
    "IFLA_XDP_DRV_PROG_ID",
    "IFLA_XDP_SKB_PROG_ID",
    "IFLA_XDP_HW_PROG_ID",
    "IFLA_XDP_EXPECTED_FD",
];

const XDP_ATTACHED: &[(u64, &str)] = &[
    (0, "XDP_ATTACHED_NONE"),
    (1, "XDP_ATTACHED_DRV"),
    (2, "XDP_ATTACHED_SKB"),
    (3, "XDP_ATTACHED_HW"),
    (4, "XDP_ATTACHED_MULTI"),
];

const XDP_FLAGS: &[(u64, &str)] = &[
    (0x1, "XDP_FLAGS_UPDATE_IF_NOEXIST"),
    (0x2, "XDP_FLAGS_SKB_MODE"),
    (0x4, "XDP_FLAGS_DRV_MODE"),
    (0x8, "XDP_FLAGS_HW_MODE"),
    (0x10, "XDP_FLAGS_REPLACE"),
];

const INFO_ATTRS: [&str; 6] = [
    "IFLA_INFO_UNSPEC",
    "IFLA_INFO_KIND",
    "IFLA_INFO_DATA",
    "IFLA_INFO_XSTATS",
    "IFLA_INFO_SLAVE_KIND",
    "IFLA_INFO_SLAVE_DATA",
];

const PROTO_DOWN_ATTRS: [&str; 3] = [
    "IFLA_PROTO_DOWN_REASON_UNSPEC",
    "IFLA_PROTO_DOWN_REASON_MASK",
    "IFLA_PROTO_DOWN_REASON_VALUE",
];

const INET_ATTRS: [&str; 2] = ["IFLA_INET_UNSPEC", "IFLA_INET_CONF"];

const INET6_ATTRS: [&str; 10] = [
    "IFLA_INET6_UNSPEC",
    "IFLA_INET6_FLAGS",
    "IFLA_INET6_CONF",
    "IFLA_INET6_STATS",
    "IFLA_INET6_MCAST",
    "IFLA_INET6_CACHEINFO",
    "IFLA_INET6_ICMP6STATS",
    "IFLA_INET6_TOKEN",
    "IFLA_INET6_ADDR_GEN_MODE",
    "IFLA_INET6_RA_MTU",
];

const INET6_FLAGS: &[(u64, &str)] = &[
    (0x10, "IF_RS_SENT"),
    (0x20, "IF_RA_RCVD"),
    (0x40, "IF_RA_MANAGED"),
    (0x80, "IF_RA_OTHERCONF"),
    (0x8000_0000, "IF_READY"),
];

const ADDR_GEN_MODE: &[(u64, &str)] = &[
    (0, "IN6_ADDR_GEN_MODE_EUI64"),
    (1, "IN6_ADDR_GEN_MODE_NONE"),
    (2, "IN6_ADDR_GEN_MODE_STABLE_PRIVACY"),
    (3, "IN6_ADDR_GEN_MODE_RANDOM"),
];

/// `IFLA_INET_CONF`'s slots: `IPV4_DEVCONF_*` less one, as strace names them.
const IPV4_DEVCONF: [&str; 33] = [
    "IPV4_DEVCONF_FORWARDING-1",
    "IPV4_DEVCONF_MC_FORWARDING-1",
    "IPV4_DEVCONF_PROXY_ARP-1",
    "IPV4_DEVCONF_ACCEPT_REDIRECTS-1",
    "IPV4_DEVCONF_SECURE_REDIRECTS-1",
    "IPV4_DEVCONF_SEND_REDIRECTS-1",
    "IPV4_DEVCONF_SHARED_MEDIA-1",
    "IPV4_DEVCONF_RP_FILTER-1",
    "IPV4_DEVCONF_ACCEPT_SOURCE_ROUTE-1",
    "IPV4_DEVCONF_BOOTP_RELAY-1",
    "IPV4_DEVCONF_LOG_MARTIANS-1",
    "IPV4_DEVCONF_TAG-1",
    "IPV4_DEVCONF_ARPFILTER-1",
    "IPV4_DEVCONF_MEDIUM_ID-1",
    "IPV4_DEVCONF_NOXFRM-1",
    "IPV4_DEVCONF_NOPOLICY-1",
    "IPV4_DEVCONF_FORCE_IGMP_VERSION-1",
    "IPV4_DEVCONF_ARP_ANNOUNCE-1",
    "IPV4_DEVCONF_ARP_IGNORE-1",
    "IPV4_DEVCONF_PROMOTE_SECONDARIES-1",
    "IPV4_DEVCONF_ARP_ACCEPT-1",
    "IPV4_DEVCONF_ARP_NOTIFY-1",
    "IPV4_DEVCONF_ACCEPT_LOCAL-1",
    "IPV4_DEVCONF_SRC_VMARK-1",
    "IPV4_DEVCONF_PROXY_ARP_PVLAN-1",
    "IPV4_DEVCONF_ROUTE_LOCALNET-1",
    "IPV4_DEVCONF_IGMPV2_UNSOLICITED_REPORT_INTERVAL-1",
    "IPV4_DEVCONF_IGMPV3_UNSOLICITED_REPORT_INTERVAL-1",
    "IPV4_DEVCONF_IGNORE_ROUTES_WITH_LINKDOWN-1",
    "IPV4_DEVCONF_DROP_UNICAST_IN_L2_MULTICAST-1",
    "IPV4_DEVCONF_DROP_GRATUITOUS_ARP-1",
    "IPV4_DEVCONF_BC_FORWARDING-1",
    "IPV4_DEVCONF_ARP_EVICT_NOCARRIER-1",
];

const DEVCONF: [&str; 58] = [
    "DEVCONF_FORWARDING",
    "DEVCONF_HOPLIMIT",
    "DEVCONF_MTU6",
    "DEVCONF_ACCEPT_RA",
    "DEVCONF_ACCEPT_REDIRECTS",
    "DEVCONF_AUTOCONF",
    "DEVCONF_DAD_TRANSMITS",
    "DEVCONF_RTR_SOLICITS",
    "DEVCONF_RTR_SOLICIT_INTERVAL",
    "DEVCONF_RTR_SOLICIT_DELAY",
    "DEVCONF_USE_TEMPADDR",
    "DEVCONF_TEMP_VALID_LFT",
    "DEVCONF_TEMP_PREFERED_LFT",
    "DEVCONF_REGEN_MAX_RETRY",
    "DEVCONF_MAX_DESYNC_FACTOR",
    "DEVCONF_MAX_ADDRESSES",
    "DEVCONF_FORCE_MLD_VERSION",
    "DEVCONF_ACCEPT_RA_DEFRTR",
    "DEVCONF_ACCEPT_RA_PINFO",
    "DEVCONF_ACCEPT_RA_RTR_PREF",
    "DEVCONF_RTR_PROBE_INTERVAL",
    "DEVCONF_ACCEPT_RA_RT_INFO_MAX_PLEN",
    "DEVCONF_PROXY_NDP",
    "DEVCONF_OPTIMISTIC_DAD",
    "DEVCONF_ACCEPT_SOURCE_ROUTE",
    "DEVCONF_MC_FORWARDING",
    "DEVCONF_DISABLE_IPV6",
    "DEVCONF_ACCEPT_DAD",
    "DEVCONF_FORCE_TLLAO",
    "DEVCONF_NDISC_NOTIFY",
    "DEVCONF_MLDV1_UNSOLICITED_REPORT_INTERVAL",
    "DEVCONF_MLDV2_UNSOLICITED_REPORT_INTERVAL",
    "DEVCONF_SUPPRESS_FRAG_NDISC",
    "DEVCONF_ACCEPT_RA_FROM_LOCAL",
    "DEVCONF_USE_OPTIMISTIC",
    "DEVCONF_ACCEPT_RA_MTU",
    "DEVCONF_STABLE_SECRET",
    "DEVCONF_USE_OIF_ADDRS_ONLY",
    "DEVCONF_ACCEPT_RA_MIN_HOP_LIMIT",
    "DEVCONF_IGNORE_ROUTES_WITH_LINKDOWN",
    "DEVCONF_DROP_UNICAST_IN_L2_MULTICAST",
    "DEVCONF_DROP_UNSOLICITED_NA",
    "DEVCONF_KEEP_ADDR_ON_DOWN",
    "DEVCONF_RTR_SOLICIT_MAX_INTERVAL",
    "DEVCONF_SEG6_ENABLED",
    "DEVCONF_SEG6_REQUIRE_HMAC",
    "DEVCONF_ENHANCED_DAD",
    "DEVCONF_ADDR_GEN_MODE",
    "DEVCONF_DISABLE_POLICY",
    "DEVCONF_ACCEPT_RA_RT_INFO_MIN_PLEN",
    "DEVCONF_NDISC_TCLASS",
    "DEVCONF_RPL_SEG_ENABLED",
    "DEVCONF_RA_DEFRTR_METRIC",
    "DEVCONF_IOAM6_ENABLED",
    "DEVCONF_IOAM6_ID",
    "DEVCONF_IOAM6_ID_WIDE",
    "DEVCONF_NDISC_EVICT_NOCARRIER",
    "DEVCONF_ACCEPT_UNTRACKED_NA",
];

const IPSTATS_MIB: [&str; 37] = [
    "IPSTATS_MIB_NUM",
    "IPSTATS_MIB_INPKTS",
    "IPSTATS_MIB_INOCTETS",
    "IPSTATS_MIB_INDELIVERS",
    "IPSTATS_MIB_OUTFORWDATAGRAMS",
    "IPSTATS_MIB_OUTPKTS",
    "IPSTATS_MIB_OUTOCTETS",
    "IPSTATS_MIB_INHDRERRORS",
    "IPSTATS_MIB_INTOOBIGERRORS",
    "IPSTATS_MIB_INNOROUTES",
    "IPSTATS_MIB_INADDRERRORS",
    "IPSTATS_MIB_INUNKNOWNPROTOS",
    "IPSTATS_MIB_INTRUNCATEDPKTS",
    "IPSTATS_MIB_INDISCARDS",
    "IPSTATS_MIB_OUTDISCARDS",
    "IPSTATS_MIB_OUTNOROUTES",
    "IPSTATS_MIB_REASMTIMEOUT",
    "IPSTATS_MIB_REASMREQDS",
    "IPSTATS_MIB_REASMOKS",
    "IPSTATS_MIB_REASMFAILS",
    "IPSTATS_MIB_FRAGOKS",
    "IPSTATS_MIB_FRAGFAILS",
    "IPSTATS_MIB_FRAGCREATES",
    "IPSTATS_MIB_INMCASTPKTS",
    "IPSTATS_MIB_OUTMCASTPKTS",
    "IPSTATS_MIB_INBCASTPKTS",
    "IPSTATS_MIB_OUTBCASTPKTS",
    "IPSTATS_MIB_INMCASTOCTETS",
    "IPSTATS_MIB_OUTMCASTOCTETS",
    "IPSTATS_MIB_INBCASTOCTETS",
    "IPSTATS_MIB_OUTBCASTOCTETS",
    "IPSTATS_MIB_CSUMERRORS",
    "IPSTATS_MIB_NOECTPKTS",
    "IPSTATS_MIB_ECT1PKTS",
    "IPSTATS_MIB_ECT0PKTS",
    "IPSTATS_MIB_CEPKTS",
    "IPSTATS_MIB_REASM_OVERLAPS",
];

const ICMP6_MIB: [&str; 6] = [
    "ICMP6_MIB_NUM",
    "ICMP6_MIB_INMSGS",
    "ICMP6_MIB_INERRORS",
    "ICMP6_MIB_OUTMSGS",
    "ICMP6_MIB_OUTERRORS",
    "ICMP6_MIB_CSUMERRORS",
];

/// A link message's payload: `struct ifinfomsg`, then its attributes if any. The caller
/// has checked that the structure fits.
pub(super) fn ifinfomsg(c: &Ctx, data: &[u8]) -> Vec<Value> {
    let mut out = vec![Value::structure(vec![
        ("ifi_family", family_field(c, data[0])),
        (
            "ifi_type",
            xlat_field(c, le_u16(data, 2).into(), ARPHRD, "ARPHRD_???", true),
        ),
        ("ifi_index", ifindex_field(c, le_u32(data, 4))),
        ("ifi_flags", flags_field(c, le_u32(data, 8).into(), IFF)),
        ("ifi_change", hex0(le_u32(data, 12).into())),
    ])];
    if data.len() > 16 {
        out.push(attributes(c, &data[16..], &IFLA, "IFLA_???", &|t, d| {
            link_attr(c, t, d)
        }));
    }
    out
}

fn u8_at(d: &[u8]) -> Option<u64> {
    d.first().map(|&b| b.into())
}

fn u32_at(d: &[u8]) -> Option<u64> {
    (d.len() >= 4).then(|| le_u32(d, 0).into())
}

fn i32_at(d: &[u8]) -> Option<i64> {
    (d.len() >= 4).then(|| (le_u32(d, 0) as i32).into())
}

/// A hardware address: `02:fc:00:00:00:01`.
fn hwaddr(c: &Ctx, d: &[u8]) -> Value {
    let parts: Vec<String> = d.iter().map(|b| format!("{b:02x}")).collect();
    bytes_field(c, parts.join(":"), d)
}

/// A named constant; under `-X` the number (in hex when `in_hex`), the name in a comment.
fn xlat_field(c: &Ctx, v: u64, table: &[(u64, &'static str)], what: &str, in_hex: bool) -> Value {
    let raw = if in_hex { hex0(v) } else { Value::UInt(v) };
    styled(c, xlat(v, table, what), raw)
}

fn link_attr(c: &Ctx, typ: u16, d: &[u8]) -> Option<Value> {
    Some(match typ {
        1 | 2 | 54 => hwaddr(c, d),
        3 | 6 | 20 | 38 | 53 | 56 | 57 => label(c, d),
        4
        | 5
        | 8
        | 9
        | 10
        | 13
        | 15
        | 19
        | 21
        | 27
        | 30
        | 31
        | 32
        | 35
        | 40
        | 41
        | 47
        | 48
        | 49
        | 50
        | 51
        | 58..=61 => Value::UInt(u32_at(d)?),
        16 | 17 | 33 | 39 => Value::UInt(u8_at(d)?),
        37 | 45 | 46 => Value::Int(i32_at(d)?),
        7 => stats(d, 4)?,
        23 => stats(d, 8)?,
        14 if d.len() >= 28 => Value::structure(vec![
            ("mem_start", super::util::hex0(le_u64(d, 0))),
            ("mem_end", super::util::hex0(le_u64(d, 8))),
            ("base_addr", super::util::hex0(le_u64(d, 16))),
            ("irq", Value::UInt(le_u16(d, 24).into())),
            ("dma", Value::UInt(d[26].into())),
            ("port", Value::UInt(d[27].into())),
        ]),
        18 => attributes(c, d, &INFO_ATTRS, "IFLA_INFO_???", &|t, d| match t {
            // strace prints the kinds as plain strings, even under -x.
            1 | 4 => Some(label_plain(c, d)),
            _ => None,
        }),
        26 => attributes_named(c, d, &|t| family(t as u8), &|t, d| af_spec(c, t, d)),
        28 => Value::Int(i32_at(d)?),
        29 => flags_field(c, u32_at(d)?, RTEXT_FILTER),
        43 => attributes(c, d, &XDP_ATTRS, "IFLA_XDP_???", &|t, d| xdp_attr(c, t, d)),
        44 => xlat_field(c, u32_at(d)?, IFLA_EVENT, "IFLA_EVENT_???", false),
        52 => attributes(c, d, &IFLA, "IFLA_???", &|t, d| match t {
            53 => Some(label(c, d)),
            _ => None,
        }),
        55 => attributes(
            c,
            d,
            &PROTO_DOWN_ATTRS,
            "IFLA_PROTO_DOWN_REASON_???",
            &|t, d| match t {
                1 | 2 => Some(super::util::hex0(u32_at(d)?)),
                _ => None,
            },
        ),
        _ => return None,
    })
}

/// `struct rtnl_link_stats` (`width` 4) or `rtnl_link_stats64` (8): the fields the
/// attribute holds, from the oldest layout (without `rx_nohandler`) on.
fn stats(d: &[u8], width: usize) -> Option<Value> {
    let most = if width == 4 { 24 } else { 25 };
    let n = (d.len() / width).min(most);
    if n < 23 {
        return None;
    }
    Some(Value::structure(
        STATS[..n]
            .iter()
            .enumerate()
            .map(|(i, &name)| {
                let v = if width == 4 {
                    le_u32(d, i * 4).into()
                } else {
                    le_u64(d, i * 8)
                };
                (name, Value::UInt(v))
            })
            .collect(),
    ))
}

fn xdp_attr(c: &Ctx, typ: u16, d: &[u8]) -> Option<Value> {
    Some(match typ {
        1 | 8 => Value::Int(i32_at(d)?),
        2 => xlat_field(c, u8_at(d)?, XDP_ATTACHED, "XDP_ATTACHED_???", false),
        3 => flags_field(c, u32_at(d)?, XDP_FLAGS),
        4..=7 => Value::UInt(u32_at(d)?),
        _ => return None,
    })
}

/// One family's part of `IFLA_AF_SPEC`: IPv4's and IPv6's decoded, the others in hex.
fn af_spec(c: &Ctx, fam: u16, d: &[u8]) -> Option<Value> {
    match fam {
        2 => Some(attributes(c, d, &INET_ATTRS, "IFLA_INET_???", &|t, d| {
            (t == 1).then(|| indexed(c, d, 4, false, &IPV4_DEVCONF, "IPV4_DEVCONF_???"))
        })),
        10 => Some(attributes(c, d, &INET6_ATTRS, "IFLA_INET6_???", &|t, d| {
            inet6_attr(c, t, d)
        })),
        _ => None,
    }
}

fn inet6_attr(c: &Ctx, typ: u16, d: &[u8]) -> Option<Value> {
    Some(match typ {
        1 => flags_field(c, u32_at(d)?, INET6_FLAGS),
        2 => indexed(c, d, 4, true, &DEVCONF, "DEVCONF_???"),
        3 => indexed(c, d, 8, false, &IPSTATS_MIB, "IPSTATS_MIB_???"),
        5 if d.len() >= 16 => Value::structure(vec![
            ("max_reasm_len", Value::UInt(le_u32(d, 0).into())),
            ("tstamp", Value::UInt(le_u32(d, 4).into())),
            ("reachable_time", Value::UInt(le_u32(d, 8).into())),
            ("retrans_time", Value::UInt(le_u32(d, 12).into())),
        ]),
        6 => indexed(c, d, 8, false, &ICMP6_MIB, "ICMP6_MIB_???"),
        7 if d.len() >= 16 => inet6_field(c, d),
        8 => xlat_field(c, u8_at(d)?, ADDR_GEN_MODE, "IN6_ADDR_GEN_MODE_???", false),
        9 => Value::UInt(u32_at(d)?),
        _ => return None,
    })
}

/// An array of `width`-byte numbers whose slots have names: `[[DEVCONF_HOPLIMIT]=64, ...]`,
/// an unnamed slot as `[37 /* IPSTATS_MIB_??? */]=0`, cut after `-s` slots (unless `-v`).
fn indexed(c: &Ctx, d: &[u8], width: usize, signed: bool, names: &[&str], what: &str) -> Value {
    if d.len() < width {
        return hex(c, d);
    }
    let mut items = Vec::new();
    for (i, slot) in d.chunks_exact(width).enumerate() {
        if c.o.abbrev && i == c.o.string_limit {
            items.push(Value::Elided);
            break;
        }
        let name = match (names.get(i), c.o.const_style) {
            (_, ConstStyle::Raw) => i.to_string(),
            (Some(n), ConstStyle::Verbose) => format!("{i} /* {n} */"),
            (Some(n), ConstStyle::Abbrev) => (*n).to_string(),
            (None, _) => format!("{i} /* {what} */"),
        };
        let v = match (width, signed) {
            (4, true) => (le_u32(slot, 0) as i32).to_string(),
            (4, false) => le_u32(slot, 0).to_string(),
            _ => le_u64(slot, 0).to_string(),
        };
        items.push(Value::Raw(format!("[{name}]={v}")));
    }
    Value::Array(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::DecodeOpts;
    use crate::syscalls::decode::netlink::tests::attr;
    use crate::syscalls::decode::util::fake::FakeTracee;
    use crate::syscalls::decode::util::render;

    fn show(payload: &[u8], o: DecodeOpts) -> String {
        let t = FakeTracee::default();
        let c = Ctx {
            raw: [0; 6],
            t: &t,
            o: &o,
        };
        ifinfomsg(&c, payload)
            .iter()
            .map(render)
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn ifi(typ: u16, index: u32, flags: u32) -> Vec<u8> {
        let mut v = vec![0, 0];
        v.extend(typ.to_le_bytes());
        v.extend(index.to_le_bytes());
        v.extend(flags.to_le_bytes());
        v.extend(0u32.to_le_bytes());
        v
    }

    #[test]
    fn loopback_link_with_its_first_attributes() {
        let mut p = ifi(772, 0, 0x10049);
        p.extend(attr(3, b"lo\0"));
        p.extend(attr(13, &1000u32.to_le_bytes()));
        p.extend(attr(16, &[0]));
        p.extend(attr(1, &[0; 6]));
        p.extend(attr(2, &[0xff; 6]));
        p.extend(attr(0x43, &[1]));
        p.extend(attr(0x8000 | 0x3e, &[]));
        assert_eq!(
            show(&p, DecodeOpts::default()),
            "{ifi_family=AF_UNSPEC, ifi_type=ARPHRD_LOOPBACK, ifi_index=0, \
             ifi_flags=IFF_UP|IFF_LOOPBACK|IFF_RUNNING|IFF_LOWER_UP, ifi_change=0}, \
             [[{nla_len=7, nla_type=IFLA_IFNAME}, \"lo\"], [{nla_len=8, nla_type=IFLA_TXQLEN}, 1000], \
             [{nla_len=5, nla_type=IFLA_OPERSTATE}, 0], [{nla_len=10, nla_type=IFLA_ADDRESS}, 00:00:00:00:00:00], \
             [{nla_len=10, nla_type=IFLA_BROADCAST}, ff:ff:ff:ff:ff:ff], \
             [{nla_len=5, nla_type=0x43 /* IFLA_??? */}, \"\\x01\"], \
             {nla_len=4, nla_type=NLA_F_NESTED|0x3e /* IFLA_??? */}]"
        );
        // An unknown link type and flag, a change mask.
        let mut p = ifi(0x1234, 0, 0x80000);
        p[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            show(&p, DecodeOpts::default()),
            "{ifi_family=AF_UNSPEC, ifi_type=0x1234 /* ARPHRD_??? */, ifi_index=0, ifi_flags=0x80000, ifi_change=0xffffffff}"
        );
    }

    #[test]
    fn statistics_map_and_nested_attributes() {
        let mut p = ifi(1, 0, 0);
        let s64: Vec<u8> = (1..=25u64).flat_map(|v| v.to_le_bytes()).collect();
        p.extend(attr(23, &s64));
        let s32: Vec<u8> = (1..=24u32).flat_map(|v| v.to_le_bytes()).collect();
        p.extend(attr(7, &s32));
        let mut map = vec![0u8; 32];
        map[0] = 0x10;
        map[24] = 9;
        p.extend(attr(14, &map));
        p.extend(attr(43, &attr(2, &[0])));
        let mut info = attr(1, b"veth\0");
        info.extend(attr(2, &[1, 2]));
        p.extend(attr(18, &info));
        p.extend(attr(0x8000 | 52, &attr(53, b"dbalt\0")));
        let out = show(
            &p,
            DecodeOpts {
                string_limit: 64,
                ..DecodeOpts::default()
            },
        );
        assert!(
            out.contains("[{nla_len=204, nla_type=IFLA_STATS64}, {rx_packets=1, tx_packets=2, ")
                && out.contains("rx_nohandler=24, rx_otherhost_dropped=25}]"),
            "{out}"
        );
        assert!(
            out.contains("[{nla_len=100, nla_type=IFLA_STATS}, {rx_packets=1, ")
                && out.contains("rx_nohandler=24}]"),
            "{out}"
        );
        assert!(
            out.contains(
                "[{nla_len=36, nla_type=IFLA_MAP}, {mem_start=0x10, mem_end=0, base_addr=0, irq=9, dma=0, port=0}]"
            ),
            "{out}"
        );
        assert!(
            out.contains("[{nla_len=12, nla_type=IFLA_XDP}, [{nla_len=5, nla_type=IFLA_XDP_ATTACHED}, XDP_ATTACHED_NONE]]"),
            "{out}"
        );
        assert!(
            out.contains("[{nla_len=24, nla_type=IFLA_LINKINFO}, [[{nla_len=9, nla_type=IFLA_INFO_KIND}, \"veth\"], [{nla_len=6, nla_type=IFLA_INFO_DATA}, \"\\x01\\x02\"]]]"),
            "{out}"
        );
        assert!(
            out.contains("[{nla_len=16, nla_type=NLA_F_NESTED|IFLA_PROP_LIST}, [{nla_len=10, nla_type=IFLA_ALT_IFNAME}, \"dbalt\"]]"),
            "{out}"
        );
    }

    #[test]
    fn const_styles() {
        let mut p = ifi(772, 0, 0x9);
        p.extend(attr(1, &[0xfe, 0x01]));
        p.extend(attr(0x8000 | 0x3e, &[]));
        p.extend(attr(43, &attr(2, &[0])));
        let raw = show(
            &p,
            DecodeOpts {
                const_style: ConstStyle::Raw,
                ..DecodeOpts::default()
            },
        );
        assert_eq!(
            raw,
            "{ifi_family=0, ifi_type=0x304, ifi_index=0, ifi_flags=0x9, ifi_change=0}, \
             [[{nla_len=6, nla_type=0x1}, \"\\xfe\\x01\"], {nla_len=4, nla_type=0x8000|0x3e}, \
             [{nla_len=12, nla_type=0x2b}, [{nla_len=5, nla_type=0x2}, 0]]]"
        );
        let verbose = show(
            &p,
            DecodeOpts {
                const_style: ConstStyle::Verbose,
                ..DecodeOpts::default()
            },
        );
        assert_eq!(
            verbose,
            "{ifi_family=0 /* AF_UNSPEC */, ifi_type=0x304 /* ARPHRD_LOOPBACK */, ifi_index=0, \
             ifi_flags=0x9 /* IFF_UP|IFF_LOOPBACK */, ifi_change=0}, \
             [[{nla_len=6, nla_type=0x1 /* IFLA_ADDRESS */}, \"\\xfe\\x01\" /* fe:01 */], \
             {nla_len=4, nla_type=0x8000 /* NLA_F_NESTED */|0x3e /* IFLA_??? */}, \
             [{nla_len=12, nla_type=0x2b /* IFLA_XDP */}, [{nla_len=5, nla_type=0x2 /* IFLA_XDP_ATTACHED */}, 0 /* XDP_ATTACHED_NONE */]]]"
        );
    }

    #[test]
    fn address_family_parts() {
        let conf: Vec<u8> = [0u32, 1, 10000]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let inet = attr(2, &attr(1, &conf));
        let mut six = attr(1, &0x8000_0000u32.to_le_bytes());
        let dev: Vec<u8> = [0i32, 64, -1]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        six.extend(attr(2, &dev));
        let mut mib: Vec<u8> = Vec::new();
        for v in 0..38u64 {
            mib.extend(v.to_le_bytes());
        }
        six.extend(attr(3, &mib));
        six.extend(attr(7, &[0; 16]));
        six.extend(attr(8, &[0]));
        let mut spec = inet;
        spec.extend(attr(10, &six));
        spec.extend(attr(7, &[1, 2]));
        let mut p = ifi(1, 0, 0);
        p.extend(attr(26, &spec));
        let out = show(&p, DecodeOpts::default());
        assert!(
            out.contains("[{nla_len=20, nla_type=AF_INET}, [{nla_len=16, nla_type=IFLA_INET_CONF}, [[IPV4_DEVCONF_FORWARDING-1]=0, [IPV4_DEVCONF_MC_FORWARDING-1]=1, [IPV4_DEVCONF_PROXY_ARP-1]=10000]]]"),
            "{out}"
        );
        assert!(
            out.contains("[{nla_len=8, nla_type=IFLA_INET6_FLAGS}, IF_READY], [{nla_len=16, nla_type=IFLA_INET6_CONF}, [[DEVCONF_FORWARDING]=0, [DEVCONF_HOPLIMIT]=64, [DEVCONF_MTU6]=-1]]"),
            "{out}"
        );
        // -s 32 cuts the statistics after 32 slots; -s 64 shows the unnamed slot 37.
        assert!(out.contains("[IPSTATS_MIB_CSUMERRORS]=31, ...]]"), "{out}");
        assert!(
            out.contains("[{nla_len=20, nla_type=IFLA_INET6_TOKEN}, inet_pton(AF_INET6, \"::\")], [{nla_len=5, nla_type=IFLA_INET6_ADDR_GEN_MODE}, IN6_ADDR_GEN_MODE_EUI64]"),
            "{out}"
        );
        assert!(
            out.contains("[{nla_len=6, nla_type=AF_BRIDGE}, \"\\x01\\x02\"]"),
            "{out}"
        );
        let wide = show(
            &p,
            DecodeOpts {
                string_limit: 64,
                ..DecodeOpts::default()
            },
        );
        assert!(
            wide.contains("[IPSTATS_MIB_REASM_OVERLAPS]=36, [37 /* IPSTATS_MIB_??? */]=37]"),
            "{wide}"
        );
    }
}
