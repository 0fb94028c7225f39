//! Netlink messages in a socket call's buffer, as strace 6.1 prints them.
//!
//! glibc's getaddrinfo asks the kernel for the host's addresses over `NETLINK_ROUTE` (an
//! `RTM_GETADDR` dump) whenever a name has several addresses to sort: a PostgreSQL server
//! listening on `localhost` does it at start where localhost is both 127.0.0.1 and ::1 (a
//! stock Debian `/etc/hosts`), and so does a client connecting to it. So the route family's
//! address messages are decoded whole, with their attributes:
//!
//! ```text
//! [{nlmsg_len=76, nlmsg_type=RTM_NEWADDR, nlmsg_flags=NLM_F_MULTI, nlmsg_seq=1, nlmsg_pid=4},
//!  {ifa_family=AF_INET, ifa_prefixlen=8, ..., ifa_index=if_nametoindex("lo")},
//!  [[{nla_len=8, nla_type=IFA_ADDRESS}, inet_addr("127.0.0.1")], ...]]
//! ```
//!
//! A buffer holding one message prints as that message, several as an array of them; a
//! message with a payload as `[header, payload...]`, without one as its header. The generic
//! types (`NLMSG_ERROR` with the request it answers, `NLMSG_DONE`) are decoded for every
//! protocol. What is not decoded prints as strace prints it: its bytes in hex
//! (`"\x61\x62"`). Link messages (`RTM_NEWLINK`, the other half of glibc's getifaddrs,
//! which PostgreSQL calls for `samehost`/`samenet` in pg_hba.conf) are decoded in
//! `netlink_link`. Not yet decoded (strace decodes them): the other route messages beyond
//! their first field (routes, neighbours, ...) and the other protocols' types (sock_diag,
//! audit, generic netlink, netfilter, ...), which print as strace prints a socket whose
//! protocol it does not know.
//!
//! Pure: the bytes come from the tracee through [`Ctx`], the protocol from the caller.

use super::Ctx;
use super::util::{hex0, le_u32, read_vec, styled};
use crate::syscalls::Value;
use std::borrow::Cow;

/// `NETLINK_ROUTE`.
pub const ROUTE: u32 = 0;

const HDRLEN: usize = 16;
/// The most bytes of one buffer looked at (a dump larger than this prints what fits).
const MAX_READ: usize = 256 * 1024;

const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSG_MIN_TYPE: u16 = 16;

fn align4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

pub(super) fn le_u16(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([
        b.get(off).copied().unwrap_or(0),
        b.get(off + 1).copied().unwrap_or(0),
    ])
}

/// The netlink messages in `len` bytes at `addr` of a socket of protocol `proto` (`None`:
/// a netlink socket whose protocol is not known, as an unbound one).
pub fn buffer(c: &Ctx, proto: Option<u32>, addr: u64, len: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    let want = usize::try_from(len).unwrap_or(usize::MAX).min(MAX_READ);
    if want == 0 {
        return Value::Raw("\"\"".into());
    }
    match read_vec(c, addr, want) {
        Some(b) if b.len() == want => messages(c, proto, &b),
        _ => Value::Ptr(addr),
    }
}

/// Bytes that are no message (or whose decoder does not apply), as strace prints them: in
/// hex, cut at `-s`.
pub(super) fn hex(c: &Ctx, b: &[u8]) -> Value {
    super::util::hex_cut(&b[..b.len().min(c.o.string_limit)], b.len())
}

/// The elements of a list walked as strace walks messages and attributes: one element
/// alone, several in an array, `...` after `-s` of them (unless `-v`).
pub(super) fn list(c: &Ctx, b: &[u8], min: usize, mut one: impl FnMut(&[u8]) -> Value) -> Value {
    let mut items: Vec<Value> = Vec::new();
    let mut rest = b;
    loop {
        if c.o.abbrev && items.len() == c.o.string_limit {
            items.push(Value::Elided);
            break;
        }
        if rest.len() < min {
            items.push(hex(c, rest));
            break;
        }
        // Both lengths are the element's first field: u32 for a message, u16 for an
        // attribute; read as the header size says.
        let elt_len = if min == HDRLEN {
            le_u32(rest, 0) as usize
        } else {
            usize::from(le_u16(rest, 0))
        };
        let next = if elt_len >= min {
            rest.len().saturating_sub(align4(elt_len))
        } else {
            0
        };
        let with_len = elt_len.min(rest.len());
        items.push(one(&rest[..with_len.max(min)]));
        if next == 0 {
            break;
        }
        rest = &rest[rest.len() - next..];
    }
    if items.len() == 1 {
        items.pop().unwrap_or(Value::Elided)
    } else {
        Value::Array(items)
    }
}

fn messages(c: &Ctx, proto: Option<u32>, b: &[u8]) -> Value {
    list(c, b, HDRLEN, |m| message(c, proto, m))
}

