//! `hhttpp trace [--compare LESSON] -- COMMAND [ARGS…]`: your own program's socket calls, in our transcript's form.
//!
//! We run COMMAND under `strace -f -xx -yy` and read strace's report as it comes, through a named pipe in a private
//! folder. Each call on a TCP socket is shown the way the lessons show theirs: numbered, its arguments in strace's
//! shape, the kernel's answer, and a hex dump of every byte read or written. Calls on files and terminals are left
//! out (`-yy` names what each descriptor is, so we can tell). COMMAND's own output passes through, escaped and
//! marked `┆ stdout:`.
//!
//! [`crate::strace`] reads strace's text; this module keeps what we know of the program (its open sockets, what it
//! wrote on each connection) and adds the notes a learner needs: a backlog of 1, a short write, a `recv` that
//! returned 0, a request read in pieces, a response that `hhttpp check` would fault, a socket left open at exit,
//! `EADDRINUSE` without `SO_REUSEADDR`. With `--compare LESSON`, the calls are then lined up with the lesson's
//! steps, and the response with the lesson's reply.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Stdout};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::error::Error;
use crate::judge::{self, Ending};
use crate::lesson::Lesson;
use crate::strace::{self, Call, Descriptor, Event, SocketName};
use crate::trace::format::plural;
use crate::trace::{CallLine, Direction, Event as DiagramEvent, Fate, Record, Side, Transcript, diagram, tcp};

/// How long strace holds the program after each of its network calls, so that we can read the state the call left.
const HOLD: Duration = Duration::from_millis(50);

/// How long to wait for the connections' states to settle after the program is done.
const SETTLE: Duration = Duration::from_millis(500);

/// What `hhttpp trace` was asked to do.
pub struct Options<'a> {
    pub command: &'a [String],
    pub compare: Option<&'static Lesson>,
    /// The file a serve-binary program serves, for `--compare serve-binary`; `None`: the built-in picture.
    pub file: Option<&'a Path>,
    pub full_dump: bool,
    pub color: bool,
}

/// What came in, from strace or from the program.
enum Input {
    Strace(Vec<u8>),
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
}

/// Runs the program under strace and prints its socket calls; returns the exit status to end with.
pub fn run(options: &Options) -> Result<i32, Error> {
    // What --compare needs is checked before the program runs, not after.
    let compare = match options.compare {
        Some(lesson) => {
            let check = lesson.check.filter(|_| !lesson.steps.is_empty()).ok_or_else(|| {
                Error::Usage(format!("--compare {}: that lesson has no server steps to compare with", lesson.name))
            })?;
            // The lesson's answer to the canonical request: the first (and, for these lessons, only) exchange.
            let exchange = (check.exchanges)(options.file)?.into_iter().next();
            Some((lesson, exchange.and_then(|e| e.reply)))
        }
        None => None,
    };
    if Command::new("strace").arg("-V").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
        return Err(Error::MissingTool {
            tool: "strace",
            why: "hhttpp trace runs your program under strace",
            install: "apt-get install strace",
        });
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
        .map_err(|err| Error::io("start strace", err))?;
    let (send, inputs) = mpsc::channel();
    let strace_output = File::open(&fifo.path)
        .map_err(|err| Error::io(format!("open the strace pipe {}", fifo.path.display()), err))?;
    let readers = [
        spawn_reader(send.clone(), child.stdout.take().map(|s| Box::new(s) as Box<dyn io::Read + Send>), Input::Stdout),
        spawn_reader(send.clone(), child.stderr.take().map(|s| Box::new(s) as Box<dyn io::Read + Send>), Input::Stderr),
        spawn_reader(send, Some(Box::new(strace_output)), Input::Strace),
    ];

    let mut program = Program::new(Transcript::new(io::stdout(), options.color, options.full_dump));
    program.print(|t| {
        t.heading(&format!(
            "hhttpp trace: {}, under strace\nevery numbered line is a call the program made on a TCP socket; calls \
             on files and terminals are left out.\n⟨STATE⟩: the socket's TCP state in the kernel's table after the \
             call, read while strace holds the program (50 ms after each network call); not shown when we could not \
             read it in time",
            options.command.join(" ")
        ))
    })?;
    for input in inputs {
        match input {
            Input::Stdout(line) => program.print(|t| t.program_output("stdout", &line))?,
            Input::Stderr(line) => program.print(|t| t.program_output("stderr", &line))?,
            Input::Strace(line) => program.line(&String::from_utf8_lossy(&line))?,
        }
    }
    for reader in readers.into_iter().flatten() {
        let _ = reader.join();
    }
    let status = child.wait().map_err(|err| Error::io("wait for strace to end", err))?;
    let code = status.code().unwrap_or(1);
    program.finish(code)?;
    if let Some((lesson, expected)) = compare {
        let differences = program.compare(lesson, &expected)?;
        if differences > 0 {
            return Ok(1);
        }
    }
    Ok(code)
}

