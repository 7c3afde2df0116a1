//! TCP states, asked of the kernel one socket at a time through `NETLINK_SOCK_DIAG` (`man 7 sock_diag`).
//!
//! [`super::tcp`] reads `/proc/net/tcp` line by line, and the kernel walks its whole TCP hash table to write it: about
//! 2 ms a read on an idle machine, and more with every connection in TIME_WAIT. Here we send the kernel one
//! `SOCK_DIAG_BY_FAMILY` request naming the socket exactly (its local and remote address and port) and *without*
//! `NLM_F_DUMP`, so the kernel looks that one socket up in its hash table, the way it finds the socket for an
//! arriving segment, and answers with one `inet_diag_msg`: its state, inode and queues. The cost does not grow with
//! the table. `ss` asks the same interface, but for a dump of everything.
//!
//! **These are not TCP socket calls.** The question travels on a separate `AF_NETLINK` socket (strace shows a
//! `socket(AF_NETLINK, SOCK_DGRAM|SOCK_CLOEXEC, NETLINK_SOCK_DIAG)`, then a `sendto` and a `recvfrom` on it for
//! each lookup). The transcript shows every TCP socket call hhttpp makes, and none of these is one: they touch no TCP
//! socket, and they are no more part of the lesson than reading `/proc/net/tcp` is. A [`Diag`] keeps its netlink
//! socket open and reuses it, so that a lookup is two calls, not four.
//!
//! What the kernel finds, measured on Linux 6.18 (the tests below hold us to it):
//! - a connection in any state, TIME_WAIT included (inode 0 then: no descriptor refers to it any more; an orphaned
//!   FIN_WAIT2 connection is reported as FIN_WAIT2 too);
//! - a listener, asked for with a remote address and port of zero, bound to `127.0.0.1`, `0.0.0.0` or `::1`.
//!
//! The kernel's lookup is the one it uses for an arriving segment, so it is looser than our question: asked for a
//! connection that does not exist, it answers with the listener on that local port, and asked for a listener on
//! `127.0.0.1:P` it answers with one bound to `0.0.0.0:P`. We check that the answer is the socket we named and say
//! `None` otherwise, so that [`by_pair`] and [`listener`] are exact, like [`super::tcp::by_pair`].
//!
//! A production tool would ask for the extensions too (`INET_DIAG_INFO` gives `struct tcp_info`); we need only the
//! fixed part of the answer, and skip whatever attributes follow it.

use std::cell::RefCell;
use std::io;
use std::mem::size_of;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::tcp::state_name;

/// One TCP socket, as the kernel describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// The names of [`super::tcp`]: `ESTABLISHED`, `LISTEN`, `TIME_WAIT`, …
    pub state: &'static str,
    /// 0 for a connection no descriptor refers to any more. The kernel sends 32 bits, all a socket's inode has (it
    /// comes from `get_next_ino`, an `unsigned int`); `u64` to match `fstat` and [`super::tcp::Entry`].
    pub inode: u64,
    /// `idiag_rqueue`: bytes received and not yet read. For a listener: connections waiting for `accept`.
    pub unread: u32,
    /// `idiag_wqueue`: bytes written and not yet acknowledged. For a listener: the backlog `listen` was given.
    pub unsent: u32,
}

/// The lookup on this thread's [`Diag`], opened by the first call. See [`Diag::by_pair`].
pub fn by_pair(local: SocketAddr, remote: SocketAddr) -> io::Result<Option<Entry>> {
    with_diag(|diag| diag.by_pair(local, remote))
}

/// The lookup on this thread's [`Diag`], opened by the first call. See [`Diag::listener`].
pub fn listener(local: SocketAddr) -> io::Result<Option<Entry>> {
    with_diag(|diag| diag.listener(local))
}

thread_local! {
    static DIAG: RefCell<Option<Diag>> = const { RefCell::new(None) };
}

/// Runs `f` on this thread's [`Diag`], opening it if it is not open yet. If it cannot be opened, the error is
/// returned and the next call tries again.
fn with_diag<R>(f: impl FnOnce(&mut Diag) -> io::Result<R>) -> io::Result<R> {
    DIAG.with(|cell| {
        let mut slot = cell.borrow_mut();
        let diag = match &mut *slot {
            Some(diag) => diag,
            None => slot.insert(Diag::open()?),
        };
        f(diag)
    })
}

/// The lowest descriptor number the netlink socket may have: far above the few a lesson uses.
pub const FIRST_FD: RawFd = 100;

