//! The traced socket: the only code in hhttpp that makes socket calls.
//!
//! Each method makes exactly one system call through `socket2` (which adds nothing of its own on Linux), prints it
//! with its arguments and the kernel's answer, and prints the blog's Python line that makes the same call. The one
//! method that makes several calls, [`Sendall::send`], prints every one of them, or, past the first few of a long
//! run, counts them and says so.
//!
//! We never use std's `TcpListener`: its `bind` makes four calls at once (socket, setsockopt, bind, and
//! `listen(128)`), and a lesson cannot show what it cannot see.

use std::cell::Cell;
use std::ffi::CString;
use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, IntoRawFd, RawFd};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use socket2::{Domain, SockAddr, Socket, Type};

use super::diagram::{self, Event, Side};
use super::format::{self, plural};
use super::record::Direction;
use super::tracer::Tracer;
use super::transcript::Gap;
use crate::error::Error;
use crate::interrupt;

/// The size of the `struct sockaddr_storage` that socket2 hands to `accept4` and `getsockname` for the address.
const SOCKADDR_STORAGE_LEN: usize = std::mem::size_of::<libc::sockaddr_storage>();

/// How many `sendto` calls of one `sendall` are printed before the rest are summarised.
pub const SENDTO_SHOWN: u64 = 3;

/// The unspecified address of `addr`'s family, port 0: the remote end of a listener in the kernel's table.
fn unspecified(addr: &SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        SocketAddr::V6(_) => SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0)),
    }
}

/// A socket whose every call is printed in the transcript.
///
/// `name` is the socket's variable name in the blog's Python (`s`, `client_connection`), used in the Python lines.
pub struct TracedSocket<'t> {
    /// `None` once the socket has been closed.
    socket: Option<Socket>,
    fd: RawFd,
    name: &'static str,
    /// The address at the other end, or where we listen: it names the socket in error messages.
    addr: Option<SocketAddr>,
    /// True once `shutdown` has run: the TCP state is then in flux, and not shown.
    shut_down: Cell<bool>,
    /// The socket's (local, remote) addresses as the kernel last reported them, or our best guess before it has:
    /// asked first when its TCP state is looked up. A listener's remote is unspecified, with port 0.
    pair: Cell<Option<(SocketAddr, SocketAddr)>>,
    /// Which end of a connection we are, once `accept4` or `connect` made one.
    side: Option<Side>,
    /// The `SO_SNDTIMEO` we set, if any: a `sendto` that waited this long and moved only part of its bytes (or
    /// none) means the peer has read nothing for that long.
    send_timeout: Cell<Option<Duration>>,
    /// Made by the blog's `with socket.socket(…) as s:` line, which closes it at the end of its block.
    in_with: bool,

    tracer: &'t Tracer,
}

impl<'t> TracedSocket<'t> {
    /// `socket(2)`: a new TCP socket of `addr`'s family (IPv4 or IPv6).
    ///
    /// socket2 asks for `SOCK_CLOEXEC` too, so the descriptor is not inherited by programs we might start.
    pub fn new(tracer: &'t Tracer, name: &'static str, addr: &SocketAddr) -> Result<Self, Error> {
        Self::open(tracer, name, addr, false)
    }

    /// The blog's listening socket, `s`: made like [`new`](Self::new), but in the blog's words for an IPv4 one, a
    /// `with` block (whose end is where we close it).
    pub fn new_listener(tracer: &'t Tracer, addr: &SocketAddr) -> Result<Self, Error> {
        Self::open(tracer, "s", addr, addr.is_ipv4())
    }

    fn open(tracer: &'t Tracer, name: &'static str, addr: &SocketAddr, in_with: bool) -> Result<Self, Error> {
        let (domain, py_family) = match addr {
            SocketAddr::V4(_) => (Domain::IPV4, "AF_INET"),
            SocketAddr::V6(_) => (Domain::IPV6, "AF_INET6"),
        };
        check_interrupt()?;
        // The blog makes its socket in a `with` block, which also closes it at the block's end.
        if in_with {
            tracer.python("with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:")?;
        } else {
            tracer.python(&format!("{name} = socket.socket(socket.{py_family}, socket.SOCK_STREAM)"))?;
        }
        tracer.step("socket")?;
        let result = Socket::new(domain, Type::STREAM, None);
        tracer.returned();
        let args = format!("{}, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP", format::family(addr));
        match result {
            Ok(socket) => {
                let fd = socket.as_raw_fd();
                tracer.call("socket", &args, Ok(fd.to_string()), None)?;
                Ok(TracedSocket {
                    socket: Some(socket),
                    fd,
                    name,
                    addr: None,
                    shut_down: Cell::default(),
                    pair: Cell::default(),
                    side: None,
                    send_timeout: Cell::default(),
                    in_with,
                    tracer,
                })
            }
            Err(err) => {
                tracer.call("socket", &args, Err(&err), None)?;
                Err(call_error("socket", "create a socket".into(), err))
            }
        }
    }

