//! The transcript printer: numbered calls, the blog's Python beside them, hex dumps of every byte, and notes.
//!
//! Like hexyl's `Printer`, it writes to any `Write` and takes its colour decision from outside, so a test can render
//! into a `Vec<u8>` with colour off and compare the whole text.
//!
//! The shape of one call:
//!
//! ```text
//!      >>> raw_data = client_connection.recv(4096)
//!   7  recvfrom(4, buf, 4096, 0, NULL, NULL) = 78
//!      ◀ received 78 bytes  "GET / HTTP/1.1\r\nHost: localhost\r\n…"
//!      0000:   47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a   GET / HTTP/1.1..
//! ```

use std::io::{self, Write};

use pretty_hex::{HexConfig, config_hex};

use super::diagram::{self, Event};
use super::format::{self, count, plural};
use super::style::{Role, Style};

/// Payloads up to this many bytes are dumped whole; longer ones lose their middle unless `--full-dump` is given.
pub const DUMP_LIMIT: usize = 1024;
/// How much of an elided payload's start is shown (16 rows of 16 bytes).
const DUMP_HEAD: usize = 256;
/// How much of an elided payload's end is shown, at least (4 rows).
const DUMP_TAIL: usize = 64;
/// Bytes per hex-dump row.
const ROW: usize = 16;
/// How many characters of escaped text the one-line preview shows.
const PREVIEW_CHARS: usize = 64;
/// The diagram draws at most this many connections, the last ones (a server that ran for long made many).
const DIAGRAM_CONNECTIONS: usize = 3;
/// Everything under a call line is indented this far, past the call number.
const INDENT: &str = "     ";

/// Which way bytes crossed the socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `recvfrom` brought them in.
    Received,
    /// `sendto` sent them out.
    Sent,
}

/// What the transcript has counted so far, for the closing summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Every numbered call, failed or not.
    pub calls: u64,
    /// Calls that returned -1.
    pub failed: u64,
    /// `accept4` calls that returned a connection.
    pub connections: u64,
    /// `recvfrom` calls, and the bytes they returned.
    pub recv_calls: u64,
    pub bytes_received: u64,
    /// `sendto` calls, and the bytes the kernel took.
    pub send_calls: u64,
    pub bytes_sent: u64,
}

/// Prints a lesson's transcript.
pub struct Transcript {
    out: Box<dyn Write>,
    style: Style,
    full_dump: bool,
    stats: Stats,
    /// While a long `sendall` is summarised: the calls counted but not printed.
    held: Option<Held>,
    /// What the calls did to connections, for the diagram.
    events: Vec<Event>,
    /// `--quiet`: print only the listening line, one line per request, and the summary.
    quiet: bool,
    /// The connections the lesson made, for [`aftermath`](Self::aftermath).
    pairs: Vec<(std::net::SocketAddr, std::net::SocketAddr)>,
    /// Who made the calls, as the diagram names them: "us" in a lesson, "the program" in `hhttpp trace`.
    me: &'static str,
    /// Where a quiet transcript's calls go.
    nowhere: io::Sink,
}

/// The calls of a summarised run: how many, how many bytes, and the last one, rendered but not yet printed.
#[derive(Default)]
struct Held {
    first: u64,
    calls: u64,
    bytes: u64,
    last: Vec<u8>,
    last_bytes: u64,
}

impl Transcript {
    /// A transcript written to `out`, in colour when `color` is true, dumping every byte when `full_dump` is true.
    pub fn new(out: Box<dyn Write>, color: bool, full_dump: bool) -> Self {
        Transcript {
            out,
            style: Style::new(color),
            full_dump,
            stats: Stats::default(),
            held: None,
            events: Vec::new(),
            quiet: false,
            nowhere: io::sink(),
            me: "us",
            pairs: Vec::new(),
        }
    }

    /// Names the side that made the calls in the diagram: "the program", for `hhttpp trace`.
    pub fn calls_made_by(mut self, me: &'static str) -> Self {
        self.me = me;
        self
    }