/// An open `NETLINK_SOCK_DIAG` socket, reused for every lookup.
pub struct Diag {
    socket: OwnedFd,
    /// The sequence number of the last request: the answer carries it back.
    seq: u32,
    buffer: Vec<u8>,
}

impl Diag {
    /// Opens the netlink socket and checks that the kernel answers `sock_diag` questions about TCP.
    ///
    /// A kernel built without `CONFIG_INET_DIAG`/`CONFIG_INET_TCP_DIAG` (or a sandbox that forbids netlink) gives an
    /// error of kind [`io::ErrorKind::Unsupported`]: the caller can fall back on [`super::tcp`].
    pub fn open() -> io::Result<Diag> {
        // SAFETY: socket() takes no pointers; a descriptor it returns is new and ours alone.
        let fd =
            unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, libc::NETLINK_SOCK_DIAG) };
        if fd < 0 {
            let error = io::Error::last_os_error();
            return Err(io::Error::new(unsupported_or(&error), format!("opening a NETLINK_SOCK_DIAG socket: {error}")));
        }
        // SAFETY: `fd` is a descriptor socket() just gave us, open, and owned by nothing else.
        let low = unsafe { OwnedFd::from_raw_fd(fd) };
        // Out of the lesson's way: the kernel gives every new descriptor the lowest free number, and the lesson's
        // sockets must get the numbers they get without us (3 for the listener, 4 for the connection). The copy
        // is made before any other call on the socket, and the low number is closed (and so free again) at once.
        let socket = rustix::io::fcntl_dupfd_cloexec(&low, FIRST_FD).map_err(io::Error::from)?;
        drop(low);
        // The kernel answers at once; the timeout is only so that a kernel that never does cannot hang a lesson.
        let timeout = libc::timeval { tv_sec: 1, tv_usec: 0 };
        // SAFETY: the option value points at a live `timeval` of the length we pass.
        let set = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&raw const timeout).cast(),
                size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if set != 0 {
            let error = io::Error::last_os_error();
            return Err(io::Error::new(error.kind(), format!("setting SO_RCVTIMEO on the sock_diag socket: {error}")));
        }
        let mut diag = Diag { socket, seq: 0, buffer: vec![0; 8192] };
        supported(diag.ask(&Question::nothing()))?;
        Ok(diag)
    }

    /// The connection between `local` and `remote`, in any state, with or without a descriptor; `None` if the
    /// kernel has no such connection.
    ///
    /// `local` and `remote` must be of one family (an `InvalidInput` error otherwise).
    pub fn by_pair(&mut self, local: SocketAddr, remote: SocketAddr) -> io::Result<Option<Entry>> {
        let question = Question::exact(local, remote)?;
        // The kernel falls back on the listener of `local`'s port: that is not the connection we asked for.
        Ok(self.ask(&question)?.entry().filter(|e| same(e.local, local) && same(e.remote, remote)))
    }

    /// The socket listening on `local` (exactly that address: a listener on `0.0.0.0:P` is found as `0.0.0.0:P`, not
    /// as `127.0.0.1:P`); `None` if there is none.
    pub fn listener(&mut self, local: SocketAddr) -> io::Result<Option<Entry>> {
        let nowhere = match local {
            SocketAddr::V4(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            SocketAddr::V6(_) => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
        };
        let question = Question::exact(local, nowhere)?;
        Ok(self.ask(&question)?.entry().filter(|e| e.state == "LISTEN" && same(e.local, local)))
    }

    /// Sends `question` and reads datagrams until the answer to it arrives.
    fn ask(&mut self, question: &Question) -> io::Result<Reply> {
        self.seq = self.seq.wrapping_add(1);
        let request = question.request(self.seq);
        // SAFETY: an all-zero `sockaddr_nl` is valid (it has private padding, so it cannot be written as a literal).
        let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // nl_pid 0: the kernel.
        loop {
            // SAFETY: both pointers point at live values of the lengths we pass, and sendto only reads them.
            let sent = unsafe {
                libc::sendto(
                    self.socket.as_raw_fd(),
                    (&raw const request).cast(),
                    size_of::<Request>(),
                    0,
                    (&raw const kernel).cast(),
                    size_of::<libc::sockaddr_nl>() as libc::socklen_t,
                )
            };
            match sent {
                n if n == size_of::<Request>() as isize => break,
                n if n >= 0 => {
                    return Err(io::Error::other(format!(
                        "sock_diag took {n} of a {}-byte request",
                        size_of::<Request>()
                    )));
                }
                _ => {
                    let error = io::Error::last_os_error();
                    if error.kind() != io::ErrorKind::Interrupted {
                        return Err(io::Error::new(error.kind(), format!("sending a sock_diag request: {error}")));
                    }
                }
            }
        }
        loop {
            // MSG_TRUNC: recv returns the datagram's whole length even if our buffer held only its start.
            // SAFETY: the buffer is live and writable for the length we pass.
            let received = unsafe {
                libc::recv(self.socket.as_raw_fd(), self.buffer.as_mut_ptr().cast(), self.buffer.len(), libc::MSG_TRUNC)
            };
            let Ok(length) = usize::try_from(received) else {
                let error = io::Error::last_os_error();
                match error.kind() {
                    io::ErrorKind::Interrupted => continue,
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "the kernel did not answer sock_diag in 1 s",
                        ));
                    }
                    _ => return Err(io::Error::new(error.kind(), format!("receiving a sock_diag answer: {error}"))),
                }
            };
            // A datagram longer than our buffer lost its end; the fixed part we read is at its start.
            let held = length.min(self.buffer.len());
            if let Some(answer) = answer(&self.buffer[..held], self.seq) {
                return answer;
            }
        }
    }
}