/// Reads `source` line by line, as bytes (a program may print anything), into the channel, in a thread of its own.
fn spawn_reader(
    send: mpsc::Sender<Input>,
    source: Option<Box<dyn io::Read + Send>>,
    wrap: fn(Vec<u8>) -> Input,
) -> Option<std::thread::JoinHandle<()>> {
    let source = source?;
    Some(std::thread::spawn(move || {
        let mut reader = BufReader::new(source);
        loop {
            let mut line = Vec::new();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            if line.ends_with(b"\n") {
                line.pop();
            }
            if send.send(wrap(line)).is_err() {
                break;
            }
        }
    }))
}

/// A named pipe in a private folder of its own (mode 0700, a name no one can guess), removed when dropped:
/// strace writes its report into it as it goes.
struct Fifo {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Fifo {
    fn new() -> Result<Fifo, Error> {
        let tmp = std::env::temp_dir();
        let dir = tempfile::Builder::new().prefix("hhttpp-trace-").tempdir().map_err(|err| {
            // tempfile's error words the kernel's in its own way; the folder itself, looked at, says it plainly.
            let err = std::fs::metadata(&tmp).err().unwrap_or(err);
            Error::io(format!("create a folder for the strace pipe in {}", tmp.display()), err)
        })?;
        let path = dir.path().join("strace.fifo");
        rustix::fs::mkfifoat(rustix::fs::CWD, &path, rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR)
            .map_err(|err| Error::io(format!("create the strace pipe {}", path.display()), err.into()))?;
        Ok(Fifo { _dir: dir, path })
    }
}

/// What we know of the traced program so far, and the transcript we print it to.
struct Program {
    transcript: Transcript<Stdout>,
    record: Record,
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
    /// Every call shown, for `--compare`.
    kept: Vec<Call>,
}

/// What each kind of call adds to what we know, and the notes it may bring: one function per kind.
type Handler = fn(&mut Program, &Shown) -> Result<(), Error>;
const KINDS: [(&[&str], Handler); 7] = [
    (&["read", "recvfrom", "readv", "recvmsg"], Program::received),
    (&["write", "sendto", "writev", "sendmsg"], Program::sent),
    (&["listen"], Program::listened),
    (&["setsockopt"], Program::option_set),
    (&["bind"], Program::bound),
    (&["shutdown"], Program::shut_down),
    (&["close"], Program::closed),
];

/// The call being shown, and the descriptors it names: what every kind of call's function needs.
struct Shown<'a> {
    call: &'a Call,
    pid: u32,
    /// The descriptor the call was made on (-1 when it has none).
    fd: i32,
    on: Option<Descriptor>,
}

impl Program {
    fn new(transcript: Transcript<Stdout>) -> Self {
        Program {
            transcript,
            record: Record::default(),
            reader: strace::Reader::default(),
            first_pid: None,
            open: HashMap::new(),
            reuse: HashSet::new(),
            reads: HashMap::new(),
            written: HashMap::new(),
            shut: HashSet::new(),
            accepted: Vec::new(),
            kept: Vec::new(),
        }
    }

    /// Runs `f` with the printer; a failure to write is the transcript's.
    fn print(&mut self, f: impl FnOnce(&mut Transcript<Stdout>) -> io::Result<()>) -> Result<(), Error> {
        f(&mut self.transcript).map_err(Error::Output)
    }

