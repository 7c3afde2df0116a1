//! The [`Tracer`]: a lesson's transcript and record, lent to every socket it opens.
//!
//! The sockets borrow it, so even a socket's `Drop` can print the `close` it makes. Everything runs on one thread,
//! so `RefCell` is all the sharing we need.

use std::cell::RefCell;
use std::io::{self, BufRead, Read, Write};
use std::time::Duration;

use std::net::SocketAddr;

use super::diagram::{Event, Side};
use super::html::Page;
use super::packets::Capture;
use super::record::{Direction, Record};
use super::tcp;
use super::transcript::{CallLine, Ending, Fate, Gap, KEPT_CONNECTIONS, Transcript};
use crate::error::Error;

/// How long [`Tracer::finish`] waits for the connections' states to settle after the last close.
const SETTLE: Duration = Duration::from_millis(500);
/// `--packets`: the lesson is over once no segment of its has come for this long (or [`SETTLE`] has passed).
const WIRE_QUIET: Duration = Duration::from_millis(100);

/// A lesson's transcript and record, lent to its sockets.
pub struct Tracer {
    transcript: RefCell<Transcript<Box<dyn Write>>>,
    record: RefCell<Record>,
    stepper: Option<RefCell<Stepper>>,
    /// `--packets`: the lesson's TCP segments on `lo`, printed where they happened.
    capture: Option<RefCell<Capture>>,
    /// How the TCP states are read.
    states: tcp::States,
    /// What the kernel's table said as each connection ended, for the newest few (as many as the record keeps).
    endings: RefCell<Vec<Ending>>,
    /// `--html FILE`: the page drawn from what is printed, written at the end.
    page: Option<RefCell<Page>>,
}

/// `--step`: before each call, say what it will do and wait for a line on `input`.
struct Stepper {
    input: Box<dyn BufRead>,
    prompts: Box<dyn Write>,
    /// True once stdin has ended: the lesson runs on without pausing, said once.
    ended: bool,
}

/// The longest answer `--step` reads: a line is a keypress and Enter, so anything longer is not someone answering
/// (stdin is `/dev/zero`, say), and the lesson stops rather than fill memory with it.
const ANSWER_LIMIT: u64 = 4096;

impl Tracer {
    /// A tracer that prints to `transcript`.
    ///
    /// Unless the transcript is quiet (and so shows no states), this opens the netlink socket the states are asked
    /// on, before the lesson's first call.
    pub fn new(transcript: Transcript<Box<dyn Write>>) -> Self {
        let states = if transcript.is_quiet() { tcp::States::from_proc() } else { tcp::States::open() };
        Tracer {
            transcript: RefCell::new(transcript),
            record: RefCell::new(Record::keeping(KEPT_CONNECTIONS)),
            stepper: None,
            states,
            endings: RefCell::default(),
            capture: None,
            page: None,
        }
    }

    /// `--html FILE`: also keeps what is printed, to draw it as a page at the end.
    pub fn with_page(mut self, page: Page) -> Self {
        self.page = Some(RefCell::new(page));
        self
    }

    /// Runs `f` on the page, when there is one and the transcript shows calls (not `--quiet`).
    fn page(&self, f: impl FnOnce(&mut Page)) {
        if let Some(page) = &self.page
            && !self.is_quiet()
        {
            f(&mut page.borrow_mut());
        }
    }

    /// How the TCP states are read.
    pub fn states(&self) -> &tcp::States {
        &self.states
    }

    /// Keeps what the kernel's table says of the connection `local`–`remote` just before our `call` (`shutdown`
    /// or `close`) ends our side of it. The first such reading of a connection is the one that says who ended it
    /// first; the one before `close` says how many bytes were left unread.
    pub fn ending(&self, call: &'static str, side: Side, local: SocketAddr, remote: SocketAddr) {
        let entry = self.states.by_pair(local, remote);
        let mut endings = self.endings.borrow_mut();
        let index = match endings.iter().position(|e| e.pair == (local, remote)) {
            Some(index) => index,
            None => {
                if endings.len() >= KEPT_CONNECTIONS {
                    endings.remove(0);
                }
                endings.push(Ending { pair: (local, remote), side, first: None, unread_at_close: None });
                endings.len() - 1
            }
        };
        let ending = &mut endings[index];
        if ending.first.is_none() {
            ending.first = Some((call, entry.as_ref().map(|e| e.state)));
        }
        if call == "close" {
            ending.unread_at_close = entry.map(|e| e.unread);
        }
    }