/// One message: its header alone, or `[header, payload...]`.
fn message(c: &Ctx, proto: Option<u32>, m: &[u8]) -> Value {
    let typ = le_u16(m, 4);
    let flags = le_u16(m, 6);
    let hdr = Value::structure(vec![
        ("nlmsg_len", Value::UInt(le_u32(m, 0).into())),
        (
            "nlmsg_type",
            styled(c, msg_type(proto, typ), hex0(typ.into())),
        ),
        (
            "nlmsg_flags",
            styled(c, msg_flags(proto, typ, flags), hex0(flags.into())),
        ),
        ("nlmsg_seq", Value::UInt(le_u32(m, 8).into())),
        ("nlmsg_pid", Value::UInt(le_u32(m, 12).into())),
    ]);
    let data = &m[HDRLEN.min(m.len())..];
    if data.is_empty() {
        return hdr;
    }
    let mut items = vec![hdr];
    items.extend(payload(c, proto, typ, flags, data));
    Value::Array(items)
}

fn payload(c: &Ctx, proto: Option<u32>, typ: u16, flags: u16, data: &[u8]) -> Vec<Value> {
    match typ {
        NLMSG_ERROR if data.len() >= 4 + HDRLEN => vec![error(c, proto, flags, data)],
        NLMSG_DONE if data.len() == 4 => vec![Value::Int(le_u32(data, 0) as i32 as i64)],
        t if t >= NLMSG_MIN_TYPE && proto == Some(ROUTE) => route(c, t, data),
        _ => vec![hex(c, data)],
    }
}

/// `{error=-ENODEV, msg=...}` with the request it answers (its header only when capped),
/// then the extended ACK's attributes if the kernel added them.
fn error(c: &Ctx, proto: Option<u32>, flags: u16, data: &[u8]) -> Value {
    let err = le_u32(data, 0) as i32;
    let err_v = match crate::syscalls::errno::name(-i64::from(err)) {
        Some(n) if err < 0 => styled(c, Value::Raw(format!("-{n}")), Value::Int(err.into())),
        _ => Value::Int(err.into()),
    };
    let rest = &data[4..];
    let capped = flags & 0x100 != 0;
    let avail = if capped { HDRLEN } else { rest.len() };
    let msg_len = (le_u32(rest, 0) as usize).clamp(HDRLEN, avail.max(HDRLEN));
    let msg_len = msg_len.min(rest.len());
    let v = Value::structure(vec![
        ("error", err_v),
        ("msg", message(c, proto, &rest[..msg_len])),
    ]);
    let tlvs = rest.get(align4(msg_len)..).unwrap_or(&[]);
    if flags & 0x200 != 0 && !tlvs.is_empty() {
        let attrs = attributes(c, tlvs, &ERR_ATTRS, "NLMSGERR_ATTR_???", &|t, d| match t {
            1 => Some(label(c, d)),
            2 if d.len() >= 4 => Some(Value::UInt(le_u32(d, 0).into())),
            _ => None,
        });
        return Value::Array(vec![v, attrs]);
    }
    v
}

const ERR_ATTRS: [&str; 7] = [
    "NLMSGERR_ATTR_UNUSED",
    "NLMSGERR_ATTR_MSG",
    "NLMSGERR_ATTR_OFFS",
    "NLMSGERR_ATTR_COOKIE",
    "NLMSGERR_ATTR_POLICY",
    "NLMSGERR_ATTR_MISS_TYPE",
    "NLMSGERR_ATTR_MISS_NEST",
];

fn msg_type(proto: Option<u32>, typ: u16) -> Value {
    if typ < NLMSG_MIN_TYPE {
        return match typ {
            NLMSG_NOOP => Value::sym("NLMSG_NOOP"),
            NLMSG_ERROR => Value::sym("NLMSG_ERROR"),
            NLMSG_DONE => Value::sym("NLMSG_DONE"),
            4 => Value::sym("NLMSG_OVERRUN"),
            t => super::util::unknown(t.into(), "NLMSG_???"),
        };
    }
    if proto == Some(ROUTE) {
        return match route_type(typ) {
            Some(n) => Value::sym(n),
            None => super::util::unknown(typ.into(), "RTM_???"),
        };
    }
    super::util::unknown(typ.into(), "NLMSG_???")
}

