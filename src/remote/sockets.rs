//! What `-yy` prints for a descriptor, as strace 6.1 does: a socket's protocol and
//! endpoints (`UNIX-STREAM:[28512->28511,"/run/x.sock"]`, `TCP:[127.0.0.1:5432->127.0.0.1:41234]`,
//! `TCPv6:[[::1]:5432]`, `UDP:[...]`, `NETLINK:[ROUTE:1234]`, else `PROTO:[inode]`) and a
//! device's kind and numbers (`/dev/null<char 1:3>`).
//!
//! The protocol is the socket's `system.sockprotoname` attribute; inet endpoints come from a
//! `pidfd_getfd` duplicate of the descriptor (getsockname, getpeername), else from the
//! process's own `/proc/PID/net/{tcp,tcp6,udp,udp6}` (its network namespace); netlink ones
//! from `/proc/PID/net/netlink`, UNIX peers and names from NETLINK_SOCK_DIAG (which answers
//! for this process's network namespace; elsewhere the inode alone is printed). The parsers
//! are pure.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The `-yy` text of `pid`'s descriptor `fd` whose `-y` path is `path`, already escaped as it
/// is printed between `<` and `>`; `None` when `-y`'s path is all there is to say.
pub fn fd_detail(pid: i32, fd: i32, path: &str) -> Option<String> {
    let link = format!("/proc/{pid}/fd/{fd}");
    if path == "anon_inode:[pidfd]" {
        // The process a pidfd refers to, from its fdinfo (`Pid:\t1234`).
        let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).ok()?;
        let target = info.lines().find_map(|l| l.strip_prefix("Pid:"))?.trim();
        return Some(format!("pid:{target}"));
    }
    if let Some(ino) = path
        .strip_prefix("socket:[")
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|n| n.parse::<u64>().ok())
    {
        let proto = sock_proto_name(&link)?;
        return Some(socket_detail(pid, fd, &proto, ino));
    }
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let md = std::fs::metadata(&link).ok()?;
    let ft = md.file_type();
    let kind = if ft.is_char_device() {
        "char"
    } else if ft.is_block_device() {
        "block"
    } else {
        return None;
    };
    let rdev = md.rdev();
    let mut out = String::new();
    crate::syscalls::notation::push_escaped_bytes(&mut out, path.as_bytes(), true);
    let _ = write!(out, "<{kind} {}:{}>", libc::major(rdev), libc::minor(rdev));
    Some(out)
}

