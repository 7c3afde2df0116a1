//! `hhttpp trace [--compare LESSON] -- COMMAND [ARGS…]`: your own program's socket calls, in our transcript's form.
//!
//! We run COMMAND under `strace -f -xx -yy` and read strace's report as it comes, through a named pipe. Each call
//! on a TCP socket is shown the way the lessons show theirs: numbered, its arguments in strace's shape, the kernel's
//! answer, and a hex dump of every byte read or written. Calls on files and terminals are left out (`-yy` names
//! what each descriptor is, so we can tell). COMMAND's own output passes through, marked `┆ stdout:`.
//!
//! Along the way we add the notes a learner needs: a backlog of 1, a short write, a `recv` that returned 0, a request
//! read in pieces, a response that `hhttpp check` would fault, a socket left open at exit, `EADDRINUSE` without
//! `SO_REUSEADDR`. With `--compare LESSON`, the calls are then lined up with the lesson's, and the response with
//! the lesson's reply.

use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::check::{self, Ending};
use crate::error::Error;
use crate::lessons::{BACKLOG, RECV_BUFFER};
use crate::strace::{self, Call, Event};
use crate::trace::format::{escape, plural};
use crate::trace::{Direction, Event as DiagramEvent, Side, Transcript, tcp};

/// How long strace holds the program after each of its network calls, so that we can read the state the call left.
const HOLD: Duration = Duration::from_millis(50);
use std::net::SocketAddr;

/// What `hhttpp trace` was asked to do.
pub struct Options<'a> {
    pub command: &'a [String],
    pub compare: Option<&'a str>,
    /// The file a serve-binary program serves, for `--compare serve-binary`.
    pub file: &'a Path,
    pub full_dump: bool,
    pub color: bool,
}

/// What came in, from strace or from the program.
enum Input {
    Strace(String),
    Stdout(String),
    Stderr(String),
}

/// Runs the program under strace and prints its socket calls; returns the exit status to end with.
pub fn run(options: &Options) -> Result<i32, Error> {
    if Command::new("strace").arg("-V").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
        return Err(Error::Usage(
            "hhttpp trace runs your program under strace, which is not installed \
                                 (apt-get install strace)"
                .into(),
        ));
    }
    let fifo = Fifo::new()?;
    let mut child = Command::new("strace")
        .args([
            "-f",
            "-q",
            "-ttt",
            "-T",
            "-xx",
            "-yy",
            "-s",
            "65536",
            "-e",
            "trace=%network,read,write,readv,writev,close",
        ])
        // After each network call strace holds the program for a moment (it has printed the call by then), so that
        // the TCP state we read is the one the call left, before the program moves on.
        .args(["-e", &format!("inject=%network:delay_exit={}", HOLD.as_micros()), "-o"])
        .arg(&fifo.path)
        .arg("--")
        .args(options.command)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| Error::Usage(format!("cannot start strace: {err}")))?;
    let (send, inputs) = mpsc::channel();
    let readers = [
        spawn_reader(send.clone(), child.stdout.take().map(|s| Box::new(s) as Box<dyn io::Read + Send>), Input::Stdout),
        spawn_reader(send.clone(), child.stderr.take().map(|s| Box::new(s) as Box<dyn io::Read + Send>), Input::Stderr),
        spawn_reader(send, File::open(&fifo.path).ok().map(|f| Box::new(f) as Box<dyn io::Read + Send>), Input::Strace),
    ];

    let mut transcript =
        Transcript::new(Box::new(io::stdout()), options.color, options.full_dump).calls_made_by("the program");
    transcript.heading(&format!(
        "hhttpp trace: {}, under strace\nevery numbered line is a call the program made on a TCP socket; calls on \
         files and terminals are left out.\n⟨STATE⟩: the socket's TCP state in the kernel's table after the call, read \
         while strace holds the program (50 ms after each network call); not shown when we could not read it in time",
        options.command.join(" ")
    ))?;
    let mut state = State::default();
    for input in inputs {
        match input {
            Input::Stdout(line) => transcript.program_output("stdout", &line)?,
            Input::Stderr(line) => transcript.program_output("stderr", &line)?,
            Input::Strace(line) => state.line(&mut transcript, &line)?,
        }
    }
    for reader in readers.into_iter().flatten() {
        let _ = reader.join();
    }
    let status = child.wait().map_err(Error::Output)?;
    let code = status.code().unwrap_or(1);
    state.finish(&mut transcript)?;
    transcript.aftermath()?;
    transcript.diagram()?;
    transcript.summary(&[format!("the program exited with status {code}")])?;
    if let Some(lesson) = options.compare {
        let differences = compare(&mut transcript, &state, lesson, options.file)?;
        if differences > 0 {
            return Ok(1);
        }
    }
    Ok(code)
}

