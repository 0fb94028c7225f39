//! Socket syscalls, decoded as strace 6.1 prints them: addresses
//! (`{sa_family=AF_INET, sin_port=htons(5432), sin_addr=inet_addr("127.0.0.1")}`), message
//! headers, socket options.
//!
//! Known gap: `recvmsg` prints `msg_namelen=6` where strace prints `msg_namelen=110 => 6`; the
//! length the caller passed in is gone by the exit stop and the whole `msghdr` is an exit
//! argument, so there is no entry slot to keep it in.

use super::Ctx;
use super::util::{
    buffer, default_ret, fd, fd_ret, flags, le_u32, le_u64, quote, quote_hex, read_bytes, read_vec,
    unknown, xlat,
};
use crate::syscalls::{Ret, Value};
use std::borrow::Cow;

type Slots = Vec<Option<Value>>;

const AF_UNIX: u16 = 1;
const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;
const AF_NETLINK: u16 = 16;
const AF_PACKET: u16 = 17;

const FAMILIES: &[(u64, &str)] = &[
    (0, "AF_UNSPEC"),
    (1, "AF_UNIX"),
    (2, "AF_INET"),
    (3, "AF_AX25"),
    (4, "AF_IPX"),
    (5, "AF_APPLETALK"),
    (6, "AF_NETROM"),
    (7, "AF_BRIDGE"),
    (8, "AF_ATMPVC"),
    (9, "AF_X25"),
    (10, "AF_INET6"),
    (16, "AF_NETLINK"),
    (17, "AF_PACKET"),
    (29, "AF_CAN"),
    (31, "AF_BLUETOOTH"),
    (38, "AF_ALG"),
    (40, "AF_VSOCK"),
    (44, "AF_XDP"),
];

const MSG_FLAGS: &[(u64, &str)] = &[
    (0x1, "MSG_OOB"),
    (0x2, "MSG_PEEK"),
    (0x4, "MSG_DONTROUTE"),
    (0x8, "MSG_CTRUNC"),
    (0x10, "MSG_PROXY"),
    (0x20, "MSG_TRUNC"),
    (0x40, "MSG_DONTWAIT"),
    (0x80, "MSG_EOR"),
    (0x100, "MSG_WAITALL"),
    (0x200, "MSG_FIN"),
    (0x400, "MSG_SYN"),
    (0x800, "MSG_CONFIRM"),
    (0x1000, "MSG_RST"),
    (0x2000, "MSG_ERRQUEUE"),
    (0x4000, "MSG_NOSIGNAL"),
    (0x8000, "MSG_MORE"),
    (0x10000, "MSG_WAITFORONE"),
    (0x40000, "MSG_BATCH"),
    (0x400_0000, "MSG_ZEROCOPY"),
    (0x2000_0000, "MSG_FASTOPEN"),
    (0x4000_0000, "MSG_CMSG_CLOEXEC"),
];

fn msg_flags(v: u64) -> Value {
    flags(v & 0xffff_ffff, MSG_FLAGS)
}

pub(super) fn family(v: u64) -> Value {
    xlat(v, FAMILIES, "AF_???")
}

const SOCK_FLAGS: &[(u64, &str)] = &[(0x80000, "SOCK_CLOEXEC"), (0x800, "SOCK_NONBLOCK")];

/// socket's type: `SOCK_STREAM|SOCK_CLOEXEC`, `0x7 /* SOCK_??? */`.
fn sock_type(v: u64) -> Value {
    let v = v & 0xffff_ffff;
    let base = v & 0xf;
    let names = [
        (1, "SOCK_STREAM"),
        (2, "SOCK_DGRAM"),
        (3, "SOCK_RAW"),
        (4, "SOCK_RDM"),
        (5, "SOCK_SEQPACKET"),
        (6, "SOCK_DCCP"),
        (10, "SOCK_PACKET"),
    ];
    let mut out: Vec<Cow<'static, str>> = Vec::new();
    match names.iter().find(|&&(x, _)| x == base) {
        Some(&(_, n)) => out.push(Cow::Borrowed(n)),
        None => {
            if let Value::Raw(r) = unknown(base, "SOCK_???") {
                out.push(Cow::Owned(r));
            }
        }
    }
    if let Value::Flags(rest) = flags(v & !0xf, SOCK_FLAGS) {
        out.extend(rest);
    }
    Value::Flags(out)
}

const IPPROTOS: &[(u64, &str)] = &[
    (0, "IPPROTO_IP"),
    (1, "IPPROTO_ICMP"),
    (2, "IPPROTO_IGMP"),
    (4, "IPPROTO_IPIP"),
    (6, "IPPROTO_TCP"),
    (17, "IPPROTO_UDP"),
    (41, "IPPROTO_IPV6"),
    (47, "IPPROTO_GRE"),
    (50, "IPPROTO_ESP"),
    (58, "IPPROTO_ICMPV6"),
    (132, "IPPROTO_SCTP"),
    (136, "IPPROTO_UDPLITE"),
    (255, "IPPROTO_RAW"),
    (262, "IPPROTO_MPTCP"),
];

const NETLINK_PROTOS: &[(u64, &str)] = &[
    (0, "NETLINK_ROUTE"),
    (2, "NETLINK_USERSOCK"),
    (4, "NETLINK_SOCK_DIAG"),
    (5, "NETLINK_NFLOG"),
    (6, "NETLINK_XFRM"),
    (7, "NETLINK_SELINUX"),
    (8, "NETLINK_ISCSI"),
    (9, "NETLINK_AUDIT"),
    (10, "NETLINK_FIB_LOOKUP"),
    (11, "NETLINK_CONNECTOR"),
    (12, "NETLINK_NETFILTER"),
    (15, "NETLINK_KOBJECT_UEVENT"),
    (16, "NETLINK_GENERIC"),
];

const ETH_PROTOS: &[(u64, &str)] = &[
    (0x0003, "ETH_P_ALL"),
    (0x0800, "ETH_P_IP"),
    (0x0806, "ETH_P_ARP"),
    (0x86dd, "ETH_P_IPV6"),
];

fn protocol(domain: u64, p: u64) -> Value {
    let p = p & 0xffff_ffff;
    match domain as u16 {
        AF_INET | AF_INET6 => xlat(p, IPPROTOS, "IPPROTO_???"),
        AF_NETLINK => xlat(p, NETLINK_PROTOS, "NETLINK_???"),
        AF_PACKET => {
            let host = u64::from((p as u16).swap_bytes());
            let inner = ETH_PROTOS
                .iter()
                .find(|&&(x, _)| x == host)
                .map(|&(_, n)| n.to_string())
                .unwrap_or_else(|| format!("{host:#x}"));
            Value::Raw(format!("htons({inner})"))
        }
        _ => Value::Int((p as i32).into()),
    }
}