    fn note(&mut self, text: &str) -> Result<(), Error> {
        self.print(|t| t.note(text))
    }

    /// One line of strace's report.
    fn line(&mut self, line: &str) -> Result<(), Error> {
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
            Some(Event::Call(call)) => self.call(call),
            Some(Event::Exit { pid, .. }) => self.exit(pid),
            _ => Ok(()),
        }
    }

    /// A call strace reported: shown when it was made on, or returned, a TCP socket.
    fn call(&mut self, call: Call) -> Result<(), Error> {
        let on = call.fd();
        let returned = call.returned_fd().filter(Descriptor::is_tcp);
        let keep = match call.name.as_str() {
            // A socket call that failed has no descriptor to tell us its kind: its first argument does.
            "socket" | "accept" | "accept4" => {
                returned.is_some() || (call.failed() && call.arg(0).is_some_and(|a| a.starts_with("AF_INET")))
            }
            _ => on.as_ref().is_some_and(Descriptor::is_tcp),
        };
        if !keep {
            return Ok(());
        }
        let shown = Shown { call: &call, pid: call.pid, fd: on.as_ref().map_or(-1, |d| d.fd), on: on.clone() };
        self.show(&shown, returned.as_ref())?;
        self.remember(&shown, returned.as_ref());
        if let Some((_, handle)) = KINDS.iter().find(|(names, _)| names.contains(&call.name.as_str())) {
            handle(self, &shown)?;
        }
        if let Some(errno) = call.errno() {
            self.note(&crate::errno::note(errno))?;
        }
        self.kept.push(call);
        Ok(())
    }

    /// Prints the call, with the TCP state it left when we could read it while strace held the program.
    fn show(&mut self, shown: &Shown, returned: Option<&Descriptor>) -> Result<(), Error> {
        let call = shown.call;
        let first = *self.first_pid.get_or_insert(call.pid);
        let who = if shown.pid == first { String::new() } else { format!("[pid {}] ", shown.pid) };
        let args = render_args(call);
        let result = match returned {
            Some(d) => d.fd.to_string(),
            None => strace::readable(&call.result),
        };
        // strace holds the program for HOLD after each network call, and we read the kernel's table meanwhile.
        // (read, write and close are not held: no state for them.) After a shutdown the state changes within
        // microseconds, as in the lessons: not shown.
        let network = !matches!(call.name.as_str(), "read" | "write" | "readv" | "writev" | "close");
        if call.name == "shutdown" && !call.failed() {
            self.shut.insert((shown.pid, shown.fd));
        }
        let settled = !self.shut.contains(&(shown.pid, shown.fd));
        let mut state = match &shown.on {
            Some(d) if network && settled && !call.failed() => state_of(d),
            _ => None,
        };
        if let Some(new) = returned.filter(|_| call.name.starts_with("accept"))
            && let Some(new_state) = state_of(new)
        {
            state = Some(format!("{}; fd {}: {new_state}", state.unwrap_or_default(), new.fd));
        }
        // Shown only if we read it while the program was still held: on a busy machine we may fall behind strace,
        // and a state read later could be one the program reached calls afterwards.
        if !in_hold(call.returned_at) {
            state = None;
        }
        let number = self.record.call(call.failed());
        let line = CallLine {
            number,
            who: &who,
            name: &call.name,
            args: &args,
            result: &result,
            failed: call.failed(),
            state: state.as_deref(),
        };
        self.print(|t| t.call(&line))
    }

    /// Keeps what the call tells of the program's sockets and connections.
    fn remember(&mut self, shown: &Shown, returned: Option<&Descriptor>) {
        let call = shown.call;
        // Each connection, to show what the kernel keeps of it once the program is done.
        for d in shown.on.iter().chain(returned) {
            if let Some((local, remote)) = d.pair() {
                self.record.pair(local, remote);
            }
        }
        if let Some(new) = returned {
            self.open.entry(shown.pid).or_default().insert(new.fd);
            if call.name.starts_with("accept") {
                self.accepted.push((shown.pid, new.fd));
                if let Some((_, peer)) = new.pair() {
                    self.record.event(DiagramEvent::Opened { fd: new.fd, peer, we_are: Side::Server });
                }
            }
        }
        if call.name == "connect"
            && !call.failed()
            && let Some(peer) = shown.on.as_ref().and_then(Descriptor::pair).map(|(_, r)| r).or_else(|| call.sockaddr())
        {
            self.record.event(DiagramEvent::Opened { fd: shown.fd, peer, we_are: Side::Client });
        }
        if let Some(errno) = call.errno() {
            let failed = DiagramEvent::Failed { fd: shown.fd, call: static_name(&call.name), errno: errno.to_string() };
            self.record.event(failed);
        }
    }

    /// `read`, `recvfrom`, `readv`, `recvmsg`: the bytes that came in.
    fn received(&mut self, shown: &Shown) -> Result<(), Error> {
        let (call, fd) = (shown.call, shown.fd);
        let n = call.moved();
        let bytes = call.data();
        let seen = &bytes[..(n as usize).min(bytes.len())];
        self.record.data(Direction::Received, n);
        self.print(|t| t.data(Direction::Received, seen, n))?;
        if call.failed() {
            return Ok(());
        }
        if n == 0 {
            self.record.event(DiagramEvent::PeerClosed { fd });
            return self.note("recv returned 0: the other side closed; it will send nothing more");
        }
        self.record.event(DiagramEvent::Received { fd, bytes: n, first_line: diagram::first_line(seen) });
        *self.reads.entry((shown.pid, fd)).or_default() += 1;
        Ok(())
    }

    /// `write`, `sendto`, `writev`, `sendmsg`: the bytes that went out.
    fn sent(&mut self, shown: &Shown) -> Result<(), Error> {
        let (call, fd) = (shown.call, shown.fd);
        let n = call.moved();
        let bytes = call.data();
        let sent = &bytes[..(n as usize).min(bytes.len())];
        self.record.data(Direction::Sent, n);
        self.print(|t| t.data(Direction::Sent, sent, n))?;
        if !call.failed() {
            self.record.event(DiagramEvent::Sent { fd, bytes: n, first_line: diagram::first_line(sent) });
        }
        let asked: u64 = call.arg(2).and_then(|a| a.parse().ok()).unwrap_or(bytes.len() as u64);
        if !call.failed() && n < asked && matches!(call.name.as_str(), "write" | "sendto") {
            self.note(&format!(
                "a short write: the kernel took {n} of the {asked} bytes. Send the rest in a loop, or use sendall, \
                 which does"
            ))?;
        }
        let pieces = self.reads.remove(&(shown.pid, fd)).unwrap_or(0);
        if pieces > 1 {
            self.note(&format!("the request before this reply arrived in pieces: {pieces} reads"))?;
        }
        self.written.entry((shown.pid, fd)).or_default().extend_from_slice(sent);
        Ok(())
    }

    /// `listen`: the blog's backlog of 1 is worth a word.
    fn listened(&mut self, shown: &Shown) -> Result<(), Error> {
        if shown.call.arg(1) != Some("1") {
            return Ok(());
        }
        self.note(
            "a backlog of 1, as in the blog: a page with many pictures overflows it, and the kernel drops the \
             connections that do not fit; the browser retries them a second later (see hhttpp lesson serve-folder)",
        )
    }

    /// `setsockopt`: remember SO_REUSEADDR, for a later `bind` that fails.
    fn option_set(&mut self, shown: &Shown) -> Result<(), Error> {
        if shown.call.arg(2) == Some("SO_REUSEADDR") {
            self.reuse.insert((shown.pid, shown.fd));
        }
        Ok(())
    }

    /// `bind`: EADDRINUSE on a socket without SO_REUSEADDR.
    fn bound(&mut self, shown: &Shown) -> Result<(), Error> {
        if shown.call.errno() != Some("EADDRINUSE") || self.reuse.contains(&(shown.pid, shown.fd)) {
            return Ok(());
        }
        self.note(
            "EADDRINUSE, and this socket has no SO_REUSEADDR: if the port is held only by old connections in \
             TIME_WAIT, setsockopt(SOL_SOCKET, SO_REUSEADDR, 1) before bind lets a restarted server have it",
        )
    }

    /// `shutdown`: the FIN, for the diagram.
    fn shut_down(&mut self, shown: &Shown) -> Result<(), Error> {
        if shown.call.failed() {
            return Ok(());
        }
        let how = match shown.call.arg(1) {
            Some("SHUT_RD") => "SHUT_RD",
            Some("SHUT_WR") => "SHUT_WR",
            _ => "SHUT_RDWR",
        };
        self.record.event(DiagramEvent::Shutdown { fd: shown.fd, how });
        Ok(())
    }

    /// `close`: the connection is over; judge what was written on it.
    fn closed(&mut self, shown: &Shown) -> Result<(), Error> {
        if shown.call.failed() {
            return Ok(());
        }
        let (pid, fd) = (shown.pid, shown.fd);
        self.record.event(DiagramEvent::Closed { fd });
        if let Some(open) = self.open.get_mut(&pid) {
            open.remove(&fd);
        }
        // The number may be given to the next socket.
        self.shut.remove(&(pid, fd));
        self.judge(pid, fd)
    }

    /// When a connection closes: what `hhttpp check` would say of the response written on it.
    fn judge(&mut self, pid: u32, fd: i32) -> Result<(), Error> {
        let Some(written) = self.written.get(&(pid, fd)) else { return Ok(()) };
        if !written.starts_with(b"HTTP/") {
            return Ok(());
        }
        let notes: Vec<String> = judge::framing(written, Ending::Closed)
            .problems
            .into_iter()
            .map(|problem| format!("the response: {} ({})", problem.what, problem.hint))
            .collect();
        for note in notes {
            self.note(&note)?;
        }
        Ok(())
    }

    /// A process ended: the sockets it left open.
    fn exit(&mut self, pid: u32) -> Result<(), Error> {
        let mut left: Vec<i32> = self.open.remove(&pid).unwrap_or_default().into_iter().collect();
        left.sort_unstable();
        if left.is_empty() {
            return Ok(());
        }
        let fds: Vec<String> = left.iter().map(i32::to_string).collect();
        self.note(&format!(
            "the program ended with {} never closed (fd {}): the kernel closed {} for it. Close your sockets, or \
             use with socket.socket(...) as s:",
            plural(left.len() as u64, "socket", "sockets"),
            fds.join(", "),
            if left.len() == 1 { "it" } else { "them" }
        ))
    }

    /// After the program: the sockets left open, what the kernel keeps, the diagram and the summary.
    fn finish(&mut self, code: i32) -> Result<(), Error> {
        let pids: Vec<u32> = self.open.keys().copied().collect();
        for pid in pids {
            self.exit(pid)?;
        }
        let pairs = self.record.pairs().to_vec();
        let states = tcp::settled(&pairs, SETTLE);
        let fates: Vec<Fate> =
            pairs.into_iter().zip(states).map(|(pair, ours)| Fate { pair, ours, theirs: None, ending: None }).collect();
        let record = &self.record;
        self.transcript
            .aftermath(&fates, 0)
            .and_then(|()| self.transcript.diagram(record.events(), "the program"))
            .and_then(|()| self.transcript.summary(record.stats(), &[format!("the program exited with status {code}")]))
            .map_err(Error::Output)
    }

    /// `--compare LESSON`: the program's calls lined up with the lesson's steps, and its response with the
    /// lesson's reply. Returns how many differences it printed.
    fn compare(&mut self, lesson: &Lesson, expected: &Option<Vec<u8>>) -> Result<usize, Error> {
        let mut lines = Vec::new();
        let mut cursor = 0;
        for step in lesson.steps {
            let found = self.kept[cursor..].iter().position(|k| step.names.contains(&k.name.as_str()) && !k.failed());
            match found {
                None => lines.push(format!("✗ missing: {}; {}", step.shows, step.why)),
                Some(at) => {
                    let kept = &self.kept[cursor + at];
                    cursor += at + 1;
                    match (step.check)(kept) {
                        Some(difference) => lines.push(format!("✗ {}: {difference}", step.shows)),
                        None => lines.push(format!("✓ {}", step.shows)),
                    }
                }
            }
        }
        if let Some(ours) = expected.as_ref().filter(|reply| !reply.is_empty()) {
            let theirs: Vec<u8> =
                self.accepted.iter().flat_map(|c| self.written.get(c).cloned().unwrap_or_default()).collect();
            let framing = judge::framing(&theirs, Ending::Closed);
            let mut problems = framing.problems;
            let our_response = judge::framing(ours, Ending::Closed).response;
            if let (Some(their_response), Some(our_response)) = (&framing.response, &our_response) {
                problems.extend(judge::meaning(their_response, our_response).problems);
            }
            match judge::first_difference(&theirs, ours) {
                None => lines.push(format!("✓ the response matches hhttpp lesson {}'s, byte for byte", lesson.name)),
                Some(at) if problems.is_empty() => lines.push(format!(
                    "✓ the response means what hhttpp lesson {}'s does (its bytes differ from byte {at} on)",
                    lesson.name
                )),
                Some(_) => {}
            }
            for problem in problems {
                lines.push(format!("✗ the response: {} (hint: {})", problem.what, problem.hint));
            }
        }
        let differences = lines.iter().filter(|l| l.starts_with('✗')).count();
        let verdict = if differences == 0 {
            "the program makes the lesson's calls and sends its bytes".to_string()
        } else {
            format!("{} from the lesson", plural(differences as u64, "difference", "differences"))
        };
        self.print(|t| {
            t.line("")?;
            t.line(&format!("compared with hhttpp lesson {}:", lesson.name))?;
            for line in &lines {
                t.line(&format!("  {line}"))?;
            }
            t.line(&verdict)?;
            t.flush()
        })?;
        Ok(differences)
    }
}