/// What the kernel said to one request.
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    /// The socket asked for (or, the lookup being loose, another: see the module's doc).
    Socket(Entry),
    /// ENOENT: no such socket, or no handler for TCP at all.
    NotFound,
    /// NLMSG_DONE, the end of a dump.
    Done,
}

impl Reply {
    fn entry(self) -> Option<Entry> {
        match self {
            Reply::Socket(entry) => Some(entry),
            Reply::NotFound | Reply::Done => None,
        }
    }
}

/// `Ok` if the reply to [`Question::nothing`] shows that the kernel answers questions about TCP, else an error of
/// kind `Unsupported` where the reply means that it cannot.
///
/// A dump of no states is answered at once with NLMSG_DONE when the kernel has the TCP handler (seen here), and with
/// ENOENT when it has not (so say net/core/sock_diag.c and net/ipv4/inet_diag.c; we had no such kernel to try). An
/// exact lookup says ENOENT for both a missing handler and a missing socket: only this question tells them apart.
fn supported(reply: io::Result<Reply>) -> io::Result<()> {
    match reply {
        Ok(Reply::Done | Reply::Socket(_)) => Ok(()),
        Ok(Reply::NotFound) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the kernel does not answer sock_diag questions about TCP (no tcp_diag; try /proc/net/tcp)",
        )),
        Err(error) => Err(io::Error::new(unsupported_or(&error), format!("asking sock_diag about TCP: {error}"))),
    }
}

/// The same address and port (a returned IPv6 address carries no flow label or scope to compare).
fn same(a: SocketAddr, b: SocketAddr) -> bool {
    a.ip() == b.ip() && a.port() == b.port()
}

/// `Unsupported` for the errors that mean this kernel or sandbox has no sock_diag, else the error's own kind.
fn unsupported_or(error: &io::Error) -> io::ErrorKind {
    match (error.raw_os_error(), error.kind()) {
        (Some(libc::EPROTONOSUPPORT | libc::EAFNOSUPPORT), _) => io::ErrorKind::Unsupported,
        // EPERM and EACCES, also once wrapped with what we were doing.
        (_, io::ErrorKind::PermissionDenied) => io::ErrorKind::Unsupported,
        (_, kind) => kind,
    }
}

/// What we ask the kernel: one socket, or (to check that it answers at all) a dump of no states.
struct Question {
    family: u8,
    id: InetDiagSockid,
    states: u32,
    flags: u16,
}

