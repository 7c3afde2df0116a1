//! `hhttpp trace [--compare LESSON] -- COMMAND [ARGS…]`: your own program's socket calls, in our transcript's form.
//!
//! We run COMMAND under `strace -f -xx -yy` and read strace's report as it comes, over an anonymous socket pair
//! (which a traced program cannot open by any path). Each call on a TCP socket is shown the way the lessons show
//! theirs: numbered, its arguments in strace's shape, the kernel's answer, and a hex dump of every byte read or
//! written; the socket's TCP state is read where it changes (see `HOLD` and `CONFIRM`). Calls on files and
//! terminals are left out (`-yy` names what each descriptor is, so we can tell). COMMAND's own output passes
//! through, escaped and marked `┆ stdout:`.
//!
//! [`crate::strace`] reads strace's text; this module keeps what we know of the program (its open sockets, what it
//! wrote on each connection) and adds the notes a learner needs: a backlog of 1, a short write, a `recv` that
//! returned 0, a request read in pieces, a response that `hhttpp check` would fault, a socket left open at exit,
//! `EADDRINUSE` without `SO_REUSEADDR`. With `--compare LESSON`, the calls are then lined up with the lesson's
//! steps, and the response with the lesson's reply.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Stdout};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use crate::error::Error;
use crate::escape::escape;
use crate::judge::{self, Ending};
use crate::lesson::Lesson;
use crate::strace::{self, Call, Descriptor, Event, SocketName};
use crate::trace::format::plural;
use crate::trace::html::{self, Page};
use crate::trace::packets::{Capture, Place, waits_for_the_peer};
use crate::trace::{CallLine, Direction, Event as DiagramEvent, Fate, Record, Side, Transcript, diagram, tcp};

/// How long strace holds the program after listen, accept and connect, so that we can read the state they left.
/// (Not after shutdown: a thread held there may still be held when its process ends, and never make its close.)
///
/// Only the first [`HELD`] calls of each of these in each thread are held: a server that accepts for hours is not
/// slowed by 25 ms a connection. After those, the state is read at once and shown when the thread's next call proves
/// it, as after a first read.
const HELD: u32 = 8;
const HOLD: Duration = Duration::from_millis(25);

/// How long a shutdown, or a connection's first read or write, waits to be shown for the program's next call, whose
/// start (strace's `-ttt` stamp) proves that the state we read after it was not yet changed by the program. Only the transcript
/// waits: the program runs on. A program that then waits longer (a keep-alive server waiting for the next request)
/// gets the call shown without its state after this long.
const CONFIRM: Duration = Duration::from_millis(500);

/// At most this many pieces of the program's output wait behind a call that waits for [`CONFIRM`]; past them, the
/// call is shown without its state.
const QUEUED_MAX: usize = 64;

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
    /// `--packets`: show the TCP segments on `lo` beside the calls; `--pcap FILE`: also write them as pcapng.
    pub packets: bool,
    pub pcap: Option<&'a Path>,
    /// `--html FILE`: also draw the run as a page, a lane per process.
    pub html: Option<&'a Path>,
}

/// What came in, from strace or from the program.
enum Input {
    Strace(Vec<u8>),
    Stdout(Piece),
    Stderr(Piece),
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
    // A program that cannot be found ends as a shell ends it: one line, status 127.
    if !findable(&options.command[0]) {
        eprintln!(
            "hhttpp: cannot run {}: no such program (not a file, nor found in PATH)",
            escape(options.command[0].as_bytes())
        );
        return Ok(127);
    }
    // Ctrl-C goes to the whole foreground process group: the program gets it (strace, with -I never, does not), and
    // we only note it, so that we read strace's report to its end and print the aftermath. Children get the default
    // action back at exec.
    crate::interrupt::install()?;
    // The capture is opened before the program starts, so that no segment of it is missed; it is close-on-exec
    // (the program does not inherit it) and strace traces the program, not us, so none of its calls are shown.
    let (capture, needs) = open_capture(options)?;
    let heading = format!(
        "hhttpp trace: {}, under strace\nevery numbered line is a call the program made on a TCP socket; calls \
         on files and terminals are left out.\n⟨STATE⟩: the socket's TCP state in the kernel's table, read \
         at these moments: after the first {HELD} listen, accept and connect calls of each thread, while \
         strace holds the program ({} ms after each); after later ones, a shutdown and a connection's first \
         read and first write, at once, shown only when the program's next call began after we read it; after the \
         close of a socket's last descriptor, when we came to it (no entry: the kernel had dropped the socket). The \
         peer can move a state on at any time (its FIN makes ours CLOSE_WAIT). Not shown when we could not read it \
         in time",
        escape(options.command.join(" ").as_bytes()),
        HOLD.as_millis()
    );
    // Made before the program starts, so that a path we cannot write fails at once; close-on-exec, out of the
    // program's way.
    let page = match options.html {
        Some(path) => Some(
            Page::for_program(path, &heading)
                .map_err(|err| Error::io(format!("create the --html page {:?}", path.display().to_string()), err))?,
        ),
        None => None,
    };
    // strace's report comes over one end of a socketpair, which strace has as its stderr. Nobody can open an
    // anonymous socket by a path (not even /proc/PID/fd/N), so a traced program cannot write calls into it. The
    // program itself must not inherit it: a shell of ours, traced as the program's first moments, puts the
    // program's own stderr (fd 3 here) in its place before it execs the program.
    let (ours, theirs) = std::os::unix::net::UnixStream::pair()
        .map_err(|err| Error::io("create the socket pair for strace's report", err))?;
    // A big buffer between strace and us, so that strace rarely waits for us to read a long line (a 64 KiB write is
    // a quarter of a megabyte of hex): each of us works on a core of its own. (Capped by net.core.wmem_max.)
    let _ = socket2::SockRef::from(&theirs).set_send_buffer_size(4 << 20);
    let _ = socket2::SockRef::from(&ours).set_recv_buffer_size(4 << 20);
    let (err_read, err_write) = io::pipe().map_err(|err| Error::io("create the pipe for the program's stderr", err))?;
    let mut command = Command::new("strace");
    command
        .args(["-f", "-q", "-I", "never", "-ttt", "-T", "-xx", "-yy", "-s", "65536", "-e", TRACED])
        // After the calls that change a socket's state strace holds the program for a moment (it has printed the
        // call by then), so that the TCP state we read is the one the call left, before the program moves on.
        .args(["-e", &format!("inject=listen,accept,accept4,connect:delay_exit={}:when=1..{HELD}", HOLD.as_micros())])
        // The shell also tells us its pid (the program's, once it execs) on fd 4: strace's report names the first
        // process only once there are others.
        .args(["--", "sh", "-c", "echo $$ >&4; exec 4>&- 2>&3 3>&-; exec \"$@\"", "hhttpp trace"])
        .args(options.command)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::os::fd::OwnedFd::from(theirs)));
    let (pid_read, pid_write) = io::pipe().map_err(|err| Error::io("create the pipe for the program's pid", err))?;
    let err_fd = std::os::fd::AsRawFd::as_raw_fd(&err_write);
    let pid_fd = std::os::fd::AsRawFd::as_raw_fd(&pid_write);
    // SAFETY: dup2 is async-signal-safe; between fork and exec we call nothing else. It gives strace (and so our
    // shell) the write end of the program's stderr pipe as fd 3, and of the pid's as fd 4, without close-on-exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, move || {
            if libc::dup2(err_fd, 3) < 0 || libc::dup2(pid_fd, 4) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().map_err(|err| Error::io("start strace", err))?;
    drop(err_write);
    drop(pid_write);
    drop(command);
    let mut first = String::new();
    let _ = BufReader::new(pid_read).read_line(&mut first);
    let first: Option<u32> = first.trim().parse().ok();
    // Bounded: strace's lines are up to a quarter of a megabyte each, so at most 8 MiB of them wait here.
    let (send, inputs) = mpsc::sync_channel(32);
    let readers = [
        spawn_pieces(send.clone(), child.stdout.take().map(|s| Box::new(s) as Box<dyn io::Read + Send>), Input::Stdout),
        spawn_pieces(send.clone(), Some(Box::new(err_read)), Input::Stderr),
        spawn_lines(send, Box::new(ours)),
    ];

    let mut program = Program::new(Transcript::new(io::stdout(), options.color, options.full_dump), first);
    program.keep_calls = compare.is_some();
    program.capture = capture;
    program.page = page;
    program.print(|t| t.heading(&heading))?;
    if let Some(needs) = needs {
        program.note(&needs)?;
    }
    loop {
        // A call waiting for its proof is shown without its state if the proof does not come in time.
        let input = if program.pending.is_some() {
            match inputs.recv_timeout(CONFIRM) {
                Ok(input) => input,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    program.resolve(false)?;
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match inputs.recv() {
                Ok(input) => input,
                Err(_) => break,
            }
        };
        match input {
            Input::Stdout(piece) => program.output("stdout", piece)?,
            Input::Stderr(piece) => program.output("stderr", piece)?,
            // strace writes ASCII (-xx escapes every byte of a string); checking that is cheaper than the lossy copy.
            Input::Strace(line) => match std::str::from_utf8(&line) {
                Ok(text) => program.line(text)?,
                Err(_) => program.line(&String::from_utf8_lossy(&line))?,
            },
        }
    }
    program.resolve(false)?;
    for reader in readers.into_iter().flatten() {
        let _ = reader.join();
    }
    let status = child.wait().map_err(|err| Error::io("wait for strace to end", err))?;
    let interrupted = crate::interrupt::interrupted();
    // strace ends as the program did: with its status, or killed by the same signal.
    let (code, ending) = match (status.code(), std::os::unix::process::ExitStatusExt::signal(&status)) {
        (Some(code), _) => match program.killed.clone() {
            Some(signal) => (128 + signal_number(&signal).unwrap_or(0), format!("the program was killed by {signal}")),
            None => (code, format!("the program exited with status {code}")),
        },
        (None, Some(n)) => {
            let name = program.killed.clone().unwrap_or_else(|| format!("signal {n}"));
            (128 + n, format!("the program was killed by {name}"))
        }
        (None, None) => (1, "the program ended, how strace did not say".to_string()),
    };
    let ending =
        if interrupted { format!("{ending}, after Ctrl-C (hhttpp ends with 130, as a shell does)") } else { ending };
    program.finish_capture()?;
    program.finish(&ending)?;
    let differences = match compare {
        Some((lesson, expected)) => program.compare(lesson, &expected)?,
        None => 0,
    };
    program.write_page()?;
    Ok(if differences > 0 {
        1
    } else if interrupted {
        130
    } else {
        code
    })
}