const BASE_FLAGS: &[(u64, &str)] = &[
    (0x1, "NLM_F_REQUEST"),
    (0x2, "NLM_F_MULTI"),
    (0x4, "NLM_F_ACK"),
    (0x8, "NLM_F_ECHO"),
    (0x10, "NLM_F_DUMP_INTR"),
    (0x20, "NLM_F_DUMP_FILTERED"),
];
const GET_FLAGS: &[(u64, &str)] = &[
    (0x300, "NLM_F_DUMP"),
    (0x100, "NLM_F_ROOT"),
    (0x200, "NLM_F_MATCH"),
    (0x400, "NLM_F_ATOMIC"),
];
const NEW_FLAGS: &[(u64, &str)] = &[
    (0x100, "NLM_F_REPLACE"),
    (0x200, "NLM_F_EXCL"),
    (0x400, "NLM_F_CREATE"),
    (0x800, "NLM_F_APPEND"),
];
const DEL_FLAGS: &[(u64, &str)] = &[(0x100, "NLM_F_NONREC"), (0x200, "NLM_F_BULK")];
const ACK_FLAGS: &[(u64, &str)] = &[(0x100, "NLM_F_CAPPED"), (0x200, "NLM_F_ACK_TLVS")];

/// The flags as the message's type reads them: a request's get, new or delete flags, an
/// error's ACK flags; bits no table names in hex, `0x300 /* NLM_F_??? */` when none is named.
fn msg_flags(proto: Option<u32>, typ: u16, flags: u16) -> Value {
    let more: &[(u64, &str)] = if typ < NLMSG_MIN_TYPE {
        if typ == NLMSG_ERROR { ACK_FLAGS } else { &[] }
    } else if proto == Some(ROUTE) {
        // RTM_DELACTION's flags are a get's.
        match (typ, typ & 3) {
            (49, _) | (_, 2) => GET_FLAGS,
            (_, 0) => NEW_FLAGS,
            (_, 1) => DEL_FLAGS,
            _ => &[],
        }
    } else {
        &[]
    };
    let v = u64::from(flags);
    let mut names: Vec<Cow<'static, str>> = Vec::new();
    let mut rest = v;
    for &(bit, name) in BASE_FLAGS.iter().chain(more) {
        if rest & bit == bit {
            names.push(Cow::Borrowed(name));
            rest &= !bit;
        }
    }
    if names.is_empty() && rest != 0 {
        return super::util::unknown(rest, "NLM_F_???");
    }
    if rest != 0 {
        names.push(Cow::Owned(format!("{rest:#x}")));
    }
    Value::Flags(names)
}

fn route_type(t: u16) -> Option<&'static str> {
    Some(match t {
        16 => "RTM_NEWLINK",
        17 => "RTM_DELLINK",
        18 => "RTM_GETLINK",
        19 => "RTM_SETLINK",
        20 => "RTM_NEWADDR",
        21 => "RTM_DELADDR",
        22 => "RTM_GETADDR",
        24 => "RTM_NEWROUTE",
        25 => "RTM_DELROUTE",
        26 => "RTM_GETROUTE",
        28 => "RTM_NEWNEIGH",
        29 => "RTM_DELNEIGH",
        30 => "RTM_GETNEIGH",
        32 => "RTM_NEWRULE",
        33 => "RTM_DELRULE",
        34 => "RTM_GETRULE",
        36 => "RTM_NEWQDISC",
        37 => "RTM_DELQDISC",
        38 => "RTM_GETQDISC",
        40 => "RTM_NEWTCLASS",
        41 => "RTM_DELTCLASS",
        42 => "RTM_GETTCLASS",
        44 => "RTM_NEWTFILTER",
        45 => "RTM_DELTFILTER",
        46 => "RTM_GETTFILTER",
        48 => "RTM_NEWACTION",
        49 => "RTM_DELACTION",
        50 => "RTM_GETACTION",
        52 => "RTM_NEWPREFIX",
        58 => "RTM_GETMULTICAST",
        62 => "RTM_GETANYCAST",
        64 => "RTM_NEWNEIGHTBL",
        66 => "RTM_GETNEIGHTBL",
        67 => "RTM_SETNEIGHTBL",
        68 => "RTM_NEWNDUSEROPT",
        72 => "RTM_NEWADDRLABEL",
        73 => "RTM_DELADDRLABEL",
        74 => "RTM_GETADDRLABEL",
        78 => "RTM_GETDCB",
        79 => "RTM_SETDCB",
        80 => "RTM_NEWNETCONF",
        81 => "RTM_DELNETCONF",
        82 => "RTM_GETNETCONF",
        84 => "RTM_NEWMDB",
        85 => "RTM_DELMDB",
        86 => "RTM_GETMDB",
        88 => "RTM_NEWNSID",
        89 => "RTM_DELNSID",
        90 => "RTM_GETNSID",
        92 => "RTM_NEWSTATS",
        94 => "RTM_GETSTATS",
        96 => "RTM_NEWCACHEREPORT",
        100 => "RTM_NEWCHAIN",
        101 => "RTM_DELCHAIN",
        102 => "RTM_GETCHAIN",
        104 => "RTM_NEWNEXTHOP",
        105 => "RTM_DELNEXTHOP",
        106 => "RTM_GETNEXTHOP",
        108 => "RTM_NEWLINKPROP",
        109 => "RTM_DELLINKPROP",
        110 => "RTM_GETLINKPROP",
        112 => "RTM_NEWVLAN",
        113 => "RTM_DELVLAN",
        114 => "RTM_GETVLAN",
        116 => "RTM_NEWNEXTHOPBUCKET",
        117 => "RTM_DELNEXTHOPBUCKET",
        118 => "RTM_GETNEXTHOPBUCKET",
        120 => "RTM_NEWTUNNEL",
        121 => "RTM_DELTUNNEL",
        122 => "RTM_GETTUNNEL",
        _ => return None,
    })
}