    /// The file descriptor the kernel gave this socket.
    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// `setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)`: let a restarted server bind its port again at once, even while
    /// the old connections on it wait out TIME_WAIT.
    pub fn set_reuse_address(&self) -> Result<(), Error> {
        let socket =
            self.begin("setsockopt", &format!("{}.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)", self.name))?;
        let result = socket.set_reuse_address(true);
        let args = format!("{}, SOL_SOCKET, SO_REUSEADDR, [1], 4", self.fd);
        self.finish("setsockopt", args, result, |_| "0".into(), || "set SO_REUSEADDR".into())
    }

    /// `setsockopt(SOL_SOCKET, SO_RCVTIMEO, …)`: make a `recvfrom` that waits longer than `timeout` fail with
    /// `EAGAIN` instead of waiting for ever.
    pub fn set_read_timeout(&self, timeout: Duration) -> Result<(), Error> {
        self.set_timeout("SO_RCVTIMEO", timeout, Socket::set_read_timeout)
    }

    /// `setsockopt(SOL_SOCKET, SO_SNDTIMEO, …)`: make a `sendto` that waits longer than `timeout` for room in the
    /// send buffer (the peer reads nothing) return what it moved so far, or fail with `EAGAIN`.
    pub fn set_write_timeout(&self, timeout: Duration) -> Result<(), Error> {
        self.set_timeout("SO_SNDTIMEO", timeout, Socket::set_write_timeout)?;
        self.send_timeout.set(Some(timeout));
        Ok(())
    }

    /// One `setsockopt(SOL_SOCKET, option, struct timeval)` with `set`, socket2's setter for `option`.
    fn set_timeout(
        &self,
        option: &str,
        timeout: Duration,
        set: impl FnOnce(&Socket, Option<Duration>) -> io::Result<()>,
    ) -> Result<(), Error> {
        let (sec, usec) = (timeout.as_secs(), timeout.subsec_micros());
        let python =
            format!("{}.setsockopt(socket.SOL_SOCKET, socket.{option}, struct.pack(\"ll\", {sec}, {usec}))", self.name);
        let socket = self.begin(&format!("setsockopt {option}"), &python)?;
        let result = set(socket, Some(timeout));
        let size = std::mem::size_of::<libc::timeval>();
        let args = format!("{}, SOL_SOCKET, {option}, {{tv_sec={sec}, tv_usec={usec}}}, {size}", self.fd);
        self.finish("setsockopt", args, result, |_| "0".into(), || format!("set {option}"))
    }

    /// `setsockopt(SOL_SOCKET, SO_LINGER, {on, 0 s})`: make the next `close` reset the connection (the kernel sends
    /// RST and drops what is unsent) instead of ending it with a FIN, which would tell the client it has it all.
    pub fn set_linger_zero(&self) -> Result<(), Error> {
        let python =
            format!("{}.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack(\"ii\", 1, 0))", self.name);
        let socket = self.begin("setsockopt SO_LINGER", &python)?;
        let result = socket.set_linger(Some(Duration::ZERO));
        let size = std::mem::size_of::<libc::linger>();
        let args = format!("{}, SOL_SOCKET, SO_LINGER, {{l_onoff=1, l_linger=0}}, {size}", self.fd);
        self.finish("setsockopt", args, result, |_| "0".into(), || "set SO_LINGER".into())
    }

    /// The address at the other end (or where we listen), once known.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// With a send timeout set: the call that took `took` and moved `moved` of `wanted` bytes (`None`: it failed
    /// with `errno`) shows that the peer has read nothing for the whole timeout.
    fn stalled(&self, took: Duration, moved: Option<usize>, wanted: usize, errno: Option<i32>) -> Option<Error> {
        let timeout = self.send_timeout.get()?;
        let stalled = match moved {
            Some(n) => n < wanted && took >= timeout.mul_f64(0.9),
            None => errno == Some(libc::EAGAIN),
        };
        stalled.then(|| Error::Stalled { peer: self.describe(), waited: timeout })
    }

    /// `bind(2)`: reserve `addr` (an address and a port) for this socket.
    pub fn bind(&mut self, addr: &SocketAddr) -> Result<(), Error> {
        // The blog's listener binds `(ip, port)`, two variables it sets first: shown with the values we bind.
        let python = if self.in_with {
            self.tracer.python(&format!("ip = \"{}\"", addr.ip()))?;
            self.tracer.python(&format!("port = {}", addr.port()))?;
            "s.bind((ip, port))".to_string()
        } else {
            format!("{}.bind((\"{}\", {}))", self.name, addr.ip(), addr.port())
        };
        let socket = self.begin("bind", &python)?;
        let result = socket.bind(&SockAddr::from(*addr));
        let args = format!("{}, {}, {}", self.fd, format::sockaddr(addr), format::sockaddr_len(addr));
        self.finish("bind", args, result, |_| "0".into(), || format!("bind {}", format::host_port(addr)))?;
        self.addr = Some(*addr);
        // With port 0 the kernel chooses the port: not known until getsockname, so there is no guess to ask at.
        if addr.port() != 0 {
            self.tracer.watch(*addr);
            self.pair.set(Some((*addr, unspecified(addr))));
        }
        Ok(())
    }