/// `--packets` (or `--pcap`): the capture on `lo`, or none and the line that says why; or the note that tells
/// how to read its lines.
fn open_capture(options: &Options) -> Result<(Option<Capture>, Option<String>), Error> {
    if !options.packets && options.pcap.is_none() {
        return Ok((None, None));
    }
    let title = format!("hhttpp trace: {}, captured on lo", options.command.join(" "));
    let Some(mut capture) = Capture::for_run(options.pcap, &title)? else {
        return Ok((None, Some(format!("{}; this run shows no segments", crate::trace::packets::NEEDS))));
    };
    capture.of_the_program();
    let note = "--packets: the lines marked wire: are TCP segments on lo, to or from the addresses the program \
                listens on or connects to, caught by hhttpp's own capture socket (AF_PACKET, opened before the \
                program started; strace traces the program, not hhttpp, so its calls are not here). Each is placed \
                by the kernel's time stamp against strace's: above a call's line, before it began (and, for a call \
                that waits for the other side, while it waited); under it, while it ran. The two clocks differ by a \
                few milliseconds, so under a call, \"at call N\" means from its start to 5 ms after its end (and the 25 ms \
                strace holds the program after the calls it holds), unless the next call began sooner. seq and ack count from each \
                side's first sequence number."
        .to_string();
    Ok((Some(capture), Some(note)))
}

/// The calls strace reports: every call that can make, name, copy, move bytes on or wait for a socket, and the
/// ones that make processes and threads (descriptors belong to a process, and fork copies them).
const TRACED: &str = "trace=%network,read,write,readv,writev,close,sendfile,splice,copy_file_range,poll,ppoll,select,\
                      pselect6,epoll_wait,epoll_pwait,epoll_ctl,dup,dup2,dup3,fcntl,clone,clone3,fork,vfork";

/// True when `name` names a program a shell could start: a path to a file, or a file in a PATH folder.
fn findable(name: &str) -> bool {
    if name.contains('/') {
        return Path::new(name).is_file();
    }
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()))
        .unwrap_or(false)
}

/// A signal's number from its name: `SIGTERM` → 15.
fn signal_number(name: &str) -> Option<i32> {
    let name = name.split_whitespace().next()?;
    const SIGNALS: [(&str, i32); 12] = [
        ("SIGHUP", libc::SIGHUP),
        ("SIGINT", libc::SIGINT),
        ("SIGQUIT", libc::SIGQUIT),
        ("SIGILL", libc::SIGILL),
        ("SIGABRT", libc::SIGABRT),
        ("SIGBUS", libc::SIGBUS),
        ("SIGKILL", libc::SIGKILL),
        ("SIGSEGV", libc::SIGSEGV),
        ("SIGPIPE", libc::SIGPIPE),
        ("SIGALRM", libc::SIGALRM),
        ("SIGTERM", libc::SIGTERM),
        ("SIGUSR1", libc::SIGUSR1),
    ];
    SIGNALS.iter().find(|(n, _)| *n == name).map(|(_, number)| *number)
}

/// How many bytes of one line of the program's output we show; the rest is counted.
const SHOWN_LINE: usize = 4096;

/// A line of the program's output: its first bytes, and how many more it had.
struct Piece {
    shown: Vec<u8>,
    more: u64,
}

/// Reads the program's output to its end, whatever the bytes, in pieces of at most one line's first
/// [`SHOWN_LINE`] bytes: memory stays bounded however long the lines are.
fn spawn_pieces(
    send: mpsc::SyncSender<Input>,
    source: Option<Box<dyn io::Read + Send>>,
    wrap: fn(Piece) -> Input,
) -> Option<std::thread::JoinHandle<()>> {
    let source = source?;
    Some(std::thread::spawn(move || {
        let mut reader = BufReader::with_capacity(64 * 1024, source);
        let mut piece = Piece { shown: Vec::new(), more: 0 };
        loop {
            let buf = match reader.fill_buf() {
                Ok([]) | Err(_) => break,
                Ok(buf) => buf,
            };
            let (line, ended) = match buf.iter().position(|&b| b == b'\n') {
                Some(at) => (&buf[..at], Some(at + 1)),
                None => (buf, None),
            };
            let room = SHOWN_LINE - piece.shown.len();
            piece.shown.extend_from_slice(&line[..line.len().min(room)]);
            piece.more += line.len().saturating_sub(room) as u64;
            let used = ended.unwrap_or(buf.len());
            reader.consume(used);
            if ended.is_some()
                && send.send(wrap(std::mem::replace(&mut piece, Piece { shown: Vec::new(), more: 0 }))).is_err()
            {
                return;
            }
        }
        if !piece.shown.is_empty() || piece.more > 0 {
            let _ = send.send(wrap(piece));
        }
    }))
}

/// Reads strace's report line by line (each is bounded by `-s`), in a thread of its own.
fn spawn_lines(send: mpsc::SyncSender<Input>, source: Box<dyn io::Read + Send>) -> Option<std::thread::JoinHandle<()>> {
    Some(std::thread::spawn(move || {
        let mut reader = BufReader::with_capacity(256 * 1024, source);
        loop {
            let mut line = Vec::new();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            if line.ends_with(b"\n") {
                line.pop();
            }
            if send.send(Input::Strace(line)).is_err() {
                break;
            }
        }
    }))
}

/// A socket, as the kernel has it: one for all the descriptors (in every process) that name it.
struct Socket {
    /// The number it first had: the diagram's name for it.
    first_fd: i32,
    /// What `-yy` last said of it: `TCP:[127.0.0.1:8338->127.0.0.1:51234]`.
    what: String,
    /// How many descriptors name it, in every process; it is closed when the last one is.
    names: usize,
    reuse: bool,
    /// Set once `accept` returned it or `connect` began it: what crossed it, until its last close.
    conn: Option<Connection>,
}

/// One connection's record, from `accept`/`connect` to the close of its last descriptor.
#[derive(Default)]
struct Connection {
    /// Reads since the last write, for the note on a request read in pieces.
    reads: u64,
    /// What the peer sent that is not yet a whole request head (at most [`MAX_HEAD`] bytes), and the body bytes
    /// of the last request still to come.
    request: Vec<u8>,
    body_left: u64,
    /// What each request asked, oldest first, to know where each reply ends (a HEAD's has no body).
    asked: std::collections::VecDeque<judge::Asked>,
    /// What the program sent that is not yet a whole response.
    response: Vec<u8>,
    /// How many responses were judged on it.
    judged: u64,
    /// Everything it sent, for `--compare` (accepted connections only).
    sent_all: Vec<u8>,
    accepted: bool,
    /// Set once its responses passed [`MAX_RESPONSE`]: they are no longer judged.
    unjudged: bool,
    /// Whether its first read and its first write were seen: the state is read after each.
    read_once: bool,
    written_once: bool,
}

/// A request head is read at most this far; past it, we stop looking for requests on the connection.
const MAX_HEAD: usize = 64 * 1024;

/// The bytes of a connection's responses kept to judge them (and, with `--compare`, to compare them): past this
/// many, its responses are no longer judged.
const MAX_RESPONSE: usize = 32 << 20;

/// One process's descriptor table (shared by its threads, copied by fork): descriptor → socket.
#[derive(Default, Clone)]
struct Table {
    fds: HashMap<i32, usize>,
    /// The threads that use it; the process ends when the last one does.
    members: HashSet<u32>,
    /// epoll instances: their descriptor → (the data word given to epoll_ctl → the socket's descriptor).
    epolls: HashMap<i32, HashMap<String, i32>>,
}