/// `system.sockprotoname` of the socket behind `link` (`/proc/PID/fd/N`): `TCP`, `UNIX-STREAM`.
fn sock_proto_name(link: &str) -> Option<String> {
    let c = std::ffi::CString::new(link).ok()?;
    let mut buf = [0u8; 64];
    // SAFETY: both strings are NUL-terminated; `buf` is ours and its length is passed.
    let n = unsafe {
        libc::getxattr(
            c.as_ptr(),
            c"system.sockprotoname".as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    let n = usize::try_from(n).ok()?;
    let name = buf.get(..n)?;
    let name = name.strip_suffix(b"\0").unwrap_or(name);
    Some(String::from_utf8_lossy(name).into_owned())
}

/// Details of connected sockets by inode, as strace keeps them: a socket whose peer has
/// closed still prints the peer it had (the kernel no longer names it).
static CONNECTED: std::sync::Mutex<Option<std::collections::HashMap<u64, String>>> =
    std::sync::Mutex::new(None);

fn socket_detail(pid: i32, fd: i32, proto: &str, ino: u64) -> String {
    let mut cache = CONNECTED.lock().unwrap_or_else(|e| e.into_inner());
    let cache = cache.get_or_insert_with(Default::default);
    if let Some(d) = cache.get(&ino) {
        return d.clone();
    }
    let text = format!(
        "{proto}:[{}]",
        lookup(pid, fd, proto, ino).unwrap_or_else(|| ino.to_string())
    );
    if text.contains("->") {
        if cache.len() >= 4096 {
            cache.clear();
        }
        cache.insert(ino, text.clone());
    }
    text
}

fn lookup(pid: i32, fd: i32, proto: &str, ino: u64) -> Option<String> {
    match proto {
        "TCP" => inet(pid, fd, "tcp", ino),
        "TCPv6" => inet(pid, fd, "tcp6", ino),
        "UDP" => inet(pid, fd, "udp", ino),
        "UDPv6" => inet(pid, fd, "udp6", ino),
        "NETLINK" => std::fs::read_to_string(format!("/proc/{pid}/net/netlink"))
            .ok()
            .and_then(|t| netlink_endpoint(&t, ino)),
        p if p.starts_with("UNIX") => unix_diag(ino).map(|u| u.text(ino)),
        _ => None,
    }
}

/// A TCP or UDP socket's endpoints: from a duplicate of the descriptor (`pidfd_getfd`, then
/// getsockname and getpeername: exact for a socket only bound, which the tables do not
/// list), else from the process's `/proc/PID/net/` table.
fn inet(pid: i32, fd: i32, table: &str, ino: u64) -> Option<String> {
    if let Some(e) = inet_by_dup(pid, fd) {
        return e;
    }
    let t = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).ok()?;
    inet_endpoints(&t, ino, table.ends_with('6'))
}

/// `Some(None)`: the duplicate says it is not bound; `None`: no duplicate could be had.
fn inet_by_dup(pid: i32, fd: i32) -> Option<Option<String>> {
    // SAFETY: plain syscalls on descriptors we own; each is closed before returning.
    unsafe {
        let pidfd = libc::syscall(libc::SYS_pidfd_open, pid, 0) as i32;
        if pidfd < 0 {
            return None;
        }
        let dup = libc::syscall(libc::SYS_pidfd_getfd, pidfd, fd, 0) as i32;
        libc::close(pidfd);
        if dup < 0 {
            return None;
        }
        let name = |peer: bool| -> Option<(std::net::IpAddr, u16)> {
            let mut ss: libc::sockaddr_storage = std::mem::zeroed();
            let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            let p = (&mut ss as *mut libc::sockaddr_storage).cast::<libc::sockaddr>();
            let r = if peer {
                libc::getpeername(dup, p, &mut len)
            } else {
                libc::getsockname(dup, p, &mut len)
            };
            if r != 0 {
                return None;
            }
            sockaddr_ip(&ss)
        };
        let local = name(false);
        let remote = name(true);
        libc::close(dup);
        let local = local?;
        Some(inet_text(local, remote))
    }
}

fn sockaddr_ip(ss: &libc::sockaddr_storage) -> Option<(std::net::IpAddr, u16)> {
    match i32::from(ss.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let sin =
                unsafe { &*(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            Some((
                std::net::IpAddr::V4(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr))),
                u16::from_be(sin.sin_port),
            ))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let sin6 =
                unsafe { &*(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            Some((
                std::net::IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)),
                u16::from_be(sin6.sin6_port),
            ))
        }
        _ => None,
    }
}

/// `a:p` or `a:p->b:p` (IPv6 addresses in brackets); `None` when not bound.
fn inet_text(
    local: (std::net::IpAddr, u16),
    remote: Option<(std::net::IpAddr, u16)>,
) -> Option<String> {
    if local.1 == 0 && local.0.is_unspecified() {
        return None;
    }
    let show = |(a, p): (std::net::IpAddr, u16)| match a {
        std::net::IpAddr::V6(a) => format!("[{a}]:{p}"),
        std::net::IpAddr::V4(a) => format!("{a}:{p}"),
    };
    Some(
        match remote.filter(|r| !(r.1 == 0 && r.0.is_unspecified())) {
            Some(r) => format!("{}->{}", show(local), show(r)),
            None => show(local),
        },
    )
}