    /// `connect(2)`: open a connection to `addr`; the kernel makes the TCP handshake and returns when it is done.
    pub fn connect(&mut self, addr: &SocketAddr) -> Result<(), Error> {
        let socket = self.begin("connect", &format!("{}.connect((\"{}\", {}))", self.name, addr.ip(), addr.port()))?;
        let result = socket.connect(&SockAddr::from(*addr));
        let args = format!("{}, {}, {}", self.fd, format::sockaddr(addr), format::sockaddr_len(addr));
        // Known before the call's state is read: a connected socket is in the kernel's table.
        self.addr = Some(*addr);
        self.finish("connect", args, result, |_| "0".into(), || format!("connect to {}", format::host_port(addr)))?;
        self.side = Some(Side::Client);
        self.tracer.event(Event::Opened { fd: self.fd, peer: *addr, we_are: Side::Client })?;
        Ok(())
    }

    /// `listen(2)`: start queueing connection requests, at most `backlog` of them waiting to be accepted.
    pub fn listen(&self, backlog: i32) -> Result<(), Error> {
        let socket = self.begin("listen", &format!("{}.listen({backlog})", self.name))?;
        let result = socket.listen(backlog);
        let args = format!("{}, {backlog}", self.fd);
        self.finish("listen", args, result, |_| "0".into(), || format!("listen on {}", self.describe()))
    }

    /// `getsockname(2)`: the address the socket is bound to, with the real port when we asked for port 0.
    pub fn local_addr(&mut self) -> Result<SocketAddr, Error> {
        let socket = self.begin("getsockname", &format!("{}.getsockname()", self.name))?;
        let result = socket.local_addr().and_then(inet_addr);
        let args = match &result {
            Ok(addr) => format!(
                "{}, {}, [{SOCKADDR_STORAGE_LEN} => {}]",
                self.fd,
                format::sockaddr(addr),
                format::sockaddr_len(addr)
            ),
            Err(_) => format!("{}, addr, [{SOCKADDR_STORAGE_LEN}]", self.fd),
        };
        let addr = self.finish("getsockname", args, result, |_| "0".into(), || "read the socket's address".into())?;
        self.addr = Some(addr);
        self.tracer.watch(addr);
        self.pair.set(Some((addr, unspecified(&addr))));
        Ok(addr)
    }

    /// `accept4(2)`: wait for the next connection and return a new socket for it, with the client's address.
    ///
    /// The new socket is named `client_connection`, as in the blog.
    pub fn accept(&self) -> Result<(TracedSocket<'t>, SocketAddr), Error> {
        let socket = self.begin("accept4", &format!("client_connection, client_address = {}.accept()", self.name))?;
        let result = socket.accept().and_then(|(socket, peer)| Ok((socket, inet_addr(peer)?)));
        let args = match &result {
            Ok((_, peer)) => format!(
                "{}, {}, [{SOCKADDR_STORAGE_LEN} => {}], SOCK_CLOEXEC",
                self.fd,
                format::sockaddr(peer),
                format::sockaddr_len(peer)
            ),
            Err(_) => format!("{}, addr, [{SOCKADDR_STORAGE_LEN}], SOCK_CLOEXEC", self.fd),
        };
        // The new connection's addresses: ours is where we listen (where we listen on every address, most likely
        // the one the client came from, as on loopback), the client's is the one accept4 returned.
        let guess = |peer: SocketAddr| {
            self.pair.get().map(|(local, _)| {
                let ip = if local.ip().is_unspecified() { peer.ip() } else { local.ip() };
                (SocketAddr::new(ip, local.port()), peer)
            })
        };
        let (socket, peer) = self.finish_and_show(
            "accept4",
            args,
            result,
            |(socket, _)| socket.as_raw_fd().to_string(),
            || format!("accept a connection on {}", self.describe()),
            |(socket, peer)| Some((socket, guess(*peer))),
        )?;
        self.tracer.count_connection();
        let fd = socket.as_raw_fd();
        self.tracer.event(Event::Opened { fd, peer, we_are: Side::Server })?;
        let conn = TracedSocket {
            socket: Some(socket),
            fd,
            name: "client_connection",
            addr: Some(peer),
            shut_down: Cell::default(),
            pair: Cell::new(guess(peer)),
            side: Some(Side::Server),
            send_timeout: Cell::default(),
            in_with: false,
            tracer: self.tracer,
        };
        Ok((conn, peer))
    }

    /// `recvfrom(2)`: wait for bytes and copy up to `buf.len()` of them into `buf`; 0 means the peer closed.
    ///
    /// One call, so it returns whatever has arrived: maybe less than the peer sent (see the lesson texts).
    pub fn recv(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let python = format!("{} = {}.recv({})", self.received_name(), self.name, buf.len());
        let mut socket = self.begin("recvfrom", &python)?;
        // socket2's `Read` for `&Socket` is exactly one recv(2), which glibc makes as recvfrom(fd, buf, len, 0,
        // NULL, NULL).
        let result = socket.read(buf);
        let args = format!("{}, buf, {}, 0, NULL, NULL", self.fd, buf.len());
        let n =
            self.finish("recvfrom", args, result, |n| n.to_string(), || format!("receive from {}", self.describe()))?;
        self.tracer.data(Direction::Received, &buf[..n])?;
        self.tracer.event(match n {
            0 => Event::PeerClosed { fd: self.fd, call: "recvfrom" },
            n => Event::Received {
                fd: self.fd,
                call: "recvfrom",
                bytes: n as u64,
                first_line: diagram::first_line(&buf[..n]),
            },
        })?;
        Ok(n)
    }