    /// With `quiet`, calls, dumps, notes and the diagram are counted but not printed.
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }

    /// Where the next line goes: the output, or the held last call while a run is summarised.
    fn sink(&mut self) -> &mut dyn Write {
        if self.quiet {
            return &mut self.nowhere;
        }
        match &mut self.held {
            Some(held) => &mut held.last,
            None => &mut *self.out,
        }
    }

    /// Starts summarising: the calls that follow are counted and numbered but not printed, except the last one,
    /// which [`release`](Self::release) prints after a line that says how many were left out. With `--full-dump`
    /// nothing is summarised.
    pub fn hold(&mut self) {
        if !self.full_dump && self.held.is_none() {
            self.held = Some(Held::default());
        }
    }

    /// Ends a summarised run: says how many calls and bytes were not shown, then prints the last call in full.
    pub fn release(&mut self) -> io::Result<()> {
        let Some(held) = self.held.take() else { return Ok(()) };
        if self.quiet {
            return Ok(());
        }
        if held.calls > 1 {
            let hidden = held.calls - 1;
            let gap = format!(
                "… {} not shown: numbers {} to {}, {} in all (--full-dump shows every call)",
                plural(hidden, "sendto call", "sendto calls"),
                held.first,
                held.first + hidden - 1,
                plural(held.bytes - held.last_bytes, "byte", "bytes")
            );
            let gap = self.style.paint(Role::Note, &gap);
            writeln!(self.out, "{INDENT}{gap}")?;
        }
        self.out.write_all(&held.last)?;
        self.out.flush()
    }

    /// What has been counted so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// True with `--quiet`.
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// True while a long `sendall` is being summarised (its calls are counted, not printed).
    pub fn is_holding(&self) -> bool {
        self.held.is_some()
    }

    /// True when a call's TCP state would not be printed (quiet, or inside a summarised run): no need to read it.
    pub fn skips_states(&self) -> bool {
        self.quiet || self.held.is_some()
    }

    /// Remembers a connection (our address, the peer's), to show what the kernel keeps of it after the lesson.
    pub fn connection_pair(&mut self, local: std::net::SocketAddr, remote: std::net::SocketAddr) {
        if !self.pairs.contains(&(local, remote)) {
            self.pairs.push((local, remote));
        }
    }

    /// After the lesson: what the kernel keeps of each connection once every socket is closed, TIME_WAIT most often.
    /// The states settle a moment after the last close, so we look again for up to half a second.
    pub fn aftermath(&mut self) -> io::Result<()> {
        if self.quiet || self.pairs.is_empty() {
            return Ok(());
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
        let mut states: Vec<Option<&'static str>>;
        loop {
            states = self.pairs.iter().map(|(l, r)| super::tcp::by_pair(*l, *r).map(|e| e.state)).collect();
            let settled = states.iter().all(|s| matches!(s, None | Some("TIME_WAIT")));
            if settled || std::time::Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        writeln!(self.out)?;
        let title = self.style.paint(Role::Heading, "after the last close, the kernel's TCP table:");
        writeln!(self.out, "{title}")?;
        for ((local, remote), state) in self.pairs.clone().iter().zip(states) {
            let text = match state {
                Some("TIME_WAIT") => format!(
                    "{local} ↔ {remote}: TIME_WAIT. The side that closes first keeps the pair for 60 s, so that late \
                     packets of this connection cannot land in a new one; meanwhile a new bind of {local} needs \
                     SO_REUSEADDR (lesson 1)"
                ),
                Some(other) => format!("{local} ↔ {remote}: {other}"),
                None => format!("{local} ↔ {remote}: gone (the other side closed first, so it keeps the TIME_WAIT)"),
            };
            writeln!(self.out, "{INDENT}{text}")?;
        }
        Ok(())
    }

    /// Records what a call did to a connection, for [`diagram`](Self::diagram).
    pub fn event(&mut self, event: Event) {
        self.events.push(event);
    }

    /// The sequence diagram of every connection the lesson made, drawn from the recorded events.
    pub fn diagram(&mut self) -> io::Result<()> {
        if self.quiet {
            return Ok(());
        }
        let lines = diagram::render(&self.events, DIAGRAM_CONNECTIONS, self.me);
        writeln!(self.out)?;
        if lines.is_empty() {
            let title = self.style.paint(Role::Heading, "the exchange:");
            return writeln!(self.out, "{title} no connection was made");
        }
        let title = self.style.paint(Role::Heading, "the exchange, as the calls above made it:");
        writeln!(self.out, "{title}\n")?;
        for line in lines {
            if line.is_empty() {
                // No indent on an empty line: trailing white space does not survive editors.
                writeln!(self.out)?;
            } else {
                writeln!(self.out, "{INDENT}{line}")?;
            }
        }
        Ok(())
    }

    /// The lesson's title line and a blank line after it.
    pub fn heading(&mut self, text: &str) -> io::Result<()> {
        let line = self.style.paint(Role::Heading, text);
        writeln!(self.sink(), "{line}\n")
    }

    /// The blog's Python for the calls that follow: `>>> s.listen(1)`.
    pub fn python(&mut self, line: &str) -> io::Result<()> {
        let line = self.style.paint(Role::Python, &format!(">>> {line}"));
        writeln!(self.sink(), "{INDENT}{line}")
    }

    /// One numbered system call, `name(args) = result`, exactly as it was made and as the kernel answered.
    ///
    /// `result` is the success value as strace prints it (`3`, `0`, `78`) or the error the call returned.
    pub fn call(&mut self, name: &str, args: &str, result: Result<String, &io::Error>) -> io::Result<()> {
        self.call_in_state(name, args, result, None)
    }

    /// A call, with the TCP state its socket is in afterwards (`⟨LISTEN⟩`), as the kernel reports it.
    pub fn call_in_state(
        &mut self,
        name: &str,
        args: &str,
        result: Result<String, &io::Error>,
        state: Option<&str>,
    ) -> io::Result<()> {
        self.stats.calls += 1;
        let number = self.style.paint(Role::Number, &format!("{:>3}", self.stats.calls));
        let name = self.style.paint(Role::CallName, name);
        let result = match result {
            Ok(value) => self.style.paint(Role::Success, &format!("= {value}")),
            Err(err) => {
                self.stats.failed += 1;
                self.style.paint(Role::Failure, &format!("= {}", format::errno_result(err)))
            }
        };
        if let Some(held) = &mut self.held {
            held.last.clear();
            held.calls += 1;
            if held.first == 0 {
                held.first = self.stats.calls;
            }
        }
        let state = state.map(|s| format!("  {}", self.style.paint(Role::Note, &format!("⟨{s}⟩")))).unwrap_or_default();
        writeln!(self.sink(), "{number}  {name}({args}) {result}{state}")?;
        // A call may block next (accept4, recvfrom): whoever watches should see everything up to here.
        self.sink().flush()
    }

    /// A call someone else's program made, as strace reported it: numbered like ours, its result as strace wrote it.
    /// `who` goes before the call when it is not the program's first process (`[pid 1234] `).
    pub fn foreign_call(
        &mut self,
        who: &str,
        name: &str,
        args: &str,
        result: &str,
        state: Option<&str>,
    ) -> io::Result<()> {
        self.stats.calls += 1;
        let failed = result.starts_with("-1 ");
        if failed {
            self.stats.failed += 1;
        }
        let number = self.style.paint(Role::Number, &format!("{:>3}", self.stats.calls));
        let name = self.style.paint(Role::CallName, name);
        let role = if failed { Role::Failure } else { Role::Success };
        let result = self.style.paint(role, &format!("= {result}"));
        let state = state.map(|s| format!("  {}", self.style.paint(Role::Note, &format!("⟨{s}⟩")))).unwrap_or_default();
        writeln!(self.sink(), "{number}  {who}{name}({args}) {result}{state}")?;
        self.sink().flush()
    }

    /// A line the traced program printed, told apart from the transcript: `┆ stdout: …`.
    pub fn program_output(&mut self, stream: &str, line: &str) -> io::Result<()> {
        let line = self.style.paint(Role::Dump, &format!("┆ {stream}: {line}"));
        writeln!(self.sink(), "{INDENT}{line}")?;
        self.sink().flush()
    }

    /// A C library function that is not a system call (`getaddrinfo`): shown with `lib` in place of a number, and
    /// not counted among the socket calls.
    pub fn library_call(&mut self, name: &str, args: &str, result: &str) -> io::Result<()> {
        let number = self.style.paint(Role::Number, "lib");
        let name = self.style.paint(Role::CallName, name);
        let result = self.style.paint(Role::Success, &format!("= {result}"));
        writeln!(self.sink(), "{number}  {name}({args}) {result}")?;
        self.sink().flush()
    }

    /// Counts a connection that `accept4` returned.
    pub fn count_connection(&mut self) {
        self.stats.connections += 1;
    }

    /// A remark between calls, indented under them. It is the lesson talking, not the kernel.
    pub fn note(&mut self, text: &str) -> io::Result<()> {
        let text = self.style.paint(Role::Note, text);
        writeln!(self.sink(), "{INDENT}{text}")
    }

    /// The line that says where the server listens; tests and scripts wait for it, so it is flushed at once.
    pub fn listening(&mut self, url: &str, hint: &str) -> io::Result<()> {
        let url = self.style.paint(Role::Url, url);
        writeln!(self.out, "{INDENT}listening on {url}  {hint}")?;
        self.out.flush()
    }

    /// The bytes one `recvfrom` returned or one `sendto` sent: a labelled preview, then the hex dump.
    pub fn data(&mut self, direction: Direction, bytes: &[u8]) -> io::Result<()> {
        self.data_seen(direction, bytes, bytes.len() as u64)
    }

    /// Like [`data`](Self::data) for a call that moved `total` bytes of which only `bytes`, the first ones, can be
    /// shown (strace prints at most so many of a call's bytes): the count is the call's, the dump says where it stops.
    pub fn data_seen(&mut self, direction: Direction, bytes: &[u8], total: u64) -> io::Result<()> {
        let moved = plural(total, "byte", "bytes");
        let (role, label) = match direction {
            Direction::Received => {
                self.stats.recv_calls += 1;
                self.stats.bytes_received += total;
                (Role::Received, format!("◀ received {moved}"))
            }
            Direction::Sent => {
                self.stats.send_calls += 1;
                self.stats.bytes_sent += total;
                if let Some(held) = &mut self.held {
                    held.bytes += total;
                    held.last_bytes = total;
                }
                (Role::Sent, format!("▶ sent {moved}"))
            }
        };
        // --quiet counts without rendering: it is for load tests, where formatting dumps nobody sees would cost.
        // recvfrom returning 0 (the peer closed its side) has nothing to dump.
        if self.quiet || total == 0 {
            return Ok(());
        }
        let label = if (bytes.len() as u64) < total {
            format!("{label} (strace showed the first {})", count(bytes.len() as u64))
        } else {
            label
        };
        let label = self.style.paint(role, &label);
        writeln!(self.sink(), "{INDENT}{label}  {}", format::preview(bytes, PREVIEW_CHARS))?;
        if self.full_dump || bytes.len() <= DUMP_LIMIT {
            self.dump_rows(bytes, 0)
        } else {
            let tail_start = (bytes.len() - DUMP_TAIL) / ROW * ROW;
            self.dump_rows(&bytes[..DUMP_HEAD], 0)?;
            let hidden = (tail_start - DUMP_HEAD) as u64;
            let gap = format!(
                "… {} not shown (offsets {DUMP_HEAD:#06x} to {:#06x}; --full-dump shows every byte)",
                plural(hidden, "byte", "bytes"),
                tail_start - 1
            );
            let gap = self.style.paint(Role::Note, &gap);
            writeln!(self.sink(), "{INDENT}{gap}")?;
            self.dump_rows(&bytes[tail_start..], tail_start)
        }
    }

    /// Rows of pretty-hex, 16 bytes each, the first row labelled with `offset`.
    fn dump_rows(&mut self, bytes: &[u8], offset: usize) -> io::Result<()> {
        let config = HexConfig {
            title: false,
            ascii: true,
            width: ROW,
            group: 8,
            chunk: 1,
            max_bytes: usize::MAX,
            display_offset: offset,
        };
        for row in config_hex(&bytes, config).lines() {
            // A row whose last byte is a space would end in white space, which editors strip from snapshot files.
            // The byte is still there in the hex column (`20`); only the invisible ASCII column loses it.
            let row = self.style.paint(Role::Dump, row.trim_end());
            writeln!(self.sink(), "{INDENT}{row}")?;
        }
        Ok(())
    }

    /// The closing summary: what the lesson did, counted from the calls above it.
    pub fn summary(&mut self, extra: &[String]) -> io::Result<()> {
        let s = self.stats.clone();
        let mut parts = vec![plural(s.calls, "socket call", "socket calls")];
        if s.failed > 0 {
            parts.push(format!("{} failed", count(s.failed)));
        }
        if s.connections > 0 {
            parts.push(format!("{} accepted", plural(s.connections, "connection", "connections")));
        }
        if s.recv_calls > 0 {
            parts.push(format!(
                "received {} in {}",
                plural(s.bytes_received, "byte", "bytes"),
                plural(s.recv_calls, "recvfrom call", "recvfrom calls")
            ));
        }
        if s.send_calls > 0 {
            parts.push(format!(
                "sent {} in {}",
                plural(s.bytes_sent, "byte", "bytes"),
                plural(s.send_calls, "sendto call", "sendto calls")
            ));
        }
        writeln!(self.out)?;
        let title = self.style.paint(Role::Heading, "summary:");
        writeln!(self.out, "{title} {}", parts.join(", "))?;
        for line in extra {
            writeln!(self.out, "{INDENT}{line}")?;
        }
        self.out.flush()
    }

    /// A line of its own, unindented (the "next:" pointer after the summary).
    pub fn line(&mut self, text: &str) -> io::Result<()> {
        writeln!(self.out, "{text}")
    }

    /// Pushes everything written so far out to the terminal or pipe.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// A `Write` whose bytes the test can read after the transcript is done with it.
    #[derive(Clone, Default)]
    struct Shared(Rc<RefCell<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn render(full_dump: bool, f: impl FnOnce(&mut Transcript) -> io::Result<()>) -> String {
        let sink = Shared::default();
        let mut t = Transcript::new(Box::new(sink.clone()), false, full_dump);
        f(&mut t).unwrap();
        String::from_utf8(sink.0.borrow().clone()).unwrap()
    }

    #[test]
    fn a_call_is_numbered_and_shows_its_result() {
        let text = render(false, |t| {
            t.python("s.listen(1)")?;
            t.call("listen", "3, 1", Ok("0".into()))?;
            let err = io::Error::from_raw_os_error(libc::EADDRINUSE);
            t.call("bind", "4, {…}, 16", Err(&err))
        });
        assert_eq!(
            text,
            "     >>> s.listen(1)\n  1  listen(3, 1) = 0\n  2  bind(4, {…}, 16) = -1 EADDRINUSE (Address already in use)\n"
        );
    }

    #[test]
    fn received_bytes_get_a_preview_and_a_dump() {
        let text = render(false, |t| t.data(Direction::Received, b"GET / HTTP/1.1\r\n\xFF"));
        assert_eq!(
            text,
            "     ◀ received 17 bytes  \"GET / HTTP/1.1\\r\\n\\xFF\"\n\
             \x20    0000:   47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a   GET / HTTP/1.1..\n\
             \x20    0010:   ff                                                 .\n"
        );
    }

    #[test]
    fn long_payloads_lose_their_middle_and_say_how_much() {
        let bytes: Vec<u8> = (0..2000u32).map(|i| (i % 251) as u8).collect();
        let text = render(false, |t| t.data(Direction::Sent, &bytes));
        // 2000 - 64 = 1936, already a multiple of 16: the tail shows offsets 0x790..0x7cf, 4 rows.
        assert!(text.contains("… 1,680 bytes not shown (offsets 0x0100 to 0x078f; --full-dump shows every byte)"));
        let rows = text.lines().filter(|l| l.trim_start().starts_with("0")).count();
        assert_eq!(rows, 16 + 4);
        assert!(text.contains("     0790:   "));
    }

    #[test]
    fn a_call_shown_in_part_counts_all_its_bytes_and_says_where_the_dump_stops() {
        let text = render(true, |t| {
            t.data_seen(Direction::Sent, b"abc", 100_000)?;
            t.summary(&[])
        });
        assert!(text.starts_with("     ▶ sent 100,000 bytes (strace showed the first 3)  \"abc\"\n"), "{text}");
        assert!(text.contains("sent 100,000 bytes in 1 sendto call"));
    }

    #[test]
    fn full_dump_shows_every_row() {
        let bytes = vec![b'x'; 2000];
        let text = render(true, |t| t.data(Direction::Sent, &bytes));
        assert!(!text.contains("not shown"));
        assert_eq!(text.lines().count(), 1 + 2000usize.div_ceil(16));
    }

    #[test]
    fn a_row_ending_in_a_space_has_no_trailing_white_space() {
        let text = render(false, |t| t.data(Direction::Sent, b"ab "));
        assert!(text.lines().all(|l| l == l.trim_end()), "{text:?}");
        assert!(text.contains("61 62 20"));
    }

    #[test]
    fn a_held_run_prints_only_its_last_call_and_says_what_it_left_out() {
        let text = render(false, |t| {
            t.call("sendto", "4, buf, 3, 0, NULL, 0", Ok("3".into()))?;
            t.data(Direction::Sent, b"one")?;
            t.hold();
            for (i, bytes) in [&b"two"[..], b"three", b"four"].iter().enumerate() {
                t.call("sendto", &format!("4, buf, {}, 0, NULL, 0", bytes.len()), Ok(format!("{}", bytes.len())))?;
                t.data(Direction::Sent, bytes)?;
                assert_eq!(t.stats().calls, 2 + i as u64, "held calls are still counted");
            }
            t.release()
        });
        assert!(!text.contains("\"two\"") && !text.contains("\"three\""), "{text}");
        assert!(text.contains(
            "     … 2 sendto calls not shown: numbers 2 to 3, 8 bytes in all (--full-dump shows every call)\n"
        ));
        assert!(text.contains("  4  sendto(4, buf, 4, 0, NULL, 0) = 4\n     ▶ sent 4 bytes  \"four\"\n"), "{text}");
    }

    #[test]
    fn full_dump_holds_nothing() {
        let text = render(true, |t| {
            t.hold();
            t.call("sendto", "4, buf, 3, 0, NULL, 0", Ok("3".into()))?;
            t.call("sendto", "4, buf, 3, 0, NULL, 0", Ok("3".into()))?;
            t.release()
        });
        assert_eq!(text.lines().count(), 2);
    }

    #[test]
    fn the_summary_counts_calls_and_bytes() {
        let text = render(false, |t| {
            t.call("recvfrom", "4, buf, 4096, 0, NULL, NULL", Ok("3".into()))?;
            t.data(Direction::Received, b"abc")?;
            t.call("sendto", "4, buf, 1, 0, NULL, 0", Ok("1".into()))?;
            t.data(Direction::Sent, b"x")?;
            t.summary(&[])
        });
        assert!(
            text.ends_with(
                "summary: 2 socket calls, received 3 bytes in 1 recvfrom call, sent 1 byte in 1 sendto call\n"
            )
        );
    }
}
