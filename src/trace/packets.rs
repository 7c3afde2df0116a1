//! `--packets`: the wire's account. The TCP segments of the lesson's connections, captured on the loopback
//! interface and printed beside the calls, and (`--pcap FILE`) written as pcapng for Wireshark, tcpdump and tshark.
//!
//! We capture with an `AF_PACKET` socket bound to `lo`, made before the lesson's first call (it needs
//! `CAP_NET_RAW`). On `lo` the kernel hands such a socket every segment twice, once going out and once coming in;
//! we keep the copy going out, which the kernel queues in the sending side's own call (tcpdump keeps the other; the
//! count is the same). A thread of ours reads it as segments come, so the kernel's queue never fills while a call
//! blocks; the tracer also reads it just before each call and just after it returns, and places each segment by
//! when it was first seen, against those moments:
//!
//! - above a call's `>>>` line: before the call began;
//! - for the calls that wait for the peer (`accept4`, `recvfrom`), between the `>>>` line and the call's line:
//!   before the call returned (the story at the end says which came before it began, which while it waited);
//! - under the other calls' lines: while the call ran (what it made the kernel send, and the peer's answers on
//!   `lo`, which come back inside the same call), or after it returned.
//!
//! Only the lesson's segments are kept: those to or from the address it listens on, or the server it connects to.
//! Segments are parsed with `etherparse`. Sequence numbers are shown relative to each side's first (its SYN's), as
//! tcpdump and Wireshark do, so they are the same in every run. A production server would capture nothing of the
//! sort; a packet capture costs a copy of every segment, which is why it is a flag.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_file::DataLink;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::{PcapNgBlock, PcapNgWriter};

use super::diagram::{Event, Side, WIDTH, arrow};
use super::format::plural;

/// The segment pictures drawn: the last connections' (a server that ran long had many).
const PICTURES: usize = 3;
/// The arrows drawn for one connection; the rest are in the transcript above (and only counted, not kept).
const ARROWS: usize = 24;
/// The connections whose story the closing account tells: the last ones.
const STORIES: usize = 8;
/// The connections kept for the closing account: a server traced for hours keeps its last ones only.
const KEPT_CONNS: usize = 64;
/// Frames of addresses not (yet) watched, kept in case a call names them soon (a traced `connect`'s handshake
/// crosses before strace reports the call): the oldest go first, so another program's traffic on `lo` cannot
/// fill our memory.
const UNKNOWN_MAX: usize = 512;

/// The capture's socket is moved to this descriptor, out of the lesson's way: the lesson's sockets get the very
/// numbers they get without `--packets` (3 for the listener, 4 for the connection).
pub const CAPTURE_FD: RawFd = 100;

/// `SO_TIMESTAMPNS` (and its control message), the kernel's receive time of each segment in nanoseconds. The
/// value is the generic one (x86-64, arm64); libc exports it only for some targets.
const SO_TIMESTAMPNS: libc::c_int = 35;
/// `sll_pkttype` of a segment going out; on `lo` every segment is seen going out and then coming in.
const PACKET_OUTGOING: u8 = 4;
/// `getsockopt(SOL_PACKET, PACKET_STATISTICS)`: how many frames the kernel dropped because our buffer was full.
const PACKET_STATISTICS: libc::c_int = 6;
/// The largest frame we read: loopback segments reach 64 KiB (its MTU), with headers.
const FRAME_MAX: usize = 70_000;
/// The capture socket's receive buffer: room for a long sendall's segments between two reads.
const CAPTURE_BUFFER: usize = 8 << 20;

/// What `--packets` needs, in one line, when the kernel refuses the capture socket.
pub const NEEDS: &str = "--packets needs CAP_NET_RAW to capture on lo: run hhttpp with sudo, or once: sudo setcap \
                         cap_net_raw+ep \"$(command -v hhttpp)\"";

/// One TCP segment seen on `lo`, parsed.
#[derive(Clone, Debug)]
struct Frame {
    at: SystemTime,
    bytes: Vec<u8>,
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: Flags,
    window: u16,
    payload: (usize, usize),
}

#[derive(Clone, Copy, Debug, Default)]
struct Flags {
    syn: bool,
    ack: bool,
    fin: bool,
    rst: bool,
    psh: bool,
}

impl Flags {
    /// `SYN`, `SYN-ACK`, `PSH-ACK`, `FIN-ACK`, `RST`…
    fn name(self) -> String {
        let names = [(self.syn, "SYN"), (self.fin, "FIN"), (self.rst, "RST"), (self.psh, "PSH"), (self.ack, "ACK")];
        let on: Vec<_> = names.iter().filter(|(on, _)| *on).map(|(_, name)| *name).collect();
        if on.is_empty() { "none".into() } else { on.join("-") }
    }
}

/// The calls whose segments while they ran are shown above their line: they wait for the other side, and what
/// came while they waited (the handshake before `accept4` returns, the request before `recvfrom` does) is what
/// made them return. (The page labels those segments the kernel's work.)
pub fn waits_for_the_peer(name: &str) -> bool {
    matches!(name, "accept" | "accept4" | "read" | "recv" | "recvfrom" | "readv" | "recvmsg" | "recvmmsg")
}

/// Where a segment sits beside the calls, for its pcapng comment.
#[derive(Clone, Debug)]
pub enum Place {
    /// Before call `number` began.
    Before { number: u64, name: String },
    /// After call `number` returned, before the next began.
    After { number: u64 },
    /// While call `number` ran.
    During { number: u64, name: String },
    /// Before the lesson's first call.
    First,
    /// `hhttpp trace`: between call `number`'s start and a little after its end, as strace's clock and the
    /// kernel's tell (they differ by a few milliseconds).
    At { number: u64, name: String },
    /// `hhttpp trace`: stamped after call `second` began but within call `first`'s margin: either's.
    Either { first: (u64, String), second: (u64, String) },
}