/// What we know of the traced program so far, and the transcript we print it to.
struct Program {
    transcript: Transcript<Stdout>,
    record: Record,
    reader: strace::Reader,
    first_pid: Option<u32>,
    /// The processes (thread ids) strace traces now, as far as its report has said: a line without `[pid N]` is
    /// the only one's.
    attached: Vec<u32>,
    tables: Vec<Table>,
    table_of: HashMap<u32, usize>,
    /// Threads placed in a table of their own only because nothing said whose they were yet (they had ended before
    /// we could ask /proc): the `clone` that made them says, later.
    provisional: HashSet<u32>,
    sockets: Vec<Socket>,
    /// The places in `sockets` of sockets closed and forgotten, to be taken by new ones.
    free: Vec<usize>,
    /// Calls that moved bytes, by name: (calls, bytes), received and sent.
    moved_in: Vec<(String, u64, u64)>,
    moved_out: Vec<(String, u64, u64)>,
    peeked: u64,
    /// Notes said once (the non-blocking errnos come by the thousand).
    said: HashSet<String>,
    /// The first process's signal, when one killed it.
    killed: Option<String>,
    /// Every call shown (without its bytes), for `--compare`.
    keep_calls: bool,
    kept: Vec<Call>,
    /// A connection's first read or write, waiting (at most [`CONFIRM`]) for the proof that the state read after
    /// it is the one it left, and the program's output that came meanwhile.
    pending: Option<Pending>,
    queued: Vec<(&'static str, Piece)>,
    /// `--packets`: the capture on `lo`, and the last call's end and place, for the segments under its line.
    capture: Option<Capture>,
    under: Option<(SystemTime, Place)>,
    /// Segments the clocks cannot place between the last call and this one, printed under this one's line.
    either: Option<(SystemTime, Place)>,
    /// `--html`: the page, each process's lane (by its table), and the end of the transcript, drawn under the
    /// timeline.
    page: Option<Page>,
    lanes: HashMap<usize, usize>,
    closing: String,
}

/// A call whose TCP state was read at once, not while strace held the program: the state is shown only if the
/// thread's next call began after we read it (strace stamps each call's start with `-ttt`). Until then, the call
/// waits here, and nothing after it is shown.
struct Pending {
    call: Call,
    state: Option<String>,
    /// When the state had been read, in seconds since the epoch (the clock strace's `-ttt` uses).
    read_by: f64,
}

/// How the TCP state a call left is known, when it is.
enum Known {
    /// strace held the program after the call: the state is read now, and shown if we are still inside the hold.
    Held,
    /// Read at once after the call, and proved: the thread's next call began after we read it.
    Proved(String),
    /// Not read, or not proved.
    Unread,
}

/// What each kind of call adds to what we know, and the notes it may bring: one function per kind.
type Handler = fn(&mut Program, &Shown) -> Result<(), Error>;
const KINDS: [(&[&str], Handler); 12] = [
    (&["read", "recv", "recvfrom", "readv", "recvmsg", "recvmmsg"], Program::received),
    (&["write", "send", "sendto", "writev", "sendmsg", "sendmmsg"], Program::sent),
    (&["sendfile", "splice", "copy_file_range"], Program::spliced),
    (&["socket", "accept", "accept4"], Program::opened),
    (&["connect"], Program::connected),
    (&["listen"], Program::listened),
    (&["setsockopt"], Program::option_set),
    (&["bind"], Program::bound),
    (&["shutdown"], Program::shut_down),
    (&["close"], Program::closed),
    (&["dup", "dup2", "dup3", "fcntl"], Program::duplicated),
    (&["epoll_ctl"], Program::watched),
];

/// The call being shown, and the descriptors it names: what every kind of call's function needs.
struct Shown<'a> {
    call: &'a Call,
    pid: u32,
    table: usize,
    /// The TCP descriptor the call was made on (-1 when it has none).
    fd: i32,
    /// Its socket.
    socket: Option<usize>,
    /// The TCP descriptor it returned.
    returned: Option<Descriptor>,
}

/// The errors a non-blocking socket (or a signal) brings in normal work, with what they mean.
fn normal_errno(call: &str, errno: &str) -> Option<String> {
    Some(match errno {
        "EAGAIN" | "EWOULDBLOCK" if call.starts_with("accept") => format!(
            "{call} = -1 {errno}: no connection is waiting yet. A non-blocking socket says so at once instead of \
             waiting; the program waits in poll/epoll/select and tries again (not a failure)"
        ),
        "EAGAIN" | "EWOULDBLOCK" => format!(
            "{call} = -1 {errno}: nothing can move yet on this non-blocking socket (or a timeout ran out); the \
             program waits in poll/epoll/select and tries again (not a failure)"
        ),
        "EINPROGRESS" => "connect = -1 EINPROGRESS: a non-blocking connect returns at once while the handshake goes \
             on; poll/epoll says when it is done, and getsockopt(SO_ERROR) how it went (not a failure)"
            .to_string(),
        "EINTR" => format!(
            "{call} = -1 EINTR: a signal arrived while the call waited (Ctrl-C sends SIGINT); the call did \
             nothing, and the program may make it again (not a failure)"
        ),
        _ => return None,
    })
}

impl Program {
    fn new(transcript: Transcript<Stdout>, first_pid: Option<u32>) -> Self {
        Program {
            transcript,
            // The diagram and the aftermath show the last few connections: a server traced for hours keeps the
            // events and the address pairs of those only.
            record: Record::keeping(crate::trace::transcript::KEPT_CONNECTIONS),
            reader: strace::Reader::default(),
            first_pid,
            attached: first_pid.into_iter().collect(),
            tables: Vec::new(),
            table_of: HashMap::new(),
            provisional: HashSet::new(),
            sockets: Vec::new(),
            free: Vec::new(),
            moved_in: Vec::new(),
            moved_out: Vec::new(),
            peeked: 0,
            said: HashSet::new(),
            killed: None,
            keep_calls: false,
            kept: Vec::new(),
            pending: None,
            queued: Vec::new(),
            capture: None,
            under: None,
            either: None,
            page: None,
            lanes: HashMap::new(),
            closing: String::new(),
        }
    }

    /// Runs `f` with the printer; a failure to write is the transcript's.
    fn print(&mut self, f: impl FnOnce(&mut Transcript<Stdout>) -> io::Result<()>) -> Result<(), Error> {
        f(&mut self.transcript).map_err(Error::Output)
    }

    fn note(&mut self, text: &str) -> Result<(), Error> {
        if let Some(page) = &mut self.page {
            page.note(text);
        }
        self.print(|t| t.note(text))
    }

    /// `--html`: what comes next on the page goes on the lane of the process whose table is `table` (made now, at
    /// its first call shown).
    fn on_lane(&mut self, table: usize, pid: u32) {
        let Some(page) = &mut self.page else { return };
        let lane = *self.lanes.entry(table).or_insert_with(|| {
            // The kernel's word for the process a thread belongs to, while it runs.
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let tgid = status.lines().find_map(|l| l.strip_prefix("Tgid:")).and_then(|v| v.trim().parse().ok());
            let first = self.first_pid.is_some_and(|first| self.tables[table].members.contains(&first));
            let process = tgid.unwrap_or(pid);
            page.lane(if first {
                format!("the program (pid {process}): its calls")
            } else {
                format!("pid {process}: a process of the program's (strace followed it), its calls")
            })
        });
        page.on(lane);
    }

    /// `--html`: writes the page, with the end of the transcript under its timeline.
    fn write_page(&mut self) -> Result<(), Error> {
        let Some(page) = &self.page else { return Ok(()) };
        page.write(&self.closing).map_err(|err| Error::io("write the --html page", err))
    }

    /// A note said once per run.
    fn note_once(&mut self, key: &str, text: &str) -> Result<(), Error> {
        if self.said.insert(key.to_string()) { self.note(text) } else { Ok(()) }
    }

    /// A line the program printed, escaped; a long line's rest is counted. Behind a call that waits for its proof,
    /// it waits too, so that the transcript keeps the order things came in.
    fn output(&mut self, stream: &'static str, piece: Piece) -> Result<(), Error> {
        if self.pending.is_some() {
            self.queued.push((stream, piece));
            if self.queued.len() >= QUEUED_MAX {
                self.resolve(false)?;
            }
            return Ok(());
        }
        if let Some(page) = &mut self.page {
            page.output(html::plain(|t| t.program_output(stream, &piece.shown)).trim());
        }
        self.print(|t| t.program_output(stream, &piece.shown))?;
        if piece.more > 0 {
            let more = format!("┆ … and {} more on that line, not shown", plural(piece.more, "byte", "bytes"));
            if let Some(page) = &mut self.page {
                page.output(&more);
            }
            self.print(|t| t.note(&more))?;
        }
        Ok(())
    }

    /// Shows the call that waited for its proof (with its state if `proved`), then the output that came meanwhile.
    fn resolve(&mut self, proved: bool) -> Result<(), Error> {
        let Some(Pending { call, state, .. }) = self.pending.take() else { return Ok(()) };
        self.present(call, Some(state.filter(|_| proved)), false)?;
        for (stream, piece) in std::mem::take(&mut self.queued) {
            self.output(stream, piece)?;
        }
        Ok(())
    }

    /// The line after a call that waits for its proof. The same thread's next line is the proof if its call began
    /// after we read the state (`-ttt` stamps a line with its call's start): until then the thread had not made a
    /// call since, so the state was the one the waiting call left, or one the peer made. A line of another thread's
    /// that is shown must come after the waiting call: then it is shown without its state.
    fn prove(&mut self, line: &str) -> Result<(), Error> {
        let Some(pending) = &self.pending else { return Ok(()) };
        let (pid, rest) = strace::prefix(line);
        let pid = pid.unwrap_or_else(|| match self.attached[..] {
            [only] => only,
            _ => self.first_pid.unwrap_or(0),
        });
        if pid != pending.call.pid {
            return if relevant(rest) { self.resolve(false) } else { Ok(()) };
        }
        let (stamp, after) = rest.split_once(' ').unwrap_or((rest, ""));
        let began: Option<f64> = stamp.parse().ok().filter(|_| !after.starts_with("<..."));
        let proved = began.is_some_and(|began| began > pending.read_by);
        self.resolve(proved)
    }