impl Question {
    /// The socket with exactly these addresses, in any state.
    fn exact(local: SocketAddr, remote: SocketAddr) -> io::Result<Question> {
        let mut id = InetDiagSockid {
            sport: local.port().to_be(),
            dport: remote.port().to_be(),
            cookie: [INET_DIAG_NOCOOKIE; 2],
            ..InetDiagSockid::default()
        };
        let family = match (local, remote) {
            (SocketAddr::V4(l), SocketAddr::V4(r)) => {
                id.src[..4].copy_from_slice(&l.ip().octets());
                id.dst[..4].copy_from_slice(&r.ip().octets());
                libc::AF_INET
            }
            (SocketAddr::V6(l), SocketAddr::V6(r)) => {
                id.src = l.ip().octets();
                id.dst = r.ip().octets();
                // A link-local address needs its interface; 0 (none) for every other.
                id.interface = l.scope_id();
                libc::AF_INET6
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("no TCP socket joins {local} and {remote}: they are of different families"),
                ));
            }
        };
        let flags = libc::NLM_F_REQUEST as u16;
        Ok(Question { family: family as u8, id, states: ALL_STATES, flags })
    }

    /// A dump of no states: the kernel answers NLMSG_DONE without walking any table.
    fn nothing() -> Question {
        let id = InetDiagSockid { cookie: [INET_DIAG_NOCOOKIE; 2], ..InetDiagSockid::default() };
        Question { family: libc::AF_INET as u8, id, states: 0, flags: (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16 }
    }

    fn request(&self, seq: u32) -> Request {
        Request {
            header: libc::nlmsghdr {
                nlmsg_len: size_of::<Request>() as u32,
                nlmsg_type: SOCK_DIAG_BY_FAMILY,
                nlmsg_flags: self.flags,
                nlmsg_seq: seq,
                nlmsg_pid: 0,
            },
            body: InetDiagReqV2 {
                family: self.family,
                protocol: libc::IPPROTO_TCP as u8,
                ext: 0,
                pad: 0,
                states: self.states,
                id: self.id,
            },
        }
    }
}

/// The answer to request `seq` in one datagram, if it holds one, or the error the kernel gave. Messages for other
/// requests are skipped, and so is whatever follows the fixed part of a message (the attributes).
fn answer(datagram: &[u8], seq: u32) -> Option<io::Result<Reply>> {
    let mut rest = datagram;
    while let Some(header) = read::<libc::nlmsghdr>(rest) {
        let length = header.nlmsg_len as usize;
        if length < size_of::<libc::nlmsghdr>() {
            return Some(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a sock_diag message of {length} bytes"),
            )));
        }
        // The message as far as we hold it: the datagram may have been cut to our buffer.
        let message = &rest[..length.min(rest.len())];
        let payload = &message[size_of::<libc::nlmsghdr>()..];
        if header.nlmsg_seq == seq {
            match i32::from(header.nlmsg_type) {
                libc::NLMSG_ERROR => {
                    let Some(error) = read::<libc::c_int>(payload) else { return Some(Err(cut(datagram))) };
                    return Some(match -error {
                        // An acknowledgement, which we do not ask for.
                        0 => Ok(Reply::Done),
                        libc::ENOENT => Ok(Reply::NotFound),
                        errno => Err(io::Error::from_raw_os_error(errno)),
                    });
                }
                libc::NLMSG_DONE => return Some(Ok(Reply::Done)),
                t if t == i32::from(SOCK_DIAG_BY_FAMILY) => {
                    let Some(msg) = read::<InetDiagMsg>(payload) else { return Some(Err(cut(datagram))) };
                    return Some(entry(&msg).map(Reply::Socket));
                }
                _ => {}
            }
        }
        // Messages start on 4-byte boundaries (NLMSG_ALIGN).
        let next = (length + 3) & !3;
        rest = rest.get(next..)?;
    }
    None
}

fn cut(datagram: &[u8]) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("a sock_diag answer cut short at {} bytes", datagram.len()))
}

/// The [`Entry`] an `inet_diag_msg` describes.
fn entry(msg: &InetDiagMsg) -> io::Result<Entry> {
    let (local, remote) = match i32::from(msg.family) {
        libc::AF_INET => {
            let ip = |a: [u8; 16]| IpAddr::from([a[0], a[1], a[2], a[3]]);
            (ip(msg.id.src), ip(msg.id.dst))
        }
        libc::AF_INET6 => (IpAddr::from(msg.id.src), IpAddr::from(msg.id.dst)),
        family => {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("a sock_diag answer of family {family}")));
        }
    };
    let address = |ip: IpAddr, port: u16| match ip {
        IpAddr::V6(ip) => SocketAddr::V6(SocketAddrV6::new(ip, port, 0, 0)),
        ip => SocketAddr::new(ip, port),
    };
    Ok(Entry {
        local: address(local, u16::from_be(msg.id.sport)),
        remote: address(remote, u16::from_be(msg.id.dport)),
        state: state_name(msg.state),
        inode: u64::from(msg.inode),
        unread: msg.rqueue,
        unsent: msg.wqueue,
    })
}