/// The thread that reads the capture socket while the lesson's calls block (a long `sendall`, an `accept4`), so
/// that the kernel's queue for it never fills; the frames wait in `frames` for the tracer to print them.
struct Reader {
    fd: Arc<OwnedFd>,
    frames: Arc<Mutex<Vec<Frame>>>,
    /// The endpoints whose segments are kept (see [`Capture::watch`]), shared with the thread.
    watched: Arc<Mutex<Vec<(SocketAddr, bool)>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Reader {
    fn start(fd: OwnedFd) -> Reader {
        let fd = Arc::new(fd);
        let frames = Arc::new(Mutex::new(Vec::new()));
        let watched = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (t_fd, t_frames, t_stop, t_watched) = (fd.clone(), frames.clone(), stop.clone(), watched.clone());
        let thread = std::thread::spawn(move || {
            while !t_stop.load(Ordering::Relaxed) {
                let mut pfd = libc::pollfd { fd: t_fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
                // SAFETY: one pollfd, ours.
                if unsafe { libc::poll(&raw mut pfd, 1, 20) } > 0 {
                    // Read under the lock, so that frames keep their order whoever reads them.
                    let mut frames = t_frames.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    drain(&t_fd, &mut frames, &t_watched);
                }
            }
        });
        Reader { fd, frames, watched, stop, thread: Some(thread) }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads every frame the kernel has queued on `fd` into `frames`, keeping the outgoing copies of TCP segments;
/// of those to or from no `watched` endpoint, only the newest [`UNKNOWN_MAX`].
fn drain(fd: &OwnedFd, frames: &mut Vec<Frame>, watched: &Mutex<Vec<(SocketAddr, bool)>>) {
    let mut buf = vec![0u8; FRAME_MAX];
    let watched = watched.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
    loop {
        match read_one(fd, &mut buf) {
            Ok(Some(frame)) => frames.push(frame),
            Ok(None) => continue,
            Err(_) => break,
        }
    }
    let unknown = frames.iter().filter(|f| side_of(&watched, f).is_none()).count();
    if unknown > UNKNOWN_MAX {
        // The oldest unknown ones go, in one pass, down to half the bound.
        let mut extra = unknown - UNKNOWN_MAX / 2;
        frames.retain(|f| {
            let gone = extra > 0 && side_of(&watched, f).is_none();
            extra -= usize::from(gone);
            !gone
        });
    }
}

/// Whether `frame` is to or from a `watched` endpoint, and then whether it is from our side.
fn side_of(watched: &[(SocketAddr, bool)], frame: &Frame) -> Option<bool> {
    let matches = |watched: &SocketAddr, end: &SocketAddr| {
        watched.port() == end.port() && (watched.ip().is_unspecified() || watched.ip() == end.ip())
    };
    for (addr, ours) in watched {
        if matches(addr, &frame.src) {
            return Some(*ours);
        }
        if matches(addr, &frame.dst) {
            return Some(!*ours);
        }
    }
    None
}

/// One frame: `Ok(None)` for one we do not keep (outgoing copy, not TCP); `Err` when none is queued.
fn read_one(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<Option<Frame>> {
    // SAFETY: all zeroes is a valid sockaddr_ll and msghdr.
    let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    let mut control = [0u64; 16];
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = (&raw mut from).cast();
    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control);
    // SAFETY: every pointer in `msg` points at memory that outlives the call, with its size.
    let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &raw mut msg, libc::MSG_TRUNC) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // On lo each segment is seen going out, then coming in. We keep the copy going out: the kernel queues it for
    // us in the sender's own call, so a segment is never seen later than the call that sent it returned (the copy
    // coming in may wait for the receiving side's turn on a busy machine).
    if from.sll_pkttype != PACKET_OUTGOING {
        return Ok(None);
    }
    let mut at = SystemTime::now();
    // SAFETY: the CMSG macros walk the control buffer the kernel filled, within msg_controllen.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&raw const msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == SO_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                at = SystemTime::UNIX_EPOCH + Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
            }
            cmsg = libc::CMSG_NXTHDR(&raw const msg, cmsg);
        }
    }
    let len = (n as usize).min(buf.len());
    Ok(parse(&buf[..len], at))
}