/// Reads `source` line by line into the channel, in a thread of its own.
fn spawn_reader(
    send: mpsc::Sender<Input>,
    source: Option<Box<dyn io::Read + Send>>,
    wrap: fn(String) -> Input,
) -> Option<std::thread::JoinHandle<()>> {
    let source = source?;
    Some(std::thread::spawn(move || {
        for line in BufReader::new(source).lines() {
            let Ok(line) = line else { break };
            if send.send(wrap(line)).is_err() {
                break;
            }
        }
    }))
}

/// A named pipe in a folder of its own, removed when dropped: strace writes its report into it as it goes.
struct Fifo {
    dir: PathBuf,
    path: PathBuf,
}

impl Fifo {
    fn new() -> Result<Fifo, Error> {
        let dir = std::env::temp_dir().join(format!("hhttpp-trace-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).map_err(Error::Output)?;
        let path = dir.join("strace.fifo");
        let c_path =
            CString::new(path.as_os_str().as_bytes()).map_err(|_| Error::Usage("a temp path with NUL".into()))?;
        // SAFETY: a NUL-terminated path; mkfifo creates the pipe or fails.
        if unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) } != 0 {
            return Err(Error::Output(io::Error::last_os_error()));
        }
        Ok(Fifo { dir, path })
    }
}

impl Drop for Fifo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A call worth keeping for `--compare`.
struct Kept {
    name: String,
    args: Vec<String>,
    failed: bool,
}

/// What we know of the program so far.
#[derive(Default)]
struct State {
    reader: strace::Reader,
    first_pid: Option<u32>,
    /// Open TCP descriptors, by process.
    open: HashMap<u32, HashSet<i32>>,
    /// Descriptors with SO_REUSEADDR set.
    reuse: HashSet<(u32, i32)>,
    /// Per connection: reads since its last write, and every byte written.
    reads: HashMap<(u32, i32), u64>,
    written: HashMap<(u32, i32), Vec<u8>>,
    /// Connections the program has shut down: their state is in flux.
    shut: HashSet<(u32, i32)>,
    /// The accepted connections, for the response to compare.
    accepted: Vec<(u32, i32)>,
    kept: Vec<Kept>,
}

impl State {
    fn line(&mut self, t: &mut Transcript, line: &str) -> io::Result<()> {
        // The program's own process is the one strace reports first; its calls get no `[pid N]` prefix.
        if self.first_pid.is_none() {
            self.first_pid = line.split(' ').next().and_then(|pid| pid.parse().ok());
        }
        // A program's start reads many files, and with `-xx -s 65536` each read is a long line of hex: we skip
        // what cannot concern a TCP socket before parsing it, so that we keep up with strace (and read each TCP
        // state while the program is still held after its call). Halves of a split call always go through.
        let relevant = line.contains("<TCP")
            || line.contains("+++")
            || line.contains(" resumed>")
            || line.contains("<unfinished")
            || [" socket(", " accept(", " accept4("].iter().any(|call| line.contains(call));
        if !relevant {
            return Ok(());
        }
        match self.reader.line(line) {
            Some(Event::Call(call)) => self.call(t, call),
            Some(Event::Exit { pid, .. }) => self.exit(t, pid),
            _ => Ok(()),
        }
    }