    /// One line of strace's report.
    fn line(&mut self, line: &str) -> Result<(), Error> {
        if self.pending.is_some() {
            self.prove(line)?;
        }
        if let Some(message) = line.strip_prefix("strace: ") {
            // strace's own diagnostics: labelled as strace's.
            if let Some(page) = &mut self.page {
                page.output(html::plain(|t| t.program_output("strace", message.as_bytes())).trim());
            }
            return self.print(|t| t.program_output("strace", message.as_bytes()));
        }
        let (pid, rest) = strace::prefix(line);
        let pid = match pid {
            Some(pid) => {
                if !self.attached.contains(&pid) {
                    self.attached.push(pid);
                }
                pid
            }
            None if self.attached.len() == 1 => self.attached[0],
            None => self.first_pid.unwrap_or(0),
        };
        if !relevant(rest) {
            return Ok(());
        }
        match self.reader.line_of(pid, rest) {
            // strace marks a call it held: `= 4 (DELAYED) <0.000044>`, at the end.
            Some(Event::Call(call)) => {
                let tail = &rest.as_bytes()[rest.len().saturating_sub(40)..];
                let delayed = tail.windows(10).any(|w| w == b"(DELAYED) " || w == b" (DELAYED)");
                self.call(call, delayed)
            }
            Some(Event::Exit { pid, .. }) => self.exit(pid, None),
            Some(Event::Killed { pid, signal }) => {
                self.exit(pid, Some(&signal))?;
                if Some(pid) == self.first_pid {
                    self.killed = Some(signal);
                }
                Ok(())
            }
            // A child process ended: every forking program gets these, and they say nothing of its sockets.
            Some(Event::Signal { signal, .. }) if signal == "SIGCHLD" => Ok(()),
            Some(Event::Signal { pid, signal }) => {
                let who = self.who(pid);
                self.note(&format!("{who}the program got {signal}"))
            }
            _ => Ok(()),
        }
    }

    fn who(&self, pid: u32) -> String {
        if Some(pid) == self.first_pid { String::new() } else { format!("[pid {pid}] ") }
    }