    /// Pauses before every call: the prompt goes to `prompts` (stderr), so the transcript stays exactly what it is
    /// without `--step`, and one line is read from `input` (stdin): Enter goes on, `q` stops.
    pub fn with_steps(mut self, input: Box<dyn BufRead>, prompts: Box<dyn Write>) -> Self {
        self.stepper = Some(RefCell::new(Stepper { input, prompts, ended: false }));
        self
    }

    /// `--packets`: prints the segments `capture` sees beside the calls.
    pub fn with_capture(mut self, capture: Capture) -> Self {
        self.capture = Some(RefCell::new(capture));
        self
    }

    /// A call has just returned (`--packets` tells what happened while it ran from what came after).
    pub fn returned(&self) {
        if let Some(capture) = &self.capture {
            capture.borrow_mut().returned();
        }
    }

    /// `--packets`: the segments of the lesson's connections to or from `addr` are ours (a listening socket's).
    pub fn watch(&self, addr: std::net::SocketAddr) {
        if let Some(capture) = &self.capture {
            capture.borrow_mut().watch(addr, true);
        }
    }

    /// `--packets`: prints every segment seen so far, and those under the last call.
    fn wire_so_far(&self) -> Result<(), Error> {
        let Some(capture) = &self.capture else { return Ok(()) };
        let holding = self.transcript.borrow().is_holding();
        let next = self.record.borrow().stats().calls + 1;
        let lines = capture.borrow_mut().before_next(Some(next), holding);
        self.wire(&lines)
    }

    fn wire(&self, lines: &[String]) -> Result<(), Error> {
        if let Some(capture) = &self.capture {
            let drawn = capture.borrow_mut().take_drawn();
            self.page(|page| drawn.into_iter().for_each(|segment| page.segment(segment)));
        }
        // An empty line has no indent: trailing white space does not survive editors.
        self.print(|t| {
            lines.iter().try_for_each(|line| if line.is_empty() { t.line("") } else { t.note_unwrapped(line) })
        })
    }

    /// With `--step`, explains the call `name` is about to make and waits for the learner. Without it, nothing.
    ///
    /// Calls inside a summarised run (a long `sendall`) do not stop. The end of input counts as Enter, so a test
    /// can pipe fewer lines than there are calls.
    pub fn step(&self, name: &str) -> Result<(), Error> {
        if let Some(capture) = &self.capture {
            capture.borrow_mut().started();
        }
        let Some(stepper) = &self.stepper else { return Ok(()) };
        if self.transcript.borrow().is_holding() {
            return Ok(());
        }
        let mut stepper = stepper.borrow_mut();
        if stepper.ended {
            return Ok(());
        }
        // getaddrinfo is a library function, not a numbered system call.
        let which = match name {
            "getaddrinfo" => "next, a library call".to_string(),
            _ => format!("next, call {}", self.record.borrow().stats().calls + 1),
        };
        let prompt =
            format!("     {which}: {name}: {}\n     press Enter to make it, or q and Enter to stop: ", explain(name));
        let asking = |err| Error::io("write the --step prompt to stderr", err);
        stepper.prompts.write_all(prompt.as_bytes()).map_err(asking)?;
        stepper.prompts.flush().map_err(asking)?;
        let mut answer = Vec::new();
        let read = (&mut stepper.input).take(ANSWER_LIMIT).read_until(b'\n', &mut answer).map_err(|err| {
            if crate::interrupt::interrupted() {
                Error::Interrupted
            } else {
                Error::io("read your answer to --step from stdin", err)
            }
        })?;
        if read == 0 {
            // The end of stdin (a file, a pipe, /dev/null): nobody is left to answer, so no more pauses.
            stepper.ended = true;
            let note = "\n     stdin ended: the lesson runs on without pausing\n";
            stepper.prompts.write_all(note.as_bytes()).map_err(asking)?;
            return Ok(());
        }
        if !answer.ends_with(b"\n") && read as u64 == ANSWER_LIMIT {
            return Err(Error::Usage(format!(
                "--step reads one short line per pause from stdin, and stdin gave {ANSWER_LIMIT} bytes without a \
                 line end (is it /dev/zero or /dev/full?); run --step in a terminal"
            )));
        }
        if String::from_utf8_lossy(&answer).trim().eq_ignore_ascii_case("q") {
            return Err(Error::Quit);
        }
        Ok(())
    }