/// The TCP state the kernel reports now for the socket `-yy` named.
fn state_of(d: &Descriptor) -> Option<String> {
    let entry = match d.socket()? {
        SocketName::Connected { local, remote } => tcp::by_pair(local, remote),
        SocketName::Bound(local) => tcp::listener(local),
        SocketName::Inode(inode) => tcp::by_inode(inode),
    };
    entry.map(|e| e.state.to_string())
}

/// True when now is still inside the hold after a call that returned at `returned_at` (seconds since the epoch),
/// with a margin for the clock.
fn in_hold(returned_at: Option<f64>) -> bool {
    let Some(returned_at) = returned_at else { return false };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    now < returned_at + HOLD.as_secs_f64() * 0.8
}

/// The diagram keeps call names as `&'static str`: the ones it can meet, by name.
fn static_name(name: &str) -> &'static str {
    const NAMES: [&str; 14] = [
        "accept", "accept4", "bind", "close", "connect", "listen", "read", "readv", "recvfrom", "recvmsg", "sendmsg",
        "sendto", "write", "writev",
    ];
    NAMES.into_iter().find(|n| *n == name).unwrap_or("a call")
}

/// The arguments as the lessons print them: descriptors without their names, data as `buf`, strings readable.
fn render_args(call: &Call) -> String {
    let data_arg = match call.name.as_str() {
        "read" | "write" | "recvfrom" | "sendto" => Some("buf"),
        "readv" | "writev" => Some("iov"),
        "recvmsg" | "sendmsg" => Some("msg"),
        _ => None,
    };
    let shown: Vec<String> = call
        .args
        .iter()
        .enumerate()
        .map(|(i, arg)| match strace::descriptor(arg) {
            Some(d) => d.fd.to_string(),
            None if i == 1 && data_arg.is_some() => data_arg.unwrap_or("buf").to_string(),
            None => strace::readable(arg),
        })
        .collect();
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_shown_as_the_lessons_show_theirs() {
        let Some(Event::Call(call)) = strace::Reader::default()
            .line(r#"7 sendto(4<TCP:[127.0.0.1:1->127.0.0.1:2]>, "\x68\x69", 2, 0, NULL, 0) = 2"#)
        else {
            panic!("not a call")
        };
        assert_eq!(render_args(&call), "4, buf, 2, 0, NULL, 0");
    }
}
