//! TCP states, as the kernel reports them: through [`States`], which asks `sock_diag` about one socket at a time, or
//! in `/proc/net/tcp` and `/proc/net/tcp6`.
//!
//! After a call, the transcript shows the state of the socket it was made on (`⟨LISTEN⟩`, `⟨ESTABLISHED⟩`,
//! `⟨FIN_WAIT2⟩`): the row whose inode is the one `fstat` gives the socket's descriptor. Neither way of asking is a
//! call on a TCP socket, so neither adds one to the transcript (strace shows the netlink socket's calls, and the
//! `openat`, `read` and `close` of the files). Once a socket is closed it has no inode any more, but its connection
//! may live on in the kernel (`FIN_WAIT2`, `TIME_WAIT`): we find that by the pair of addresses the socket had.

use std::cell::RefCell;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

use super::sock_diag::{self, Diag};

/// One row of the kernel's TCP table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub state: &'static str,
    /// 0 for a connection no descriptor refers to any more.
    pub inode: u64,
    /// Bytes the kernel received for this socket that nobody has read yet (for a listener: connections waiting).
    pub unread: u32,
}

impl From<sock_diag::Entry> for Entry {
    fn from(e: sock_diag::Entry) -> Entry {
        Entry { local: e.local, remote: e.remote, state: e.state, inode: e.inode, unread: e.unread }
    }
}

/// Where a lesson's TCP states come from. Where the kernel answers `sock_diag` (almost every Linux), each lookup is
/// one exact question about one socket, and costs the same however many connections the machine has; elsewhere,
/// `/proc/net/tcp` is read.
pub struct States {
    diag: Option<RefCell<Diag>>,
}

impl States {
    /// Opens the netlink socket now, before the lesson's first call, at a high descriptor number
    /// ([`sock_diag::FIRST_FD`]), so that the lesson's sockets get the numbers they would get without it.
    pub fn open() -> States {
        States { diag: Diag::open().ok().map(RefCell::new) }
    }

    /// Reads `/proc/net/tcp` only, and opens nothing.
    pub fn from_proc() -> States {
        States { diag: None }
    }

    /// The row of the socket behind `fd`. `guess` is the pair of addresses it most likely has (for a listener, its
    /// address and an unspecified one with port 0): asked first, and taken only if the kernel's answer is this very
    /// socket, with its inode; otherwise the table is searched by the inode.
    pub fn of_socket(&self, fd: BorrowedFd<'_>, guess: Option<(SocketAddr, SocketAddr)>) -> Option<Entry> {
        // fstat gives the socket's inode; it is not a socket call.
        let inode = rustix::fs::fstat(fd).ok()?.st_ino;
        if let (Some(diag), Some((local, remote))) = (&self.diag, guess) {
            let mut diag = diag.borrow_mut();
            let answer = if remote.ip().is_unspecified() && remote.port() == 0 {
                diag.listener(local)
            } else {
                diag.by_pair(local, remote)
            };
            match answer {
                Ok(Some(entry)) if entry.inode == inode => return Some(entry.into()),
                // No listener there: the socket is only bound, and the kernel lists no such socket (the table
                // would not have it either, and searching it costs a walk of the whole table).
                Ok(None) if remote.ip().is_unspecified() && remote.port() == 0 => return None,
                _ => {}
            }
        }
        by_inode(inode)
    }

    /// The connection between `local` and `remote`, with or without a descriptor.
    pub fn by_pair(&self, local: SocketAddr, remote: SocketAddr) -> Option<Entry> {
        if let Some(diag) = &self.diag
            && let Ok(answer) = diag.borrow_mut().by_pair(local, remote)
        {
            return answer.map(Entry::from);
        }
        by_pair(local, remote)
    }

    /// [`settled`], asking this way.
    pub fn settled(&self, pairs: &[(SocketAddr, SocketAddr)], within: Duration) -> Vec<Option<&'static str>> {
        settle(pairs, within, |l, r| self.by_pair(l, r))
    }
}

/// Every row of `/proc/net/tcp` and `/proc/net/tcp6`, as they are now.
pub fn table() -> Vec<Entry> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .flat_map(|text| text.lines().skip(1).filter_map(parse_row).collect::<Vec<_>>())
        .collect()
}

/// The row of the socket behind `fd`, if the kernel lists it (a socket that is only bound, or not even that, is
/// not in the table).
pub fn by_fd(fd: BorrowedFd<'_>) -> Option<Entry> {
    // fstat gives the socket's inode; it is not a socket call.
    let inode = rustix::fs::fstat(fd).ok()?.st_ino;
    by_inode(inode)
}

/// The row of the socket whose inode is `inode`.
pub fn by_inode(inode: u64) -> Option<Entry> {
    find(|e| e.inode == inode)
}

/// The row of the socket listening (or bound) on `local`.
pub fn listener(local: SocketAddr) -> Option<Entry> {
    find(|e| e.local == local && e.remote.ip().is_unspecified())
}

/// The row of the connection between `local` and `remote`, with or without a descriptor.
pub fn by_pair(local: SocketAddr, remote: SocketAddr) -> Option<Entry> {
    find(|e| e.local == local && e.remote == remote)
}