    /// Runs `f` with the printer; a failure to write is the transcript's.
    fn print(&self, f: impl FnOnce(&mut Transcript<Box<dyn Write>>) -> io::Result<()>) -> Result<(), Error> {
        f(&mut self.transcript.borrow_mut()).map_err(Error::Output)
    }

    /// The lesson's title and a blank line.
    pub fn heading(&self, text: &str) -> Result<(), Error> {
        self.wire_so_far()?;
        self.print(|t| t.heading(text))
    }

    /// The blog's Python for the calls that follow.
    pub fn python(&self, line: &str) -> Result<(), Error> {
        self.wire_so_far()?;
        self.page(|page| page.python(line));
        self.print(|t| t.python(line))
    }

    /// One call, numbered, with the kernel's answer: the value it returned, or the error. `state` is the socket's
    /// TCP state afterwards, when the kernel reports one.
    pub fn call(
        &self,
        name: &str,
        args: &str,
        result: Result<String, &io::Error>,
        state: Option<&str>,
    ) -> Result<(), Error> {
        let (result, failed) = match result {
            Ok(value) => (value, false),
            Err(err) => (crate::errno::result(err), true),
        };
        let number = self.record.borrow_mut().call(failed);
        if let Some(capture) = &self.capture {
            let holding = self.transcript.borrow().is_holding();
            let lines = capture.borrow_mut().at_call(number, name, holding);
            self.wire(&lines)?;
        }
        let line = CallLine { number, who: "", name, args, result: &result, failed, state };
        self.page(|page| page.call(&line));
        self.print(|t| t.call(&line))
    }

    /// A C library function (`getaddrinfo`), shown but not numbered.
    pub fn library_call(&self, name: &str, args: &str, result: &str) -> Result<(), Error> {
        self.page(|page| page.library_call(name, args, result));
        self.print(|t| t.library_call(name, args, result))
    }

    /// A remark of the lesson's, between calls.
    pub fn note(&self, text: &str) -> Result<(), Error> {
        self.wire_so_far()?;
        self.page(|page| page.note(text));
        self.print(|t| t.note(text))
    }

    /// A line of its own, printed even with `--quiet` (serve-folder's one line per request).
    pub fn line(&self, text: &str) -> Result<(), Error> {
        self.wire_so_far()?;
        self.print(|t| t.line(text))
    }

    /// The `listening on http://…/` line, flushed at once.
    pub fn listening(&self, url: &str, hint: &str) -> Result<(), Error> {
        self.print(|t| t.listening(url, hint))
    }

    /// The bytes one call moved, counted and dumped.
    pub fn data(&self, direction: Direction, bytes: &[u8]) -> Result<(), Error> {
        self.record.borrow_mut().data(direction, bytes.len() as u64);
        self.page(|page| page.data(direction, bytes, bytes.len() as u64));
        self.print(|t| t.data(direction, bytes, bytes.len() as u64))
    }

    /// The bytes one `sendfile` call moved from the file `file_fd`: counted, and said to have no dump.
    pub fn sent_from_file(&self, file_fd: i32, total: u64) -> Result<(), Error> {
        self.record.borrow_mut().sendfile(total);
        self.page(|page| page.sent_from_file(file_fd, total));
        self.print(|t| t.sent_from_file(file_fd, total))
    }

    /// Keeps what a call did to a connection, for the diagram.
    ///
    /// With `--packets`, the segments under the call are printed here, once its bytes are counted.
    pub fn event(&self, event: Event) -> Result<(), Error> {
        if let Some(capture) = &self.capture {
            capture.borrow_mut().event(&event, self.record.borrow().stats().calls);
        }
        self.record.borrow_mut().event(event);
        self.wire_so_far()
    }