/// From a `/proc/net/tcp`-style table, the line of socket `ino`: `a:p` when only bound or
/// listening, `a:p->b:p` when connected; `None` when absent or not bound (strace then prints
/// the inode).
pub fn inet_endpoints(table: &str, ino: u64, v6: bool) -> Option<String> {
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.get(9).and_then(|s| s.parse::<u64>().ok()) != Some(ino) {
            continue;
        }
        let local = parse_endpoint(f.get(1)?, v6)?;
        let remote = parse_endpoint(f.get(2)?, v6)?;
        return inet_text(local, Some(remote));
    }
    None
}

/// `0100007F:1538` (IPv4: one little-endian word) or 32 hex digits (IPv6: four words, each
/// little-endian) and the port in hex.
fn parse_endpoint(s: &str, v6: bool) -> Option<(std::net::IpAddr, u16)> {
    let (a, p) = s.split_once(':')?;
    let port = u16::from_str_radix(p, 16).ok()?;
    let addr = if v6 {
        if a.len() != 32 {
            return None;
        }
        let mut bytes = [0u8; 16];
        for w in 0..4 {
            let word = u32::from_str_radix(a.get(8 * w..8 * w + 8)?, 16).ok()?;
            bytes[4 * w..4 * w + 4].copy_from_slice(&word.to_le_bytes());
        }
        std::net::IpAddr::V6(Ipv6Addr::from(bytes))
    } else {
        let word = u32::from_str_radix(a, 16).ok()?;
        std::net::IpAddr::V4(Ipv4Addr::from(word.to_le_bytes()))
    };
    Some((addr, port))
}

/// What the netlink decoder asks of a descriptor: `None` if it is not a netlink socket,
/// else its protocol from the process's `/proc/PID/net/netlink` (`Some(None)` for a socket
/// the table does not list: one not bound yet, which the kernel binds at its first send).
/// One readlink per call; what is known of an inode is kept (a socket's protocol never
/// changes; an unbound one is asked again).
pub fn netlink_protocol(pid: i32, fd: i32) -> Option<Option<u32>> {
    if fd < 0 {
        return None;
    }
    let link = format!("/proc/{pid}/fd/{fd}");
    let target = std::fs::read_link(&link).ok()?;
    let ino: u64 = target
        .to_str()?
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()?;
    let mut cache = NETLINK.lock().unwrap_or_else(|e| e.into_inner());
    let cache = cache.get_or_insert_with(Default::default);
    if let Some(&known) = cache.get(&ino) {
        return known.map(Some);
    }
    let found = if sock_proto_name(&link).as_deref() == Some("NETLINK") {
        let table = std::fs::read_to_string(format!("/proc/{pid}/net/netlink")).ok();
        match table.and_then(|t| netlink_protocol_in(&t, ino)) {
            Some(p) => Some(p),
            None => return Some(None),
        }
    } else {
        None
    };
    if cache.len() >= 4096 {
        cache.clear();
    }
    cache.insert(ino, found);
    found.map(Some)
}

/// Netlink protocols by socket inode (`None`: not a netlink socket).
static NETLINK: std::sync::Mutex<Option<std::collections::HashMap<u64, Option<u32>>>> =
    std::sync::Mutex::new(None);

/// The protocol of the socket with inode `ino` in a `/proc/net/netlink` table.
pub fn netlink_protocol_in(table: &str, ino: u64) -> Option<u32> {
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        (f.get(9)?.parse::<u64>().ok()? == ino).then(|| f.get(1)?.parse().ok())?
    })
}