    fn call(&mut self, t: &mut Transcript, call: Call) -> io::Result<()> {
        let first = *self.first_pid.get_or_insert(call.pid);
        let on = call.args.first().and_then(|a| strace::descriptor(a));
        let returns = strace::descriptor(&call.result);
        let tcp_arg = on.as_ref().is_some_and(|(_, what)| strace::is_tcp(what));
        let tcp_result = returns.as_ref().is_some_and(|(_, what)| strace::is_tcp(what));
        let keep = match call.name.as_str() {
            "socket" | "accept" | "accept4" => {
                tcp_result || (call.failed() && call.args.first().is_some_and(|a| a.starts_with("AF_INET")))
            }
            _ => tcp_arg,
        };
        if !keep {
            return Ok(());
        }
        let pid = call.pid;
        let fd = on.as_ref().map_or(-1, |(fd, _)| *fd);
        let who = if pid == first { String::new() } else { format!("[pid {pid}] ") };
        let args = render_args(&call);
        let result = match &returns {
            Some((fd, _)) => fd.to_string(),
            None => readable(&call.result),
        };
        // The state the call left: strace holds the program for HOLD after each network call, and we read the
        // kernel's table meanwhile. (read, write and close are not held: no state for them.)
        // After a shutdown the state changes within microseconds, as in the lessons: not shown.
        let network = !matches!(call.name.as_str(), "read" | "write" | "readv" | "writev" | "close");
        if call.name == "shutdown" && !call.failed() {
            self.shut.insert((call.pid, on.as_ref().map_or(-1, |(fd, _)| *fd)));
        }
        let settled = on.as_ref().is_some_and(|(fd, _)| !self.shut.contains(&(call.pid, *fd)));
        let mut state = match &on {
            Some((_, what)) if network && settled && !call.failed() => {
                tcp::by_strace_name(what).map(|e| e.state.to_string())
            }
            _ => None,
        };
        if let Some((new, what)) = returns.as_ref().filter(|_| tcp_result && call.name.starts_with("accept"))
            && let Some(entry) = tcp::by_strace_name(what)
        {
            state = Some(format!("{}; fd {new}: {}", state.unwrap_or_default(), entry.state));
        }
        // Shown only if we read it while the program was still held: on a busy machine we may fall behind strace,
        // and a state read later could be one the program reached calls afterwards.
        if !in_hold(call.returned_at) {
            state = None;
        }
        t.foreign_call(&who, &call.name, &args, &result, state.as_deref())?;
        self.kept.push(Kept { name: call.name.clone(), args: call.args.clone(), failed: call.failed() });

        // Remember each connection, to show what the kernel keeps of it once the program is done.
        for (_, what) in on.iter().chain(returns.iter()) {
            if let Some((local, remote)) = pair_of(what) {
                t.connection_pair(local, remote);
            }
        }
        if let Some((new, what)) = returns.filter(|_| tcp_result) {
            self.open.entry(pid).or_default().insert(new);
            if call.name.starts_with("accept") {
                self.accepted.push((pid, new));
                if let Some(peer) = peer_of(&what) {
                    t.event(DiagramEvent::Opened { fd: new, peer, we_are: Side::Server });
                }
            }
        }
        let peer = || on.as_ref().and_then(|(_, what)| peer_of(what)).or_else(|| sockaddr_of(&call));
        if call.name == "connect"
            && !call.failed()
            && let Some(peer) = peer()
        {
            t.event(DiagramEvent::Opened { fd, peer, we_are: Side::Client });
        }
        if call.failed() {
            let errno = call.result.split_whitespace().nth(1).unwrap_or("?").to_string();
            t.event(DiagramEvent::Failed { fd, call: static_name(&call.name), errno });
        }
        let n = call.value().filter(|_| !call.failed()).unwrap_or(0).max(0) as usize;
        match call.name.as_str() {
            "read" | "recvfrom" | "readv" | "recvmsg" => {
                let bytes = data(&call);
                t.data_seen(Direction::Received, &bytes[..n.min(bytes.len())], n as u64)?;
                if !call.failed() {
                    t.event(match n {
                        0 => DiagramEvent::PeerClosed { fd },
                        _ => DiagramEvent::Received {
                            fd,
                            bytes: n as u64,
                            first_line: first_line(&bytes[..n.min(bytes.len())]),
                        },
                    });
                }
                if n == 0 && !call.failed() {
                    t.note("recv returned 0: the other side closed; it will send nothing more")?;
                } else if n > 0 {
                    *self.reads.entry((pid, fd)).or_default() += 1;
                }
            }
            "write" | "sendto" | "writev" | "sendmsg" => {
                let bytes = data(&call);
                let sent = &bytes[..n.min(bytes.len())];
                t.data_seen(Direction::Sent, sent, n as u64)?;
                if !call.failed() {
                    t.event(DiagramEvent::Sent { fd, bytes: n as u64, first_line: first_line(sent) });
                }
                let asked: usize = call.args.get(2).and_then(|a| a.parse().ok()).unwrap_or(bytes.len());
                if !call.failed() && n < asked && matches!(call.name.as_str(), "write" | "sendto") {
                    t.note(&format!(
                        "a short write: the kernel took {n} of the {asked} bytes. Send the rest in a loop, or use \
                         sendall, which does"
                    ))?;
                }
                let pieces = self.reads.remove(&(pid, fd)).unwrap_or(0);
                if pieces > 1 {
                    t.note(&format!("the request before this reply arrived in pieces: {pieces} reads"))?;
                }
                self.written.entry((pid, fd)).or_default().extend_from_slice(sent);
            }
            "listen" if call.args.get(1).is_some_and(|b| b == "1") => t.note(
                "a backlog of 1, as in the blog: a page with many pictures overflows it, and the kernel drops the \
                 connections that do not fit; the browser retries them a second later (see hhttpp lesson serve-folder)",
            )?,
            "setsockopt" if call.args.get(2).is_some_and(|o| o == "SO_REUSEADDR") => {
                self.reuse.insert((pid, fd));
            }
            "bind" if call.result.contains("EADDRINUSE") && !self.reuse.contains(&(pid, fd)) => t.note(
                "EADDRINUSE, and this socket has no SO_REUSEADDR: if the port is held only by old connections in \
                 TIME_WAIT, setsockopt(SOL_SOCKET, SO_REUSEADDR, 1) before bind lets a restarted server have it",
            )?,
            "shutdown" if !call.failed() => {
                let how = match call.args.get(1).map(String::as_str) {
                    Some("SHUT_RD") => "SHUT_RD",
                    Some("SHUT_WR") => "SHUT_WR",
                    _ => "SHUT_RDWR",
                };
                t.event(DiagramEvent::Shutdown { fd, how });
            }
            "close" if !call.failed() => {
                t.event(DiagramEvent::Closed { fd });
                if let Some(open) = self.open.get_mut(&pid) {
                    open.remove(&fd);
                }
                // The number may be given to the next socket.
                self.shut.remove(&(pid, fd));
                self.judge(t, pid, fd)?;
            }
            _ => {}
        }
        if call.failed() {
            t.note(&errno_note(&call.result))?;
        }
        Ok(())
    }