/// A link-local IPv6 address's scope as strace names it: `if_nametoindex("lo")`.
fn scope_id(addr: &std::net::Ipv6Addr, id: u32) -> Value {
    let seg = addr.segments();
    let link_local = (seg[0] & 0xffc0) == 0xfe80 || (seg[0] & 0xff0f) == 0xff02;
    if link_local {
        ifindex(id)
    } else {
        Value::UInt(id.into())
    }
}

/// An interface index as strace prints it: `if_nametoindex("lo")` when this host (pgstrace's
/// network namespace, as strace's) has an interface of that index, else the number.
pub(super) fn ifindex(id: u32) -> Value {
    if id != 0 {
        let mut name = [0 as libc::c_char; libc::IF_NAMESIZE];
        // SAFETY: `name` has the IF_NAMESIZE bytes if_indextoname may write.
        let p = unsafe { libc::if_indextoname(id, name.as_mut_ptr()) };
        if !p.is_null() {
            let bytes: Vec<u8> = name
                .iter()
                .take_while(|&&ch| ch != 0)
                .map(|&ch| ch as u8)
                .collect();
            return Value::Raw(format!("if_nametoindex({})", quote(&bytes)));
        }
    }
    Value::UInt(id.into())
}

/// The bytes of a socket address as strace decodes them, `len` being the length the caller
/// gave (or the kernel returned).
fn sockaddr_bytes(c: &Ctx, b: &[u8]) -> Value {
    let fam = u16::from_le_bytes([
        b.first().copied().unwrap_or(0),
        b.get(1).copied().unwrap_or(0),
    ]);
    let fam_v = super::util::styled(c, family(fam.into()), super::util::hex0(fam.into()));
    let mut f: Vec<(&'static str, Value)> = vec![("sa_family", fam_v)];
    // Under -X: network-order fields as their bytes, the decoded form in a comment.
    let bytes = |names: String, raw: &[u8]| {
        super::util::styled(
            c,
            Value::Raw(names),
            Value::Raw(format!(
                "\"{}\"",
                raw.iter()
                    .map(|x| format!("\\x{x:02x}"))
                    .collect::<String>()
            )),
        )
    };
    let raw_style = c.o.const_style != crate::syscalls::ConstStyle::Abbrev;
    let rest = b.get(2..).unwrap_or(&[]);
    match fam {
        AF_UNIX => {
            if !rest.is_empty() {
                let v = if rest.first() == Some(&0) {
                    // Abstract socket: every byte after the leading NUL belongs to the name.
                    Value::Raw(format!("@{}", quote(rest.get(1..).unwrap_or(&[]))))
                } else {
                    let end = rest.iter().position(|&x| x == 0).unwrap_or(rest.len());
                    Value::Str {
                        bytes: rest.get(..end).unwrap_or(&[]).to_vec(),
                        truncated: false,
                    }
                };
                f.push(("sun_path", v));
            }
        }
        AF_INET if b.len() >= 16 => {
            let port = u16::from_be_bytes([b[2], b[3]]);
            let ip = std::net::Ipv4Addr::new(b[4], b[5], b[6], b[7]);
            f.push(("sin_port", bytes(format!("htons({port})"), &b[2..4])));
            f.push((
                "sin_addr",
                bytes(
                    format!("inet_addr({})", quote(ip.to_string().as_bytes())),
                    &b[4..8],
                ),
            ));
        }
        AF_INET6 if b.len() >= 24 => {
            let port = u16::from_be_bytes([b[2], b[3]]);
            let flow = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
            let mut a = [0u8; 16];
            a.copy_from_slice(&b[8..24]);
            let ip = std::net::Ipv6Addr::from(a);
            f.push(("sin6_port", bytes(format!("htons({port})"), &b[2..4])));
            f.push(("sin6_flowinfo", bytes(format!("htonl({flow})"), &b[4..8])));
            if raw_style {
                // The address is a named field then; its comment has no `&sin6_addr`.
                f.push((
                    "sin6_addr",
                    bytes(
                        format!("inet_pton(AF_INET6, {})", quote(ip.to_string().as_bytes())),
                        &b[8..24],
                    ),
                ));
            } else {
                f.push((
                    "",
                    Value::Raw(format!(
                        "inet_pton(AF_INET6, {}, &sin6_addr)",
                        quote(ip.to_string().as_bytes())
                    )),
                ));
            }
            if b.len() >= 28 {
                f.push(("sin6_scope_id", scope_id(&ip, le_u32(b, 24))));
            }
        }
        AF_NETLINK if b.len() >= 12 => {
            f.push(("nl_pid", Value::Int(i64::from(le_u32(b, 4)))));
            f.push(("nl_groups", Value::Raw(format!("{:08x}", le_u32(b, 8)))));
        }
        _ => f.push((
            "sa_data",
            Value::Str {
                bytes: rest.to_vec(),
                truncated: false,
            },
        )),
    }
    Value::structure(f)
}

/// A `struct sockaddr *` of `len` bytes; `NULL`, or the address if too short or unreadable.
fn sockaddr(c: &Ctx, addr: u64, len: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    let n = (len as usize).min(128);
    if n < 2 {
        return Value::Ptr(addr);
    }
    match read_vec(c, addr, n) {
        Some(b) if b.len() == n => sockaddr_bytes(c, &b),
        _ => Value::Ptr(addr),
    }
}

/// The `socklen_t` behind a pointer, read at entry.
fn socklen_in(c: &Ctx, addr: u64) -> Option<u32> {
    read_bytes::<4>(c, addr).map(u32::from_le_bytes)
}

/// A value-result length at exit: `[16]`, or `[110 => 6]` when the kernel changed it.
fn socklen_result(before: Option<u32>, after: Option<u32>, addr: u64) -> Value {
    match (before, after) {
        (Some(b), Some(a)) if a != b => Value::Array(vec![Value::Raw(format!("{b} => {a}"))]),
        (_, Some(a)) => Value::Array(vec![Value::UInt(a.into())]),
        (Some(b), None) => Value::Array(vec![Value::UInt(b.into())]),
        (None, None) => Value::Ptr(addr),
    }
}

/// The entry value a socklen slot was given, if it was `[N]`.
fn stashed_len(slot: Option<&Option<Value>>) -> Option<u32> {
    match slot {
        Some(Some(Value::Array(v))) => match v.first() {
            Some(Value::UInt(n)) => u32::try_from(*n).ok(),
            _ => None,
        },
        _ => None,
    }
}

/// A length pointer slot at entry: its value stashed for exit, or `NULL`.
fn stash_len(c: &Ctx, addr: u64) -> Option<Value> {
    if addr == 0 {
        return Some(Value::Ptr(0));
    }
    socklen_in(c, addr).map(|n| Value::Array(vec![Value::UInt(n.into())]))
}

const SOL_SOCKET: u64 = 1;
const SOL_TCP: u64 = 6;
const SOL_IP: u64 = 0;
const SOL_IPV6: u64 = 41;

const LEVELS: &[(u64, &str)] = &[
    (0, "SOL_IP"),
    (1, "SOL_SOCKET"),
    (6, "SOL_TCP"),
    (17, "SOL_UDP"),
    (41, "SOL_IPV6"),
    (58, "SOL_ICMPV6"),
    (132, "SOL_SCTP"),
    (255, "SOL_RAW"),
    (263, "SOL_PACKET"),
    (270, "SOL_NETLINK"),
];

const SO_NAMES: &[(u64, &str)] = &[
    (1, "SO_DEBUG"),
    (2, "SO_REUSEADDR"),
    (3, "SO_TYPE"),
    (4, "SO_ERROR"),
    (5, "SO_DONTROUTE"),
    (6, "SO_BROADCAST"),
    (7, "SO_SNDBUF"),
    (8, "SO_RCVBUF"),
    (9, "SO_KEEPALIVE"),
    (10, "SO_OOBINLINE"),
    (11, "SO_NO_CHECK"),
    (12, "SO_PRIORITY"),
    (13, "SO_LINGER"),
    (14, "SO_BSDCOMPAT"),
    (15, "SO_REUSEPORT"),
    (16, "SO_PASSCRED"),
    (17, "SO_PEERCRED"),
    (18, "SO_RCVLOWAT"),
    (19, "SO_SNDLOWAT"),
    (20, "SO_RCVTIMEO_OLD"),
    (21, "SO_SNDTIMEO_OLD"),
    (25, "SO_BINDTODEVICE"),
    (26, "SO_ATTACH_FILTER"),
    (27, "SO_DETACH_FILTER"),
    (28, "SO_PEERNAME"),
    (29, "SO_TIMESTAMP_OLD"),
    (30, "SO_ACCEPTCONN"),
    (31, "SO_PEERSEC"),
    (32, "SO_SNDBUFFORCE"),
    (33, "SO_RCVBUFFORCE"),
    (34, "SO_PASSSEC"),
    (36, "SO_MARK"),
    (38, "SO_PROTOCOL"),
    (39, "SO_DOMAIN"),
    (46, "SO_BUSY_POLL"),
    (49, "SO_INCOMING_CPU"),
    (66, "SO_RCVTIMEO_NEW"),
    (67, "SO_SNDTIMEO_NEW"),
];

const TCP_NAMES: &[(u64, &str)] = &[
    (1, "TCP_NODELAY"),
    (2, "TCP_MAXSEG"),
    (3, "TCP_CORK"),
    (4, "TCP_KEEPIDLE"),
    (5, "TCP_KEEPINTVL"),
    (6, "TCP_KEEPCNT"),
    (7, "TCP_SYNCNT"),
    (8, "TCP_LINGER2"),
    (9, "TCP_DEFER_ACCEPT"),
    (10, "TCP_WINDOW_CLAMP"),
    (11, "TCP_INFO"),
    (12, "TCP_QUICKACK"),
    (13, "TCP_CONGESTION"),
    (18, "TCP_USER_TIMEOUT"),
    (23, "TCP_FASTOPEN"),
    (25, "TCP_NOTSENT_LOWAT"),
];

const IP_NAMES: &[(u64, &str)] = &[
    (1, "IP_TOS"),
    (2, "IP_TTL"),
    (3, "IP_HDRINCL"),
    (4, "IP_OPTIONS"),
    (8, "IP_RECVTTL"),
    (10, "IP_MTU_DISCOVER"),
    (11, "IP_RECVERR"),
    (14, "IP_MTU"),
    (15, "IP_FREEBIND"),
    (19, "IP_TRANSPARENT"),
];

const IPV6_NAMES: &[(u64, &str)] = &[
    (16, "IPV6_UNICAST_HOPS"),
    (23, "IPV6_MTU_DISCOVER"),
    (24, "IPV6_MTU"),
    (25, "IPV6_RECVERR"),
    (26, "IPV6_V6ONLY"),
    (67, "IPV6_TCLASS"),
];

fn level(v: u64) -> Value {
    xlat(v & 0xffff_ffff, LEVELS, "SOL_??")
}

const SOL_NETLINK: u64 = 270;
const NETLINK_OPTS: &[(u64, &str)] = &[
    (1, "NETLINK_ADD_MEMBERSHIP"),
    (2, "NETLINK_DROP_MEMBERSHIP"),
    (3, "NETLINK_PKTINFO"),
    (4, "NETLINK_BROADCAST_ERROR"),
    (5, "NETLINK_NO_ENOBUFS"),
    (6, "NETLINK_RX_RING"),
    (7, "NETLINK_TX_RING"),
    (8, "NETLINK_LISTEN_ALL_NSID"),
    (9, "NETLINK_LIST_MEMBERSHIPS"),
    (10, "NETLINK_CAP_ACK"),
    (11, "NETLINK_EXT_ACK"),
    (12, "NETLINK_GET_STRICT_CHK"),
];

fn optname(lvl: u64, v: u64) -> Value {
    let v = v & 0xffff_ffff;
    match lvl & 0xffff_ffff {
        SOL_SOCKET => xlat(v, SO_NAMES, "SO_???"),
        SOL_TCP => xlat(v, TCP_NAMES, "TCP_???"),
        SOL_IP => xlat(v, IP_NAMES, "IP_???"),
        SOL_IPV6 => xlat(v, IPV6_NAMES, "IPV6_???"),
        SOL_NETLINK => xlat(v, NETLINK_OPTS, "NETLINK_???"),
        _ => Value::UInt(v),
    }
}

/// A socket option value of `len` bytes: `[1]` for an int, `{l_onoff=1, l_linger=5}`, or the
/// raw bytes as a string. `short_as_ptr` is setsockopt's behaviour for lengths below an int.
fn optval(c: &Ctx, lvl: u64, name: u64, addr: u64, len: u64, short_as_ptr: bool) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    let len = len & 0xffff_ffff;
    if lvl == SOL_SOCKET && name == 13 && len >= 8 {
        return match read_bytes::<8>(c, addr) {
            Some(b) => Value::structure(vec![
                ("l_onoff", Value::Int((le_u32(&b, 0) as i32).into())),
                ("l_linger", Value::Int((le_u32(&b, 4) as i32).into())),
            ]),
            None => Value::Ptr(addr),
        };
    }
    if len == 4 {
        return match read_bytes::<4>(c, addr) {
            Some(b) => Value::Array(vec![Value::Int(i32::from_le_bytes(b).into())]),
            None => Value::Ptr(addr),
        };
    }
    if len < 4 {
        // setsockopt shows an address; getsockopt the bytes, in hex.
        if short_as_ptr {
            return Value::Ptr(addr);
        }
        return match read_vec(c, addr, len as usize) {
            Some(b) if b.len() == len as usize => Value::Raw(quote_hex(&b)),
            _ if len == 0 => Value::Raw("\"\"".into()),
            _ => Value::Ptr(addr),
        };
    }
    buffer(c, addr, len)
}