pub(super) fn family(b: u8) -> Value {
    super::net::family(b.into())
}

/// A structure's family field, under `-X` as strace prints it (`0x2 /* AF_INET */`).
pub(super) fn family_field(c: &Ctx, b: u8) -> Value {
    styled(c, family(b), hex0(b.into()))
}

/// Flags, under `-X` as a number (`0x80 /* IFA_F_PERMANENT */`).
pub(super) fn flags_field(c: &Ctx, v: u64, table: &[(u64, &'static str)]) -> Value {
    styled(c, super::util::flags(v, table), hex0(v))
}

/// An interface index, under `-X` as a number (`1 /* if_nametoindex("lo") */`).
pub(super) fn ifindex_field(c: &Ctx, id: u32) -> Value {
    styled(c, super::net::ifindex(id), Value::UInt(id.into()))
}

/// Data strace prints decoded (an address, a MAC), under `-X` as its bytes in hex with the
/// decoded form in a comment (`"\x7f\x00\x00\x01" /* inet_addr("127.0.0.1") */`).
pub(super) fn bytes_field(c: &Ctx, decoded: String, d: &[u8]) -> Value {
    styled(
        c,
        Value::Raw(decoded),
        Value::Raw(super::util::quote_hex(d)),
    )
}

/// An IPv6 address attribute: `inet_pton(AF_INET6, "::1")`.
pub(super) fn inet6_field(c: &Ctx, d: &[u8]) -> Value {
    let mut a = [0u8; 16];
    a.copy_from_slice(&d[..16]);
    bytes_field(
        c,
        format!(
            "inet_pton(AF_INET6, {})",
            super::util::quote(std::net::Ipv6Addr::from(a).to_string().as_bytes())
        ),
        d,
    )
}

/// A route message's payload: an address message whole; a message type strace does not know
/// as `{family=..., data=...}`; the first field of the others' structure when that is all
/// there is (`{ifi_family=AF_UNSPEC, ...}`).
fn route(c: &Ctx, typ: u16, data: &[u8]) -> Vec<Value> {
    let first = |name: &'static str| {
        vec![Value::structure(vec![
            (name, family_field(c, data[0])),
            ("", Value::Elided),
        ])]
    };
    match typ {
        20..=22 => ifaddrmsg(c, data),
        16..=19 if data.len() < 16 => first("ifi_family"),
        16..=19 => super::netlink_link::ifinfomsg(c, data),
        24..=26 if data.len() < 12 => first("rtm_family"),
        t if route_type(t).is_none() => {
            let mut f = vec![("family", family_field(c, data[0]))];
            if data.len() > 1 {
                f.push(("data", hex(c, &data[1..])));
            }
            vec![Value::structure(f)]
        }
        _ => vec![hex(c, data)],
    }
}

const IFA_FLAGS: &[(u64, &str)] = &[
    (0x01, "IFA_F_SECONDARY"),
    (0x02, "IFA_F_NODAD"),
    (0x04, "IFA_F_OPTIMISTIC"),
    (0x08, "IFA_F_DADFAILED"),
    (0x10, "IFA_F_HOMEADDRESS"),
    (0x20, "IFA_F_DEPRECATED"),
    (0x40, "IFA_F_TENTATIVE"),
    (0x80, "IFA_F_PERMANENT"),
    (0x100, "IFA_F_MANAGETEMPADDR"),
    (0x200, "IFA_F_NOPREFIXROUTE"),
    (0x400, "IFA_F_MCAUTOJOIN"),
    (0x800, "IFA_F_STABLE_PRIVACY"),
];

const IFA_ATTRS: [&str; 12] = [
    "IFA_UNSPEC",
    "IFA_ADDRESS",
    "IFA_LOCAL",
    "IFA_LABEL",
    "IFA_BROADCAST",
    "IFA_ANYCAST",
    "IFA_CACHEINFO",
    "IFA_MULTICAST",
    "IFA_FLAGS",
    "IFA_RT_PRIORITY",
    "IFA_TARGET_NETNSID",
    "IFA_PROTO",
];

fn scope(v: u8) -> Value {
    match v {
        0 => Value::sym("RT_SCOPE_UNIVERSE"),
        200 => Value::sym("RT_SCOPE_SITE"),
        253 => Value::sym("RT_SCOPE_LINK"),
        254 => Value::sym("RT_SCOPE_HOST"),
        255 => Value::sym("RT_SCOPE_NOWHERE"),
        v => Value::Hex(v.into()),
    }
}

/// `struct ifaddrmsg` and its attributes.
fn ifaddrmsg(c: &Ctx, data: &[u8]) -> Vec<Value> {
    let fam = data[0];
    if data.len() < 8 {
        return vec![Value::structure(vec![
            ("ifa_family", family_field(c, fam)),
            ("", Value::Elided),
        ])];
    }
    let mut out = vec![Value::structure(vec![
        ("ifa_family", family_field(c, fam)),
        ("ifa_prefixlen", Value::UInt(data[1].into())),
        ("ifa_flags", flags_field(c, data[2].into(), IFA_FLAGS)),
        ("ifa_scope", styled(c, scope(data[3]), hex0(data[3].into()))),
        ("ifa_index", ifindex_field(c, le_u32(data, 4))),
    ])];
    if data.len() > 8 {
        out.push(attributes(c, &data[8..], &IFA_ATTRS, "IFA_???", &|t, d| {
            ifa_attr(c, fam, t, d)
        }));
    }
    out
}

fn ifa_attr(c: &Ctx, fam: u8, typ: u16, d: &[u8]) -> Option<Value> {
    match typ {
        1 | 2 | 4 | 5 | 7 => match fam {
            2 if d.len() >= 4 => Some(bytes_field(
                c,
                format!(
                    "inet_addr({})",
                    super::util::quote(
                        std::net::Ipv4Addr::new(d[0], d[1], d[2], d[3])
                            .to_string()
                            .as_bytes()
                    )
                ),
                d,
            )),
            10 if d.len() >= 16 => Some(inet6_field(c, d)),
            _ => None,
        },
        3 => Some(label(c, d)),
        6 if d.len() >= 16 => Some(Value::structure(vec![
            ("ifa_prefered", Value::UInt(le_u32(d, 0).into())),
            ("ifa_valid", Value::UInt(le_u32(d, 4).into())),
            ("cstamp", Value::UInt(le_u32(d, 8).into())),
            ("tstamp", Value::UInt(le_u32(d, 12).into())),
        ])),
        8 if d.len() >= 4 => Some(flags_field(c, le_u32(d, 0).into(), IFA_FLAGS)),
        9 if d.len() >= 4 => Some(Value::UInt(le_u32(d, 0).into())),
        10 if d.len() >= 4 => Some(Value::Int((le_u32(d, 0) as i32).into())),
        _ => None,
    }
}

/// A string attribute: its trailing NUL left out; `...` when it has none or is cut at `-s`.
pub(super) fn label(c: &Ctx, d: &[u8]) -> Value {
    if d.last() == Some(&0) && crate::syscalls::notation::hex_strings_level() > 0 {
        // strace 6.1 under -x/-xx: the terminating NUL is one of the bytes (so the string
        // prints in hex), followed by `...`.
        return Value::Str {
            bytes: d[..d.len().min(c.o.string_limit)].to_vec(),
            truncated: true,
        };
    }
    label_plain(c, d)
}

/// [`label`] without strace's `-x` quirk.
pub(super) fn label_plain(c: &Ctx, d: &[u8]) -> Value {
    let (body, terminated) = match d.split_last() {
        Some((0, body)) => (body, true),
        _ => (d, false),
    };
    let limit = c.o.string_limit;
    Value::Str {
        bytes: body[..body.len().min(limit)].to_vec(),
        truncated: body.len() > limit || !terminated,
    }
}

pub(super) type AttrFn<'a> = dyn Fn(u16, &[u8]) -> Option<Value> + 'a;

/// Attributes (`struct nlattr` and data): `[{nla_len=8, nla_type=IFA_LOCAL}, data]`, the
/// data decoded by `decode` (by type, the NLA_F_ flags aside) or else in hex.
pub(super) fn attributes(
    c: &Ctx,
    b: &[u8],
    names: &[&'static str],
    what: &str,
    decode: &AttrFn,
) -> Value {
    let name = |base: u16| match names.get(usize::from(base)) {
        Some(n) => Value::sym(n),
        None => super::util::unknown(base.into(), what),
    };
    attributes_named(c, b, &name, decode)
}

/// [`attributes`] with the type's name from a function (a family's name, say).
pub(super) fn attributes_named(
    c: &Ctx,
    b: &[u8],
    name: &dyn Fn(u16) -> Value,
    decode: &AttrFn,
) -> Value {
    list(c, b, 4, |a| {
        let raw_type = le_u16(a, 2);
        let base = raw_type & 0x3fff;
        let base_v = styled(c, name(base), hex0(base.into()));
        let type_v = if raw_type & 0xc000 == 0 {
            base_v
        } else {
            let mut s = String::new();
            for (bit, flag) in [(0x8000u16, "NLA_F_NESTED"), (0x4000, "NLA_F_NET_BYTEORDER")] {
                if raw_type & bit != 0 {
                    let v = styled(c, Value::sym(flag), Value::Hex(bit.into()));
                    s.push_str(&super::util::render(&v));
                    s.push('|');
                }
            }
            s.push_str(&super::util::render(&base_v));
            Value::Raw(s)
        };
        let hdr = Value::structure(vec![
            ("nla_len", Value::UInt(le_u16(a, 0).into())),
            ("nla_type", type_v),
        ]);
        if a.len() <= 4 {
            return hdr;
        }
        let d = &a[4..];
        let v = decode(base, d).unwrap_or_else(|| hex(c, d));
        Value::Array(vec![hdr, v])
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::syscalls::DecodeOpts;
    use crate::syscalls::decode::util::fake::FakeTracee;
    use crate::syscalls::decode::util::render;

    fn hdr(len: u32, typ: u16, flags: u16, seq: u32, pid: u32) -> Vec<u8> {
        let mut v = len.to_le_bytes().to_vec();
        v.extend(typ.to_le_bytes());
        v.extend(flags.to_le_bytes());
        v.extend(seq.to_le_bytes());
        v.extend(pid.to_le_bytes());
        v
    }

    /// An attribute's bytes, padded to 4 (also for `netlink_link`'s tests).
    pub(in crate::syscalls::decode) fn attr(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut v = ((4 + data.len()) as u16).to_le_bytes().to_vec();
        v.extend(typ.to_le_bytes());
        v.extend(data);
        while !v.len().is_multiple_of(4) {
            v.push(0);
        }
        v
    }

    fn show(proto: Option<u32>, bytes: &[u8], o: DecodeOpts) -> String {
        let t = FakeTracee::default().with(0x1000, bytes);
        let c = Ctx {
            raw: [0; 6],
            t: &t,
            o: &o,
        };
        render(&buffer(&c, proto, 0x1000, bytes.len() as u64))
    }

    fn route(bytes: &[u8]) -> String {
        show(Some(ROUTE), bytes, DecodeOpts::default())
    }

    #[test]
    fn getaddrinfo_request_and_reply() {
        let mut req = hdr(20, 22, 0x301, 7, 0);
        req.extend([0, 0, 0, 0]);
        assert_eq!(
            route(&req),
            "[{nlmsg_len=20, nlmsg_type=RTM_GETADDR, nlmsg_flags=NLM_F_REQUEST|NLM_F_DUMP, nlmsg_seq=7, nlmsg_pid=0}, {ifa_family=AF_UNSPEC, ...}]"
        );
        let mut body = vec![2, 8, 0x80, 254, 0, 0, 0, 0];
        body.extend(attr(1, &[127, 0, 0, 1]));
        body.extend(attr(3, b"lo\0"));
        body.extend(attr(8, &0x80u32.to_le_bytes()));
        let mut cache = Vec::new();
        for v in [u32::MAX, u32::MAX, 20, 20] {
            cache.extend(v.to_le_bytes());
        }
        body.extend(attr(6, &cache));
        let mut msg = hdr(16 + body.len() as u32, 20, 2, 7, 99);
        msg.extend(&body);
        let mut two = msg.clone();
        let mut done = hdr(20, 3, 2, 7, 99);
        done.extend(0u32.to_le_bytes());
        two.extend(&done);
        assert_eq!(
            route(&two),
            "[[{nlmsg_len=68, nlmsg_type=RTM_NEWADDR, nlmsg_flags=NLM_F_MULTI, nlmsg_seq=7, nlmsg_pid=99}, \
             {ifa_family=AF_INET, ifa_prefixlen=8, ifa_flags=IFA_F_PERMANENT, ifa_scope=RT_SCOPE_HOST, ifa_index=0}, \
             [[{nla_len=8, nla_type=IFA_ADDRESS}, inet_addr(\"127.0.0.1\")], [{nla_len=7, nla_type=IFA_LABEL}, \"lo\"], \
             [{nla_len=8, nla_type=IFA_FLAGS}, IFA_F_PERMANENT], \
             [{nla_len=20, nla_type=IFA_CACHEINFO}, {ifa_prefered=4294967295, ifa_valid=4294967295, cstamp=20, tstamp=20}]]], \
             [{nlmsg_len=20, nlmsg_type=NLMSG_DONE, nlmsg_flags=NLM_F_MULTI, nlmsg_seq=7, nlmsg_pid=99}, 0]]"
        );
    }

    #[test]
    fn errors_capped_or_not() {
        let mut req = hdr(24, 20, 0x605, 9, 0);
        req.extend([2, 32, 0, 254, 0, 0, 0, 0]);
        let mut err = hdr(16 + 4 + 24, 2, 0, 9, 5);
        err.extend((-19i32).to_le_bytes());
        err.extend(&req);
        assert_eq!(
            route(&err),
            "[{nlmsg_len=44, nlmsg_type=NLMSG_ERROR, nlmsg_flags=0, nlmsg_seq=9, nlmsg_pid=5}, \
             {error=-ENODEV, msg=[{nlmsg_len=24, nlmsg_type=RTM_NEWADDR, nlmsg_flags=NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE, nlmsg_seq=9, nlmsg_pid=0}, \
             {ifa_family=AF_INET, ifa_prefixlen=32, ifa_flags=0, ifa_scope=RT_SCOPE_HOST, ifa_index=0}]}]"
        );
        let mut capped = hdr(36, 2, 0x100, 9, 5);
        capped.extend(0i32.to_le_bytes());
        capped.extend(&req[..16]);
        assert_eq!(
            route(&capped),
            "[{nlmsg_len=36, nlmsg_type=NLMSG_ERROR, nlmsg_flags=NLM_F_CAPPED, nlmsg_seq=9, nlmsg_pid=5}, \
             {error=0, msg={nlmsg_len=24, nlmsg_type=RTM_NEWADDR, nlmsg_flags=NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE, nlmsg_seq=9, nlmsg_pid=0}}]"
        );
        // Extended ACK attributes after a capped request; an error too short to decode.
        let mut tlv = hdr(0, 2, 0x300, 9, 5);
        tlv.extend((-22i32).to_le_bytes());
        tlv.extend(hdr(16, 22, 0x300, 9, 0));
        tlv.extend(attr(1, b"bad\0"));
        let n = tlv.len() as u32;
        tlv[..4].copy_from_slice(&n.to_le_bytes());
        assert_eq!(
            route(&tlv),
            "[{nlmsg_len=44, nlmsg_type=NLMSG_ERROR, nlmsg_flags=NLM_F_CAPPED|NLM_F_ACK_TLVS, nlmsg_seq=9, nlmsg_pid=5}, \
             [{error=-EINVAL, msg={nlmsg_len=16, nlmsg_type=RTM_GETADDR, nlmsg_flags=NLM_F_DUMP, nlmsg_seq=9, nlmsg_pid=0}}, \
             [{nla_len=8, nla_type=NLMSGERR_ATTR_MSG}, \"bad\"]]]"
        );
        let mut short = hdr(20, 2, 0, 1, 0);
        short.extend((-13i32).to_le_bytes());
        assert_eq!(
            route(&short),
            "[{nlmsg_len=20, nlmsg_type=NLMSG_ERROR, nlmsg_flags=0, nlmsg_seq=1, nlmsg_pid=0}, \"\\xf3\\xff\\xff\\xff\"]"
        );
    }

    #[test]
    fn odd_lengths_and_unknown_things() {
        // Too short for a header: hex. A header claiming more than there is: the header.
        assert_eq!(route(&[1, 2, 3]), "\"\\x01\\x02\\x03\"");
        assert_eq!(
            route(&hdr(400, 22, 1, 1, 0)),
            "{nlmsg_len=400, nlmsg_type=RTM_GETADDR, nlmsg_flags=NLM_F_REQUEST, nlmsg_seq=1, nlmsg_pid=0}"
        );
        // A header with a length below its size ends the walk; bytes after a message.
        let mut b = hdr(16, 1, 0, 1, 0);
        b.extend(hdr(8, 1, 0, 1, 0));
        b.extend(hdr(16, 1, 0, 1, 0));
        assert_eq!(
            route(&b),
            "[{nlmsg_len=16, nlmsg_type=NLMSG_NOOP, nlmsg_flags=0, nlmsg_seq=1, nlmsg_pid=0}, {nlmsg_len=8, nlmsg_type=NLMSG_NOOP, nlmsg_flags=0, nlmsg_seq=1, nlmsg_pid=0}]"
        );
        let mut b = hdr(16, 1, 0, 1, 0);
        b.extend([1, 2, 3]);
        assert_eq!(
            route(&b),
            "[{nlmsg_len=16, nlmsg_type=NLMSG_NOOP, nlmsg_flags=0, nlmsg_seq=1, nlmsg_pid=0}, \"\\x01\\x02\\x03\"]"
        );
        // Unknown route type; unknown flags; unknown generic type.
        let mut b = hdr(24, 0x7ff, 0x8005, 1, 0);
        b.extend(b"abcdefgh");
        assert_eq!(
            route(&b),
            "[{nlmsg_len=24, nlmsg_type=0x7ff /* RTM_??? */, nlmsg_flags=NLM_F_REQUEST|NLM_F_ACK|0x8000, nlmsg_seq=1, nlmsg_pid=0}, {family=0x61 /* AF_??? */, data=\"\\x62\\x63\\x64\\x65\\x66\\x67\\x68\"}]"
        );
        assert_eq!(
            route(&hdr(16, 5, 0, 1, 0)),
            "{nlmsg_len=16, nlmsg_type=0x5 /* NLMSG_??? */, nlmsg_flags=0, nlmsg_seq=1, nlmsg_pid=0}"
        );
        // Short link and route payloads: their family.
        let mut b = hdr(17, 16, 0, 1, 0);
        b.push(0);
        assert!(
            route(&b).ends_with("{ifi_family=AF_UNSPEC, ...}]"),
            "{}",
            route(&b)
        );
        // A protocol not known: types and flags as the generic ones, payload in hex.
        let mut b = hdr(24, 0x10, 0x300, 77, 0);
        b.extend(b"abcdefgh");
        assert_eq!(
            show(None, &b, DecodeOpts::default()),
            "[{nlmsg_len=24, nlmsg_type=0x10 /* NLMSG_??? */, nlmsg_flags=0x300 /* NLM_F_??? */, nlmsg_seq=77, nlmsg_pid=0}, \"\\x61\\x62\\x63\\x64\\x65\\x66\\x67\\x68\"]"
        );
        // The delete and get flags.
        assert!(route(&hdr(16, 21, 0x700, 1, 0)).contains("NLM_F_NONREC|NLM_F_BULK|0x400"));
        assert!(route(&hdr(16, 22, 0x700, 1, 0)).contains("NLM_F_DUMP|NLM_F_ATOMIC"));
    }

    #[test]
    fn attributes_as_strace_walks_them() {
        let mut body = vec![99, 1, 0xff, 100, 0x39, 0x30, 0, 0];
        body.extend(attr(1 | 0x8000, &[1, 2, 3, 4]));
        body.extend(attr(1000, &[1, 2, 3, 4]));
        body.extend(attr(8, &[])); // header only
        body.extend(attr(8, &[3, 0])); // too short for its decoder
        body.extend(attr(10, &(-1i32).to_le_bytes()));
        body.extend(attr(3, b"abcd")); // no NUL
        body.extend([3, 0, 1]); // less than an attribute header
        let mut m = hdr(16 + body.len() as u32, 20, 0, 1, 0);
        m.extend(&body);
        assert_eq!(
            route(&m),
            "[{nlmsg_len=71, nlmsg_type=RTM_NEWADDR, nlmsg_flags=0, nlmsg_seq=1, nlmsg_pid=0}, \
             {ifa_family=0x63 /* AF_??? */, ifa_prefixlen=1, ifa_flags=IFA_F_SECONDARY|IFA_F_NODAD|IFA_F_OPTIMISTIC|IFA_F_DADFAILED|IFA_F_HOMEADDRESS|IFA_F_DEPRECATED|IFA_F_TENTATIVE|IFA_F_PERMANENT, ifa_scope=0x64, ifa_index=12345}, \
             [[{nla_len=8, nla_type=NLA_F_NESTED|IFA_ADDRESS}, \"\\x01\\x02\\x03\\x04\"], \
             [{nla_len=8, nla_type=0x3e8 /* IFA_??? */}, \"\\x01\\x02\\x03\\x04\"], \
             {nla_len=4, nla_type=IFA_FLAGS}, [{nla_len=6, nla_type=IFA_FLAGS}, \"\\x03\\x00\"], \
             [{nla_len=8, nla_type=IFA_TARGET_NETNSID}, -1], [{nla_len=8, nla_type=IFA_LABEL}, \"abcd\"...], \"\\x03\\x00\\x01\"]]"
        );
        // A zero-length attribute ends the walk; one attribute is not an array.
        let mut body = vec![2, 1, 0, 0, 0, 0, 0, 0];
        body.extend([0, 0, 2, 0, 1, 2, 3, 4]);
        body.extend(attr(2, &[1, 2, 3, 4]));
        let mut m = hdr(16 + body.len() as u32, 20, 0, 1, 0);
        m.extend(&body);
        assert!(route(&m).ends_with("ifa_index=0}, {nla_len=0, nla_type=IFA_LOCAL}]"));
        // An IPv6 address; -s cuts attributes and messages, -v does not.
        let mut body = vec![10, 128, 0, 0, 0, 0, 0, 0];
        let mut a = [0u8; 16];
        a[15] = 1;
        body.extend(attr(1, &a));
        let mut m = hdr(16 + body.len() as u32, 20, 0, 1, 0);
        m.extend(&body);
        assert!(
            route(&m)
                .ends_with("[{nla_len=20, nla_type=IFA_ADDRESS}, inet_pton(AF_INET6, \"::1\")]]")
        );
        let many: Vec<u8> = (0..3).flat_map(|_| hdr(16, 1, 0, 1, 0)).collect();
        let o = DecodeOpts {
            string_limit: 2,
            ..DecodeOpts::default()
        };
        assert!(show(Some(ROUTE), &many, o).ends_with("nlmsg_pid=0}, ...]"));
        let o = DecodeOpts {
            string_limit: 2,
            abbrev: false,
            ..DecodeOpts::default()
        };
        assert_eq!(show(Some(ROUTE), &many, o).matches("nlmsg_len").count(), 3);
    }
}