    /// When a connection closes: what `hhttpp check` would say of the response written on it.
    fn judge(&mut self, t: &mut Transcript, pid: u32, fd: i32) -> io::Result<()> {
        let Some(written) = self.written.get(&(pid, fd)) else { return Ok(()) };
        if !written.starts_with(b"HTTP/") {
            return Ok(());
        }
        for problem in check::judge_framing(written, Ending::Closed, Duration::ZERO) {
            t.note(&format!("the response: {} ({})", problem.what, problem.hint))?;
        }
        Ok(())
    }

    fn exit(&mut self, t: &mut Transcript, pid: u32) -> io::Result<()> {
        let mut left: Vec<i32> = self.open.remove(&pid).unwrap_or_default().into_iter().collect();
        left.sort_unstable();
        if !left.is_empty() {
            let fds: Vec<String> = left.iter().map(i32::to_string).collect();
            t.note(&format!(
                "the program ended with {} never closed (fd {}): the kernel closed {} for it. Close your sockets, \
                 or use with socket.socket(...) as s:",
                plural(left.len() as u64, "socket", "sockets"),
                fds.join(", "),
                if left.len() == 1 { "it" } else { "them" }
            ))?;
        }
        Ok(())
    }

    fn finish(&mut self, t: &mut Transcript) -> io::Result<()> {
        let pids: Vec<u32> = self.open.keys().copied().collect();
        for pid in pids {
            self.exit(t, pid)?;
        }
        Ok(())
    }
}