/// What the kernel keeps of each connection in `pairs` once every socket is closed: its state (TIME_WAIT most
/// often), or `None` when the table has no row for it.
///
/// The states settle a moment after the last close, as the peer answers our FIN or sends its own, so we look again
/// until every connection is gone or in TIME_WAIT, for at most `within`.
pub fn settled(pairs: &[(SocketAddr, SocketAddr)], within: Duration) -> Vec<Option<&'static str>> {
    settle(pairs, within, by_pair)
}

fn settle(
    pairs: &[(SocketAddr, SocketAddr)],
    within: Duration,
    lookup: impl Fn(SocketAddr, SocketAddr) -> Option<Entry>,
) -> Vec<Option<&'static str>> {
    let deadline = Instant::now() + within;
    loop {
        let states: Vec<_> = pairs.iter().map(|(l, r)| lookup(*l, *r).map(|e| e.state)).collect();
        let settled = states.iter().all(|s| matches!(s, None | Some("TIME_WAIT")));
        if settled || Instant::now() >= deadline {
            return states;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The first row that `wanted` accepts, reading the tables line by line and stopping there. The kernel writes the
/// table as it is read, and on a busy machine (thousands of connections in TIME_WAIT) a whole table costs
/// milliseconds: stopping early keeps a lesson's pace.
fn find(wanted: impl Fn(&Entry) -> bool) -> Option<Entry> {
    use std::io::BufRead;
    for path in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(file) = std::fs::File::open(path) else { continue };
        let reader = std::io::BufReader::with_capacity(64 * 1024, file);
        for line in reader.lines().skip(1) {
            let Ok(line) = line else { break };
            if let Some(entry) = parse_row(&line).filter(|e| wanted(e)) {
                return Some(entry);
            }
        }
    }
    None
}

/// `   3: 0100007F:2092 0100007F:C812 01 … inode …`
fn parse_row(line: &str) -> Option<Entry> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let local = parse_address(fields.get(1)?)?;
    let remote = parse_address(fields.get(2)?)?;
    let state = state_name(u8::from_str_radix(fields.get(3)?, 16).ok()?);
    // `tx_queue:rx_queue`, in hex.
    let unread = u32::from_str_radix(fields.get(4)?.split_once(':')?.1, 16).ok()?;
    let inode = fields.get(9)?.parse().ok()?;
    Some(Entry { local, remote, state, inode, unread })
}

/// `0100007F:2092` → 127.0.0.1:8338. The address is the kernel's in-memory bytes printed as 32-bit words.
fn parse_address(text: &str) -> Option<SocketAddr> {
    let (ip, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    // Each 8-digit group is a 32-bit word of the address as it lies in memory, printed as a little-endian number:
    // reversing each group's 4 bytes gives the address in network order.
    let printed: Option<Vec<u8>> =
        (0..ip.len() / 2).map(|i| ip.get(i * 2..i * 2 + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect();
    let network: Vec<u8> = printed?.chunks(4).flat_map(|w| w.iter().rev().copied().collect::<Vec<_>>()).collect();
    match network.len() {
        4 => Some(SocketAddr::from((Ipv4Addr::new(network[0], network[1], network[2], network[3]), port))),
        16 => {
            let octets: [u8; 16] = network.try_into().ok()?;
            Some(SocketAddr::from((Ipv6Addr::from(octets), port)))
        }
        _ => None,
    }
}

/// The kernel's state numbers (include/net/tcp_states.h), by the names `ss` and the RFC use.
pub(crate) fn state_name(state: u8) -> &'static str {
    match state {
        0x01 => "ESTABLISHED",
        0x02 => "SYN_SENT",
        0x03 => "SYN_RECV",
        0x04 => "FIN_WAIT1",
        0x05 => "FIN_WAIT2",
        0x06 => "TIME_WAIT",
        0x07 => "CLOSE",
        0x08 => "CLOSE_WAIT",
        0x09 => "LAST_ACK",
        0x0A => "LISTEN",
        0x0B => "CLOSING",
        0x0C => "NEW_SYN_RECV",
        _ => "UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_read_as_the_kernel_means_them() {
        let row =
            "   0: 0100007F:2092 0100007F:C812 0A 00000000:00000000 00:00000000 00000000     0        0 359921 1 0";
        let entry = parse_row(row).unwrap();
        assert_eq!(entry.local, "127.0.0.1:8338".parse().unwrap());
        assert_eq!(entry.remote, "127.0.0.1:51218".parse().unwrap());
        assert_eq!((entry.state, entry.inode), ("LISTEN", 359921));
        let v6 =
            "   0: 00000000000000000000000001000000:A105 00000000000000000000000001000000:BD7E 06 0:0 03:0 0 0 0 0 3 0";
        let entry = parse_row(v6).unwrap();
        assert_eq!(entry.local, "[::1]:41221".parse().unwrap());
        assert_eq!((entry.state, entry.inode), ("TIME_WAIT", 0));
    }

    #[test]
    fn a_listening_socket_of_ours_is_found_by_its_descriptor() {
        use std::os::fd::AsFd;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let entry = by_fd(listener.as_fd()).expect("in the table");
        assert_eq!(entry.state, "LISTEN");
        assert_eq!(entry.local, listener.local_addr().unwrap());
    }
}