    /// Counts a connection `accept4` returned.
    pub fn count_connection(&self) {
        self.record.borrow_mut().connection();
    }

    /// Remembers a connection's address pair, to show what the kernel keeps of it after the lesson.
    pub fn connection_pair(&self, local: std::net::SocketAddr, remote: std::net::SocketAddr) {
        self.record.borrow_mut().pair(local, remote);
    }

    /// How many calls have been numbered so far.
    pub fn calls(&self) -> u64 {
        self.record.borrow().stats().calls
    }

    /// How many bytes the kernel has taken from our `sendto` and `sendfile` calls so far.
    pub fn bytes_sent(&self) -> u64 {
        let record = self.record.borrow();
        record.stats().bytes_sent + record.stats().bytes_sendfile
    }

    /// True with `--quiet`.
    pub fn is_quiet(&self) -> bool {
        self.transcript.borrow().is_quiet()
    }

    /// True when a call's TCP state would not be printed (quiet, or inside a summarised run): no need to read it.
    pub fn skips_states(&self) -> bool {
        let t = self.transcript.borrow();
        t.is_quiet() || t.is_holding()
    }

    /// Starts summarising a long run of calls; false when `--full-dump` shows them all.
    pub fn hold(&self) -> bool {
        let holding = self.transcript.borrow_mut().hold();
        if holding {
            self.page(Page::hold);
        }
        holding
    }

    /// Ends a summarised run, saying what `gap` left out.
    pub fn release(&self, gap: Option<Gap>) -> Result<(), Error> {
        if self.transcript.borrow().is_holding() {
            let note = Page::gap_note(gap.as_ref().map(|g| Gap { ..*g }));
            self.page(|page| page.release(note));
        }
        self.print(|t| t.release(gap))?;
        if let Some(capture) = &self.capture {
            let hidden = std::mem::take(&mut capture.borrow_mut().hidden);
            if hidden > 0 {
                let text = format!("wire: … {hidden} segments during those calls not shown (--full-dump shows them)");
                self.print(|t| t.note(&text))?;
            }
        }
        self.wire_so_far()
    }

    /// After the lesson: what the kernel keeps of its connections, the diagram, the summary with `extra` lines.
    pub fn finish(&self, extra: &[String]) -> Result<(), Error> {
        let wire_account = self.finish_capture()?;
        let record = self.record.borrow();
        let quiet = self.is_quiet();
        let pairs = record.pairs();
        let states = if quiet || pairs.is_empty() { Vec::new() } else { self.states.settled(pairs, SETTLE) };
        let endings = self.endings.borrow();
        let fates: Vec<Fate> = pairs
            .iter()
            .zip(states)
            .map(|(&(local, remote), ours)| Fate {
                pair: (local, remote),
                ours,
                // The peer's socket is in this machine's table only when the peer is on this machine: on loopback.
                theirs: remote.ip().is_loopback().then(|| self.theirs(remote, local)),
                ending: endings.iter().find(|e| e.pair == (local, remote)).cloned(),
            })
            .collect();
        self.print(|t| closing(t, &fates, &record, extra))?;
        if let Some(page) = &self.page {
            let mut text = wire_account.join("\n");
            text.push_str(&super::html::plain(|t| closing(t, &fates, &record, extra)));
            page.borrow().write(&text).map_err(|err| Error::io("write the --html page", err))?;
        }
        Ok(())
    }

    /// `--html`: when the lesson stopped with `error`, the page of what it did up to there, and its summary.
    pub fn page_after_failure(&self, error: &str) -> Result<(), Error> {
        let Some(page) = &self.page else { return Ok(()) };
        let stats = self.record.borrow().stats().clone();
        let text = super::html::plain(|t| t.summary(&stats, &[format!("the lesson stopped: {error}")]));
        page.borrow().write(&text).map_err(|err| Error::io("write the --html page", err))
    }