/// `ROUTE:1234` for a bound netlink socket (its protocol and port id) in `/proc/net/netlink`.
pub fn netlink_endpoint(table: &str, ino: u64) -> Option<String> {
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.get(9).and_then(|s| s.parse::<u64>().ok()) != Some(ino) {
            continue;
        }
        let proto: u32 = f.get(1)?.parse().ok()?;
        let port: u32 = f.get(2)?.parse().ok()?;
        if port == 0 {
            return None;
        }
        let name = NETLINK_PROTOCOLS
            .get(proto as usize)
            .copied()
            .filter(|n| !n.is_empty());
        return Some(match name {
            Some(n) => format!("{n}:{port}"),
            None => format!("{proto}:{port}"),
        });
    }
    None
}

const NETLINK_PROTOCOLS: [&str; 23] = [
    "ROUTE",
    "UNUSED",
    "USERSOCK",
    "FIREWALL",
    "SOCK_DIAG",
    "NFLOG",
    "XFRM",
    "SELINUX",
    "ISCSI",
    "AUDIT",
    "FIB_LOOKUP",
    "CONNECTOR",
    "NETFILTER",
    "IP6_FW",
    "DNRTMSG",
    "KOBJECT_UEVENT",
    "GENERIC",
    "",
    "SCSITRANSPORT",
    "ECRYPTFS",
    "RDMA",
    "CRYPTO",
    "SMC",
];

/// A UNIX socket as sock_diag describes it.
#[derive(Debug, Default, PartialEq)]
pub struct UnixSock {
    pub peer: Option<u32>,
    /// `sun_path` bytes; an abstract name starts with NUL.
    pub name: Option<Vec<u8>>,
}

impl UnixSock {
    /// `ino->peer,"path"` as strace prints it (`@name` for an abstract one).
    pub fn text(&self, ino: u64) -> String {
        let mut s = ino.to_string();
        if let Some(p) = self.peer.filter(|&p| p != 0) {
            let _ = write!(s, "->{p}");
        }
        if let Some(n) = self.name.as_ref().filter(|n| !n.is_empty()) {
            s.push_str(",\"");
            match n.strip_prefix(b"\0") {
                Some(abs) => {
                    s.push('@');
                    crate::syscalls::notation::push_escaped_bytes(&mut s, abs, false);
                }
                // A path ends at its NUL (the kernel keeps the length bind was given).
                None => {
                    let end = n.iter().position(|&b| b == 0).unwrap_or(n.len());
                    crate::syscalls::notation::push_escaped_bytes(&mut s, &n[..end], false)
                }
            }
            s.push('"');
        }
        s
    }
}

/// Parses the answer to a UNIX_DIAG exact request: one `unix_diag_msg` and its attributes.
pub fn parse_unix_diag(reply: &[u8], ino: u64) -> Option<UnixSock> {
    const NLMSG_ERROR: u16 = 2;
    const UNIX_DIAG_NAME: u16 = 0;
    const UNIX_DIAG_PEER: u16 = 2;
    let len = u32::from_ne_bytes(reply.get(0..4)?.try_into().ok()?) as usize;
    let kind = u16::from_ne_bytes(reply.get(4..6)?.try_into().ok()?);
    if kind == NLMSG_ERROR || len > reply.len() || len < 16 + 16 {
        return None;
    }
    let msg = reply.get(16..len)?;
    let got_ino = u32::from_ne_bytes(msg.get(4..8)?.try_into().ok()?);
    if u64::from(got_ino) != ino {
        return None;
    }
    let mut out = UnixSock::default();
    let mut at = 16;
    while at + 4 <= msg.len() {
        let alen = u16::from_ne_bytes(msg.get(at..at + 2)?.try_into().ok()?) as usize;
        let atype = u16::from_ne_bytes(msg.get(at + 2..at + 4)?.try_into().ok()?);
        if alen < 4 || at + alen > msg.len() {
            break;
        }
        let data = &msg[at + 4..at + alen];
        match atype {
            UNIX_DIAG_NAME => out.name = Some(data.to_vec()),
            UNIX_DIAG_PEER => {
                out.peer = data
                    .get(..4)
                    .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
            }
            _ => {}
        }
        at += (alen + 3) & !3;
    }
    Some(out)
}