    /// Python's `send(bytes)`: one `sendto(2)`, which hands the kernel as many of `bytes` as it takes now (all of
    /// a short head, on a fresh connection); returns how many. `what` is the Python expression being sent.
    pub fn send(&self, what: &str, bytes: &[u8]) -> Result<usize, Error> {
        check_interrupt()?;
        self.tracer.python(&format!("{}.send({what})", self.name))?;
        self.send_once(bytes)
    }

    /// Python's `sendall(bytes)`: as many `sendto(2)` calls as it takes to hand all of `bytes` to the kernel.
    ///
    /// `what` is the Python variable being sent (`response`, `header`).
    pub fn sendall(&self, what: &str, bytes: &[u8]) -> Result<(), Error> {
        let mut sendall = self.begin_sendall(what, bytes.len() as u64)?;
        sendall.send(bytes)?;
        sendall.finish()
    }

    /// Starts one `sendall` of `total` bytes that come in pieces (a file read chunk by chunk): prints its Python
    /// line once. Each piece is then given to [`Sendall::send`].
    pub fn begin_sendall(&self, what: &str, total: u64) -> Result<Sendall<'_, 't>, Error> {
        check_interrupt()?;
        self.tracer.python(&format!("{}.sendall({what})", self.name))?;
        Ok(Sendall { socket: self, run: Run::new("sendto", total) })
    }

    /// Python's `sendfile(file)`: starts sending `total` bytes of `file`, from its start, with `sendfile(2)`
    /// calls (see [`Sendfile::send_rest`]). Prints the Python line once.
    ///
    /// The kernel copies the file's pages to the socket itself: the bytes never enter our memory, which is what
    /// this saves, and also why the transcript cannot dump them.
    pub fn begin_sendfile(&self, what: &str, total: u64) -> Result<Sendfile<'_, 't>, Error> {
        check_interrupt()?;
        // not the blog's line: ours (the blog sends with sendall; Python's socket has sendfile too)
        self.tracer.python(&format!("{}.sendfile({what})", self.name))?;
        Ok(Sendfile { socket: self, run: Run::new("sendfile", total), offset: 0 })
    }

    /// One `sendfile(2)`: the kernel sends up to `count` bytes of `file` from `*offset` and moves `*offset` on by
    /// as many. strace's shape: `sendfile(5, 3, [0] => [8347], 8347) = 8347`, the offset before and after (only
    /// before when it did not move).
    fn sendfile_once(&self, file: &File, offset: &mut u64, count: usize) -> Result<usize, Error> {
        check_interrupt()?;
        self.tracer.step("sendfile")?;
        let socket = self.socket()?;
        let before = *offset;
        let result = rustix::fs::sendfile(socket, file, Some(offset), count).map_err(io::Error::from);
        let moved = if *offset == before { String::new() } else { format!(" => [{offset}]") };
        let file_fd = file.as_raw_fd();
        let args = format!("{}, {file_fd}, [{before}]{moved}, {count}", self.fd);
        let n = self.finish("sendfile", args, result, |n| n.to_string(), || format!("send to {}", self.describe()))?;
        self.tracer.sent_from_file(file_fd, n as u64)?;
        if n > 0 {
            self.tracer.event(Event::SentFile { fd: self.fd, bytes: n as u64 })?;
        }
        Ok(n)
    }

    /// One `sendto(2)`: the kernel takes some of `bytes` (all of them, for a blocking socket, unless interrupted).
    fn send_once(&self, bytes: &[u8]) -> Result<usize, Error> {
        check_interrupt()?;
        self.tracer.step("sendto")?;
        let result = self.socket()?.send(bytes);
        let args = format!("{}, buf, {}, 0, NULL, 0", self.fd, bytes.len());
        let n = self.finish("sendto", args, result, |n| n.to_string(), || format!("send to {}", self.describe()))?;
        self.tracer.data(Direction::Sent, &bytes[..n])?;
        self.tracer.event(Event::Sent {
            fd: self.fd,
            call: "sendto",
            bytes: n as u64,
            first_line: diagram::first_line(&bytes[..n]),
        })?;
        Ok(n)
    }

    /// `shutdown(2)`: tell the peer nothing more is coming (`SHUT_WR`), or stop both ways (`SHUT_RDWR`).
    pub fn shutdown(&self, how: Shutdown) -> Result<(), Error> {
        let (c_how, py_how) = match how {
            Shutdown::Read => ("SHUT_RD", "socket.SHUT_RD"),
            Shutdown::Write => ("SHUT_WR", "socket.SHUT_WR"),
            Shutdown::Both => ("SHUT_RDWR", "socket.SHUT_RDWR"),
        };
        let socket = self.begin("shutdown", &format!("{}.shutdown({py_how})", self.name))?;
        if how != Shutdown::Read {
            self.ending("shutdown");
        }
        let result = socket.shutdown(how);
        self.shut_down.set(result.is_ok());
        let args = format!("{}, {c_how}", self.fd);
        self.finish(
            "shutdown",
            args,
            result,
            |_| "0".into(),
            || format!("shut down the connection to {}", self.describe()),
        )?;
        self.tracer.event(Event::Shutdown { fd: self.fd, how: c_how })?;
        Ok(())
    }

