//! What a lesson is: one typed value, defined in the lesson's own file, and what every lesson shares.
//!
//! A [`Lesson`] carries everything about one step of the blog: its name and texts, its own command-line arguments
//! (a clap `Args` struct in its file), how it listens when it is a server, what reply `hhttpp check` expects from a
//! server that imitates it, and the steps `hhttpp trace --compare` holds a program against. The list of lessons is in
//! `src/lessons/mod.rs`; this module is what the list is made of, so that the lessons' files can use it without
//! importing the list that imports them.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use clap::{ArgMatches, Args, FromArgMatches};

use crate::client::Client;
use crate::error::Error;
use crate::strace::Call;
use crate::trace::Tracer;

/// The blog's port.
pub const DEFAULT_PORT: u16 = 8338;
/// The blog's backlog: at most one connection waits to be accepted (`s.listen(1)`).
pub const BACKLOG: i32 = 1;
/// The blog's receive buffer: `recv(4096)`.
pub const RECV_BUFFER: usize = 4096;

/// The request the snapshots were made with, sent in one write: the built-in client's (`--client`), `hhttpp
/// check`'s, and the tests'. Its `Host` has no port, so that its bytes are the same whatever port the OS chose;
/// `curl -H 'Host: localhost' -A hhttpp URL` sends exactly these bytes.
pub const CANONICAL_REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: hhttpp\r\nAccept: */*\r\n\r\n";

/// One lesson: its name on the command line and everything that goes with it.
#[derive(Debug)]
pub struct Lesson {
    /// The name after `hhttpp lesson`, and (with `_` for `-`) of its code and snapshot files.
    pub name: &'static str,
    /// One line: what the lesson does.
    pub summary: &'static str,
    /// The blog's step it follows.
    pub blog_step: &'static str,
    /// A command to try, for `--help`.
    pub example: &'static str,
    /// The lesson's text, `lessons/NN-name.md`, built into the binary.
    pub text: &'static str,
    /// Adds the lesson's own arguments to `hhttpp lesson NAME` (its `Args` struct's `augment_args`).
    pub args: fn(clap::Command) -> clap::Command,
    /// Reads those arguments back from what clap matched.
    pub parse: fn(&ArgMatches) -> Result<Box<dyn Run>, clap::Error>,
    /// How a server lesson listens; `None` for the client's lesson.
    pub server: Option<Server>,
    /// What `hhttpp check` sends a server that imitates this lesson, and what the lesson would answer (also what
    /// `trace --compare` holds a program's response against); `None` for the client's lesson.
    pub check: Option<Check>,
    /// The calls `hhttpp trace --compare` looks for, in order.
    pub steps: &'static [Step],
}

/// The options of a lesson that has none (a client lesson names its own).
static NO_COMMON_ARGS: CommonArgs =
    CommonArgs { full_dump: false, timeout: None, step: false, packets: false, pcap: None, html: None };

/// A lesson's parsed arguments, ready to run.
pub trait Run {
    /// Where a server lesson listens; `None` for the client's lesson.
    fn server(&self) -> Option<&ServerArgs>;
    /// The options every lesson has: a server lesson's are among its server options.
    fn common(&self) -> &CommonArgs {
        self.server().map_or(&NO_COMMON_ARGS, |server| &server.common)
    }
    /// With `--quiet`: one line per request instead of the whole transcript.
    fn quiet(&self) -> bool {
        false
    }
    /// Runs the lesson; returns the lines for the closing summary.
    fn run(&self, tracer: &Tracer, options: &Options) -> Result<Vec<String>, Error>;
}

/// Reads a lesson's `Args` struct from clap's matches: `parse: lesson::parse::<Args>` in a lesson's definition.
pub fn parse<A: FromArgMatches + Run + 'static>(matches: &ArgMatches) -> Result<Box<dyn Run>, clap::Error> {
    Ok(Box::new(A::from_arg_matches(matches)?))
}

/// How a server lesson listens.
#[derive(Clone, Copy, Debug)]
pub struct Server {
    /// `listen`'s backlog: the blog's 1, or more for a server that browsers load pages from.
    pub backlog: i32,
    /// The deadline for a request head when `--timeout` is not given.
    pub default_timeout: Option<Duration>,
    /// The send timeout (`SO_SNDTIMEO`) when `--send-timeout` is not given.
    pub default_send_timeout: Option<Duration>,
    /// What `--client` starts the built-in client with.
    pub client: ClientRole,
}

impl Server {
    /// The blog's way: `listen(1)`, no timeout, a client that sends the canonical request.
    pub const BLOG: Server =
        Server { backlog: BACKLOG, default_timeout: None, default_send_timeout: None, client: ClientRole::Requests };
}

/// What the built-in client does for a server lesson.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientRole {
    /// Nothing: the lesson accepts no connection, so `--client` starts none.
    None,
    /// Connects and sends nothing (a lesson that closes without reading would otherwise reset the connection).
    Connects,
    /// Sends the canonical request in one write.
    Requests,
}

/// How `hhttpp check` judges a server that imitates a lesson.
#[derive(Clone, Copy, Debug)]
pub struct Check {
    /// What it sends, in a few words, for `hhttpp check --help`.
    pub sends: &'static str,
    /// Each request to send and the lesson's own answer to it, given the file or folder the lesson serves (`None`:
    /// the built-in one, see [`crate::assets`]; lessons that serve no file ignore it).
    pub exchanges: fn(Option<&Path>) -> Result<Vec<Exchange>, Error>,
}

/// One request `hhttpp check` sends, on a connection of its own, and the lesson's answer to it.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// What is asked, for the report: `GET /`.
    pub asks: String,
    /// The bytes to send; `None` when the lesson's client only connects.
    pub request: Option<Vec<u8>>,
    /// The whole reply the lesson sends; `None` when the lesson accepts no connection (`bind`).
    pub reply: Option<Vec<u8>>,
    /// A HEAD request: the reply ends at its head.
    pub head_only: bool,
}

impl Exchange {
    /// The canonical request, and the lesson's `reply` to it.
    pub fn canonical(reply: Vec<u8>) -> Vec<Exchange> {
        let request = Some(CANONICAL_REQUEST.to_vec());
        vec![Exchange { asks: "GET / (the canonical request)".into(), request, reply: Some(reply), head_only: false }]
    }
}

/// One step of a lesson, as `hhttpp trace --compare` looks for it in a program's calls.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    /// The calls that make this step (a program may `read` where the lesson calls `recvfrom`).
    pub names: &'static [&'static str],
    /// The step as the comparison prints it.
    pub shows: &'static str,
    /// Why it matters, when it is missing.
    pub why: &'static str,
    /// What differs from the lesson in the call that was found, if anything.
    pub check: fn(&Call) -> Option<String>,
}

impl Step {
    /// A step whose call is not checked further.
    pub fn no_check(_: &Call) -> Option<String> {
        None
    }
}

/// Where a server lesson listens, and how long it waits for a quiet client: what a lesson's `run` is given.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    /// The address and port to bind.
    pub addr: SocketAddr,
    /// How long a client has to send its whole request head, from `accept4` to its blank line. Each `recvfrom`
    /// waits at most what is left of it (set with `SO_RCVTIMEO`), then fails with `EAGAIN`.
    pub timeout: Option<Duration>,
    /// How long one `sendto` may wait for a client that reads nothing (set with `SO_SNDTIMEO`).
    pub send_timeout: Option<Duration>,
    /// `listen`'s backlog.
    pub backlog: i32,
    /// With `--client`: the built-in client, to start once the socket listens.
    pub client: Option<&'a Client>,
}

/// Where a server lesson listens, and whether to start the built-in client.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The address to listen on (127.0.0.1: only this machine can connect)
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// The port to listen on (0: let the OS choose a free one)
    #[arg(long, default_value_t = DEFAULT_PORT)]
    pub port: u16,

    /// Also start the built-in client (a separate process) with the snapshots' request: no browser needed
    #[arg(long)]
    pub client: bool,

    /// Give up on a client that reads nothing of our reply for SECS seconds (sets SO_SNDTIMEO on each connection)
    #[arg(long, value_name = "SECS", value_parser = parse_timeout)]
    pub send_timeout: Option<Duration>,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// Options every lesson has, server or client.
#[derive(Debug, Args, Default)]
pub struct CommonArgs {
    /// Dump every byte of long payloads, and print every sendto of a long sendall
    #[arg(long)]
    pub full_dump: bool,

    /// Give up on a peer that is too slow to send: a server gives each client SECS seconds for its whole request
    /// head (each recvfrom waits what is left, with SO_RCVTIMEO); fetch waits SECS for each read of the reply
    #[arg(long, value_name = "SECS", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,

    /// Before each call, say what it will do and wait for Enter (q and Enter stops)
    #[arg(long)]
    pub step: bool,

    /// Show the TCP segments each call causes, captured on lo (needs CAP_NET_RAW: root, or setcap)
    #[arg(long)]
    pub packets: bool,

    /// Also write the captured segments to FILE as pcapng, for Wireshark or tcpdump -r (implies --packets)
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<std::path::PathBuf>,

    /// Also draw the run as one self-contained HTML page in FILE: two lanes, the calls, their bytes, the segments
    #[arg(long, value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,
}

/// `--timeout`: a number of seconds, fractions allowed, from one microsecond (`SO_RCVTIMEO`'s unit) to a day.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let secs: f64 = text.parse().map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(0.000_001..=86_400.0).contains(&secs) {
        return Err("a timeout is between 0.000001 and 86400 seconds".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Opens `path` to serve it, and returns it with its size: a regular file only.
///
/// It is opened non-blocking, so that a FIFO named by mistake cannot hold us in `open` until someone writes to it,
/// and then looked at: a directory, a FIFO, a device (`/dev/zero` never ends) or a socket is refused with what it
/// is. For a regular file, non-blocking changes nothing.
pub fn open_regular(path: &Path) -> Result<(std::fs::File, u64), Error> {
    use std::os::unix::fs::OpenOptionsExt;
    let file_error = |source| Error::File { path: path.to_path_buf(), source };
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(file_error)?;
    let meta = file.metadata().map_err(file_error)?;
    if meta.is_dir() {
        return Err(Error::Directory { path: path.to_path_buf() });
    }
    if let Some(what) = not_regular(&meta) {
        return Err(Error::NotRegular { path: path.to_path_buf(), what });
    }
    if meta.len() == 0 && has_bytes(&file) {
        // /proc/self/maps: a file the kernel writes as it is read, whose size says 0. Content-Length cannot promise
        // what it will hold, so we do not serve it as an empty file.
        let what = "a file whose size says 0 but that has bytes (the kernel makes it up as it is read, as in /proc)";
        return Err(Error::NotRegular { path: path.to_path_buf(), what });
    }
    Ok((file, meta.len()))
}

/// What a file is when it is not a regular file (a FIFO, a device, a socket, a directory); `None` for a regular one.
pub fn not_regular(meta: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    Some(if kind.is_file() {
        return None;
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO (a named pipe)"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    })
}

/// True when a read at offset 0 finds a byte (a positioned read: the file's offset stays where it was).
fn has_bytes(file: &std::fs::File) -> bool {
    use std::os::unix::fs::FileExt;
    file.read_at(&mut [0u8; 1], 0).is_ok_and(|n| n > 0)
}

/// A duration in seconds, as the options take it: `5`, `0.25`.
pub fn seconds(duration: Duration) -> String {
    let text = format!("{:.6}", duration.as_secs_f64());
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The address a browser opens for a server bound to `addr`: `http://127.0.0.1:8338/`, `http://[::1]:8338/`.
pub fn url(addr: &SocketAddr) -> String {
    format!("http://{addr}/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_positive_seconds() {
        assert_eq!(parse_timeout("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_timeout("2"), Ok(Duration::from_secs(2)));
        for bad in ["0", "-1", "NaN", "inf", "1e9", "soon"] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }
}