/// Types that are only integers, so that any bytes make a valid value.
///
/// # Safety
/// An implementor must be `#[repr(C)]` (or a primitive) with integer fields only, so that every bit pattern of its
/// size is a valid value.
unsafe trait Plain: Copy {}
// SAFETY: `nlmsghdr` is `#[repr(C)]` with u32 and u16 fields only.
unsafe impl Plain for libc::nlmsghdr {}
// SAFETY: an integer.
unsafe impl Plain for libc::c_int {}
// SAFETY: `#[repr(C)]` with integer fields and a nested `InetDiagSockid`, which is too.
unsafe impl Plain for InetDiagMsg {}

/// A copy of the `T` the bytes start with, if there are enough of them.
fn read<T: Plain>(bytes: &[u8]) -> Option<T> {
    (bytes.len() >= size_of::<T>()).then(|| {
        // SAFETY: `bytes` holds at least size_of::<T>() readable bytes, read_unaligned needs no alignment, and
        // `T: Plain` makes any bytes a valid `T`.
        unsafe { bytes.as_ptr().cast::<T>().read_unaligned() }
    })
}

// The kernel's structures, from linux/sock_diag.h and linux/inet_diag.h. Ports and addresses are in network order.

/// linux/sock_diag.h.
const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// linux/inet_diag.h: "any socket", not one whose cookie we know.
const INET_DIAG_NOCOOKIE: u32 = !0;
/// One bit per state number (include/net/tcp_states.h), all of them.
const ALL_STATES: u32 = !0;

/// linux/inet_diag.h `struct inet_diag_sockid`. The header's `__be32 idiag_src[4]` is written here as 16 bytes: the
/// same offsets and size, since it follows two `u16`s.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct InetDiagSockid {
    sport: u16,
    dport: u16,
    /// An IPv4 address takes the first 4 bytes.
    src: [u8; 16],
    dst: [u8; 16],
    interface: u32,
    cookie: [u32; 2],
}

/// linux/inet_diag.h `struct inet_diag_req_v2`.
#[repr(C)]
#[derive(Clone, Copy)]
struct InetDiagReqV2 {
    family: u8,
    protocol: u8,
    ext: u8,
    pad: u8,
    states: u32,
    id: InetDiagSockid,
}

/// linux/inet_diag.h `struct inet_diag_msg`.
#[repr(C)]
#[derive(Clone, Copy)]
struct InetDiagMsg {
    family: u8,
    state: u8,
    #[allow(dead_code, reason = "the layout needs it; we do not read it")]
    timer: u8,
    #[allow(dead_code, reason = "the layout needs it; we do not read it")]
    retrans: u8,
    id: InetDiagSockid,
    #[allow(dead_code, reason = "the layout needs it; we do not read it")]
    expires: u32,
    rqueue: u32,
    wqueue: u32,
    #[allow(dead_code, reason = "the layout needs it; we do not read it")]
    uid: u32,
    inode: u32,
}

/// One netlink message: the header, then the request.
#[repr(C)]
struct Request {
    header: libc::nlmsghdr,
    body: InetDiagReqV2,
}