/// Asks NETLINK_SOCK_DIAG for UNIX socket `ino` (its name and peer).
fn unix_diag(ino: u64) -> Option<UnixSock> {
    const SOCK_DIAG_BY_FAMILY: u16 = 20;
    const NLM_F_REQUEST: u16 = 1;
    const UDIAG_SHOW_NAME: u32 = 1;
    const UDIAG_SHOW_PEER: u32 = 4;
    let ino32 = u32::try_from(ino).ok()?;
    // SAFETY: a plain socket call; the descriptor is closed below.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        )
    };
    if fd < 0 {
        return None;
    }
    let mut req = Vec::with_capacity(40);
    req.extend_from_slice(&40u32.to_ne_bytes());
    req.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    req.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    req.extend_from_slice(&1u32.to_ne_bytes()); // seq
    req.extend_from_slice(&0u32.to_ne_bytes()); // pid
    req.push(libc::AF_UNIX as u8);
    req.push(0);
    req.extend_from_slice(&0u16.to_ne_bytes());
    req.extend_from_slice(&u32::MAX.to_ne_bytes()); // every state
    req.extend_from_slice(&ino32.to_ne_bytes());
    req.extend_from_slice(&(UDIAG_SHOW_NAME | UDIAG_SHOW_PEER).to_ne_bytes());
    req.extend_from_slice(&u32::MAX.to_ne_bytes()); // no cookie
    req.extend_from_slice(&u32::MAX.to_ne_bytes());
    let mut reply = vec![0u8; 8192];
    // SAFETY: sending our buffer to the kernel and receiving into ours, with their lengths;
    // a 1 s receive timeout so that a kernel without UNIX diag cannot hang us.
    let got = unsafe {
        let tv = libc::timeval {
            tv_sec: 1,
            tv_usec: 0,
        };
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
        let sent = libc::send(fd, req.as_ptr().cast(), req.len(), 0);
        let got = if sent == req.len() as isize {
            libc::recv(fd, reply.as_mut_ptr().cast(), reply.len(), 0)
        } else {
            -1
        };
        libc::close(fd);
        got
    };
    let got = usize::try_from(got).ok()?;
    parse_unix_diag(&reply[..got], ino)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:DB51 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31965 1 0000000000000000 100 0 0 10 0
   1: 0100007F:816E 0100007F:DB51 01 00000000:00000000 00:00000000 00000000     0        0 31966 1 0000000000000000 20 4 30 10 -1
   2: 00000000:0000 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 31990 1 0000000000000000 20 4 30 10 -1