/// Whether a socket is netlink, and of which protocol (see [`crate::syscalls::Tracee::netlink_protocol`]).
type Netlink = Option<Option<u32>>;

fn netlink_of(c: &Ctx, fd: u64) -> Netlink {
    c.t.netlink_protocol(fd as i32)
}

/// Data sent or received on a socket: netlink messages decoded, other bytes as a string.
fn socket_data(c: &Ctx, nl: Netlink, addr: u64, len: u64) -> Value {
    match nl {
        Some(proto) if addr != 0 && len != 0 => super::netlink::buffer(c, proto, addr, len),
        _ => buffer(c, addr, len),
    }
}

/// A `struct iovec` array, each buffer shown up to `-s` and up to `budget` bytes in total
/// (the call's return value at exit; the full lengths at entry).
fn iovecs(c: &Ctx, addr: u64, n: u64, mut budget: u64, nl: Netlink) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    let shown = (n as usize).min(c.o.max_array);
    let Some(b) = read_vec(c, addr, shown * 16) else {
        return Value::Ptr(addr);
    };
    if b.len() < shown * 16 {
        return Value::Ptr(addr);
    }
    let mut items = Vec::with_capacity(shown + 1);
    for e in b.chunks_exact(16) {
        let base = le_u64(e, 0);
        let len = le_u64(e, 8);
        let take = len.min(budget);
        budget -= take;
        items.push(Value::structure(vec![
            ("iov_base", socket_data(c, nl, base, take)),
            ("iov_len", Value::UInt(len)),
        ]));
    }
    if (n as usize) > shown {
        items.push(Value::Elided);
    }
    Value::Array(items)
}