// The sizes the kernel expects, counted from the header.
const _: () = assert!(size_of::<InetDiagSockid>() == 48);
const _: () = assert!(size_of::<InetDiagReqV2>() == 56);
const _: () = assert!(size_of::<InetDiagMsg>() == 72);
const _: () = assert!(size_of::<Request>() == 16 + 56);

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::os::fd::{AsRawFd, RawFd};
    use std::time::{Duration, Instant};

    fn inode(fd: RawFd) -> u64 {
        // SAFETY: an all-zero `stat` is valid output space, and fstat only writes into it.
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat on a descriptor the test holds open.
        assert_eq!(unsafe { libc::fstat(fd, &mut stat) }, 0, "fstat: {}", io::Error::last_os_error());
        stat.st_ino
    }

    /// Asks until the answer is in state `state`: the kernel moves a connection along as segments cross loopback,
    /// which takes a moment after the call that sent them. At most 200 tries, 1 ms apart.
    fn when_in(state: &str, mut ask: impl FnMut() -> Option<Entry>) -> Entry {
        let mut last = None;
        for _ in 0..200 {
            last = ask();
            if let Some(entry) = last.as_ref().filter(|e| e.state == state) {
                return entry.clone();
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        panic!("never {state}; last seen {last:?}");
    }

    /// A connection on loopback: (client, server's end of it).
    fn connection(listener: &TcpListener) -> (TcpStream, TcpStream) {
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (client, server)
    }

    fn ends(stream: &TcpStream) -> (SocketAddr, SocketAddr) {
        (stream.local_addr().unwrap(), stream.peer_addr().unwrap())
    }

    #[test]
    fn a_listener_is_found_as_listen_with_the_inode_fstat_gives() {
        let socket = TcpListener::bind("127.0.0.1:0").unwrap();
        let entry = listener(socket.local_addr().unwrap()).unwrap().expect("the kernel knows our listener");
        assert_eq!(entry.state, "LISTEN");
        assert_eq!(entry.local, socket.local_addr().unwrap());
        assert_eq!(entry.remote, "0.0.0.0:0".parse().unwrap());
        assert_eq!(entry.inode, inode(socket.as_raw_fd()));
        // std's bind listens with a backlog of 128; nobody is waiting to be accepted.
        assert_eq!((entry.unread, entry.unsent), (0, 128));
    }

    #[test]
    fn a_listener_on_every_address_is_found_as_itself_and_only_so() {
        let socket = TcpListener::bind("0.0.0.0:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        let entry = listener(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))).unwrap().expect("found as 0.0.0.0");
        assert_eq!((entry.state, entry.inode), ("LISTEN", inode(socket.as_raw_fd())));
        // The kernel answers this question with the 0.0.0.0 listener too; we do not.
        assert_eq!(listener(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).unwrap(), None);
    }

    #[test]
    fn both_ends_of_an_accepted_connection_are_established() {
        let socket = TcpListener::bind("127.0.0.1:0").unwrap();
        let (client, server) = connection(&socket);
        for stream in [&client, &server] {
            let (local, remote) = ends(stream);
            let entry = by_pair(local, remote).unwrap().expect("the kernel knows our connection");
            assert_eq!((entry.local, entry.remote), (local, remote));
            assert_eq!((entry.state, entry.inode), ("ESTABLISHED", inode(stream.as_raw_fd())));
            // The same row /proc/net/tcp shows.
            let row = super::super::tcp::by_pair(local, remote).expect("in /proc/net/tcp");
            assert_eq!((row.state, row.inode), (entry.state, entry.inode));
        }
    }

    #[test]
    fn bytes_the_server_has_not_read_are_counted_as_unread() {
        let socket = TcpListener::bind("127.0.0.1:0").unwrap();
        let (mut client, mut server) = connection(&socket);
        client.write_all(b"hello").unwrap();
        let (local, remote) = ends(&server);
        let mut last = None;
        for _ in 0..200 {
            last = by_pair(local, remote).unwrap();
            if last.as_ref().is_some_and(|e| e.unread == 5) {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(last.map(|e| (e.state, e.unread)), Some(("ESTABLISHED", 5)));
        // Read them, so that the close sends FIN, not RST.
        server.read_exact(&mut [0; 5]).unwrap();
        assert_eq!(by_pair(local, remote).unwrap().map(|e| e.unread), Some(0));
    }

    #[test]
    fn a_connection_the_server_closed_first_lingers_in_fin_wait2_then_time_wait() {
        let socket = TcpListener::bind("127.0.0.1:0").unwrap();
        let (mut client, server) = connection(&socket);
        let (local, remote) = ends(&server);
        server.shutdown(Shutdown::Write).unwrap();
        drop(server);
        let entry = when_in("FIN_WAIT2", || by_pair(local, remote).unwrap());
        assert_eq!(entry.inode, 0, "no descriptor refers to it any more");
        // The client reads the end of the stream and closes in turn: the server's side waits out TIME_WAIT.
        assert_eq!(client.read(&mut [0; 1]).unwrap(), 0);
        drop(client);
        let entry = when_in("TIME_WAIT", || by_pair(local, remote).unwrap());
        assert_eq!((entry.local, entry.remote, entry.inode), (local, remote, 0));
    }

    #[test]
    fn a_socket_that_does_not_exist_is_none() {
        let socket = TcpListener::bind("127.0.0.1:0").unwrap();
        let here = socket.local_addr().unwrap();
        // The kernel answers this with the listener on `here`'s port: the check on the answer is what says None.
        assert_eq!(by_pair(here, "127.0.0.1:1".parse().unwrap()).unwrap(), None);
        drop(socket);
        // Nothing ever connected, so nothing of it lingers.
        assert_eq!(listener(here).unwrap(), None);
        assert_eq!(by_pair("127.0.0.1:1".parse().unwrap(), "127.0.0.1:2".parse().unwrap()).unwrap(), None);
    }

    #[test]
    fn addresses_of_two_families_are_refused() {
        let error = by_pair("127.0.0.1:1".parse().unwrap(), "[::1]:2".parse().unwrap()).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn ipv6_listener_and_connection_on_loopback() {
        let socket = match TcpListener::bind("[::1]:0") {
            Ok(socket) => socket,
            Err(error) => {
                println!("SKIPPED ipv6_listener_and_connection_on_loopback: cannot bind [::1]:0 ({error})");
                return;
            }
        };
        let entry = listener(socket.local_addr().unwrap()).unwrap().expect("the kernel knows our listener");
        assert_eq!((entry.state, entry.inode), ("LISTEN", inode(socket.as_raw_fd())));
        assert_eq!(entry.local, socket.local_addr().unwrap());
        assert_eq!(entry.remote, "[::]:0".parse().unwrap());
        let (client, server) = connection(&socket);
        for stream in [&client, &server] {
            let (local, remote) = ends(stream);
            let entry = by_pair(local, remote).unwrap().expect("the kernel knows our connection");
            assert_eq!((entry.local, entry.remote), (local, remote));
            assert_eq!((entry.state, entry.inode), ("ESTABLISHED", inode(stream.as_raw_fd())));
        }
    }

    /// A netlink message of type `kind` for request `seq`, its length field saying `payload` plus `claimed_extra`.
    fn message(kind: u16, seq: u32, payload: &[u8], claimed_extra: usize) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend(((16 + payload.len() + claimed_extra) as u32).to_ne_bytes());
        bytes.extend(kind.to_ne_bytes());
        bytes.extend(0u16.to_ne_bytes());
        bytes.extend(seq.to_ne_bytes());
        bytes.extend(0u32.to_ne_bytes());
        bytes.extend(payload);
        while bytes.len() % 4 != 0 {
            bytes.push(0);
        }
        bytes
    }

    /// An `inet_diag_msg` for 127.0.0.1:8338 → 127.0.0.1:51234, ESTABLISHED, inode 4242, 5 bytes unread.
    fn diag_msg() -> Vec<u8> {
        let mut bytes = vec![0u8; 72];
        bytes[0] = libc::AF_INET as u8;
        bytes[1] = 1;
        bytes[4..6].copy_from_slice(&8338u16.to_be_bytes());
        bytes[6..8].copy_from_slice(&51234u16.to_be_bytes());
        bytes[8..12].copy_from_slice(&[127, 0, 0, 1]);
        bytes[24..28].copy_from_slice(&[127, 0, 0, 1]);
        bytes[56..60].copy_from_slice(&5u32.to_ne_bytes());
        bytes[68..72].copy_from_slice(&4242u32.to_ne_bytes());
        bytes
    }

    #[test]
    fn answers_are_read_past_attributes_cuts_and_other_requests() {
        let want = Entry {
            local: "127.0.0.1:8338".parse().unwrap(),
            remote: "127.0.0.1:51234".parse().unwrap(),
            state: "ESTABLISHED",
            inode: 4242,
            unread: 5,
            unsent: 0,
        };
        // Attributes after the fixed part (here an INET_DIAG_SHUTDOWN rtattr) are skipped.
        let mut with_attributes = diag_msg();
        with_attributes.extend([5, 0, 8, 0, 0, 0, 0, 0]);
        let datagram = message(SOCK_DIAG_BY_FAMILY, 7, &with_attributes, 0);
        assert_eq!(answer(&datagram, 7).unwrap().unwrap(), Reply::Socket(want.clone()));
        // A datagram cut to our buffer after the fixed part still gives the entry.
        let datagram = message(SOCK_DIAG_BY_FAMILY, 7, &diag_msg(), 4000);
        assert_eq!(answer(&datagram, 7).unwrap().unwrap(), Reply::Socket(want.clone()));
        // Cut inside the fixed part, it is an error, not a guess.
        let datagram = message(SOCK_DIAG_BY_FAMILY, 7, &diag_msg()[..40], 32);
        assert_eq!(answer(&datagram, 7).unwrap().unwrap_err().kind(), io::ErrorKind::InvalidData);
        // An answer to an earlier request is passed over.
        let mut datagram = message(SOCK_DIAG_BY_FAMILY, 6, &diag_msg(), 0);
        assert!(answer(&datagram, 7).is_none());
        datagram.extend(message(libc::NLMSG_ERROR as u16, 7, &(-libc::ENOENT).to_ne_bytes(), 0));
        assert_eq!(answer(&datagram, 7).unwrap().unwrap(), Reply::NotFound);
        let datagram = message(libc::NLMSG_ERROR as u16, 7, &(-libc::EINVAL).to_ne_bytes(), 0);
        assert_eq!(answer(&datagram, 7).unwrap().unwrap_err().raw_os_error(), Some(libc::EINVAL));
    }

    #[test]
    fn a_kernel_without_tcp_diag_is_told_from_one_that_has_it() {
        let done = message(libc::NLMSG_DONE as u16, 1, &0i32.to_ne_bytes(), 0);
        assert!(supported(answer(&done, 1).unwrap()).is_ok());
        // Without tcp_diag the kernel answers the dump with ENOENT.
        let enoent = message(libc::NLMSG_ERROR as u16, 1, &(-libc::ENOENT).to_ne_bytes(), 0);
        assert_eq!(supported(answer(&enoent, 1).unwrap()).unwrap_err().kind(), io::ErrorKind::Unsupported);
        let denied = Err(io::Error::from_raw_os_error(libc::EPERM));
        assert_eq!(supported(denied).unwrap_err().kind(), io::ErrorKind::Unsupported);
        // And the kernel in front of us has it.
        assert!(Diag::open().is_ok());
    }

    /// The mean time of one `lookup`: as many as fit in 300 ms (at least 5, at most 100,000).
    fn per_lookup(mut lookup: impl FnMut() -> bool) -> (Duration, bool) {
        let start = Instant::now();
        let (mut calls, mut found) = (0u32, true);
        while calls < 5 || (start.elapsed() < Duration::from_millis(300) && calls < 100_000) {
            found &= lookup();
            calls += 1;
        }
        (start.elapsed() / calls, found)
    }

    fn time_wait_rows() -> usize {
        super::super::tcp::table().iter().filter(|e| e.state == "TIME_WAIT").count()
    }

    /// The cost of one lookup, `/proc/net/tcp` scan against sock_diag, before and after leaving `TW_ROWS` (10,000)
    /// connections in TIME_WAIT on loopback. Run it through `bench/tcp_lookup` (a release build).
    #[test]
    #[ignore = "a benchmark: it leaves thousands of TIME_WAIT rows for a minute; run bench/tcp_lookup"]
    fn lookup_cost_against_time_wait_rows() {
        let rows: usize = std::env::var("TW_ROWS").ok().and_then(|n| n.parse().ok()).unwrap_or(10_000);
        let socket = TcpListener::bind("127.0.0.1:0").unwrap();
        let here = socket.local_addr().unwrap();
        let (_client, server) = connection(&socket);
        let (local, remote) = ends(&server);
        let absent: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let mut diag = Diag::open().unwrap();
        let mut measure = |label: &str| {
            use super::super::tcp;
            println!("{label}: {} TIME_WAIT rows in /proc/net/tcp", time_wait_rows());
            let report = |name: &str, (each, right): (Duration, bool)| {
                let wrong = if right { "" } else { " WRONG ANSWER" };
                println!("  {name:<34} {:>9.1} µs per lookup{wrong}", each.as_secs_f64() * 1e6);
            };
            report(
                "/proc/net/tcp by_fd (inode)",
                per_lookup(|| tcp::by_fd(std::os::fd::AsFd::as_fd(&server)).is_some()),
            );
            report("/proc/net/tcp by_pair, present", per_lookup(|| tcp::by_pair(local, remote).is_some()));
            report("/proc/net/tcp by_pair, absent", per_lookup(|| tcp::by_pair(local, absent).is_none()));
            report("sock_diag by_pair, present", per_lookup(|| diag.by_pair(local, remote).is_ok_and(|e| e.is_some())));
            report("sock_diag by_pair, absent", per_lookup(|| diag.by_pair(local, absent).is_ok_and(|e| e.is_none())));
            report("sock_diag listener", per_lookup(|| diag.listener(here).is_ok_and(|e| e.is_some())));
        };
        measure("before");
        // Server closes first, the client reads the end and closes: the server's side stays in TIME_WAIT. A client
        // port can come round again while the server's old connection on it waits (the kernel then lets the new
        // SYN take that row over), so we spread the connections over four listeners and count the rows as we go.
        let mut listeners = vec![socket];
        listeners.extend((0..3).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()));
        let start = Instant::now();
        let mut made = 0;
        while made < 4 * rows && (made % 1000 != 0 || made == 0 || time_wait_rows() < rows) {
            let (mut client, server) = connection(&listeners[made % listeners.len()]);
            drop(server);
            assert_eq!(client.read(&mut [0; 1]).unwrap(), 0);
            made += 1;
        }
        println!("made {made} connections in {:.1} s", start.elapsed().as_secs_f64());
        measure("after");
    }
}