/// True when now is still inside the hold after a call that returned at `returned_at` (seconds since the epoch),
/// with a margin for the clock.
fn in_hold(returned_at: Option<f64>) -> bool {
    let Some(returned_at) = returned_at else { return false };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    now < returned_at + HOLD.as_secs_f64() * 0.8
}

/// The other end of a connected socket, from `-yy`'s name for it: `TCP:[127.0.0.1:8338->127.0.0.1:51234]`.
fn peer_of(what: &str) -> Option<SocketAddr> {
    pair_of(what).map(|(_, remote)| remote)
}

/// Both ends of a connected socket, from `-yy`'s name for it.
fn pair_of(what: &str) -> Option<(SocketAddr, SocketAddr)> {
    let inside = what.split_once('[')?.1.strip_suffix(']')?;
    let (local, remote) = inside.split_once("->")?;
    Some((local.parse().ok()?, remote.parse().ok()?))
}

/// The address a `connect` names: `{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("…")}`.
fn sockaddr_of(call: &Call) -> Option<SocketAddr> {
    let arg = readable(call.args.get(1)?);
    let port: u16 = arg.split_once("htons(")?.1.split(')').next()?.parse().ok()?;
    let ip: std::net::IpAddr = arg.split('"').nth(1)?.parse().ok()?;
    Some(SocketAddr::new(ip, port))
}

/// The diagram keeps call names as `&'static str`: the ones it can meet, by name.
fn static_name(name: &str) -> &'static str {
    const NAMES: [&str; 14] = [
        "accept", "accept4", "bind", "close", "connect", "listen", "read", "readv", "recvfrom", "recvmsg", "sendmsg",
        "sendto", "write", "writev",
    ];
    NAMES.into_iter().find(|n| *n == name).unwrap_or("a call")
}

/// The first line of some bytes, escaped, for the diagram.
fn first_line(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == b'\n').unwrap_or(bytes.len()).min(64);
    escape(bytes[..end].strip_suffix(b"\r").unwrap_or(&bytes[..end]))
}

/// The arguments as the lessons print them: descriptors without their names, data as `buf`, strings readable.
fn render_args(call: &Call) -> String {
    let data_arg = match call.name.as_str() {
        "read" | "write" | "recvfrom" | "sendto" => Some(1),
        "readv" | "writev" | "recvmsg" | "sendmsg" => Some(1),
        _ => None,
    };
    let shown: Vec<String> = call
        .args
        .iter()
        .enumerate()
        .map(|(i, arg)| match strace::descriptor(arg) {
            Some((fd, _)) => fd.to_string(),
            None if Some(i) == data_arg => {
                if call.name.ends_with('v') {
                    "iov".into()
                } else if call.name.ends_with("msg") {
                    "msg".into()
                } else {
                    "buf".into()
                }
            }
            None => readable(arg),
        })
        .collect();
    shown.join(", ")
}