/// Control messages: `[{cmsg_len=24, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS,
/// cmsg_data=[0, 1]}]`.
fn cmsgs(c: &Ctx, addr: u64, len: u64) -> Value {
    let n = (len as usize).min(4096);
    let Some(b) = read_vec(c, addr, n) else {
        return Value::Ptr(addr);
    };
    let mut items = Vec::new();
    let mut off = 0usize;
    while off + 16 <= b.len() && items.len() < c.o.max_array {
        let clen = le_u64(&b, off) as usize;
        let lvl = u64::from(le_u32(&b, off + 8));
        let typ = u64::from(le_u32(&b, off + 12));
        let data_end = off.saturating_add(clen).min(b.len());
        let data = b.get(off + 16..data_end).unwrap_or(&[]);
        let (tname, dval) = if lvl == SOL_SOCKET && typ == 1 {
            let fds = data
                .chunks_exact(4)
                .map(|x| fd(c, u64::from(le_u32(x, 0))))
                .collect();
            (Value::sym("SCM_RIGHTS"), Value::Array(fds))
        } else if lvl == SOL_SOCKET && typ == 2 && data.len() >= 12 {
            (
                Value::sym("SCM_CREDENTIALS"),
                Value::structure(vec![
                    ("pid", Value::Int((le_u32(data, 0) as i32).into())),
                    ("uid", Value::UInt(le_u32(data, 4).into())),
                    ("gid", Value::UInt(le_u32(data, 8).into())),
                ]),
            )
        } else {
            (
                Value::UInt(typ),
                Value::Str {
                    bytes: data.to_vec(),
                    truncated: false,
                },
            )
        };
        items.push(Value::structure(vec![
            ("cmsg_len", Value::UInt(clen as u64)),
            ("cmsg_level", level(lvl)),
            ("cmsg_type", tname),
            ("cmsg_data", dval),
        ]));
        if clen < 16 {
            break;
        }
        // Each message is padded to 8 bytes.
        off = off.saturating_add(clen.div_ceil(8).saturating_mul(8));
    }
    Value::Array(items)
}

/// A `struct msghdr`. `budget` limits the iov data shown (the byte count at recvmsg's exit).
fn msghdr(c: &Ctx, addr: u64, budget: u64, nl: Netlink) -> Value {
    let Some(b) = read_bytes::<56>(c, addr) else {
        return Value::Ptr(addr);
    };
    let name = le_u64(&b, 0);
    let namelen = u64::from(le_u32(&b, 8));
    let iov = le_u64(&b, 16);
    let iovlen = le_u64(&b, 24);
    let ctl = le_u64(&b, 32);
    let ctllen = le_u64(&b, 40);
    let mut f = vec![
        ("msg_name", sockaddr(c, name, namelen)),
        ("msg_namelen", Value::UInt(namelen)),
        ("msg_iov", iovecs(c, iov, iovlen, budget, nl)),
        ("msg_iovlen", Value::UInt(iovlen)),
    ];
    if ctllen > 0 && ctl != 0 {
        f.push(("msg_control", cmsgs(c, ctl, ctllen)));
    }
    f.push(("msg_controllen", Value::UInt(ctllen)));
    f.push(("msg_flags", msg_flags(u64::from(le_u32(&b, 48)))));
    Value::structure(f)
}

/// A `struct mmsghdr` array of `n` entries (at most `-a`'s array limit): each
/// `{msg_hdr={...}, msg_len=N}`, `msg_len` only for the first `with_len` entries (those the
/// call processed); with `recv` each entry's data is cut at its `msg_len`.
fn mmsghdrs(c: &Ctx, addr: u64, n: u64, with_len: u64, recv: bool, nl: Netlink) -> Value {
    const SIZE: u64 = 64;
    let shown = n.min(c.o.max_array as u64);
    let mut items = Vec::with_capacity(shown as usize + 1);
    for i in 0..shown {
        let at = addr.wrapping_add(i * SIZE);
        let Some(len) = read_bytes::<4>(c, at.wrapping_add(56)).map(|b| le_u32(&b, 0)) else {
            if i == 0 {
                return Value::Ptr(addr);
            }
            break;
        };
        let budget = if recv { u64::from(len) } else { u64::MAX };
        let mut f = vec![("msg_hdr", msghdr(c, at, budget, nl))];
        if i < with_len {
            f.push(("msg_len", Value::UInt(len.into())));
        }
        items.push(Value::structure(f));
    }
    if n > shown {
        items.push(Value::Elided);
    }
    Value::Array(items)
}