    /// `close(2)`: give the descriptor back to the kernel. Printed with the kernel's real answer.
    pub fn close(mut self) -> Result<(), Error> {
        // No interrupt check: after Ctrl-C we still want every socket closed, and printed.
        if self.in_with {
            self.tracer.python("s.close()  # where the blog's `with` block ends")?;
        } else {
            self.tracer.python(&format!("{}.close()", self.name))?;
        }
        self.tracer.step("close")?;
        self.close_now()?.map_err(|err| call_error("close", format!("close the socket to {}", self.describe()), err))
    }

    /// Closes the descriptor with one `close(2)` and prints it. The outer result is the transcript's, the inner one
    /// the kernel's.
    ///
    /// We close the raw descriptor ourselves instead of dropping the `Socket`: the drop would hide the result (and
    /// in debug builds std makes an extra `fcntl` first).
    fn close_now(&mut self) -> Result<io::Result<()>, Error> {
        let Some(socket) = self.socket.take() else {
            return Ok(Ok(()));
        };
        self.ending("close");
        let fd = socket.into_raw_fd();
        // SAFETY: `fd` came from `into_raw_fd`, so we own it and nothing else will close or use it. We call libc
        // rather than rustix's `close`, which discards the kernel's answer: the transcript prints it.
        let rc = unsafe { libc::close(fd) };
        self.tracer.returned();
        let result = if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) };
        // The descriptor is gone; what the kernel keeps of the connection (FIN_WAIT2, TIME_WAIT) changes in the
        // next instants, as the peer answers, so the transcript shows it once settled, after the lesson.
        match &result {
            Ok(()) => self.tracer.call("close", &fd.to_string(), Ok("0".into()), None)?,
            Err(err) => self.tracer.call("close", &fd.to_string(), Err(err), None)?,
        }
        self.tracer.event(Event::Closed { fd })?;
        Ok(result)
    }

    /// Before a call: stop if Ctrl-C was pressed, print the blog's Python line, wait for the learner with
    /// `--step`, and hand out the socket.
    fn begin(&self, name: &str, python: &str) -> Result<&Socket, Error> {
        check_interrupt()?;
        self.tracer.python(python)?;
        self.tracer.step(name)?;
        self.socket()
    }

    /// The blog's variable for received bytes: the server's `raw_data`, the client's `response`.
    fn received_name(&self) -> &'static str {
        if self.name == "client_connection" { "raw_data" } else { "response" }
    }

    fn socket(&self) -> Result<&Socket, Error> {
        // Only `close` and `drop` empty it, and both take the socket for good: no method runs on a closed socket.
        self.socket
            .as_ref()
            .ok_or_else(|| call_error("close", "use a closed socket".into(), io::Error::from_raw_os_error(libc::EBADF)))
    }

    /// Prints one finished call, `name(args) = value` on success or `= -1 ERRNO (message)` on failure, and turns a
    /// failure into an [`Error`] that says what we were trying to `what`.
    fn finish<T>(
        &self,
        name: &'static str,
        args: String,
        result: io::Result<T>,
        value: impl FnOnce(&T) -> String,
        what: impl FnOnce() -> String,
    ) -> Result<T, Error> {
        self.finish_and_show(name, args, result, value, what, |_| None)
    }

    /// [`finish`](Self::finish), also showing the TCP state of the socket the call returned (`accept4`'s).
    fn finish_and_show<T>(
        &self,
        name: &'static str,
        args: String,
        result: io::Result<T>,
        value: impl FnOnce(&T) -> String,
        what: impl FnOnce() -> String,
        returned: impl FnOnce(&T) -> Option<(&Socket, Option<(SocketAddr, SocketAddr)>)>,
    ) -> Result<T, Error> {
        self.tracer.returned();
        match result {
            Ok(ok) => {
                let mut state = self.socket.as_ref().and_then(|s| self.tcp_state(s, &self.pair)).map(str::to_string);
                if let Some((new, guess)) = returned(&ok)
                    && let Some(new_state) = self.tcp_state(new, &Cell::new(guess))
                {
                    state = Some(format!("{}; fd {}: {new_state}", state.unwrap_or_default(), new.as_raw_fd()));
                }
                self.tracer.call(name, &args, Ok(value(&ok)), state.as_deref())?;
                Ok(ok)
            }
            Err(err) => {
                self.tracer.call(name, &args, Err(&err), None)?;
                let errno = err.raw_os_error().map_or_else(|| "?".to_string(), crate::errno::name);
                self.tracer.event(Event::Failed { fd: self.fd, call: name, errno })?;
                Err(call_error(name, what(), err))
            }
        }
    }

    /// The TCP state the kernel reports for `socket` now, if it lists it, asked first at the addresses in `pair`,
    /// which learns the ones the kernel reports. A connection's pair of addresses is remembered, to find what the
    /// kernel keeps of it after the lesson.
    fn tcp_state(&self, socket: &Socket, pair: &Cell<Option<(SocketAddr, SocketAddr)>>) -> Option<&'static str> {
        if self.tracer.skips_states() {
            return None;
        }
        if self.shut_down.get() {
            // After our FIN the state changes within microseconds, as the peer answers (FIN_WAIT1, FIN_WAIT2, then
            // out of the table as TIME_WAIT): a reading now would differ from run to run. The settled state is
            // shown after the lesson.
            return None;
        }
        if pair.get().is_none() && self.addr.is_none() {
            // Only made, not yet bound or connected: the kernel lists no state for it.
            return None;
        }
        let entry = self.tracer.states().of_socket(socket.as_fd(), pair.get())?;
        pair.set(Some((entry.local, entry.remote)));
        if !entry.remote.ip().is_unspecified() {
            self.tracer.connection_pair(entry.local, entry.remote);
        }
        Some(entry.state)
    }

    /// Just before a call that ends our side of a connection (`shutdown` for writing, `close`): keeps what the
    /// kernel's table says of it now (its state, the bytes received and never read), for the aftermath.
    fn ending(&self, call: &'static str) {
        if let (Some(side), Some((local, remote))) = (self.side, self.pair.get())
            && !self.tracer.skips_states()
        {
            self.tracer.ending(call, side, local, remote);
        }
    }

    fn describe(&self) -> String {
        match &self.addr {
            Some(addr) => format::host_port(addr),
            None => format!("socket {}", self.fd),
        }
    }
}