/// One connection as the segments show it.
#[derive(Debug)]
struct Conn {
    /// The other side's address (the client's in a server lesson, the server's in `fetch`).
    peer: SocketAddr,
    /// "client", "client 2", or "server".
    label: String,
    /// Each side's first sequence number: ours, the peer's.
    isn: [Option<u32>; 2],
    /// The highest sequence number each side has sent so far, relative (for retransmissions).
    sent_up_to: [u32; 2],
    /// The bytes our calls handed to the kernel on this connection, in order: (call number, call name, count);
    /// `let_go`: the count of the stream's first bytes whose calls are no longer listed.
    our_calls: Vec<(u64, &'static str, u64)>,
    let_go: u64,
    /// How many bytes our `recvfrom` calls read on it.
    read: u64,
    /// What the segments showed, for the closing story.
    fins: Vec<(bool, String)>,
    rst: Option<(bool, String)>,
    peer_payload: u64,
    retransmissions: u64,
    handshake: Vec<(String, String)>,
    /// Each segment as an arrow: toward the server?, its label, where it sat beside the calls (the first
    /// [`ARROWS`]; the rest are counted in `segments`).
    arrows: Vec<(bool, String, String)>,
    segments: u64,
    /// True when we sent the SYN (`fetch`).
    syn_from_us: bool,
}

/// The capture: its socket, the segments read but not yet printed, the connections they belong to.
pub struct Capture {
    reader: Reader,
    pcap: Option<PcapNgWriter<BufWriter<File>>>,
    /// Connections seen, the newest [`KEPT_CONNS`]; how many were let go, and how many clients there were (to name
    /// the next one).
    conns: Vec<Conn>,
    forgotten: u64,
    clients: u64,
    /// How the account names the side whose calls are shown: "us" in a lesson, "the program" in `hhttpp trace`.
    voice: Voice,
    fd_peer: HashMap<RawFd, SocketAddr>,
    /// Read from the socket, not yet printed.
    pending: Vec<Frame>,
    /// Read while the last call ran, printed under it once its bytes are counted.
    under: Vec<Frame>,
    under_place: Option<Place>,
    /// How many of `pending` had been read when the current call began, and when it returned.
    started: Option<usize>,
    returned: Option<usize>,
    /// Every segment of the lesson's seen so far, and those left out of the summarised run going on.
    pub seen: u64,
    pub hidden: u64,
    /// The number of the last call made.
    last_call: u64,
    /// True once [`finish`](Self::finish) has run: the account is closed.
    done: bool,
    /// The segments printed since [`take_drawn`](Self::take_drawn) was last called, for `--html`.
    drawn: Vec<Segment>,
}

/// One printed segment, as `--html` draws it: an arrow between the lanes.
#[derive(Clone, Debug)]
pub struct Segment {
    /// True when our side sent it (the lesson's, or the traced program's), false when the peer did.
    pub from_us: bool,
    /// Its flags and payload length: `PSH-ACK, 68 bytes`.
    pub label: String,
    /// Its transcript line: `wire: client → us  SYN  seq 0  win 65495`.
    pub line: String,
}

impl Capture {
    /// Opens the capture socket on `lo` and moves it to [`CAPTURE_FD`].
    ///
    /// `Err` of the socket call when the kernel refuses (`EPERM` without `CAP_NET_RAW`).
    pub fn open() -> io::Result<Capture> {
        let protocol = (libc::ETH_P_ALL as u16).to_be();
        // SAFETY: plain system calls on descriptors we own; every result is checked.
        let raw = unsafe {
            libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK, protocol.into())
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a descriptor we just made.
        let first = unsafe { OwnedFd::from_raw_fd(raw) };
        // Moved to CAPTURE_FD or above; the original is closed when `first` drops.
        let fd = first.as_fd().try_clone_to_owned_at_least(CAPTURE_FD)?;
        drop(first);
        let lo = c"lo";
        // SAFETY: a NUL-terminated name.
        let index = unsafe { libc::if_nametoindex(lo.as_ptr()) };
        if index == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: sockaddr_ll is plain data; zeroed is a valid value.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = protocol;
        sll.sll_ifindex = index as i32;
        let len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        // SAFETY: `sll` lives through the call, `len` is its size.
        if unsafe { libc::bind(fd.as_raw_fd(), (&raw const sll).cast(), len) } < 0 {
            return Err(io::Error::last_os_error());
        }
        set_int(&fd, libc::SOL_SOCKET, SO_TIMESTAMPNS, 1)?;
        // A bigger buffer: root may pass net.core.rmem_max (SO_RCVBUFFORCE); others get what it allows. Drops are
        // counted and reported.
        if set_int(&fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, CAPTURE_BUFFER as libc::c_int).is_err() {
            let _ = set_int(&fd, libc::SOL_SOCKET, libc::SO_RCVBUF, CAPTURE_BUFFER as libc::c_int);
        }
        Ok(Capture::reading(fd))
    }

    /// `--packets` (or `--pcap`): the capture for a run titled `title`, writing to `pcap` if named; `None` when
    /// the kernel refuses it (no `CAP_NET_RAW`: say [`NEEDS`]), `Err` for any other failure, said in words.
    pub fn for_run(pcap: Option<&Path>, title: &str) -> Result<Option<Capture>, crate::error::Error> {
        let mut capture = match Capture::open() {
            Ok(capture) => capture,
            Err(err) if matches!(err.raw_os_error(), Some(libc::EPERM | libc::EACCES)) => return Ok(None),
            Err(err) => return Err(crate::error::Error::io("open the --packets capture on lo", err)),
        };
        if let Some(path) = pcap {
            capture.write_pcap(path, title).map_err(|err| {
                crate::error::Error::io(format!("create the --pcap file {:?}", path.display().to_string()), err)
            })?;
        }
        Ok(Some(capture))
    }

    /// A capture that reads `fd`.
    fn reading(fd: OwnedFd) -> Capture {
        Capture {
            reader: Reader::start(fd),
            pcap: None,
            conns: Vec::new(),
            forgotten: 0,
            clients: 0,
            voice: Voice::LESSON,
            fd_peer: HashMap::new(),
            pending: Vec::new(),
            under: Vec::new(),
            under_place: None,
            started: None,
            returned: None,
            seen: 0,
            hidden: 0,
            last_call: 0,
            done: false,
            drawn: Vec::new(),
        }
    }

    /// Also writes every segment of the lesson to a new pcapng file at `path`, with `title` (the lesson's
    /// command) as its section's comment.
    pub fn write_pcap(&mut self, path: &Path, title: &str) -> io::Result<()> {
        self.pcap = Some(pcapng(path, title)?);
        Ok(())
    }

    /// The descriptor the capture reads on.
    pub fn fd(&self) -> RawFd {
        self.reader.fd.as_raw_fd()
    }

    /// Keeps the segments to or from `addr`: ours when `ours` (a listening socket), the peer's otherwise.
    pub fn watch(&mut self, addr: SocketAddr, ours: bool) {
        let mut watched = self.reader.watched.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !watched.contains(&(addr, ours)) {
            watched.push((addr, ours));
        }
    }