    /// The descriptor table of thread `tid`: its process's, found when first seen from the kernel's own words
    /// (`/proc/TID/status`), else from the `clone` that made it.
    fn table_for(&mut self, tid: u32) -> usize {
        if let Some(&table) = self.table_of.get(&tid) {
            return table;
        }
        let status = std::fs::read_to_string(format!("/proc/{tid}/status")).unwrap_or_default();
        let field = |name: &str| -> Option<u32> {
            status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.trim().parse().ok())
        };
        let table = match (field("Tgid:"), field("PPid:")) {
            (Some(tgid), _) if tgid != tid && self.table_of.contains_key(&tgid) => self.table_of[&tgid],
            (_, Some(ppid)) if self.table_of.contains_key(&ppid) => {
                // A new process: a copy of its parent's table.
                let copy = self.copy_table(self.table_of[&ppid]);
                self.tables.push(copy);
                self.tables.len() - 1
            }
            (tgid, _) => {
                if tgid.is_none() && !self.table_of.is_empty() {
                    self.provisional.insert(tid);
                }
                self.tables.push(Table::default());
                self.tables.len() - 1
            }
        };
        self.tables[table].members.insert(tid);
        self.table_of.insert(tid, table);
        table
    }

    /// A copy of a table, as fork makes it: every socket gets one more name.
    fn copy_table(&mut self, from: usize) -> Table {
        let mut copy = self.tables[from].clone();
        copy.members.clear();
        for &socket in copy.fds.values() {
            self.sockets[socket].names += 1;
        }
        copy
    }

    /// `clone`, `clone3`, `fork`, `vfork`: a thread shares its process's table, a process gets a copy.
    fn cloned(&mut self, call: &Call) {
        let Some(child) = call.value().filter(|&c| c > 0).map(|c| c as u32) else { return };
        if !self.attached.contains(&child) {
            self.attached.push(child);
        }
        let parent = self.table_for(call.pid);
        let shares = call.arg(0).is_some_and(|flags| flags.contains("CLONE_FILES"));
        if self.provisional.remove(&child) {
            // Its calls came before this clone's end: its table was a guess, now put right.
            if let Some(guess) = self.table_of.get(&child).copied().filter(|&g| g != parent && shares) {
                let fds: Vec<(i32, usize)> = self.tables[guess].fds.drain().collect();
                for (fd, socket) in fds {
                    if self.tables[parent].fds.get(&fd) == Some(&socket) {
                        self.sockets[socket].names = self.sockets[socket].names.saturating_sub(1);
                    } else {
                        self.tables[parent].fds.insert(fd, socket);
                    }
                }
                self.tables[guess].members.remove(&child);
                self.tables[parent].members.insert(child);
                self.table_of.insert(child, parent);
            }
            return;
        }
        if self.table_of.contains_key(&child) {
            return; // seen first, and placed by the kernel's own words
        }
        let table = if shares {
            parent
        } else {
            let copy = self.copy_table(parent);
            self.tables.push(copy);
            self.tables.len() - 1
        };
        self.tables[table].members.insert(child);
        self.table_of.insert(child, table);
    }

    /// The socket behind descriptor `d` in `table`; one we have not seen made (a descriptor inherited before we
    /// knew of it) is found by what `-yy` says of it, or made now.
    fn socket_of(&mut self, table: usize, d: &Descriptor) -> usize {
        if let Some(&socket) = self.tables[table].fds.get(&d.fd) {
            if self.sockets[socket].what != d.what {
                self.sockets[socket].what.clone_from(&d.what);
                // A connect's socket is named by its inode until strace can name its pair of addresses: from then
                // on, the aftermath can look the connection up.
                if self.sockets[socket].conn.is_some()
                    && let Some((local, remote)) = d.pair()
                {
                    self.record.pair(local, remote);
                }
            }
            return socket;
        }
        let socket = match self.sockets.iter().position(|s| s.names > 0 && s.what == d.what) {
            Some(socket) => {
                self.sockets[socket].names += 1;
                socket
            }
            None => self.new_socket(d),
        };
        self.tables[table].fds.insert(d.fd, socket);
        socket
    }

    /// A socket seen for the first time; it takes the place of one that is closed and forgotten, so that a
    /// server traced for hours keeps as many as are open at once.
    fn new_socket(&mut self, d: &Descriptor) -> usize {
        let socket = Socket { first_fd: d.fd, what: d.what.clone(), names: 1, reuse: false, conn: None };
        match self.free.pop() {
            Some(free) => {
                self.sockets[free] = socket;
                free
            }
            None => {
                self.sockets.push(socket);
                self.sockets.len() - 1
            }
        }
    }

    /// A call strace reported: shown when it was made on, or returned, a TCP socket.
    /// `delayed`: strace held the program after it.
    fn call(&mut self, call: Call, delayed: bool) -> Result<(), Error> {
        self.present(call, None, delayed)
    }

    /// Shows a call and adds what it did to what we know. `proved`: for a connection's first read or write, whose
    /// state was read at once, that state if the program's next call proved it (`Some(None)`: not proved); `None`
    /// the first time the call is seen.
    fn present(&mut self, call: Call, proved: Option<Option<String>>, delayed: bool) -> Result<(), Error> {
        if matches!(call.name.as_str(), "clone" | "clone3" | "fork" | "vfork") {
            self.cloned(&call);
            return Ok(());
        }
        let table = self.table_for(call.pid);
        // The TCP descriptor the call was made on: the first argument, or for splice and copy_file_range the
        // output side when the input is not one.
        let on = call.fd().filter(Descriptor::is_tcp).or_else(|| match call.name.as_str() {
            "splice" | "copy_file_range" => call.arg(2).and_then(strace::descriptor).filter(Descriptor::is_tcp),
            _ => None,
        });
        let returned = call.returned_fd().filter(Descriptor::is_tcp);
        let waits = matches!(call.name.as_str(), "poll" | "ppoll" | "select" | "pselect6");
        let epoll_wait = call.name.starts_with("epoll_wait") || call.name.starts_with("epoll_pwait");
        let keep = match call.name.as_str() {
            // A socket call that failed has no descriptor to tell us its kind: its first argument does.
            "socket" => returned.is_some() || (call.failed() && call.arg(0).is_some_and(|a| a.starts_with("AF_INET"))),
            "epoll_ctl" => call.arg(2).and_then(strace::descriptor).is_some_and(|d| d.is_tcp()),
            // strace does not name select's descriptors: they are looked up in the table.
            "select" | "pselect6" => call.args.iter().skip(1).take(3).any(|set| {
                set.contains("<TCP")
                    || set
                        .trim_matches(['[', ']'])
                        .split_whitespace()
                        .filter_map(|fd| fd.parse::<i32>().ok())
                        .any(|fd| self.tables[table].fds.contains_key(&fd))
            }),
            _ if waits => call.args.iter().any(|a| a.contains("<TCP")),
            _ if epoll_wait => {
                call.fd().is_some_and(|e| self.tables[table].epolls.get(&e.fd).is_some_and(|w| !w.is_empty()))
            }
            _ => on.is_some() || returned.is_some(),
        };
        if !keep {
            return Ok(());
        }
        let socket = on.as_ref().map(|d| self.socket_of(table, d));
        // A shutdown, and a connection's first read and first write: the state is read now, and the call waits for
        // the proof.
        let (Some(d), Some(socket), None) = (on.as_ref(), socket, &proved) else {
            let known = match (delayed, proved.flatten()) {
                (true, _) => Known::Held,
                (false, Some(state)) => Known::Proved(state),
                (false, None) => Known::Unread,
            };
            return self.present_now(call, table, on, socket, returned, known);
        };
        let first = self.sockets[socket].conn.as_mut().filter(|_| !call.failed()).is_some_and(|conn| {
            let once = match KINDS[..2].iter().position(|(names, _)| names.contains(&call.name.as_str())) {
                Some(0) => &mut conn.read_once,
                Some(_) => &mut conn.written_once,
                None => return false,
            };
            !std::mem::replace(once, true)
        });
        let shutdown = call.name == "shutdown" && !call.failed();
        let normal = call.errno().is_some_and(|e| normal_errno(&call.name, e).is_some());
        let unheld = held_kind(&call.name) && !delayed && (!call.failed() || normal);
        if first || shutdown || unheld {
            let state = match () {
                () if shutdown => state_or_gone(d),
                () if unheld => held_state(&call, d, returned.as_ref()),
                () => state_of(d),
            };
            let read_by = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(f64::MAX, |d| d.as_secs_f64());
            self.pending = Some(Pending { call, state, read_by });
            return Ok(());
        }
        let known = if delayed { Known::Held } else { Known::Unread };
        self.present_now(call, table, on, Some(socket), returned, known)
    }

    /// Shows a call, with the state it left as far as it is `known`, and adds what it did to what we know.
    fn present_now(
        &mut self,
        call: Call,
        table: usize,
        on: Option<Descriptor>,
        socket: Option<usize>,
        returned: Option<Descriptor>,
        known: Known,
    ) -> Result<(), Error> {
        let shown = Shown {
            call: &call,
            pid: call.pid,
            table,
            fd: on.as_ref().map_or(-1, |d| d.fd),
            socket,
            returned: returned.clone(),
        };
        let errno = call.errno().map(str::to_string);
        let normal = errno.as_deref().and_then(|e| normal_errno(&call.name, e));
        self.show(&shown, on.as_ref(), normal.is_some(), known)?;
        if let Some((_, handle)) = KINDS.iter().find(|(names, _)| names.contains(&call.name.as_str())) {
            handle(self, &shown)?;
        }
        match (errno, normal) {
            (Some(errno), Some(text)) => self.note_once(&format!("{} {errno}", call.name), &text)?,
            (Some(errno), None) => {
                if let Some(socket) = socket {
                    let fd = self.sockets[socket].first_fd;
                    let failed = DiagramEvent::Failed { fd, call: static_name(&call.name), errno: errno.clone() };
                    self.record.event(failed);
                }
                self.note(&crate::errno::note(&errno))?;
            }
            _ => {}
        }
        if self.keep_calls {
            let mut kept = call.clone();
            if let Some(data) = kept.args.get_mut(1).filter(|a| a.starts_with('"') || a.starts_with('[')) {
                data.clear();
            }
            self.kept.push(kept);
        }
        Ok(())
    }

    /// Prints the call, with the TCP state it left when we could read it while strace held the program, or the
    /// state read at once and proved, or for the close of a socket's last descriptor the state it has now.
    fn show(&mut self, shown: &Shown, on: Option<&Descriptor>, normal: bool, known: Known) -> Result<(), Error> {
        let call = shown.call;
        let who = self.who(shown.pid);
        let args = self.render_args(shown);
        let result = match &shown.returned {
            Some(d) => d.fd.to_string(),
            None => strip_annotations(&strace::readable(&call.result)),
        };
        // strace holds the program for HOLD after the first listen, accept and connect calls, and we read the
        // kernel's table meanwhile. Shown only if we read it while the program was still held: on a busy machine
        // we may fall behind strace, and a state read later could be one the program reached calls afterwards.
        let held = held_kind(&call.name) && matches!(known, Known::Held) && (!call.failed() || normal);
        let mut state = match on {
            Some(d) if held && in_hold(call.returned_at) => held_state(call, d, shown.returned.as_ref()),
            _ => None,
        };
        // After the close of its last descriptor, the program can no longer change the socket: its state now is
        // one the close left, or one the peer made since.
        let last = shown.socket.is_some_and(|s| self.sockets[s].names == 1);
        if call.name == "close" && !call.failed() && last {
            state = on.and_then(state_or_gone);
        }
        if let Known::Proved(read) = known {
            state = state.or(Some(read));
        }
        let failed = call.failed() && !normal;
        let number = self.record.call(failed);
        let waits = waits_for_the_peer(&call.name);
        if self.capture.is_some() {
            self.wire_before(call, on, number, waits, held)?;
        }
        let line = CallLine {
            number,
            who: &who,
            name: &call.name,
            args: &args,
            result: &result,
            failed: call.failed(),
            state: state.as_deref(),
        };
        self.on_lane(shown.table, shown.pid);
        if let Some(page) = &mut self.page {
            page.call(&line);
        }
        self.print(|t| t.call(&line))?;
        if let Some((end, either)) = self.either.take() {
            self.wire_lines(end, &either)?;
        }
        // Under the line: what crossed while it ran, printed once the next call's start bounds it.
        if let (Some(returned), false, Some(_)) = (call.returned_at, waits, &self.capture) {
            let end = stamp(returned) + CLOCKS + if held { HOLD } else { Duration::ZERO };
            self.under = Some((end, Place::At { number, name: call.name.clone() }));
        }
        Ok(())
    }

    /// `--packets`: before call `number`'s line, the segments that crossed before it began, and for a call that
    /// waits for the peer, those that crossed while it waited. The bytes a sending call moved are made known to
    /// the capture first, to name them in its segments.
    ///
    /// `held`: strace holds the program after the call; the segments of that hold are the call's (the thread makes
    /// no call meanwhile), and this also covers strace's stamp of a held call's return, which comes a little before
    /// the kernel's of the segments it sent (measured here: 19 µs to 2 ms).
    fn wire_before(
        &mut self,
        call: &Call,
        on: Option<&Descriptor>,
        number: u64,
        waits: bool,
        held: bool,
    ) -> Result<(), Error> {
        let peer = on.and_then(Descriptor::pair).map(|(_, remote)| remote);
        let Some(capture) = self.capture.as_mut() else { return Ok(()) };
        let name = static_name(&call.name);
        match call.name.as_str() {
            "listen" if !call.failed() => {
                if let Some(strace::SocketName::Bound(local)) = on.and_then(Descriptor::socket) {
                    capture.watch(local, true);
                }
            }
            "connect" => {
                if let Some(addr) = call.sockaddr() {
                    capture.watch(addr, false);
                }
            }
            _ => {}
        }
        if let Some(peer) = peer.filter(|_| !call.failed() && call.name != "sendmmsg") {
            let is = |kind: usize| KINDS[kind].0.contains(&call.name.as_str());
            // splice and copy_file_range move bytes into the socket, or (with the socket first) out of it.
            let spliced_in = is(2) && call.name != "sendfile" && call.fd().is_some_and(|d| d.is_tcp());
            let peeked = call.args.iter().any(|a| a.contains("MSG_PEEK"));
            if is(1) || (is(2) && !spliced_in) {
                capture.sent_to(peer, number, name, call.moved());
            } else if (is(0) && !peeked) || spliced_in {
                capture.read_from(peer, call.moved());
            }
        }
        // The last call's segments first: up to this call's start, or a little after its own end.
        let entered = call.entered_at.map(stamp);
        if let Some((end, place)) = self.under.take() {
            self.wire_lines(entered.map_or(end, |entered| end.min(entered)), &place)?;
            // Stamped after this call began and within the last one's margin: the clocks cannot say whose.
            // (At most to this call's return: what came after it may be a later call's.)
            let end = call.returned_at.map_or(end, |returned| end.min(stamp(returned)));
            if let (Some(entered), Place::At { number: last, name: last_name }) = (entered, &place)
                && entered < end
            {
                let either = Place::Either { first: (*last, last_name.clone()), second: (number, call.name.clone()) };
                // Under this call's line, unless it is one that waits (its own segments go above it).
                if waits {
                    self.wire_lines(end, &either)?;
                } else {
                    self.either = Some((end, either));
                }
            }
        }
        if let Some(entered) = entered {
            self.wire_lines(entered, &Place::Before { number, name: call.name.clone() })?;
        }
        // A call that waits for the other side: what came while it waited, above its line. Exactly to its return
        // (and strace's hold after it, in which its thread makes no call): what comes after may be the next call's.
        match (call.returned_at, waits) {
            (Some(returned), true) => {
                let end = stamp(returned) + if held { HOLD } else { Duration::ZERO };
                self.wire_lines(end, &Place::At { number, name: call.name.clone() })
            }
            _ => Ok(()),
        }
    }

    /// `--packets`: the segments that crossed up to `until`, placed at `place`, printed.
    fn wire_lines(&mut self, until: SystemTime, place: &Place) -> Result<(), Error> {
        let Some(capture) = self.capture.as_mut() else { return Ok(()) };
        let lines = capture.up_to(until, place);
        self.drawn();
        self.print(|t| lines.iter().try_for_each(|line| t.note_unwrapped(line)))
    }

    /// `--packets`: the segments printed since the last time, drawn on the page (and let go without one).
    fn drawn(&mut self) {
        let Some(capture) = self.capture.as_mut() else { return };
        let drawn = capture.take_drawn();
        if let Some(page) = &mut self.page {
            drawn.into_iter().for_each(|segment| page.segment(segment));
        }
    }

    /// `--packets`: after the program, the last segments (the peer's last ACKs and FINs), what they tell, and the
    /// pcapng file written out.
    fn finish_capture(&mut self) -> Result<(), Error> {
        if let Some((end, place)) = self.under.take() {
            self.wire_lines(end, &place)?;
        }
        let Some(mut capture) = self.capture.take() else { return Ok(()) };
        capture.settle(Duration::from_millis(100), SETTLE);
        let last = self.record.stats().calls;
        let lines = capture.up_to(SystemTime::now() + Duration::from_secs(3600), &Place::After { number: last });
        let mut story = capture.story();
        story.extend(capture.picture());
        let heading = format!("on the wire, {} TCP segments of the program's seen on lo:", capture.seen);
        capture.finish().map_err(|err| Error::io("write the --pcap file", err))?;
        let drawn = capture.take_drawn();
        if let Some(page) = &mut self.page {
            drawn.into_iter().for_each(|segment| page.segment(segment));
            self.closing.push_str(&heading);
            self.closing.push('\n');
            story.iter().for_each(|line| {
                self.closing.push_str(line.trim_end());
                self.closing.push('\n');
            });
            self.closing.push('\n');
        }
        self.print(|t| {
            lines.iter().try_for_each(|line| t.note_unwrapped(line))?;
            t.line("")?;
            t.line(&heading)?;
            story.iter().try_for_each(|line| if line.is_empty() { t.line("") } else { t.note_unwrapped(line) })
        })
    }

    /// The arguments as the lessons print them: descriptors without their names, data as `buf`, strings readable;
    /// epoll_wait's ready list with the descriptors epoll_ctl registered.
    fn render_args(&self, shown: &Shown) -> String {
        let call = shown.call;
        let mut args = render_args(call);
        if call.name.starts_with("epoll_wait") || call.name.starts_with("epoll_pwait") {
            let watched = call.fd().and_then(|e| self.tables[shown.table].epolls.get(&e.fd));
            if let (Some(watched), Some(ready)) = (watched, call.arg(1)) {
                let fds: Vec<String> = ready
                    .split("events=")
                    .skip(1)
                    .map(|entry| {
                        let events = entry.split([',', '}']).next().unwrap_or("");
                        let fd = data_word(entry).and_then(|w| watched.get(&w)).map_or("?".to_string(), i32::to_string);
                        format!("{{fd={fd}, events={events}}}")
                    })
                    .collect();
                let parts: Vec<String> = call.args.iter().skip(2).map(|a| strace::readable(a)).collect();
                let epfd = call.fd().map_or(-1, |d| d.fd);
                args = format!("{epfd}, [{}], {}", fds.join(", "), parts.join(", "));
            }
        }
        args
    }

    /// `read`, `recvfrom`, `readv`, `recvmsg`, `recvmmsg`: the bytes that came in.
    fn received(&mut self, shown: &Shown) -> Result<(), Error> {
        let call = shown.call;
        let Some(socket) = shown.socket else { return Ok(()) };
        let fd = self.sockets[socket].first_fd;
        let bytes = call.data();
        let n = if call.name == "recvmmsg" { bytes.len() as u64 } else { call.moved() };
        let seen = &bytes[..(n as usize).min(bytes.len())];
        if call.failed() {
            return Ok(());
        }
        if let Some(page) = &mut self.page {
            page.data(Direction::Received, seen, n);
        }
        self.print(|t| t.data(Direction::Received, seen, n))?;
        let flags = match call.name.as_str() {
            "recvfrom" | "recv" => call.arg(3),
            "recvmsg" => call.arg(2),
            _ => None,
        };
        if flags.is_some_and(|f| f.contains("MSG_PEEK")) {
            self.peeked += n;
            return self.note(
                "MSG_PEEK: the program looked at these bytes and left them in the socket; the next read returns them \
                 again, so they are not counted here",
            );
        }
        count(&mut self.moved_in, &call.name, n);
        if n == 0 {
            self.record.event(DiagramEvent::PeerClosed { fd, call: static_name(&call.name) });
            return self.note("the read returned 0: the other side closed; it will send nothing more");
        }
        self.record.event(DiagramEvent::Received {
            fd,
            call: static_name(&call.name),
            bytes: n,
            first_line: diagram::first_line(seen),
        });
        if let Some(conn) = self.sockets[socket].conn.as_mut() {
            conn.reads += 1;
            conn.requests_from(seen);
        }
        Ok(())
    }

    /// `write`, `sendto`, `writev`, `sendmsg`, `sendmmsg`: the bytes that went out.
    fn sent(&mut self, shown: &Shown) -> Result<(), Error> {
        let call = shown.call;
        let Some(socket) = shown.socket else { return Ok(()) };
        let bytes = call.data();
        let n = if call.name == "sendmmsg" { bytes.len() as u64 } else { call.moved() };
        if call.failed() {
            return Ok(());
        }
        let sent = &bytes[..(n as usize).min(bytes.len())];
        if let Some(page) = &mut self.page {
            page.data(Direction::Sent, sent, n);
        }
        self.print(|t| t.data(Direction::Sent, sent, n))?;
        let asked: u64 = call.arg(2).and_then(|a| a.parse().ok()).unwrap_or(bytes.len() as u64);
        if n < asked && matches!(call.name.as_str(), "write" | "send" | "sendto") {
            self.note(&format!(
                "a short write: the kernel took {n} of the {asked} bytes. The program must send the rest (Python's \
                 sendall loops for you; a non-blocking server waits until the socket is writable)"
            ))?;
        }
        let sent = sent.to_vec();
        self.went_out(socket, &call.name, n, &sent, None)
    }

    /// `n` bytes that left on `socket`: counted, drawn, and judged response by response. `seen`: the first of them,
    /// as strace showed them; `file`: for `sendfile`, where in which file they came from.
    fn went_out(
        &mut self,
        socket: usize,
        name: &str,
        n: u64,
        seen: &[u8],
        file: Option<(u64, String)>,
    ) -> Result<(), Error> {
        let first = seen;
        count(&mut self.moved_out, name, n);
        let fd = self.sockets[socket].first_fd;
        let event = if first.is_empty() && name == "sendfile" {
            DiagramEvent::SentFile { fd, bytes: n }
        } else if first.is_empty() {
            DiagramEvent::Sent { fd, call: static_name(name), bytes: n, first_line: String::new() }
        } else {
            DiagramEvent::Sent { fd, call: static_name(name), bytes: n, first_line: diagram::first_line(first) }
        };
        self.record.event(event);
        let keep = self.keep_calls;
        let Some(conn) = self.sockets[socket].conn.as_mut() else { return Ok(()) };
        let pieces = std::mem::take(&mut conn.reads);
        if conn.unjudged {
            return Ok(());
        }
        // The responses are judged from their bytes, kept until each is whole: past MAX_RESPONSE on one connection,
        // we stop, so that memory stays bounded whatever the program sends.
        let Some(len) = usize::try_from(n).ok().filter(|n| conn.response.len() + n <= MAX_RESPONSE) else {
            conn.unjudged = true;
            conn.response = Vec::new();
            return self.note(&format!(
                "this connection's response is now over {} MiB: its responses are not judged from here on (so that \
                 hhttpp's memory stays bounded); its bytes are still counted",
                MAX_RESPONSE >> 20
            ));
        };
        // strace shows at most -s bytes of a call: the rest are counted as bytes we did not see. Of a sendfile, the
        // file's bytes where we can read them now, else as many placeholders (their count is what framing needs).
        let mut bytes = seen.to_vec();
        bytes.resize(len, 0);
        if let Some((start, path)) = file
            && let Ok(file) = File::open(&path)
        {
            use std::os::unix::fs::FileExt;
            let _ = file.read_exact_at(&mut bytes, start);
        }
        if keep && conn.accepted {
            conn.sent_all.extend_from_slice(&bytes);
        }
        conn.response.extend_from_slice(&bytes);
        let notes = conn.judge_whole();
        if pieces > 1 {
            self.note(&format!("the request before this reply arrived in pieces: {pieces} reads"))?;
        }
        for note in notes {
            self.note(&note)?;
        }
        Ok(())
    }

    /// `sendfile`, `splice`, `copy_file_range`: bytes the kernel moved between a file or pipe and the socket,
    /// which strace cannot show.
    fn spliced(&mut self, shown: &Shown) -> Result<(), Error> {
        let call = shown.call;
        let Some(socket) = shown.socket else { return Ok(()) };
        let n = call.moved();
        if call.failed() || n == 0 {
            return Ok(());
        }
        // sendfile(out, in, offset, count); splice(in, off_in, out, off_out, len, flags).
        let (other, offset, outgoing) = match call.name.as_str() {
            "sendfile" => (call.arg(1), call.arg(2), true),
            _ if call.fd().is_some_and(|d| d.is_tcp()) => (call.arg(2), call.arg(3), false),
            _ => (call.arg(0), call.arg(1), true),
        };
        let other = other.and_then(strace::descriptor);
        let name = other.as_ref().map_or("?".to_string(), |d| escape(d.what.as_bytes()));
        // `[0] => [3920]`: where the call began in the file.
        let start: Option<u64> =
            offset.and_then(|o| o.strip_prefix('[')).and_then(|o| o.split(']').next()).and_then(|o| o.parse().ok());
        let at = start.map_or(String::new(), |s| format!(" at offset {s}"));
        if !outgoing {
            count(&mut self.moved_in, &call.name, n);
            return self.note(&format!(
                "◀ received {} into {name}{at}: the kernel moved them, strace cannot show them",
                plural(n, "byte", "bytes")
            ));
        }
        self.note(&format!(
            "▶ sent {} from {name}{at}: the kernel copied them, strace cannot show them, so there is no dump",
            plural(n, "byte", "bytes")
        ))?;
        let file = start.zip(other.map(|d| d.what));
        self.went_out(socket, &call.name, n, &[], file)
    }

    /// `socket`, `accept`, `accept4`: a new socket; from accept, a connection.
    fn opened(&mut self, shown: &Shown) -> Result<(), Error> {
        let Some(new) = shown.returned.as_ref() else { return Ok(()) };
        // The number may have named another socket a moment ago (a close we did not see): it no longer does.
        self.forget(shown.table, new.fd)?;
        let socket = self.new_socket(new);
        self.tables[shown.table].fds.insert(new.fd, socket);
        if shown.call.name.starts_with("accept") {
            self.record.connection();
            self.sockets[socket].conn = Some(Connection { accepted: true, ..Connection::default() });
            if let Some((local, remote)) = new.pair() {
                self.record.pair(local, remote);
                self.record.event(DiagramEvent::Opened { fd: new.fd, peer: remote, we_are: Side::Server });
            }
        }
        Ok(())
    }

    /// `connect`: a connection begun (at once, or in the background with EINPROGRESS).
    fn connected(&mut self, shown: &Shown) -> Result<(), Error> {
        let call = shown.call;
        let Some(socket) = shown.socket else { return Ok(()) };
        if call.failed() && call.errno() != Some("EINPROGRESS") {
            return Ok(());
        }
        let Some(peer) = call.sockaddr() else { return Ok(()) };
        if let Some((local, remote)) = call.fd().and_then(|d| d.pair()) {
            self.record.pair(local, remote);
        }
        if self.sockets[socket].conn.is_none() {
            self.sockets[socket].conn = Some(Connection::default());
            self.record.event(DiagramEvent::Opened { fd: self.sockets[socket].first_fd, peer, we_are: Side::Client });
        }
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
        if shown.call.arg(2) == Some("SO_REUSEADDR")
            && let Some(socket) = shown.socket
        {
            self.sockets[socket].reuse = true;
        }
        Ok(())
    }

    /// `bind`: EADDRINUSE on a socket without SO_REUSEADDR.
    fn bound(&mut self, shown: &Shown) -> Result<(), Error> {
        let reuse = shown.socket.is_some_and(|s| self.sockets[s].reuse);
        if shown.call.errno() != Some("EADDRINUSE") || reuse {
            return Ok(());
        }
        self.note(
            "EADDRINUSE, and this socket has no SO_REUSEADDR: if the port is held only by old connections in \
             TIME_WAIT, setsockopt(SOL_SOCKET, SO_REUSEADDR, 1) before bind lets a restarted server have it",
        )
    }

    /// `shutdown`: the FIN, for the diagram.
    fn shut_down(&mut self, shown: &Shown) -> Result<(), Error> {
        let Some(socket) = shown.socket.filter(|_| !shown.call.failed()) else { return Ok(()) };
        let how = match shown.call.arg(1) {
            Some("SHUT_RD") => "SHUT_RD",
            Some("SHUT_WR") => "SHUT_WR",
            _ => "SHUT_RDWR",
        };
        self.record.event(DiagramEvent::Shutdown { fd: self.sockets[socket].first_fd, how });
        Ok(())
    }

    /// `close`: one name fewer; the connection ends with its last.
    fn closed(&mut self, shown: &Shown) -> Result<(), Error> {
        if shown.call.failed() || shown.fd < 0 {
            return Ok(());
        }
        let still = self.forget(shown.table, shown.fd)?;
        if still > 0 {
            let fd = shown.fd;
            self.note(&format!(
                "fd {fd} is closed, but the socket stays open: {} still {} it (another process's copy, or a dup)",
                plural(still as u64, "descriptor", "descriptors"),
                if still == 1 { "names" } else { "name" }
            ))?;
        }
        Ok(())
    }

    /// Takes `fd` out of `table`; returns how many descriptors still name its socket. At the last, the socket is
    /// closed: the connection's record ends, and what it sent last is judged.
    fn forget(&mut self, table: usize, fd: i32) -> Result<usize, Error> {
        self.forget_as(table, fd, true)
    }

    /// [`forget`](Self::forget); `called` is false when the kernel closed it (at the process's end), which the
    /// diagram does not draw as a `close` call.
    fn forget_as(&mut self, table: usize, fd: i32, called: bool) -> Result<usize, Error> {
        let Some(socket) = self.tables[table].fds.remove(&fd) else { return Ok(0) };
        for watched in self.tables[table].epolls.values_mut() {
            watched.retain(|_, f| *f != fd);
        }
        let s = &mut self.sockets[socket];
        s.names = s.names.saturating_sub(1);
        if s.names > 0 {
            return Ok(s.names);
        }
        let first_fd = s.first_fd;
        if let Some(mut conn) = s.conn.take() {
            if called {
                self.record.event(DiagramEvent::Closed { fd: first_fd });
            }
            let notes = conn.judge_rest();
            if conn.accepted && self.keep_calls {
                self.sockets[socket].conn =
                    Some(Connection { sent_all: conn.sent_all, accepted: true, ..Connection::default() });
                self.sockets[socket].names = 0;
            }
            for note in notes {
                self.note(&note)?;
            }
        }
        // Nothing names it and nothing of it is kept (for --compare): its place can be taken.
        if self.sockets[socket].conn.is_none() && !self.free.contains(&socket) {
            self.free.push(socket);
        }
        Ok(0)
    }

    /// `dup`, `dup2`, `dup3`, `fcntl(F_DUPFD)`: another name for the same socket.
    fn duplicated(&mut self, shown: &Shown) -> Result<(), Error> {
        let call = shown.call;
        let Some(socket) = shown.socket else { return Ok(()) };
        if call.failed() || (call.name == "fcntl" && !call.arg(1).is_some_and(|a| a.starts_with("F_DUPFD"))) {
            return Ok(());
        }
        let Some(new) = call.value().map(|v| v as i32) else { return Ok(()) };
        if new == shown.fd {
            return Ok(());
        }
        // dup2 and dup3 close whatever the new number named before.
        self.forget(shown.table, new)?;
        self.tables[shown.table].fds.insert(new, socket);
        self.sockets[socket].names += 1;
        self.note(&format!(
            "fd {new} is now another name for fd {}'s socket: it stays open until every name for it is closed",
            shown.fd
        ))
    }

    /// `epoll_ctl`: which socket each of epoll's data words stands for, to name the ready ones later.
    fn watched(&mut self, shown: &Shown) -> Result<(), Error> {
        let call = shown.call;
        let (Some(epoll), Some(d)) = (call.fd(), call.arg(2).and_then(strace::descriptor)) else { return Ok(()) };
        if call.failed() {
            return Ok(());
        }
        let watched = self.tables[shown.table].epolls.entry(epoll.fd).or_default();
        match call.arg(1) {
            Some("EPOLL_CTL_DEL") => watched.retain(|_, fd| *fd != d.fd),
            _ => {
                if let Some(word) = call.arg(3).and_then(data_word) {
                    watched.insert(word, d.fd);
                }
            }
        }
        Ok(())
    }

    /// A thread ended (`killed`: by that signal): when it was its process's last, the sockets the process left open.
    fn exit(&mut self, pid: u32, killed: Option<&str>) -> Result<(), Error> {
        self.attached.retain(|p| *p != pid);
        let Some(table) = self.table_of.remove(&pid) else { return Ok(()) };
        self.tables[table].members.remove(&pid);
        if !self.tables[table].members.is_empty() {
            return Ok(());
        }
        let mut all: Vec<i32> = self.tables[table].fds.keys().copied().collect();
        all.sort_unstable();
        // A socket another process still has (a worker's copy of its master's listener) is not this one's to close:
        // the kernel drops the copy, and the socket lives on.
        let left: Vec<i32> = all
            .iter()
            .copied()
            .filter(|fd| {
                let socket = self.tables[table].fds[fd];
                let here = self.tables[table].fds.values().filter(|&&s| s == socket).count();
                self.sockets[socket].names <= here
            })
            .collect();
        if left.is_empty() {
            for fd in all {
                self.forget_as(table, fd, false)?;
            }
            return Ok(());
        }
        let who = self.who(pid);
        self.on_lane(table, pid);
        let fds = left.iter().map(i32::to_string).collect::<Vec<_>>().join(", ");
        let sockets = plural(left.len() as u64, "socket", "sockets");
        let them = if left.len() == 1 { "it" } else { "them" };
        // A process killed by a signal had no chance to close them: the advice is for one that ended on its own.
        self.note(&match killed {
            Some(signal) => {
                format!(
                    "{who}the process was killed by {signal} with {sockets} open (fd {fds}): the kernel closed {them}"
                )
            }
            None => format!(
                "{who}the process ended with {sockets} never closed (fd {fds}): the kernel closed {them} for it. \
                 Close each socket when done with it (in Python, with socket.socket(...) as s: does it)"
            ),
        })?;
        for fd in all {
            self.forget_as(table, fd, false)?;
        }
        Ok(())
    }

    /// After the program: the sockets left open, what the kernel keeps, the diagram and the summary.
    fn finish(&mut self, ending: &str) -> Result<(), Error> {
        let pids: Vec<u32> = self.table_of.keys().copied().collect();
        for pid in pids {
            self.exit(pid, None)?;
        }
        let pairs = self.record.pairs().to_vec();
        let states = tcp::settled(&pairs, SETTLE);
        // The peer's side is in this machine's table when the peer is on loopback.
        let fates: Vec<Fate> = pairs
            .into_iter()
            .zip(states)
            .map(|((local, remote), ours)| Fate {
                pair: (local, remote),
                ours,
                theirs: remote.ip().is_loopback().then(|| tcp::by_pair(remote, local).map(|e| e.state)),
                ending: None,
            })
            .collect();
        let mut extra = Vec::new();
        for (way, moved) in [("received", &self.moved_in), ("sent", &self.moved_out)] {
            if moved.is_empty() {
                continue;
            }
            let bytes: u64 = moved.iter().map(|(_, _, b)| b).sum();
            let calls: Vec<String> =
                moved.iter().map(|(name, calls, _)| format!("{} × {name}", count_of(*calls))).collect();
            extra.push(format!("{way} {} ({})", plural(bytes, "byte", "bytes"), calls.join(", ")));
        }
        if self.peeked > 0 {
            extra.push(format!("looked at {} with MSG_PEEK (counted when read)", plural(self.peeked, "byte", "bytes")));
        }
        extra.push(ending.to_string());
        if self.page.is_some() {
            let text = html::plain(|t| closing(t, &fates, &self.record, &extra));
            self.closing.push_str(&text);
        }
        closing(&mut self.transcript, &fates, &self.record, &extra).map_err(Error::Output)
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
        let too_long = self.sockets.iter().filter_map(|s| s.conn.as_ref()).any(|c| c.accepted && c.unjudged);
        if let Some(ours) = expected.as_ref().filter(|reply| !reply.is_empty() && too_long) {
            lines.push(format!(
                "✗ the response: over {} MiB, not kept to compare; hhttpp lesson {}'s is {}",
                MAX_RESPONSE >> 20,
                lesson.name,
                plural(ours.len() as u64, "byte", "bytes")
            ));
        }
        if let Some(ours) = expected.as_ref().filter(|reply| !reply.is_empty() && !too_long) {
            let theirs: Vec<u8> = self
                .sockets
                .iter()
                .filter_map(|s| s.conn.as_ref().filter(|c| c.accepted))
                .flat_map(|c| c.sent_all.iter().copied())
                .collect();
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
        if self.page.is_some() {
            self.closing.push_str(&html::plain(|t| compared(t, lesson.name, &lines, &verdict)));
        }
        self.print(|t| {
            compared(t, lesson.name, &lines, &verdict)?;
            t.flush()
        })?;
        Ok(differences)
    }
}