impl Drop for TracedSocket<'_> {
    /// A socket still open when it goes out of scope (a lesson ended early) is closed here, and the close is
    /// printed like any other: the transcript never leaves out a call that happened.
    fn drop(&mut self) {
        if self.socket.is_some() {
            let _ = self.tracer.python(&format!("{}.close()  # on the way out", self.name));
            let _ = self.close_now();
        }
    }
}

/// One `sendall` in progress; see [`TracedSocket::begin_sendall`].
///
/// The first [`SENDTO_SHOWN`] `sendto` calls are printed with their dumps. A longer run (a big file) is then
/// summarised: the calls are counted, a progress bar runs on stderr when it is a terminal, and at the end one line
/// says how many calls and bytes were not shown before the last call is printed in full.
pub struct Sendall<'a, 't> {
    socket: &'a TracedSocket<'t>,
    run: Run,
}

/// One `sendfile` run in progress; see [`TracedSocket::begin_sendfile`]. Summarised like a [`Sendall`].
pub struct Sendfile<'a, 't> {
    socket: &'a TracedSocket<'t>,
    run: Run,
    /// The file's offset of the next byte to send; the kernel moves it on.
    offset: u64,
}

/// A run of calls of one kind (`sendto` or `sendfile`) that hand one payload to the kernel: what they moved, and
/// what of them has not been printed.
struct Run {
    call: &'static str,
    total: u64,
    bytes: u64,
    calls: u64,
    progress: Option<ProgressBar>,
    /// While the calls are summarised: what has not been printed.
    held: Option<Held>,
}

/// The calls of a summarised run: the first one's number, how many, their bytes, and the last one's bytes (it is
/// printed, so it is not among those left out).
struct Held {
    first: u64,
    calls: u64,
    bytes: u64,
    last: u64,
}

impl Run {
    fn new(call: &'static str, total: u64) -> Run {
        Run { call, total, bytes: 0, calls: 0, progress: None, held: None }
    }

    /// Before each call: after the first [`SENDTO_SHOWN`], start summarising.
    fn before_call(&mut self, tracer: &Tracer) {
        if self.calls == SENDTO_SHOWN && self.progress.is_none() && self.held.is_none() {
            if tracer.hold() {
                self.held = Some(Held { first: tracer.calls() + 1, calls: 0, bytes: 0, last: 0 });
            }
            if std::io::stderr().is_terminal() {
                let bar = ProgressBar::with_draw_target(Some(self.total), ProgressDrawTarget::stderr());
                let template = format!("{} {{bar:40}} {{bytes}}/{{total_bytes}} {{bytes_per_sec}}", self.call);
                if let Ok(style) = ProgressStyle::with_template(&template) {
                    bar.set_style(style);
                }
                bar.set_position(self.bytes);
                self.progress = Some(bar);
            }
        }
    }

    /// After a call that took `n` bytes.
    fn after_call(&mut self, n: u64) {
        self.calls += 1;
        self.bytes += n;
        if let Some(held) = &mut self.held {
            held.calls += 1;
            held.bytes += n;
            held.last = n;
        }
        if let Some(bar) = &self.progress {
            bar.set_position(self.bytes);
        }
    }

    /// After an attempt that failed: if the kernel was called (`tracer` numbered a call since `calls_before`), the
    /// failed call is one of the run, and the last one held. A Ctrl-C seen before the call made none: it is not
    /// counted, and the call before it stays the last.
    fn after_failure(&mut self, tracer: &Tracer, calls_before: u64) {
        if tracer.calls() == calls_before {
            return;
        }
        self.calls += 1;
        if let Some(held) = &mut self.held {
            held.calls += 1;
            held.last = 0;
        }
    }