    /// The endpoints watched so far.
    fn watched(&self) -> Vec<(SocketAddr, bool)> {
        self.reader.watched.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// `hhttpp trace`: the account speaks of "the program", not "us".
    pub fn of_the_program(&mut self) {
        self.voice = Voice::TRACE;
    }

    /// A call is about to be made.
    ///
    /// We read the capture now: whatever the kernel has queued for it crossed `lo` before the call.
    pub fn started(&mut self) {
        self.read();
        self.started = Some(self.pending.len());
    }

    /// The call just returned.
    ///
    /// We read the capture now: whatever it holds beyond what it held when the call began crossed `lo` while the
    /// call ran.
    pub fn returned(&mut self) {
        self.read();
        self.returned = Some(self.pending.len());
    }

    /// What a call did to a connection: which descriptor is which connection, whose bytes our calls sent.
    pub fn event(&mut self, event: &Event, call: u64) {
        match event {
            Event::Opened { fd, peer, we_are } => {
                self.fd_peer.insert(*fd, *peer);
                if *we_are == Side::Client {
                    self.watch(*peer, false);
                }
            }
            Event::Sent { fd, bytes, .. } => self.our_bytes(*fd, call, "sendto", *bytes),
            Event::SentFile { fd, bytes } => self.our_bytes(*fd, call, "sendfile", *bytes),
            Event::Received { fd, bytes, .. } => {
                if let Some(conn) = self.conn_of_fd(*fd) {
                    conn.read += bytes;
                }
            }
            _ => {}
        }
    }

    fn our_bytes(&mut self, fd: RawFd, call: u64, name: &'static str, bytes: u64) {
        if let Some(conn) = self.conn_of_fd(fd) {
            conn.our_calls.push((call, name, bytes));
        } else if let Some(&peer) = self.fd_peer.get(&fd) {
            // No segment of it seen yet (it cannot happen before its bytes leave, but be safe).
            let index = self.new_conn(peer);
            self.conns[index].our_calls.push((call, name, bytes));
        }
    }

    /// `hhttpp trace`: call `call` (`name`) handed `bytes` bytes to the kernel on the connection with `peer`.
    pub fn sent_to(&mut self, peer: SocketAddr, call: u64, name: &'static str, bytes: u64) {
        let index = match self.conns.iter().rposition(|c| c.peer == peer) {
            Some(index) => index,
            None => self.new_conn(peer),
        };
        let conn = &mut self.conns[index];
        // Only the calls whose bytes a segment may still carry are needed; a long download's are let go.
        if conn.our_calls.len() >= 4096 {
            let (_, _, first) = conn.our_calls.remove(0);
            conn.let_go += first;
        }
        conn.our_calls.push((call, name, bytes));
    }

    /// `hhttpp trace`: the program's calls read `bytes` bytes from the connection with `peer`.
    pub fn read_from(&mut self, peer: SocketAddr, bytes: u64) {
        if let Some(conn) = self.conns.iter_mut().rev().find(|c| c.peer == peer) {
            conn.read += bytes;
        }
    }

    /// A new connection with `peer`, named; the oldest is let go past [`KEPT_CONNS`]. Returns its index.
    fn new_conn(&mut self, peer: SocketAddr) -> usize {
        let label = self.next_label(peer);
        if label != "server" {
            self.clients += 1;
        }
        if self.conns.len() >= KEPT_CONNS {
            self.conns.remove(0);
            self.forgotten += 1;
        }
        self.conns.push(Conn::new(peer, label));
        self.conns.len() - 1
    }

    fn conn_of_fd(&mut self, fd: RawFd) -> Option<&mut Conn> {
        let peer = *self.fd_peer.get(&fd)?;
        self.conns.iter_mut().rev().find(|c| c.peer == peer)
    }

    fn next_label(&self, peer: SocketAddr) -> String {
        if self.watched().iter().any(|&(addr, ours)| !ours && addr == peer) {
            return "server".into();
        }
        match self.clients {
            0 => "client".into(),
            n => format!("client {}", n + 1),
        }
    }

    /// Takes every segment read so far: the reader thread's, and any still queued in the kernel.
    pub fn read(&mut self) {
        let mut frames = self.reader.frames.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        drain(&self.reader.fd, &mut frames, &self.reader.watched);
        self.pending.append(&mut frames);
    }

    /// True when `frame` is the lesson's; and whether it is from us.
    fn ours(&self, frame: &Frame) -> Option<bool> {
        side_of(&self.watched(), frame)
    }

    /// Everything read so far, in order, as lines: what happened before the next call began.
    pub fn before_next(&mut self, next: Option<u64>, holding: bool) -> Vec<String> {
        if self.done {
            // The account is printed: what comes later (a stray ACK) would land after it, and not in the file.
            return Vec::new();
        }
        let mut lines = self.under_lines(holding);
        self.read();
        let frames = std::mem::take(&mut self.pending);
        let last = next.map_or(self.last_call, |next| next - 1);
        let place = if last == 0 { Place::First } else { Place::After { number: last } };
        for frame in frames {
            lines.extend(self.render(frame, &place, holding));
        }
        lines
    }

    /// At a call's end: the lines to print before its line (what came before it began, or, for a call that waits
    /// for the peer, while it waited). The segments of its own running are kept for [`under_lines`](Self::under_lines).
    pub fn at_call(&mut self, number: u64, name: &str, holding: bool) -> Vec<String> {
        self.read();
        let started = self.started.take().unwrap_or(0);
        let returned = self.returned.take().unwrap_or(self.pending.len()).max(started);
        let waits = matches!(name, "accept4" | "recvfrom");
        let mut lines = self.under_lines(holding);
        let frames = std::mem::take(&mut self.pending);
        for (i, frame) in frames.into_iter().enumerate() {
            if i >= returned {
                self.pending.push(frame);
            } else if i < started {
                let place = Place::Before { number, name: name.into() };
                lines.extend(self.render(frame, &place, holding));
            } else if waits {
                let place = Place::During { number, name: name.into() };
                lines.extend(self.render(frame, &place, holding));
            } else {
                self.under.push(frame);
            }
        }
        self.under_place = Some(Place::During { number, name: name.into() });
        self.last_call = number;
        lines
    }

    /// `hhttpp trace`: the segments that crossed `lo` up to `until` (by the kernel's clock, the one strace's `-ttt`
    /// stamps use), in the order they crossed, as lines placed at `place`. Later ones wait for a later call.
    pub fn up_to(&mut self, until: SystemTime, place: &Place) -> Vec<String> {
        if self.done {
            return Vec::new();
        }
        self.read();
        // The reader thread and `read` take frames in the kernel's order; a stable sort keeps it where the stamps
        // agree.
        self.pending.sort_by_key(|f| f.at);
        let end = self.pending.partition_point(|f| f.at <= until);
        let frames: Vec<Frame> = self.pending.drain(..end).collect();
        frames.into_iter().filter_map(|f| self.render(f, place, false)).collect()
    }

    /// The segments printed since the last time this was asked, in order (`--html` draws them).
    pub fn take_drawn(&mut self) -> Vec<Segment> {
        std::mem::take(&mut self.drawn)
    }

    /// The segments of the last call's running, to print under it.
    pub fn under_lines(&mut self, holding: bool) -> Vec<String> {
        let frames = std::mem::take(&mut self.under);
        let Some(place) = self.under_place.take() else { return Vec::new() };
        frames.into_iter().flat_map(|f| self.render(f, &place, holding)).collect()
    }

    /// Reads segments until every connection seen has ended (a FIN each way, or a RST) and none of the lesson's
    /// has come for `quiet`, or until `patience` has passed: the last ACKs and FINs after the lesson's last call.
    pub fn settle(&mut self, quiet: Duration, patience: Duration) {
        let deadline = Instant::now() + patience;
        let mut last = Instant::now();
        loop {
            let before = self.pending.len();
            self.read();
            if self.pending[before..].iter().any(|f| self.ours(f).is_some()) {
                last = Instant::now();
            }
            if Instant::now() >= deadline || (self.all_ended() && last.elapsed() >= quiet) {
                return;
            }
            let mut pfd = libc::pollfd { fd: self.reader.fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
            // SAFETY: one pollfd, ours.
            unsafe { libc::poll(&raw mut pfd, 1, 10) };
        }
    }

    /// True when every connection, with the segments not yet printed, has seen a FIN each way or a RST.
    fn all_ended(&self) -> bool {
        let mut ends: HashMap<SocketAddr, (bool, bool, bool)> = HashMap::new();
        for conn in &self.conns {
            let e = ends.entry(conn.peer).or_default();
            e.0 |= conn.fins.iter().any(|f| f.0);
            e.1 |= conn.fins.iter().any(|f| !f.0);
            e.2 |= conn.rst.is_some();
        }
        for frame in &self.pending {
            let Some(from_us) = self.ours(frame) else { continue };
            let peer = if from_us { frame.dst } else { frame.src };
            let e = ends.entry(peer).or_default();
            if frame.flags.syn && !frame.flags.ack {
                *e = (false, false, false);
            }
            e.0 |= frame.flags.fin && from_us;
            e.1 |= frame.flags.fin && !from_us;
            e.2 |= frame.flags.rst;
        }
        ends.values().all(|&(ours, theirs, rst)| rst || (ours && theirs))
    }

    /// One segment as a transcript line, and into the pcapng file with the same text as its comment. `None` for a
    /// segment that is not the lesson's.
    fn render(&mut self, frame: Frame, place: &Place, holding: bool) -> Option<String> {
        let from_us = self.ours(&frame)?;
        let peer = if from_us { frame.dst } else { frame.src };
        // The same peer address again with a new first sequence number is a new connection; with the same one, a
        // retransmitted SYN.
        let fresh_syn = frame.flags.syn && !frame.flags.ack && !from_us;
        let index = match self.conns.iter().rposition(|c| c.peer == peer) {
            Some(i) if !fresh_syn || self.conns[i].isn[1].is_none_or(|isn| isn == frame.seq) => i,
            _ => self.new_conn(peer),
        };
        let voice = self.voice;
        let conn = &mut self.conns[index];
        let side = usize::from(!from_us);
        let isn = *conn.isn[side].get_or_insert(frame.seq);
        let seq = frame.seq.wrapping_sub(isn);
        let other = conn.isn[1 - side];
        let (me, them) = if from_us { (voice.us, conn.label.as_str()) } else { (conn.label.as_str(), voice.us) };
        let flags = frame.flags.name();
        let mut text = format!("wire: {me} → {them}  {flags}  seq {seq}");
        if frame.flags.ack {
            match other {
                Some(isn) => text.push_str(&format!("  ack {}", frame.ack.wrapping_sub(isn))),
                None => text.push_str(&format!("  ack {} (absolute)", frame.ack)),
            }
        }
        text.push_str(&format!("  win {}", frame.window));
        let len = (frame.payload.1 - frame.payload.0) as u64;
        let end = seq.wrapping_add(len as u32).wrapping_add(u32::from(frame.flags.syn || frame.flags.fin));
        let retransmitted = (len > 0 || frame.flags.syn || frame.flags.fin)
            && end <= conn.sent_up_to[side]
            && (conn.sent_up_to[side] > 0 || (frame.flags.syn && conn.handshake.iter().any(|(f, _)| f == &flags)));
        conn.sent_up_to[side] = conn.sent_up_to[side].max(end);
        if len > 0 {
            // The first payload byte is number 0 of the side's stream: the SYN took sequence number 0.
            let first = u64::from(seq.wrapping_sub(1));
            if from_us {
                text.push_str(&format!("  {len} bytes: {}", carried(&conn.our_calls, first, len, conn.let_go, voice)));
            } else {
                conn.peer_payload = conn.peer_payload.max(first + len);
                text.push_str(&format!("  {len} bytes: {}'s bytes {first}–{}", conn.label, first + len - 1));
            }
        }
        if retransmitted {
            conn.retransmissions += 1;
            text.push_str("  (a retransmission: these were sent before)");
        }
        let at = describe(place);
        let step = match conn.handshake.len() {
            0 => frame.flags.syn && !frame.flags.ack,
            1 => frame.flags.syn && frame.flags.ack,
            2 => flags == "ACK" && len == 0 && from_us == conn.syn_from_us,
            _ => false,
        };
        if step && !retransmitted {
            if conn.handshake.is_empty() {
                conn.syn_from_us = from_us;
            }
            conn.handshake.push((flags.clone(), at.clone()));
        }
        let label = if len > 0 { format!("{flags}, {}", plural(len, "byte", "bytes")) } else { flags.clone() };
        let to_server = if conn.label == "server" { from_us } else { !from_us };
        conn.segments += 1;
        if conn.arrows.len() < ARROWS {
            conn.arrows.push((to_server, label.clone(), at.clone()));
        }
        if frame.flags.fin {
            conn.fins.push((from_us, at.clone()));
        }
        if frame.flags.rst && conn.rst.is_none() {
            conn.rst = Some((from_us, at.clone()));
        }
        if let Some(pcap) = &mut self.pcap {
            let comment = format!("{text}, {at}");
            let block = EnhancedPacketBlock {
                interface_id: 0,
                timestamp: frame.at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default(),
                original_len: frame.bytes.len() as u32,
                data: Cow::Borrowed(&frame.bytes),
                options: vec![EnhancedPacketOption::Comment(Cow::Owned(comment))],
            };
            // A write error shows at the end, when the file is flushed.
            let _ = pcap.write_block(&block.into_block());
        }
        self.seen += 1;
        if holding {
            self.hidden += 1;
            return None;
        }
        self.drawn.push(Segment { from_us, label, line: text.clone() });
        Some(text)
    }

    /// The stories the segments tell, one block per connection, and the capture's own losses.
    pub fn story(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        let voice = self.voice;
        let skip = self.conns.len().saturating_sub(STORIES);
        let all = self.forgotten + self.conns.len() as u64;
        if all > STORIES as u64 {
            lines.push(format!("(the last {STORIES} of {all} connections; every segment is listed above)"));
        }
        for conn in self.conns.iter().skip(skip) {
            lines.push(format!("{} {} ↔ {}:", conn.label, conn.peer, voice.us));
            if conn.handshake.len() == 3 {
                let (flags, places): (Vec<_>, Vec<_>) =
                    conn.handshake.iter().map(|(flags, at)| (flags.as_str(), at.as_str())).unzip();
                let text = if places.iter().all(|p| *p == places[0]) {
                    format!("{}, all three {}", flags.join(", "), places[0])
                } else {
                    conn.handshake.iter().map(|(f, at)| format!("{f} {at}")).collect::<Vec<_>>().join(", ")
                };
                lines.push(format!("  the handshake: {text}"));
            }
            let who = |from_us: bool| if from_us { voice.us.to_string() } else { format!("the {}", conn.label) };
            let whose = |from_us: bool| {
                if from_us { format!("{} side", voice.our) } else { format!("the {}'s side", conn.label) }
            };
            match (&conn.rst, conn.fins.first()) {
                (Some((rst_us, at)), first_fin) => {
                    let mut text = format!("  ended by a RST from {}, {at}", who(*rst_us));
                    if let Some((fin_us, fin_at)) = first_fin {
                        text.push_str(&format!(" (after a FIN from {}, {fin_at})", who(*fin_us)));
                    }
                    lines.push(text);
                    if *rst_us && first_fin.is_some_and(|(fin_us, _)| *fin_us) {
                        lines.push(format!(
                            "  the {}'s bytes came after {} FIN: a closed socket answers bytes with RST",
                            conn.label, voice.our
                        ));
                    } else if *rst_us && conn.peer_payload > conn.read {
                        lines.push(format!(
                            "  the {} had sent {} bytes and {} calls read {}: a close with bytes unread sends RST, \
                             not FIN",
                            conn.label, conn.peer_payload, voice.our, conn.read
                        ));
                    }
                    lines.push("  no TIME_WAIT on either side: a reset ends the connection at once".into());
                }
                (None, Some((first_us, at))) => {
                    lines.push(format!("  first to close: {}, with a FIN {at}", who(*first_us)));
                    let second = conn.fins.iter().find(|(us, _)| us != first_us);
                    match second {
                        Some((_, at2)) => {
                            let subject = if *first_us { format!("the {}", conn.label) } else { voice.we.into() };
                            lines.push(format!("  then {subject} sent a FIN, {at2}"));
                            lines.push(format!(
                                "  TIME_WAIT: {}. By TCP's rules (RFC 9293, 3.6) the side that sent the first \
                                 FIN keeps the address pair in TIME_WAIT once the other's FIN comes (60 s on Linux)",
                                whose(*first_us)
                            ));
                        }
                        None => lines.push(format!("  no FIN from {} was seen", who(!first_us))),
                    }
                }
                _ => lines.push("  no FIN or RST was seen while the capture ran".into()),
            }
            let retrans = conn.retransmissions;
            if retrans > 0 {
                lines.push(format!("  retransmissions: {retrans} (TCP sends again what is not acknowledged in time)"));
            }
        }
        if let Some((addr, _)) = self.watched().iter().find(|(addr, _)| !addr.ip().is_loopback()) {
            lines.push(if addr.ip().is_unspecified() {
                "the capture listens on lo only: connections from other machines come in by another interface, and \
                 their segments are not seen"
                    .to_string()
            } else {
                format!("the capture listens on lo only: segments to or from {addr} go by another interface, unseen")
            });
        }
        let mut stats = libc::tpacket_stats { tp_packets: 0, tp_drops: 0 };
        let mut len = std::mem::size_of::<libc::tpacket_stats>() as libc::socklen_t;
        // SAFETY: `stats` and `len` live through the call.
        let rc = unsafe {
            libc::getsockopt(
                self.reader.fd.as_raw_fd(),
                libc::SOL_PACKET,
                PACKET_STATISTICS,
                (&raw mut stats).cast(),
                &raw mut len,
            )
        };
        if rc == 0 && stats.tp_drops > 0 {
            lines.push(format!(
                "the capture missed {} frames on lo (its buffer was full): some segments are not shown",
                stats.tp_drops
            ));
        }
        lines
    }

    /// The segments as arrows between the two sides, one picture per connection (the last three), each
    /// beside the call it came before or during.
    pub fn picture(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let skip = self.conns.len().saturating_sub(PICTURES);
        for conn in self.conns.iter().skip(skip) {
            let (left, right) = if conn.label == "server" {
                (self.voice.as_client, "server")
            } else {
                ("client", self.voice.as_server)
            };
            lines.push(String::new());
            lines.push(format!("{left:<w$}{right}", w = WIDTH + 1));
            lines.push(format!("│{:w$}│", "", w = WIDTH));
            let mut last_at = "";
            for (shown, (to_server, label, at)) in conn.arrows.iter().enumerate() {
                if shown == ARROWS {
                    break;
                }
                let beside = if at == last_at { "" } else { at.as_str() };
                last_at = at;
                lines.push(format!("│{}│  {beside}", arrow(*to_server, label)).trim_end().to_string());
            }
            if conn.segments > conn.arrows.len() as u64 {
                lines.push(format!("… {} more segments, listed above", conn.segments - conn.arrows.len() as u64));
            }
            lines.push(format!("(the {}: {})", conn.label, conn.peer));
        }
        lines
    }

    /// Writes out what the pcapng file still holds.
    pub fn finish(&mut self) -> io::Result<()> {
        self.done = true;
        if let Some(pcap) = self.pcap.take() {
            let mut out = pcap.into_inner();
            io::Write::flush(&mut out)?;
        }
        Ok(())
    }
}

/// How the account names the side whose calls it shows.
#[derive(Clone, Copy, Debug)]
struct Voice {
    /// `client → us`, `a RST from us`.
    us: &'static str,
    /// `our side`, `our calls read`.
    our: &'static str,
    /// `we sent a FIN`.
    we: &'static str,
    /// `no call of ours`.
    ours: &'static str,
    /// The picture's lanes: `client (us)`, `server (us)`.
    as_client: &'static str,
    as_server: &'static str,
}

impl Voice {
    const LESSON: Voice =
        Voice { us: "us", our: "our", we: "we", ours: "ours", as_client: "client (us)", as_server: "server (us)" };
    const TRACE: Voice = Voice {
        us: "the program",
        our: "the program's",
        we: "the program",
        ours: "the program's",
        as_client: "client (the program)",
        as_server: "server (the program)",
    };
}

impl Conn {
    fn new(peer: SocketAddr, label: String) -> Conn {
        Conn {
            peer,
            label,
            isn: [None, None],
            sent_up_to: [0, 0],
            our_calls: Vec::new(),
            let_go: 0,
            read: 0,
            fins: Vec::new(),
            rst: None,
            peer_payload: 0,
            retransmissions: 0,
            handshake: Vec::new(),
            arrows: Vec::new(),
            segments: 0,
            syn_from_us: false,
        }
    }
}

/// Where a segment sits: `before call 6 (accept4)`.
fn describe(place: &Place) -> String {
    match place {
        Place::Before { number, name } => format!("before call {number} ({name}) began"),
        Place::During { number, name } => format!("during call {number} ({name})"),
        Place::After { number } => format!("after call {number}"),
        Place::First => "before the first call".into(),
        Place::At { number, name } => format!("at call {number} ({name})"),
        Place::Either { first: (a, a_name), second: (b, b_name) } => {
            format!("at call {a} ({a_name}) or call {b} ({b_name}): the clocks cannot tell which")
        }
    }
}

/// Which calls' bytes `len` bytes from stream offset `first` are: `call 9's bytes 0–117 (sendto)`; the calls
/// listed begin at stream offset `start`.
fn carried(calls: &[(u64, &'static str, u64)], first: u64, len: u64, start: u64, voice: Voice) -> String {
    let mut pieces = Vec::new();
    if first < start {
        pieces.push(format!(
            "stream bytes {first}–{} (sent by earlier calls, no longer listed)",
            (first + len).min(start) - 1
        ));
    }
    let mut start = start;
    for &(number, name, count) in calls {
        let (from, to) = (first.max(start), (first + len).min(start + count));
        if from < to {
            let whole = from == start && to == start + count;
            pieces.push(if whole {
                format!("all of call {number}'s ({name})")
            } else {
                format!("call {number}'s bytes {}–{} ({name})", from - start, to - start - 1)
            });
        }
        start += count;
    }
    if start < first + len {
        pieces.push(format!(
            "stream bytes {}–{} (no call of {} is known to have sent them)",
            first.max(start),
            first + len - 1,
            voice.ours,
        ));
    }
    pieces.join(" and ")
}

/// A TCP segment from a frame of `lo` (an Ethernet header of zeros, then IP).
fn parse(bytes: &[u8], at: SystemTime) -> Option<Frame> {
    let packet = SlicedPacket::from_ethernet(bytes).ok()?;
    let (src, dst): (IpAddr, IpAddr) = match packet.net.as_ref()? {
        NetSlice::Ipv4(ip) => (ip.header().source_addr().into(), ip.header().destination_addr().into()),
        NetSlice::Ipv6(ip) => (ip.header().source_addr().into(), ip.header().destination_addr().into()),
        NetSlice::Arp(_) => return None,
    };
    let Some(TransportSlice::Tcp(tcp)) = &packet.transport else { return None };
    let payload = tcp.payload();
    let offset = payload.as_ptr() as usize - bytes.as_ptr() as usize;
    Some(Frame {
        at,
        bytes: bytes.to_vec(),
        src: SocketAddr::new(src, tcp.source_port()),
        dst: SocketAddr::new(dst, tcp.destination_port()),
        seq: tcp.sequence_number(),
        ack: tcp.acknowledgment_number(),
        flags: Flags { syn: tcp.syn(), ack: tcp.ack(), fin: tcp.fin(), rst: tcp.rst(), psh: tcp.psh() },
        window: tcp.window_size(),
        payload: (offset, offset + payload.len()),
    })
}

/// `try_clone_to_owned`, at descriptor `lowest` or above (`fcntl(F_DUPFD_CLOEXEC)`).
trait DupAbove {
    fn try_clone_to_owned_at_least(&self, lowest: RawFd) -> io::Result<OwnedFd>;
}

impl DupAbove for BorrowedFd<'_> {
    fn try_clone_to_owned_at_least(&self, lowest: RawFd) -> io::Result<OwnedFd> {
        // SAFETY: duplicating a descriptor we borrow; the new one is ours.
        let fd = unsafe { libc::fcntl(self.as_raw_fd(), libc::F_DUPFD_CLOEXEC, lowest) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just made for us.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

fn set_int(fd: &OwnedFd, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` lives through the call, `len` is its size.
    if unsafe { libc::setsockopt(fd.as_raw_fd(), level, name, (&raw const value).cast(), len) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A new pcapng file at `path`: its section (named after `title`) and the one interface, `lo`.
fn pcapng(path: &Path, title: &str) -> io::Result<PcapNgWriter<BufWriter<File>>> {
    // Out of the lesson's way too, as the capture socket is: the lesson's sockets keep their numbers.
    let file = super::files::create(path, CAPTURE_FD + 1)?;
    let file = BufWriter::new(file);
    let section = SectionHeaderBlock {
        endianness: pcap_file::Endianness::native(),
        options: vec![
            SectionHeaderOption::Comment(Cow::Owned(title.to_string())),
            SectionHeaderOption::UserApplication(Cow::Borrowed("hhttpp")),
        ],
        ..Default::default()
    };
    let to_io = |err: pcap_file::PcapError| io::Error::other(err.to_string());
    let mut writer = PcapNgWriter::with_section_header(file, section).map_err(to_io)?;
    let interface = InterfaceDescriptionBlock {
        linktype: DataLink::ETHERNET,
        snaplen: FRAME_MAX as u32,
        // pcap-file writes nanoseconds: say so (the format's default is microseconds).
        options: vec![
            InterfaceDescriptionOption::IfName(Cow::Borrowed("lo")),
            InterfaceDescriptionOption::IfTsResol(9),
        ],
    };
    writer.write_block(&interface.into_block()).map_err(to_io)?;
    Ok(writer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_names_the_calls_whose_bytes_it_carries() {
        let calls = [(9, "sendto", 100), (10, "sendto", 50)];
        assert_eq!(carried(&calls, 0, 100, 0, Voice::LESSON), "all of call 9's (sendto)");
        assert_eq!(
            carried(&calls, 90, 20, 0, Voice::LESSON),
            "call 9's bytes 90–99 (sendto) and call 10's bytes 0–9 (sendto)"
        );
        assert_eq!(carried(&calls, 1000, 10, 1000, Voice::TRACE), "call 9's bytes 0–9 (sendto)");
        assert_eq!(
            carried(&calls, 0, 10, 1000, Voice::TRACE),
            "stream bytes 0–9 (sent by earlier calls, no longer listed)"
        );
    }

    /// A segment of the lesson's, as `lo` would carry it.
    fn segment(from: u16, to: u16, seq: u32, ack: Option<u32>, flags: &str, payload: &[u8]) -> Frame {
        let mut builder = etherparse::PacketBuilder::ethernet2([0; 6], [0; 6])
            .ipv4([127, 0, 0, 1], [127, 0, 0, 1], 64)
            .tcp(from, to, seq, 512);
        if flags.contains("SYN") {
            builder = builder.syn();
        }
        if flags.contains("RST") {
            builder = builder.rst();
        }
        if let Some(ack) = ack {
            builder = builder.ack(ack);
        }
        let mut bytes = Vec::new();
        builder.write(&mut bytes, payload).expect("a segment");
        parse(&bytes, SystemTime::now()).expect("a TCP segment")
    }

    #[test]
    fn segments_are_shown_relative_to_each_sides_first_and_tell_their_story() {
        // A pipe stands in for the capture socket: the test hands the segments over itself.
        let (reader, _writer) = std::io::pipe().expect("a pipe");
        let mut capture = Capture::reading(OwnedFd::from(reader));
        capture.watch("127.0.0.1:8338".parse().expect("an address"), true);
        capture.pending = vec![
            segment(50000, 8338, 1000, None, "SYN", b""),
            segment(50000, 8338, 1000, None, "SYN", b""),
            segment(8338, 50000, 7000, Some(1001), "SYN", b""),
            segment(50000, 8338, 1001, Some(7001), "", b""),
            segment(50000, 8338, 1001, Some(7001), "", b"HELLO"),
            segment(9999, 9998, 1, None, "SYN", b""),
            segment(8338, 50000, 7001, Some(1006), "RST", b""),
        ];
        let lines = capture.before_next(Some(6), false);
        assert_eq!(
            lines,
            [
                "wire: client → us  SYN  seq 0  win 512",
                "wire: client → us  SYN  seq 0  win 512  (a retransmission: these were sent before)",
                "wire: us → client  SYN-ACK  seq 0  ack 1  win 512",
                "wire: client → us  ACK  seq 1  ack 1  win 512",
                "wire: client → us  ACK  seq 1  ack 1  win 512  5 bytes: client's bytes 0–4",
                "wire: us → client  RST-ACK  seq 1  ack 6  win 512",
            ],
            "a segment of another port is not the lesson's"
        );
        let story = capture.story();
        assert!(story.contains(&"  ended by a RST from us, after call 5".to_string()), "{story:?}");
        assert!(story.iter().any(|l| l.contains("the client had sent 5 bytes and our calls read 0")), "{story:?}");
        assert!(story.iter().any(|l| l.starts_with("  retransmissions: 1")), "{story:?}");
    }

    #[test]
    fn flags_are_named_as_people_say_them() {
        let f = Flags { syn: true, ack: true, ..Flags::default() };
        assert_eq!(f.name(), "SYN-ACK");
        assert_eq!(Flags { fin: true, ack: true, ..Flags::default() }.name(), "FIN-ACK");
    }
}