/// The end of the transcript: what the kernel keeps of each connection, the diagram, and the summary.
fn closing<W: io::Write>(t: &mut Transcript<W>, fates: &[Fate], record: &Record, extra: &[String]) -> io::Result<()> {
    t.aftermath(fates, record.forgotten_pairs())?;
    t.diagram_of(record.events(), record.forgotten_connections(), "the program")?;
    t.summary(record.stats(), extra)
}

/// `--compare`'s account: each step and the response, `✓` or `✗`, and the verdict.
fn compared<W: io::Write>(t: &mut Transcript<W>, lesson: &str, lines: &[String], verdict: &str) -> io::Result<()> {
    t.line("")?;
    t.line(&format!("compared with hhttpp lesson {lesson}:"))?;
    for line in lines {
        t.line(&format!("  {line}"))?;
    }
    t.line(verdict)
}

/// Whether a line of strace's may concern a TCP socket. A program's start reads many files, and with `-xx -s 65536`
/// each read is a long line of hex: we skip what cannot concern a TCP socket before parsing it, so that we keep up
/// with strace (and read each TCP state while the program is still held after its call). Halves of a split call
/// always go through.
///
/// Only the line's head is searched, up to its first string: a call's descriptors come before its data, and the
/// data is the quarter of a megabyte.
fn relevant(rest: &str) -> bool {
    let head = rest.find('"').map_or(rest, |quote| &rest[..quote]);
    head.contains("<TCP")
        || head.contains(" +++ ")
        || head.contains(" --- SIG")
        || head.contains(" resumed>")
        || rest.ends_with("<unfinished ...>")
        || [
            "socket(",
            "accept(",
            "accept4(",
            "clone(",
            "clone3(",
            "fork(",
            "vfork(",
            "epoll_wait(",
            "epoll_pwait(",
            "select(",
        ]
        .iter()
        .any(|call| head.contains(call))
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

/// The calls strace holds the program after (the first [`HELD`] of each, in each thread).
fn held_kind(name: &str) -> bool {
    matches!(name, "listen" | "accept" | "accept4" | "connect")
}

/// The state after a call of [`held_kind`] on `d`: for accept, the listener's and the new connection's.
fn held_state(call: &Call, d: &Descriptor, returned: Option<&Descriptor>) -> Option<String> {
    let state = state_of(d);
    match returned.filter(|_| call.name.starts_with("accept")) {
        Some(new) => match (state, state_of(new)) {
            (Some(state), Some(new_state)) => Some(format!("{state}; fd {}: {new_state}", new.fd)),
            (None, Some(new_state)) => Some(format!("fd {}: {new_state}", new.fd)),
            (state, None) => state,
        },
        None => state,
    }
}

/// After a shutdown or the last close: the state, or `no entry` when the table has no row for a socket that had
/// addresses (the peer had answered with its FIN and ACK, or a RST ended it): the kernel had dropped it.
fn state_or_gone(d: &Descriptor) -> Option<String> {
    match d.socket()? {
        SocketName::Inode(_) => state_of(d),
        _ => Some(state_of(d).unwrap_or_else(|| "no entry".to_string())),
    }
}

/// How far the kernel's stamps on the segments a call sent may come after strace's stamp of the call's return:
/// measured here from 19 µs to 2 ms (and more on a loaded machine). A segment stamped that little after a call is
/// placed with it ("at call N").
const CLOCKS: Duration = Duration::from_millis(5);

/// A time in strace's `-ttt` form (seconds since the epoch) as the kernel's stamps on segments are kept.
fn stamp(seconds: f64) -> SystemTime {
    std::time::UNIX_EPOCH + Duration::from_secs_f64(seconds.max(0.0))
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
    const NAMES: [&str; 22] = [
        "accept",
        "accept4",
        "bind",
        "close",
        "connect",
        "listen",
        "read",
        "readv",
        "recv",
        "recvfrom",
        "recvmsg",
        "recvmmsg",
        "send",
        "sendmsg",
        "sendmmsg",
        "sendto",
        "write",
        "writev",
        "sendfile",
        "splice",
        "shutdown",
        "setsockopt",
    ];
    NAMES.into_iter().find(|n| *n == name).unwrap_or("a call")
}

/// The arguments as the lessons print them: descriptors without their names, data as `buf`, strings readable.
fn render_args(call: &Call) -> String {
    let data_arg = match call.name.as_str() {
        "read" | "write" | "recv" | "send" | "recvfrom" | "sendto" => Some("buf"),
        "readv" | "writev" => Some("iov"),
        "recvmsg" | "sendmsg" => Some("msg"),
        "recvmmsg" | "sendmmsg" => Some("msgvec"),
        _ => None,
    };
    let shown: Vec<String> = call
        .args
        .iter()
        .enumerate()
        .map(|(i, arg)| match strace::descriptor(arg) {
            Some(d) => d.fd.to_string(),
            None if i == 1 && data_arg.is_some() => data_arg.unwrap_or("buf").to_string(),
            None => strip_annotations(&strace::readable(arg)),
        })
        .collect();
    shown.join(", ")
}

/// `[{fd=4<TCP:[127.0.0.1:80->127.0.0.1:5]>, events=POLLIN}]` → `[{fd=4, events=POLLIN}]`: the descriptors'
/// names that `-yy` adds inside a structure, left out as they are for the call's own descriptor.
fn strip_annotations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        let digit_before = out.chars().last().or(rest[..at].chars().last()).is_some_and(|c| c.is_ascii_digit())
            && rest[..at].chars().last().is_some_and(|c| c.is_ascii_digit());
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let end = if digit_before { annotation_end(after) } else { None };
        match end {
            Some(end) => rest = &after[end..],
            None => {
                out.push('<');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Where an annotation that starts at `text[0] == '<'` ends (just past its `>`), brackets and `->` inside it
/// taken into account.
fn annotation_end(text: &str) -> Option<usize> {
    let mut depth = 0i32;
    let mut prev = ' ';
    for (i, c) in text.char_indices().skip(1) {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            '>' if depth == 0 && prev != '-' => return Some(i + 1),
            _ => {}
        }
        prev = c;
    }
    None
}

/// epoll's data word in `…data={u32=4, u64=4}…`: the 64-bit one.
fn data_word(text: &str) -> Option<String> {
    let at = text.find("u64=")? + 4;
    Some(text[at..].split(['}', ',']).next()?.trim().to_string())
}

/// Adds one call of `name` that moved `n` bytes to `moved`.
fn count(moved: &mut Vec<(String, u64, u64)>, name: &str, n: u64) {
    match moved.iter_mut().find(|(m, _, _)| m == name) {
        Some((_, calls, bytes)) => {
            *calls += 1;
            *bytes += n;
        }
        None => moved.push((name.to_string(), 1, n)),
    }
}

fn count_of(n: u64) -> String {
    crate::trace::format::count(n)
}

impl Connection {
    /// Follows the requests in what the peer sent: each head's method says where its reply ends.
    fn requests_from(&mut self, mut bytes: &[u8]) {
        loop {
            if self.body_left > 0 {
                let skip = (self.body_left as usize).min(bytes.len());
                self.body_left -= skip as u64;
                bytes = &bytes[skip..];
            }
            if bytes.is_empty() || self.request.len() >= MAX_HEAD {
                return;
            }
            let room = MAX_HEAD - self.request.len();
            let before = self.request.len();
            self.request.extend_from_slice(&bytes[..bytes.len().min(room)]);
            let Some(end) = self.request.windows(4).position(|w| w == b"\r\n\r\n").map(|at| at + 4) else { return };
            let head = &self.request[..end];
            let asked = if head.starts_with(b"HEAD ") { judge::Asked::HeadOnly } else { judge::Asked::WithBody };
            let text = String::from_utf8_lossy(head).to_ascii_lowercase();
            self.body_left = text
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            self.asked.push_back(asked);
            let used = end - before;
            self.request.clear();
            bytes = &bytes[used.min(bytes.len())..];
        }
    }

    /// Judges each whole response sent so far, as `hhttpp check` would, and keeps what follows the last.
    fn judge_whole(&mut self) -> Vec<String> {
        let mut notes = Vec::new();
        while self.response.starts_with(b"HTTP/") {
            let asked = self.asked.front().copied().unwrap_or(judge::Asked::WithBody);
            let judge::Progress::Complete { end } = judge::reply_end_to(&self.response, asked) else { break };
            notes.extend(self.judge(end, judge::Ending::StillOpen, asked));
            self.asked.pop_front();
            self.response.drain(..end);
        }
        notes
    }

    /// At the last close: the response still unjudged, which only the close ends.
    fn judge_rest(&mut self) -> Vec<String> {
        let mut notes = self.judge_whole();
        if self.response.starts_with(b"HTTP/") {
            let asked = self.asked.front().copied().unwrap_or(judge::Asked::WithBody);
            notes.extend(self.judge(self.response.len(), judge::Ending::Closed, asked));
        }
        self.response.clear();
        notes
    }

    fn judge(&mut self, end: usize, ending: judge::Ending, asked: judge::Asked) -> Vec<String> {
        self.judged += 1;
        let which = if self.judged > 1 { format!("response {}", self.judged) } else { "the response".to_string() };
        judge::framing_to(&self.response[..end], ending, asked)
            .problems
            .into_iter()
            .map(|problem| format!("{which}: {} ({})", problem.what, problem.hint))
            .collect()
    }
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