/// Entry-stop decoding; `None` if `name` is not a socket call.
pub fn entry(name: &str, c: &Ctx) -> Option<Slots> {
    let a = c.raw;
    let s = Some;
    let int = |v: u64| Value::Int((v as i32).into());
    let v = match name {
        "socket" => vec![
            s(family(a[0] & 0xffff_ffff)),
            s(sock_type(a[1])),
            s(protocol(a[0], a[2])),
        ],
        "socketpair" => vec![
            s(family(a[0] & 0xffff_ffff)),
            s(sock_type(a[1])),
            s(protocol(a[0], a[2])),
            None,
        ],
        "connect" | "bind" => vec![
            s(fd(c, a[0])),
            s(sockaddr(c, a[1], a[2] & 0xffff_ffff)),
            s(int(a[2])),
        ],
        "listen" => vec![s(fd(c, a[0])), s(int(a[1]))],
        "shutdown" => vec![
            s(fd(c, a[0])),
            s(xlat(
                a[1] & 0xffff_ffff,
                &[(0, "SHUT_RD"), (1, "SHUT_WR"), (2, "SHUT_RDWR")],
                "SHUT_???",
            )),
        ],
        // The length slot holds the caller's value until exit turns it into `[in => out]`.
        "accept" | "getsockname" | "getpeername" => {
            vec![s(fd(c, a[0])), None, stash_len(c, a[2])]
        }
        "accept4" => vec![
            s(fd(c, a[0])),
            None,
            stash_len(c, a[2]),
            s(flags(a[3] & 0xffff_ffff, SOCK_FLAGS)),
        ],
        "sendto" => vec![
            s(fd(c, a[0])),
            s(socket_data(c, netlink_of(c, a[0]), a[1], a[2])),
            s(Value::UInt(a[2])),
            s(msg_flags(a[3])),
            s(sockaddr(c, a[4], a[5] & 0xffff_ffff)),
            s(int(a[5])),
        ],
        "recvfrom" => vec![
            s(fd(c, a[0])),
            None,
            s(Value::UInt(a[2])),
            s(msg_flags(a[3])),
            None,
            stash_len(c, a[5]),
        ],
        "sendmsg" => vec![
            s(fd(c, a[0])),
            s(if a[1] == 0 {
                Value::Ptr(0)
            } else {
                msghdr(c, a[1], u64::MAX, netlink_of(c, a[0]))
            }),
            s(msg_flags(a[2])),
        ],
        "recvmsg" => vec![s(fd(c, a[0])), None, s(msg_flags(a[2]))],
        // The vector is printed at exit, with the lengths the call sent.
        "sendmmsg" => vec![
            s(fd(c, a[0])),
            None,
            s(Value::UInt(a[2] & 0xffff_ffff)),
            s(msg_flags(a[3])),
        ],
        "recvmmsg" => vec![
            s(fd(c, a[0])),
            None,
            s(Value::UInt(a[2] & 0xffff_ffff)),
            s(msg_flags(a[3])),
            s(if a[4] == 0 {
                Value::Ptr(0)
            } else {
                super::util::timespec(c, a[4])
            }),
        ],
        "setsockopt" => vec![
            s(fd(c, a[0])),
            s(level(a[1])),
            s(optname(a[1], a[2])),
            s(optval(
                c,
                a[1] & 0xffff_ffff,
                a[2] & 0xffff_ffff,
                a[3],
                a[4],
                true,
            )),
            s(int(a[4])),
        ],
        "getsockopt" => vec![
            s(fd(c, a[0])),
            s(level(a[1])),
            s(optname(a[1], a[2])),
            None,
            stash_len(c, a[4]),
        ],
        _ => return None,
    };
    Some(v)
}

/// Exit-stop decoding: addresses, received data and lengths written back.
pub fn exit(
    name: &str,
    c: &Ctx,
    slots: &mut [Option<Value>],
    rval: i64,
    is_error: bool,
) -> Option<Ret> {
    let a = c.raw;
    let ok = !is_error;
    let ret = match name {
        "socket" => fd_ret(c, rval, is_error),
        "accept" | "accept4" | "getsockname" | "getpeername" => {
            let before = stashed_len(slots.get(2));
            let after = if ok { socklen_in(c, a[2]) } else { None };
            let addr = if a[1] == 0 {
                Value::Ptr(0)
            } else if ok {
                let n = before.unwrap_or(0).min(after.unwrap_or(0));
                sockaddr(c, a[1], n.into())
            } else {
                Value::Ptr(a[1])
            };
            set(slots, 1, addr);
            if a[2] != 0 {
                set(slots, 2, socklen_result(before, after, a[2]));
            }
            if name.starts_with("accept") {
                fd_ret(c, rval, is_error)
            } else {
                default_ret(rval, is_error)
            }
        }
        "socketpair" => {
            let v = match (ok, read_bytes::<8>(c, a[3])) {
                (true, Some(b)) => Value::Array(vec![
                    fd(c, u64::from(le_u32(&b, 0))),
                    fd(c, u64::from(le_u32(&b, 4))),
                ]),
                _ => Value::Ptr(a[3]),
            };
            set(slots, 3, v);
            default_ret(rval, is_error)
        }
        "recvfrom" => {
            let buf = if ok {
                socket_data(c, netlink_of(c, a[0]), a[1], rval.max(0) as u64)
            } else {
                Value::Ptr(a[1])
            };
            set(slots, 1, buf);
            let before = stashed_len(slots.get(5));
            let after = if ok { socklen_in(c, a[5]) } else { None };
            let addr = if a[4] == 0 {
                Value::Ptr(0)
            } else if ok {
                let n = before.unwrap_or(0).min(after.unwrap_or(0));
                sockaddr(c, a[4], n.into())
            } else {
                Value::Ptr(a[4])
            };
            set(slots, 4, addr);
            if a[5] != 0 {
                set(slots, 5, socklen_result(before, after, a[5]));
            }
            default_ret(rval, is_error)
        }
        "recvmsg" => {
            let v = if ok && a[1] != 0 {
                msghdr(c, a[1], rval.max(0) as u64, netlink_of(c, a[0]))
            } else {
                Value::Ptr(a[1])
            };
            set(slots, 1, v);
            default_ret(rval, is_error)
        }
        "sendmmsg" => {
            let sent = if ok { rval.max(0) as u64 } else { 0 };
            let nl = netlink_of(c, a[0]);
            set(
                slots,
                1,
                mmsghdrs(c, a[1], a[2] & 0xffff_ffff, sent, false, nl),
            );
            default_ret(rval, is_error)
        }
        "recvmmsg" => {
            if !ok || a[1] == 0 {
                set(slots, 1, Value::Ptr(a[1]));
                return Some(default_ret(rval, is_error));
            }
            let got = rval.max(0) as u64;
            set(
                slots,
                1,
                mmsghdrs(c, a[1], got, got, true, netlink_of(c, a[0])),
            );
            if a[4] != 0 {
                return Some(Ret::Annotated {
                    value: Box::new(Ret::Int(rval)),
                    note: format!(
                        "left {}",
                        super::util::render(&super::util::timespec(c, a[4]))
                    ),
                });
            }
            default_ret(rval, is_error)
        }
        "getsockopt" => {
            let before = stashed_len(slots.get(4));
            let after = if ok { socklen_in(c, a[4]) } else { None };
            let v = if ok {
                let n = after.or(before).unwrap_or(0);
                optval(
                    c,
                    a[1] & 0xffff_ffff,
                    a[2] & 0xffff_ffff,
                    a[3],
                    n.into(),
                    false,
                )
            } else {
                Value::Ptr(a[3])
            };
            set(slots, 3, v);
            if a[4] != 0 {
                set(slots, 4, socklen_result(before, after, a[4]));
            }
            default_ret(rval, is_error)
        }
        "connect" | "bind" | "listen" | "shutdown" | "sendto" | "sendmsg" | "setsockopt" => {
            default_ret(rval, is_error)
        }
        _ => return None,
    };
    Some(ret)
}