";

    #[test]
    fn tcp_endpoints() {
        assert_eq!(
            inet_endpoints(TCP, 31965, false).as_deref(),
            Some("127.0.0.1:56145")
        );
        assert_eq!(
            inet_endpoints(TCP, 31966, false).as_deref(),
            Some("127.0.0.1:33134->127.0.0.1:56145")
        );
        // Not bound: strace prints the inode.
        assert_eq!(inet_endpoints(TCP, 31990, false), None);
        assert_eq!(inet_endpoints(TCP, 1, false), None);
    }

    #[test]
    fn tcp6_endpoints() {
        let t = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:D225 00000000000000000000000001000000:ACF4 01 00000000:00000000 00:00000000 00000000     0        0 31969 1 0000000000000000 20 4 30 10 -1
   1: 0000000000000000FFFF00000100007F:1538 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31970 1 0000000000000000 100 0 0 10 0
";
        assert_eq!(
            inet_endpoints(t, 31969, true).as_deref(),
            Some("[::1]:53797->[::1]:44276")
        );
        assert_eq!(
            inet_endpoints(t, 31970, true).as_deref(),
            Some("[::ffff:127.0.0.1]:5432")
        );
    }

    #[test]
    fn netlink_endpoints() {
        let t = "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode
ffff8880050d6000 0   17910      00000000 0        0        0     2        0        31971
ffff8880050d7000 4   0          00000000 0        0        0     2        0        31972
ffff8880050d8000 99  5          00000000 0        0        0     2        0        31973
";
        assert_eq!(netlink_endpoint(t, 31971).as_deref(), Some("ROUTE:17910"));
        assert_eq!(netlink_endpoint(t, 31972), None);
        assert_eq!(netlink_endpoint(t, 31973).as_deref(), Some("99:5"));
        assert_eq!(netlink_protocol_in(t, 31971), Some(0));
        assert_eq!(netlink_protocol_in(t, 31972), Some(4));
        assert_eq!(netlink_protocol_in(t, 1), None);
    }

    #[test]
    fn unix_texts() {
        let s = UnixSock {
            peer: Some(31087),
            name: Some(b"/tmp/yy/sock".to_vec()),
        };
        assert_eq!(s.text(31088), "31088->31087,\"/tmp/yy/sock\"");
        let abs = UnixSock {
            peer: None,
            name: Some(b"\0pg\"x".to_vec()),
        };
        assert_eq!(abs.text(5), "5,\"@pg\\\"x\"");
        assert_eq!(UnixSock::default().text(7), "7");
    }

    #[test]
    fn unix_diag_replies() {
        // nlmsghdr (16) + unix_diag_msg (16) + NAME attr + PEER attr.
        let mut m = Vec::new();
        let name = b"/tmp/s\0";
        let name_attr_len = 4 + name.len() - 1;
        let total = 16 + 16 + ((name_attr_len + 3) & !3) + 8;
        m.extend_from_slice(&(total as u32).to_ne_bytes());
        m.extend_from_slice(&20u16.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&[0u8; 8]);
        m.extend_from_slice(&[1, 1, 1, 0]);
        m.extend_from_slice(&42u32.to_ne_bytes());
        m.extend_from_slice(&[0u8; 8]);
        m.extend_from_slice(&(name_attr_len as u16).to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&name[..name.len() - 1]);
        while m.len() % 4 != 0 {
            m.push(0);
        }
        m.extend_from_slice(&8u16.to_ne_bytes());
        m.extend_from_slice(&2u16.to_ne_bytes());
        m.extend_from_slice(&41u32.to_ne_bytes());
        let u = parse_unix_diag(&m, 42).unwrap_or_default();
        assert_eq!(u.peer, Some(41));
        assert_eq!(u.name.as_deref(), Some(&b"/tmp/s"[..]));
        assert_eq!(parse_unix_diag(&m, 43), None);
        assert_eq!(parse_unix_diag(&m[..10], 42), None);
    }

    /// A live socket pair of our own: its peer and inode through sock_diag.
    #[test]
    fn our_own_socketpair() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap_or_else(|e| panic!("{e}"));
        use std::os::unix::fs::MetadataExt;
        use std::os::unix::io::AsRawFd;
        let me = std::process::id() as i32;
        let ino_b = std::fs::metadata(format!("/proc/self/fd/{}", b.as_raw_fd()))
            .map(|m| m.ino())
            .unwrap_or(0);
        let path = std::fs::read_link(format!("/proc/self/fd/{}", a.as_raw_fd()))
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ino_a: u64 = path
            .trim_start_matches("socket:[")
            .trim_end_matches(']')
            .parse()
            .unwrap_or(0);
        assert_eq!(
            fd_detail(me, a.as_raw_fd(), &path),
            Some(format!("UNIX-STREAM:[{ino_a}->{ino_b}]"))
        );
        let null = std::fs::File::open("/dev/null").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            fd_detail(me, null.as_raw_fd(), "/dev/null").as_deref(),
            Some("/dev/null<char 1:3>")
        );
        let file = std::fs::File::open("/proc/self/exe").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fd_detail(me, file.as_raw_fd(), "/some/file"), None);
    }
}