    /// Ends the summary: says what it left out, then prints the run's last call in full.
    fn stop_summarising(&mut self, tracer: &Tracer) -> Result<(), Error> {
        if let Some(bar) = self.progress.take() {
            bar.finish_and_clear();
        }
        let Some(held) = self.held.take() else { return Ok(()) };
        // Every call of the run but its last, which is printed in full.
        let gap = Gap {
            call: self.call,
            first: held.first,
            calls: held.calls.saturating_sub(1),
            bytes: held.bytes - held.last,
        };
        tracer.release(Some(gap))
    }
}

impl Sendall<'_, '_> {
    /// Hands all of `bytes` to the kernel, one `sendto` after another until none are left.
    pub fn send(&mut self, mut bytes: &[u8]) -> Result<(), Error> {
        while !bytes.is_empty() {
            self.run.before_call(self.socket.tracer);
            let calls_before = self.socket.tracer.calls();
            let started = std::time::Instant::now();
            // On an error the call that failed is the last one held: `Drop` prints it.
            let sent = self.socket.send_once(bytes);
            let took = started.elapsed();
            let n = match sent {
                Ok(n) => n,
                Err(err) => {
                    self.run.after_failure(self.socket.tracer, calls_before);
                    return Err(self.socket.stalled(took, None, bytes.len(), err.errno()).unwrap_or(err));
                }
            };
            self.run.after_call(n as u64);
            if let Some(stalled) = self.socket.stalled(took, Some(n), bytes.len(), None) {
                return Err(stalled);
            }
            bytes = &bytes[n..];
        }
        Ok(())
    }

    /// How many bytes the kernel has taken so far.
    pub fn bytes_sent(&self) -> u64 {
        self.run.bytes
    }

    /// Ends the `sendall`, saying how many `sendto` calls it took.
    pub fn finish(mut self) -> Result<(), Error> {
        self.run.stop_summarising(self.socket.tracer)?;
        let text = format!(
            "sendall: {} in {}",
            plural(self.run.bytes, "byte", "bytes"),
            plural(self.run.calls, "sendto call", "sendto calls")
        );
        self.socket.tracer.note(&text)
    }
}

impl Drop for Sendall<'_, '_> {
    /// A `sendall` that ended in an error still prints the call that failed, and what it left out before it.
    fn drop(&mut self) {
        let _ = self.run.stop_summarising(self.socket.tracer);
    }
}

impl Sendfile<'_, '_> {
    /// Has the kernel send the file's next bytes, `sendfile` after `sendfile`, until it has sent the `total` it
    /// was begun with, or the file ends first (a `sendfile` that returns 0: the file is shorter than it was).
    pub fn send_rest(&mut self, file: &File) -> Result<(), Error> {
        while self.run.bytes < self.run.total {
            // Linux moves at most 0x7ffff000 bytes in one call, whatever the count says.
            let count = (self.run.total - self.run.bytes).min(MAX_SENDFILE);
            self.run.before_call(self.socket.tracer);
            let calls_before = self.socket.tracer.calls();
            let started = std::time::Instant::now();
            let sent = self.socket.sendfile_once(file, &mut self.offset, count as usize);
            let took = started.elapsed();
            let n = match sent {
                Ok(n) => n,
                Err(err) => {
                    self.run.after_failure(self.socket.tracer, calls_before);
                    return Err(self.socket.stalled(took, None, count as usize, err.errno()).unwrap_or(err));
                }
            };
            self.run.after_call(n as u64);
            if n == 0 {
                break;
            }
            if let Some(stalled) = self.socket.stalled(took, Some(n), count as usize, None) {
                return Err(stalled);
            }
        }
        Ok(())
    }

    /// How many bytes the kernel has sent from the file so far.
    pub fn bytes_sent(&self) -> u64 {
        self.run.bytes
    }

    /// Ends the run, saying how many `sendfile` calls it took.
    pub fn finish(mut self) -> Result<(), Error> {
        self.run.stop_summarising(self.socket.tracer)?;
        let text = format!(
            "sendfile: {} in {}",
            plural(self.run.bytes, "byte", "bytes"),
            plural(self.run.calls, "sendfile call", "sendfile calls")
        );
        self.socket.tracer.note(&text)
    }
}

impl Drop for Sendfile<'_, '_> {
    /// A run that ended in an error still prints the call that failed, and what it left out before it.
    fn drop(&mut self) {
        let _ = self.run.stop_summarising(self.socket.tracer);
    }
}

/// The most bytes Linux's `sendfile` moves in one call (`MAX_RW_COUNT`).
const MAX_SENDFILE: u64 = 0x7fff_f000;

/// A failed call as an [`Error`]; `EINTR` after Ctrl-C becomes [`Error::Interrupted`].
fn call_error(call: &'static str, what: String, err: io::Error) -> Error {
    if err.raw_os_error() == Some(libc::EINTR) && interrupt::interrupted() {
        Error::Interrupted
    } else {
        Error::call(call, what, err)
    }
}

/// Ctrl-C between two calls: make no more calls (but `close`).
fn check_interrupt() -> Result<(), Error> {
    if interrupt::interrupted() { Err(Error::Interrupted) } else { Ok(()) }
}