fn set(slots: &mut [Option<Value>], i: usize, v: Value) {
    if let Some(s) = slots.get_mut(i) {
        *s = Some(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::DecodeOpts;
    use crate::syscalls::decode::util::fake::{FakeTracee, assert_lines, le64, line};
    use crate::syscalls::decode::util::render;

    fn sun(path: &[u8]) -> Vec<u8> {
        let mut v = vec![1, 0];
        v.extend_from_slice(path);
        v.resize(110, 0);
        v
    }

    fn sin(port: u16, ip: [u8; 4]) -> Vec<u8> {
        let mut v = vec![2, 0];
        v.extend(port.to_be_bytes());
        v.extend(ip);
        v.resize(16, 0);
        v
    }

    #[test]
    fn socket_calls() {
        let t = FakeTracee::default();
        let cases: &[([u64; 6], i64, &str)] = &[
            (
                [1, 0x80001, 0, 0, 0, 0],
                3,
                "socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3",
            ),
            (
                [2, 1, 6, 0, 0, 0],
                3,
                "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3",
            ),
            (
                [2, 0x801, 0, 0, 0, 0],
                4,
                "socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK, IPPROTO_IP) = 4",
            ),
            (
                [16, 0x80003, 0, 0, 0, 0],
                8,
                "socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE) = 8",
            ),
            (
                [16, 3, 9, 0, 0, 0],
                9,
                "socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT) = 9",
            ),
            (
                [17, 2, 8, 0, 0, 0],
                11,
                "socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP)) = 11",
            ),
            (
                [99, 7, 5, 0, 0, 0],
                -97,
                "socket(0x63 /* AF_??? */, 0x7 /* SOCK_??? */, 5) = -97",
            ),
            (
                [2, 3, 1, 0, 0, 0],
                12,
                "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) = 12",
            ),
            (
                [10, 2, 0, 0, 0, 0],
                13,
                "socket(AF_INET6, SOCK_DGRAM, IPPROTO_IP) = 13",
            ),
            (
                [1, 5, 0, 0, 0, 0],
                14,
                "socket(AF_UNIX, SOCK_SEQPACKET, 0) = 14",
            ),
        ];
        assert_lines(
            &t,
            cases
                .iter()
                .map(|&(raw, rv, want)| ("socket", raw, rv, want)),
        );
        let t = t.with(0x1000, &[6, 0, 0, 0, 7, 0, 0, 0]);
        assert_eq!(
            line("socketpair", [1, 2, 0, 0x1000, 0, 0], &t, 0, false),
            "socketpair(AF_UNIX, SOCK_DGRAM, 0, [6, 7]) = 0"
        );
        assert_eq!(
            line("shutdown", [7, 7, 0, 0, 0, 0], &t, -22, true),
            "shutdown(7, 0x7 /* SHUT_??? */) = -22"
        );
        assert_eq!(
            line("shutdown", [4, 1, 0, 0, 0, 0], &t, 0, false),
            "shutdown(4, SHUT_WR) = 0"
        );
        assert_eq!(
            line("listen", [3, 128, 0, 0, 0, 0], &t, 0, false),
            "listen(3, 128) = 0"
        );
    }

    #[test]
    fn addresses() {
        let mut i6 = vec![10, 0, 0x15, 0x38, 0, 0, 0, 0];
        i6.extend(std::net::Ipv6Addr::LOCALHOST.octets());
        i6.extend(0u32.to_le_bytes());
        let mut mapped = vec![10, 0, 0x15, 0x38, 0, 0, 0, 5];
        mapped.extend(
            "::ffff:1.2.3.4"
                .parse::<std::net::Ipv6Addr>()
                .expect("test input is well-formed")
                .octets(),
        );
        mapped.extend(77u32.to_le_bytes());
        let mut unspec = vec![0u8; 16];
        unspec[0] = 0;
        let mut odd = vec![99, 0, b'a', b'b', 0, b'd'];
        odd.resize(16, 0);
        let mut abs = vec![1, 0, 0];
        abs.extend(b"abc");
        let t = FakeTracee::default()
            .with(0x1000, &sun(b"/tmp/.s.PGSQL.5432"))
            .with(0x2000, &sin(5432, [127, 0, 0, 1]))
            .with(0x3000, &i6)
            .with(0x4000, &mapped)
            .with(0x5000, &unspec)
            .with(0x6000, &odd)
            .with(0x7000, &abs);
        let cases: &[(&str, [u64; 6], i64, &str)] = &[
            (
                "connect",
                [3, 0x1000, 110, 0, 0, 0],
                -2,
                "connect(3, {sa_family=AF_UNIX, sun_path=\"/tmp/.s.PGSQL.5432\"}, 110) = -2",
            ),
            (
                "connect",
                [3, 0x1000, 21, 0, 0, 0],
                -2,
                "connect(3, {sa_family=AF_UNIX, sun_path=\"/tmp/.s.PGSQL.5432\"}, 21) = -2",
            ),
            (
                "bind",
                [3, 0x2000, 16, 0, 0, 0],
                0,
                "bind(3, {sa_family=AF_INET, sin_port=htons(5432), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = 0",
            ),
            (
                "connect",
                [9, 0x3000, 28, 0, 0, 0],
                -111,
                "connect(9, {sa_family=AF_INET6, sin6_port=htons(5432), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, \"::1\", &sin6_addr), sin6_scope_id=0}, 28) = -111",
            ),
            (
                "connect",
                [6, 0x4000, 28, 0, 0, 0],
                -19,
                "connect(6, {sa_family=AF_INET6, sin6_port=htons(5432), sin6_flowinfo=htonl(5), inet_pton(AF_INET6, \"::ffff:1.2.3.4\", &sin6_addr), sin6_scope_id=77}, 28) = -19",
            ),
            (
                "connect",
                [6, 0x4000, 24, 0, 0, 0],
                -19,
                "connect(6, {sa_family=AF_INET6, sin6_port=htons(5432), sin6_flowinfo=htonl(5), inet_pton(AF_INET6, \"::ffff:1.2.3.4\", &sin6_addr)}, 24) = -19",
            ),
            (
                "connect",
                [6, 0x5000, 16, 0, 0, 0],
                0,
                "connect(6, {sa_family=AF_UNSPEC, sa_data=\"\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\"}, 16) = 0",
            ),
            (
                "connect",
                [6, 0x5000, 1, 0, 0, 0],
                -22,
                "connect(6, 0x5000, 1) = -22",
            ),
            (
                "connect",
                [6, 1, 16, 0, 0, 0],
                -14,
                "connect(6, 0x1, 16) = -14",
            ),
            (
                "connect",
                [6, 0, 0, 0, 0, 0],
                -22,
                "connect(6, NULL, 0) = -22",
            ),
            (
                "connect",
                [6, 0x6000, 16, 0, 0, 0],
                -22,
                "connect(6, {sa_family=0x63 /* AF_??? */, sa_data=\"ab\\0d\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\"}, 16) = -22",
            ),
            (
                "connect",
                [4, 0x1000, 2, 0, 0, 0],
                -22,
                "connect(4, {sa_family=AF_UNIX}, 2) = -22",
            ),
            (
                "bind",
                [4, 0x7000, 6, 0, 0, 0],
                0,
                "bind(4, {sa_family=AF_UNIX, sun_path=@\"abc\"}, 6) = 0",
            ),
        ];
        assert_lines(&t, cases.iter().copied());
        // A short AF_INET address shows its raw bytes.
        let mut short = vec![2, 0];
        short.extend(b"ab\0d\0\0");
        let t = t.with(0x8000, &short);
        assert_eq!(
            line("connect", [6, 0x8000, 8, 0, 0, 0], &t, -22, true),
            "connect(6, {sa_family=AF_INET, sa_data=\"ab\\0d\\0\\0\"}, 8) = -22"
        );
    }

    #[test]
    fn value_result_lengths() {
        // The fake's memory is the exit state; the stashed entry length comes from entry.
        let o = DecodeOpts::default();
        let t = FakeTracee::default()
            .with(0x1000, &sun(b"\0abc"))
            .with(0x2000, &110u32.to_le_bytes());
        let c = Ctx {
            raw: [4, 0x1000, 0x2000, 0, 0, 0],
            t: &t,
            o: &o,
        };
        let mut slots = entry("getsockname", &c).expect("test input is well-formed");
        // The kernel then writes 6 back.
        let t2 = FakeTracee::default()
            .with(0x1000, &sun(b"\0abc"))
            .with(0x2000, &6u32.to_le_bytes());
        let c2 = Ctx {
            raw: c.raw,
            t: &t2,
            o: &o,
        };
        exit("getsockname", &c2, &mut slots, 0, false).expect("test input is well-formed");
        let args: Vec<String> = slots.iter().flatten().map(render).collect();
        assert_eq!(
            args.join(", "),
            "4, {sa_family=AF_UNIX, sun_path=@\"abc\"}, [110 => 6]"
        );

        let t = FakeTracee::default()
            .with(0x1000, &sin(55452, [127, 0, 0, 1]))
            .with(0x2000, &16u32.to_le_bytes());
        assert_eq!(
            line("accept", [3, 0x1000, 0x2000, 0, 0, 0], &t, 5, false),
            "accept(3, {sa_family=AF_INET, sin_port=htons(55452), sin_addr=inet_addr(\"127.0.0.1\")}, [16]) = 5"
        );
        assert_eq!(
            line("accept", [3, 0x1000, 0x2000, 0, 0, 0], &t, -11, true),
            "accept(3, 0x1000, [16]) = -11"
        );
        assert_eq!(
            line("accept4", [3, 0, 0, 0x80800, 0, 0], &t, -11, true),
            "accept4(3, NULL, NULL, SOCK_CLOEXEC|SOCK_NONBLOCK) = -11"
        );
        assert_eq!(
            line("getpeername", [5, 0x1000, 0x2000, 0, 0, 0], &t, 0, false),
            "getpeername(5, {sa_family=AF_INET, sin_port=htons(55452), sin_addr=inet_addr(\"127.0.0.1\")}, [16]) = 0"
        );
    }

    #[test]
    fn data_transfer() {
        let t = FakeTracee::default()
            .with(0x1000, b"hello\n")
            .with(0x2000, &[b'z'; 200])
            .with(0x3000, &sin(49539, [127, 0, 0, 1]))
            .with(0x4000, &16u32.to_le_bytes());
        let cases: &[(&str, [u64; 6], i64, &str)] = &[
            (
                "sendto",
                [4, 0x1000, 6, 0x4000, 0, 0],
                6,
                "sendto(4, \"hello\\n\", 6, MSG_NOSIGNAL, NULL, 0) = 6",
            ),
            (
                "recvfrom",
                [5, 0x1000, 100, 0, 0, 0],
                6,
                "recvfrom(5, \"hello\\n\", 100, 0, NULL, NULL) = 6",
            ),
            (
                "recvfrom",
                [5, 0x1000, 100, 0x40, 0x3000, 0x4000],
                -11,
                "recvfrom(5, 0x1000, 100, MSG_DONTWAIT, 0x3000, [16]) = -11",
            ),
            (
                "sendto",
                [4, 0x2000, 200, 0x4000_8040, 0, 0],
                200,
                "sendto(4, \"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"..., 200, MSG_DONTWAIT|MSG_MORE|MSG_CMSG_CLOEXEC, NULL, 0) = 200",
            ),
            (
                "recvfrom",
                [5, 0x2000, 200, 0x122, 0, 0],
                200,
                "recvfrom(5, \"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"..., 200, MSG_PEEK|MSG_TRUNC|MSG_WAITALL, NULL, NULL) = 200",
            ),
            (
                "sendto",
                [7, 0x1000, 2, 0, 0x3000, 16],
                2,
                "sendto(7, \"he\", 2, 0, {sa_family=AF_INET, sin_port=htons(49539), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = 2",
            ),
            (
                "recvfrom",
                [7, 0x1000, 200, 0, 0x3000, 0x4000],
                2,
                "recvfrom(7, \"he\", 200, 0, {sa_family=AF_INET, sin_port=htons(49539), sin_addr=inet_addr(\"127.0.0.1\")}, [16]) = 2",
            ),
        ];
        assert_lines(&t, cases.iter().copied());
    }

    #[test]
    fn msghdrs() {
        let iov = le64(&[0x1000, 3, 0x1100, 5]);
        let mh = le64(&[0, 0, 0x2000, 2, 0, 0, 0]);
        let riov = le64(&[0x1200, 4, 0x1300, 40]);
        let rmh = le64(&[0, 0, 0x2100, 2, 0, 0, 0]);
        let mut cm = le64(&[24]);
        cm.extend(1u32.to_le_bytes());
        cm.extend(1u32.to_le_bytes());
        cm.extend(0u32.to_le_bytes());
        cm.extend(1u32.to_le_bytes());
        let one_iov = le64(&[0x1000, 1]);
        let cmh = le64(&[0, 0, 0x2200, 1, 0x4000, 24, 0]);
        let t = FakeTracee::default()
            .with(0x1000, b"abc")
            .with(0x1100, b"defgh")
            .with(0x1200, b"abcd")
            .with(0x1300, b"efgh")
            .with(0x2000, &iov)
            .with(0x2100, &riov)
            .with(0x2200, &one_iov)
            .with(0x3000, &mh)
            .with(0x3100, &rmh)
            .with(0x3200, &cmh)
            .with(0x4000, &cm);
        assert_eq!(
            line("sendmsg", [4, 0x3000, 0x4000, 0, 0, 0], &t, 8, false),
            "sendmsg(4, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"abc\", iov_len=3}, {iov_base=\"defgh\", iov_len=5}], msg_iovlen=2, msg_controllen=0, msg_flags=0}, MSG_NOSIGNAL) = 8"
        );
        assert_eq!(
            line("recvmsg", [5, 0x3100, 0x40, 0, 0, 0], &t, 8, false),
            "recvmsg(5, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"abcd\", iov_len=4}, {iov_base=\"efgh\", iov_len=40}], msg_iovlen=2, msg_controllen=0, msg_flags=0}, MSG_DONTWAIT) = 8"
        );
        assert_eq!(
            line("recvmsg", [5, 0x3100, 0x40, 0, 0, 0], &t, -11, true),
            "recvmsg(5, 0x3100, MSG_DONTWAIT) = -11"
        );
        assert_eq!(
            line("sendmsg", [4, 0x3200, 0, 0, 0, 0], &t, 1, false),
            "sendmsg(4, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"a\", iov_len=1}], msg_iovlen=1, msg_control=[{cmsg_len=24, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[0, 1]}], msg_controllen=24, msg_flags=0}, 0) = 1"
        );
    }

    #[test]
    fn mmsghdrs() {
        // Two mmsghdrs (64 bytes each): one iovec each, msg_len 3 and 4.
        let mut v = le64(&[0, 0, 0x2000, 1, 0, 0, 0]);
        v.extend(3u32.to_le_bytes());
        v.extend(0u32.to_le_bytes());
        v.extend(le64(&[0, 0, 0x2010, 1, 0, 0, 0]));
        v.extend(4u32.to_le_bytes());
        v.extend(0u32.to_le_bytes());
        let iovs = le64(&[0x1000, 8, 0x1100, 8]);
        let t = FakeTracee::default()
            .with(0x1000, b"abcdefgh")
            .with(0x1100, b"ijklmnop")
            .with(0x2000, &iovs)
            .with(0x3000, &v)
            .with(0x4000, &le64(&[0, 900]));
        let h = |data: &str, len: Option<u32>| {
            let l = len.map(|l| format!(", msg_len={l}")).unwrap_or_default();
            format!(
                "{{msg_hdr={{msg_name=NULL, msg_namelen=0, msg_iov=[{{iov_base=\"{data}\", iov_len=8}}], msg_iovlen=1, msg_controllen=0, msg_flags=0}}{l}}}"
            )
        };
        assert_eq!(
            line("sendmmsg", [3, 0x3000, 2, 0x40, 0, 0], &t, 2, false),
            format!(
                "sendmmsg(3, [{}, {}], 2, MSG_DONTWAIT) = 2",
                h("abcdefgh", Some(3)),
                h("ijklmnop", Some(4))
            )
        );
        // Failed: every entry, no lengths.
        assert_eq!(
            line("sendmmsg", [3, 0x3000, 2, 0, 0, 0], &t, -9, true),
            format!(
                "sendmmsg(3, [{}, {}], 2, 0) = -9",
                h("abcdefgh", None),
                h("ijklmnop", None)
            )
        );
        // Received: the entries the call filled, data cut at msg_len, the timeout left.
        assert_eq!(
            line("recvmmsg", [4, 0x3000, 5, 0, 0x4000, 0], &t, 2, false),
            format!(
                "recvmmsg(4, [{}, {}], 5, 0, {{tv_sec=0, tv_nsec=900}}) = 2 (left {{tv_sec=0, tv_nsec=900}})",
                h("abc", Some(3)),
                h("ijkl", Some(4))
            )
        );
        assert_eq!(
            line("recvmmsg", [4, 0x3000, 5, 0, 0, 0], &t, -11, true),
            "recvmmsg(4, 0x3000, 5, 0, NULL) = -11"
        );
    }

    #[test]
    fn sockopts() {
        let t = FakeTracee::default()
            .with(0x1000, &1u32.to_le_bytes())
            .with(0x1100, &4u32.to_le_bytes())
            .with(0x1200, &[1, 0, 0, 0, 5, 0, 0, 0])
            .with(0x1300, &[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
            .with(0x1400, &131_072u32.to_le_bytes())
            .with(0x1500, &[0, 0x40])
            .with(0x1600, &2u32.to_le_bytes());
        let cases: &[(&str, [u64; 6], i64, &str)] = &[
            (
                "setsockopt",
                [3, 1, 2, 0x1000, 4, 0],
                0,
                "setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0",
            ),
            (
                "setsockopt",
                [4, 6, 1, 0x1000, 4, 0],
                0,
                "setsockopt(4, SOL_TCP, TCP_NODELAY, [1], 4) = 0",
            ),
            (
                "setsockopt",
                [4, 1, 13, 0x1200, 8, 0],
                0,
                "setsockopt(4, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=5}, 8) = 0",
            ),
            (
                "setsockopt",
                [4, 1, 20, 0x1300, 16, 0],
                0,
                "setsockopt(4, SOL_SOCKET, SO_RCVTIMEO_OLD, \"\\1\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\", 16) = 0",
            ),
            (
                "setsockopt",
                [3, 1, 2, 8, 4, 0],
                -14,
                "setsockopt(3, SOL_SOCKET, SO_REUSEADDR, 0x8, 4) = -14",
            ),
            (
                "setsockopt",
                [3, 1, 2, 0x1000, 2, 0],
                -22,
                "setsockopt(3, SOL_SOCKET, SO_REUSEADDR, 0x1000, 2) = -22",
            ),
            (
                "setsockopt",
                [3, 1, 999, 0x1000, 4, 0],
                -92,
                "setsockopt(3, SOL_SOCKET, 0x3e7 /* SO_??? */, [1], 4) = -92",
            ),
            (
                "setsockopt",
                [3, 99, 1, 0x1000, 4, 0],
                -92,
                "setsockopt(3, 0x63 /* SOL_?? */, 1, [1], 4) = -92",
            ),
            (
                "setsockopt",
                [3, 41, 26, 0x1000, 4, 0],
                -92,
                "setsockopt(3, SOL_IPV6, IPV6_V6ONLY, [1], 4) = -92",
            ),
            (
                "setsockopt",
                [3, 0, 1, 0x1000, 4, 0],
                0,
                "setsockopt(3, SOL_IP, IP_TOS, [1], 4) = 0",
            ),
            (
                "getsockopt",
                [4, 1, 8, 0x1400, 0x1100, 0],
                0,
                "getsockopt(4, SOL_SOCKET, SO_RCVBUF, [131072], [4]) = 0",
            ),
            (
                "getsockopt",
                [3, 1, 7, 0x1500, 0x1600, 0],
                0,
                "getsockopt(3, SOL_SOCKET, SO_SNDBUF, \"\\x00\\x40\", [2]) = 0",
            ),
        ];
        assert_lines(&t, cases.iter().copied());
    }
}