    /// The state of the peer's side of a connection (its `local` is our remote), once past the states that last
    /// only until a segment already on its way arrives (`LAST_ACK`, `FIN_WAIT1`, `CLOSING`): read again for at most
    /// 100 ms while it is in one of them.
    fn theirs(&self, local: SocketAddr, remote: SocketAddr) -> Option<&'static str> {
        let deadline = std::time::Instant::now() + Duration::from_millis(100);
        loop {
            let state = self.states.by_pair(local, remote).map(|e| e.state);
            let passing = matches!(state, Some("LAST_ACK" | "FIN_WAIT1" | "CLOSING"));
            if !passing || std::time::Instant::now() >= deadline {
                return state;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// `--packets`: the last segments, what they tell, and the pcapng file written out. Returns the account it
    /// printed after the segments (for `--html`).
    fn finish_capture(&self) -> Result<Vec<String>, Error> {
        let Some(capture) = &self.capture else { return Ok(Vec::new()) };
        let mut capture = capture.borrow_mut();
        capture.settle(WIRE_QUIET, SETTLE);
        let lines = capture.before_next(None, false);
        let mut story = capture.story();
        story.extend(capture.picture());
        let heading = format!("on the wire, {} TCP segments of the lesson's seen on lo:", capture.seen);
        capture.finish().map_err(|err| Error::io("write the --pcap file", err))?;
        drop(capture);
        self.wire(&lines)?;
        if self.is_quiet() {
            return Ok(Vec::new());
        }
        self.print(|t| {
            t.line("")?;
            t.line(&heading)
        })?;
        self.wire(&story)?;
        let mut account = vec![heading];
        account.extend(story.into_iter().map(|line| line.trim_end().to_string()));
        account.push(String::new());
        Ok(account)
    }

    /// Pushes everything written so far out.
    pub fn flush(&self) -> Result<(), Error> {
        self.print(|t| t.flush())
    }
}

/// What the kernel keeps of each connection, the diagram, and the summary: the transcript's end (and the page's).
fn closing<W: Write>(t: &mut Transcript<W>, fates: &[Fate], record: &Record, extra: &[String]) -> io::Result<()> {
    t.aftermath(fates, record.forgotten_pairs())?;
    t.diagram_of(record.events(), record.forgotten_connections(), "us")?;
    t.summary(record.stats(), extra)
}

/// What each call does, in a sentence, for `--step`.
const EXPLAINED: [(&str, &str); 17] = [
    (
        "socket",
        "ask the kernel for a new TCP socket. It answers with a file descriptor, the small number that names the \
         socket in every later call",
    ),
    ("setsockopt", "set SO_REUSEADDR, so that a restarted server can bind this port again at once"),
    (
        "setsockopt SO_RCVTIMEO",
        "set SO_RCVTIMEO, so that a recvfrom that waits longer than --timeout fails with EAGAIN",
    ),
    (
        "setsockopt SO_SNDTIMEO",
        "set SO_SNDTIMEO, so that a sendto that waits longer than --send-timeout for a client that reads nothing gives up",
    ),
    (
        "setsockopt SO_LINGER",
        "set SO_LINGER to 0 s, so that the close that follows resets the connection (RST) instead of ending it cleanly",
    ),
    ("bind", "reserve the address and port for this socket; EADDRINUSE if a socket already listens there"),
    ("listen", "make it a listening socket: the kernel now answers TCP handshakes and queues the connections"),
    ("getsockname", "ask the kernel which address and port the socket has (with port 0, the OS chose one)"),
    ("accept4", "wait for a client, and take its connection from the queue as a new socket of its own"),
    ("getaddrinfo", "look the host's name up (a C library function, not a system call): its IP addresses"),
    ("connect", "open a connection to the server: the kernel makes the TCP handshake (SYN, SYN-ACK, ACK)"),
    ("recvfrom", "wait for bytes and copy up to the buffer's size of them; 0 means the other side closed"),
    ("sendto", "hand bytes to the kernel to send; it answers how many it took"),
    (
        "sendfile",
        "ask the kernel to send bytes of the file straight to the socket, without copying them into our memory; it \
         answers how many it sent",
    ),
    ("shutdown", "say we will send nothing more: the kernel sends a FIN after the bytes already queued"),
    ("close", "give the descriptor back to the kernel; the socket is gone"),
    ("", "the next call"),
];

/// What the call `name` does, in a sentence.
fn explain(name: &str) -> &'static str {
    EXPLAINED.iter().find(|(call, _)| *call == name).map_or("the next call", |(_, what)| what)
}