/// socket2's address as std's: a TCP socket's address is always IPv4 or IPv6.
fn inet_addr(addr: SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidData, "the kernel returned an address that is not IPv4 or IPv6")
    })
}

/// `getaddrinfo(3)`: the addresses of `host`, for a TCP connection to `port`, in the order to try them.
///
/// This is a C library function, not a system call: to answer, it may read `/etc/hosts` and ask a DNS server,
/// with system calls of its own that the transcript does not show (strace does). So it is printed with `lib`
/// where a call's number would be, and not counted as a socket call.
///
/// We call the C library ourselves, with `unsafe`, because std's `ToSocketAddrs` (which makes the same call)
/// hides getaddrinfo's own error code (`EAI_NONAME`), and the transcript prints what the function returned.
pub fn getaddrinfo(tracer: &Tracer, host: &str, port: u16) -> Result<Vec<SocketAddr>, Error> {
    check_interrupt()?;
    tracer.python(&format!("addresses = socket.getaddrinfo({host:?}, {port}, type=socket.SOCK_STREAM)"))?;
    tracer.step("getaddrinfo")?;
    let args = format!("{host:?}, \"{port}\", {{ai_family=AF_UNSPEC, ai_socktype=SOCK_STREAM}}, &res");
    let resolve_error = |message: String| Error::Resolve { host: host.to_string(), message };
    let (Ok(c_host), Ok(c_port)) = (CString::new(host), CString::new(port.to_string())) else {
        return Err(resolve_error("the name has a NUL byte".into()));
    };
    // SAFETY: a zeroed addrinfo is valid hints (all fields 0 or null); we set the two we need.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = libc::AF_UNSPEC;
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: the strings are NUL-terminated and live across the call; `list` receives a list we free below.
    let rc = unsafe { libc::getaddrinfo(c_host.as_ptr(), c_port.as_ptr(), &hints, &mut list) };
    if rc != 0 {
        // SAFETY: gai_strerror returns a static, NUL-terminated string for any code.
        let message = unsafe { std::ffi::CStr::from_ptr(libc::gai_strerror(rc)) }.to_string_lossy().into_owned();
        tracer.library_call("getaddrinfo", &args, &format!("{} ({message})", gai_name(rc)))?;
        return Err(resolve_error(message.to_lowercase()));
    }
    let mut addresses = Vec::new();
    let mut next = list;
    while !next.is_null() {
        // SAFETY: `next` is a node of the list getaddrinfo returned, not yet freed.
        let info = unsafe { &*next };
        // SAFETY: ai_addr points to a sockaddr of ai_family's type, ai_addrlen bytes long.
        if let Some(addr) = unsafe { sockaddr_to_std(info.ai_family, info.ai_addr) } {
            addresses.push(addr);
        }
        next = info.ai_next;
    }
    // SAFETY: `list` came from getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(list) };
    let shown: Vec<String> = addresses.iter().map(format::host_port).collect();
    tracer.library_call("getaddrinfo", &args, &format!("0, res = [{}]", shown.join(", ")))?;
    tracer.note(
        "(getaddrinfo is a C library function, not a system call. For a name it may read /etc/hosts and ask nscd \
         or a DNS server, with calls of its own that are not in this transcript: strace shows them.)",
    )?;
    Ok(addresses)
}

/// A `struct sockaddr` from the C library as std's address.
///
/// # Safety
/// `addr` must point to a valid `sockaddr_in` when `family` is `AF_INET`, a `sockaddr_in6` when `AF_INET6`.
unsafe fn sockaddr_to_std(family: libc::c_int, addr: *const libc::sockaddr) -> Option<SocketAddr> {
    if addr.is_null() {
        return None;
    }
    match family {
        libc::AF_INET => {
            // SAFETY: the caller promises an AF_INET address is a sockaddr_in.
            let sin = unsafe { &*(addr as *const libc::sockaddr_in) };
            let ip = std::net::Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            Some(SocketAddr::from((ip, u16::from_be(sin.sin_port))))
        }
        libc::AF_INET6 => {
            // SAFETY: the caller promises an AF_INET6 address is a sockaddr_in6.
            let sin6 = unsafe { &*(addr as *const libc::sockaddr_in6) };
            let ip = std::net::Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            let v6 =
                std::net::SocketAddrV6::new(ip, u16::from_be(sin6.sin6_port), sin6.sin6_flowinfo, sin6.sin6_scope_id);
            Some(SocketAddr::V6(v6))
        }
        _ => None,
    }
}

/// getaddrinfo's error codes by name.
fn gai_name(code: libc::c_int) -> String {
    match code {
        libc::EAI_NONAME => "EAI_NONAME".into(),
        libc::EAI_AGAIN => "EAI_AGAIN".into(),
        libc::EAI_FAIL => "EAI_FAIL".into(),
        libc::EAI_SERVICE => "EAI_SERVICE".into(),
        libc::EAI_FAMILY => "EAI_FAMILY".into(),
        libc::EAI_SYSTEM => "EAI_SYSTEM".into(),
        other => format!("EAI_{other}"),
    }
}