/// Every string in `text` made readable: `inet_addr("\x31\x32\x37…")` → `inet_addr("127…")`.
fn readable(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('"') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = string_end(after);
        out.push('"');
        out.push_str(&escape(&strace::unescape(&after[..end])));
        out.push('"');
        rest = after.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// The index of the closing quote of a string whose opening quote came just before `text`.
fn string_end(text: &str) -> usize {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '"') => return i,
            _ => {}
        }
    }
    text.len()
}

/// Every byte of a data call's strings: the buffer of read/write/recvfrom/sendto, every `iov_base` of the others.
fn data(call: &Call) -> Vec<u8> {
    let Some(arg) = call.args.get(1) else { return Vec::new() };
    if arg.starts_with('"') {
        return strace::unescape(arg);
    }
    let mut bytes = Vec::new();
    let mut rest = arg.as_str();
    while let Some(at) = rest.find("iov_base=\"") {
        let after = &rest[at + "iov_base=\"".len()..];
        let end = string_end(after);
        bytes.extend(strace::unescape(&after[..end]));
        rest = after.get(end + 1..).unwrap_or("");
    }
    bytes
}

/// What a failed call's errno means, for a learner.
fn errno_note(result: &str) -> String {
    let name = result.split_whitespace().nth(1).unwrap_or("");
    let meaning = match name {
        "EADDRINUSE" => "another socket has this address and port (a running server, or old connections in TIME_WAIT)",
        "EACCES" => "not allowed: ports below 1024 need root",
        "EADDRNOTAVAIL" => "no interface of this machine has that address",
        "ECONNREFUSED" => "nothing listens at that address and port",
        "ECONNRESET" => "the other side broke the connection off (it closed with bytes unread, or crashed)",
        "EPIPE" => "the other side has closed: nothing more can be sent",
        "EAGAIN" => "nothing arrived in time (a timeout), or a non-blocking socket has nothing yet",
        "EINTR" => "a signal (Ctrl-C?) interrupted the call",
        "ENOTCONN" => "the socket is not connected (any more)",
        "EINVAL" => "an argument the kernel does not accept here",
        "EBADF" => "that descriptor is not open",
        _ => "see man 2 of the call, ERRORS",
    };
    format!("{name}: {meaning}")
}

/// `--compare LESSON`: the program's calls lined up with the lesson's steps, and its response with the lesson's.
/// Returns how many differences it printed.
fn compare(t: &mut Transcript, state: &State, lesson: &str, file: &Path) -> Result<usize, Error> {
    let expected = check::expected(lesson, file)?;
    let steps = steps(lesson);
    let mut lines = Vec::new();
    let mut cursor = 0;
    for step in &steps {
        let found = state.kept[cursor..].iter().position(|k| step.names.contains(&k.name.as_str()) && !k.failed);
        match found {
            None => lines.push(format!("✗ missing: {}; {}", step.shows, step.why)),
            Some(at) => {
                let kept = &state.kept[cursor + at];
                cursor += at + 1;
                match (step.check)(&kept.args) {
                    Some(difference) => lines.push(format!("✗ {}: {difference}", step.shows)),
                    None => lines.push(format!("✓ {}", step.shows)),
                }
            }
        }
    }
    if let Some(ours) = expected.reply.filter(|reply| !reply.is_empty()) {
        let theirs: Vec<u8> =
            state.accepted.iter().flat_map(|c| state.written.get(c).cloned().unwrap_or_default()).collect();
        let mut problems = check::judge_framing(&theirs, Ending::Closed, Duration::ZERO);
        problems.extend(check::compare(&theirs, &ours, lesson));
        if problems.is_empty() {
            lines.push(format!("✓ the response matches hhttpp lesson {lesson}'s, byte for byte"));
        }
        for problem in problems {
            lines.push(format!("✗ the response: {} (hint: {})", problem.what, problem.hint));
        }
    }
    let differences = lines.iter().filter(|l| l.starts_with('✗')).count();
    t.line("")?;
    t.line(&format!("compared with hhttpp lesson {lesson}:"))?;
    for line in &lines {
        t.line(&format!("  {line}"))?;
    }
    t.line(&if differences == 0 {
        "the program makes the lesson's calls and sends its bytes".to_string()
    } else {
        format!("{} from the lesson", plural(differences as u64, "difference", "differences"))
    })?;
    t.flush()?;
    Ok(differences)
}

/// One step of a lesson, as `--compare` looks for it.
struct Step {
    names: &'static [&'static str],
    shows: &'static str,
    why: &'static str,
    check: fn(&[String]) -> Option<String>,
}

fn no_check(_: &[String]) -> Option<String> {
    None
}

/// The steps of the server lessons, in order; each lesson makes the first so many of them.
fn steps(lesson: &str) -> Vec<Step> {
    let all = vec![
        Step {
            names: &["socket"],
            shows: "socket(AF_INET, SOCK_STREAM)",
            why: "a server starts with a socket",
            check: |args| {
                (!args.get(1).is_some_and(|t| t.starts_with("SOCK_STREAM")))
                    .then(|| "not SOCK_STREAM (TCP)".to_string())
            },
        },
        Step {
            names: &["setsockopt"],
            shows: "setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)",
            why: "without it a restarted server cannot bind its port while old connections wait in TIME_WAIT",
            check: |args| {
                args.get(2)
                    .is_none_or(|o| o != "SO_REUSEADDR")
                    .then(|| format!("sets {} instead", args.get(2).map_or("?", |s| s)))
            },
        },
        Step { names: &["bind"], shows: "bind", why: "the server's address and port", check: no_check },
        Step {
            names: &["listen"],
            shows: "listen(1)",
            why: "without listen nobody can connect",
            check: |args| {
                let backlog = args.get(1).map_or("?", |b| b.as_str());
                (backlog != BACKLOG.to_string()).then(|| format!("a backlog of {backlog}; the lesson's is {BACKLOG}"))
            },
        },
        Step {
            names: &["accept", "accept4"],
            shows: "accept",
            why: "the server takes the connection",
            check: no_check,
        },
        Step {
            names: &["recvfrom", "read", "recvmsg"],
            shows: "recv(4096)",
            why: "the server reads the request",
            check: |args| {
                let size = args.get(2).map_or("?", |s| s.as_str());
                (size != RECV_BUFFER.to_string())
                    .then(|| format!("a buffer of {size} bytes; the lesson's is {RECV_BUFFER}"))
            },
        },
        Step {
            names: &["sendto", "write", "sendmsg", "writev"],
            shows: "send the response",
            why: "the reply",
            check: no_check,
        },
        Step {
            names: &["shutdown"],
            shows: "shutdown(SHUT_RDWR)",
            why: "it tells the client at once that nothing more is coming",
            check: |args| {
                args.get(1)
                    .is_none_or(|h| h != "SHUT_RDWR")
                    .then(|| format!("{} instead", args.get(1).map_or("?", |s| s)))
            },
        },
        Step { names: &["close"], shows: "close the connection", why: "every socket must be closed", check: no_check },
    ];
    let count = match lesson {
        "bind" => 4,
        "accept" => 5,
        _ => all.len(),
    };
    let mut steps: Vec<Step> = all.into_iter().take(count).collect();
    if lesson == "accept" {
        steps.push(Step {
            names: &["close"],
            shows: "close the connection",
            why: "every socket must be closed",
            check: no_check,
        });
    }
    steps
}
