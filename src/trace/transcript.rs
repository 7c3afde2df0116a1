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
use std::net::SocketAddr;

use pretty_hex::{HexConfig, config_hex};

use super::diagram::{self, Event, Side};
use super::format::{PROSE_WIDTH, count, plural, wrap};
use super::record::{Direction, Stats};
use super::style::{Role, Style};
use crate::escape;

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
/// The diagram and the aftermath show at most this many connections, the last ones (a server that ran for long made
/// many), and a lesson's record keeps no more.
pub const KEPT_CONNECTIONS: usize = 3;
/// Everything under a call line is indented this far, past the call number.
const INDENT: &str = "     ";

/// What became of one connection: the kernel's table as we ended our side of it, and after the last close.
pub struct Fate {
    /// Our address, the peer's.
    pub pair: (SocketAddr, SocketAddr),
    /// Our side's state now; `None` when the table has no entry for it.
    pub ours: Option<&'static str>,
    /// The peer's side's state now, when it was looked up (the peer is on this machine, on loopback): `Some(None)`
    /// for no entry.
    pub theirs: Option<Option<&'static str>>,
    /// What the table said as we ended our side, when the lesson read it.
    pub ending: Option<Ending>,
}

/// What the kernel's table said of a connection just before our calls that ended it.
#[derive(Clone, Debug)]
pub struct Ending {
    /// Our address, the peer's.
    pub pair: (SocketAddr, SocketAddr),
    /// Which end we are.
    pub side: Side,
    /// The first of our `shutdown`/`close` calls on it, and the state just before it (`None`: no entry).
    pub first: Option<(&'static str, Option<&'static str>)>,
    /// Bytes received and never read, just before our `close`.
    pub unread_at_close: Option<u32>,
}

impl Fate {
    /// The lines that tell it, each a fact read in the table, or a rule of TCP applied to one.
    fn story(&self) -> Vec<String> {
        // Which end the peer is, where we know which end we are (a lesson's connection); `hhttpp trace`'s
        // program may be either.
        let peer = match self.ending.as_ref().map(|e| e.side) {
            Some(Side::Client) => "the server",
            Some(Side::Server) => "the client",
            None => "the peer",
        };
        let mut lines = Vec::new();
        let mut reset = false;
        if let Some(ending) = &self.ending {
            match ending.first {
                Some((call, Some("ESTABLISHED"))) => lines.push(format!(
                    "before our {call}: ESTABLISHED, so no FIN from {peer} had arrived: we ended it first"
                )),
                Some((call, Some("CLOSE_WAIT"))) => lines
                    .push(format!("before our {call}: CLOSE_WAIT, so {peer}'s FIN had come: {peer} ended it first")),
                Some((call, Some(state))) => lines.push(format!("before our {call}: {state}")),
                Some((call, None)) => lines.push(format!("before our {call}: no entry")),
                None => {}
            }
            if let Some(unread) = ending.unread_at_close.filter(|&n| n > 0) {
                reset = true;
                lines.push(format!(
                    "we closed it with {} received and never read: for that, Linux resets the connection (RST)",
                    plural(u64::from(unread), "byte", "bytes")
                ));
                lines.push("instead of sending a FIN, and neither side keeps a TIME_WAIT".to_string());
            }
        }
        let state = |s: Option<&str>| s.map_or("no entry".to_string(), str::to_string);
        match self.theirs {
            Some(theirs) => lines.push(format!("now: ours {}, {peer}'s {}", state(self.ours), state(theirs))),
            None => lines.push(format!("now: ours {}", state(self.ours))),
        }
        if !reset && self.ours.is_none() && self.theirs.is_none_or(|t| t.is_none()) {
            lines.push("(what ended it is not in the table: nothing of it is left to read)".to_string());
        }
        lines
    }
}

/// One numbered call line: `  7  recvfrom(4, buf, 4096, 0, NULL, NULL) = 78  ⟨ESTABLISHED⟩`.
pub struct CallLine<'a> {
    /// Its number in the transcript, counted by the `Record`.
    pub number: u64,
    /// Who made it, when that is worth saying: `[pid 1234] ` (empty for the lesson itself).
    pub who: &'a str,
    pub name: &'a str,
    pub args: &'a str,
    /// What it returned, as strace prints it: `3`, `0`, `-1 EADDRINUSE (Address already in use)`.
    pub result: &'a str,
    pub failed: bool,
    /// The socket's TCP state after the call, as the kernel reported it.
    pub state: Option<&'a str>,
}

/// What a summarised run left out: [`Transcript::release`] says so before the run's last call.
pub struct Gap {
    /// The calls' name: `sendto`, or `sendfile`.
    pub call: &'static str,
    /// The number of the first call not shown.
    pub first: u64,
    /// How many calls were not shown.
    pub calls: u64,
    /// How many bytes those calls moved.
    pub bytes: u64,
}

/// Prints a transcript to any `Write`; it counts nothing itself (the `Record` beside it does).
pub struct Transcript<W: Write> {
    out: W,
    style: Style,
    full_dump: bool,
    /// While a long `sendall` is summarised: the last call, rendered but not yet printed.
    held: Option<Vec<u8>>,
    /// `--quiet`: print only the listening line, the lines given to [`line`](Self::line), and the summary.
    quiet: bool,
    /// Where a quiet transcript's calls go.
    nowhere: io::Sink,
}

impl<W: Write> Transcript<W> {
    /// A transcript written to `out`, in colour when `color` is true, dumping every byte when `full_dump` is true.
    pub fn new(out: W, color: bool, full_dump: bool) -> Self {
        Transcript { out, style: Style::new(color), full_dump, held: None, quiet: false, nowhere: io::sink() }
    }

    /// With `quiet`, calls, dumps, notes and the diagram are not printed.
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }

    /// The writer, given back.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Where the next line goes: the output, or the held last call while a run is summarised.
    fn sink(&mut self) -> &mut dyn Write {
        if self.quiet {
            return &mut self.nowhere;
        }
        match &mut self.held {
            Some(last) => last,
            None => &mut self.out,
        }
    }

    /// Starts summarising: each call that follows replaces the one before it, unprinted, until
    /// [`release`](Self::release) prints the last one. With `--full-dump` nothing is summarised, and this returns
    /// false.
    pub fn hold(&mut self) -> bool {
        if self.full_dump {
            return false;
        }
        self.held.get_or_insert_with(Vec::new);
        true
    }

    /// Ends a summarised run: says what `gap` left out, then prints the run's last call in full.
    pub fn release(&mut self, gap: Option<Gap>) -> io::Result<()> {
        let Some(last) = self.held.take() else { return Ok(()) };
        if self.quiet {
            return Ok(());
        }
        if let Some(gap) = gap.filter(|g| g.calls > 0) {
            let text = format!(
                "… {} not shown: numbers {} to {}, {} in all (--full-dump shows every call)",
                plural(gap.calls, &format!("{} call", gap.call), &format!("{} calls", gap.call)),
                gap.first,
                gap.first + gap.calls - 1,
                plural(gap.bytes, "byte", "bytes")
            );
            let text = self.style.paint(Role::Note, &text);
            writeln!(self.out, "{INDENT}{text}")?;
        }
        self.out.write_all(&last)?;
        self.out.flush()
    }

    /// True with `--quiet`.
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// True while a long `sendall` is being summarised (its calls are counted, not printed).
    pub fn is_holding(&self) -> bool {
        self.held.is_some()
    }

    /// What the kernel's table says of each connection after the last close (`theirs`: of the peer's socket, when
    /// the peer is on this machine), and what it said as we ended our side. Only what was read there is stated,
    /// with the rules of TCP that follow from it; `forgotten` earlier connections are only counted.
    pub fn aftermath(&mut self, fates: &[Fate], forgotten: u64) -> io::Result<()> {
        if self.quiet || fates.is_empty() {
            return Ok(());
        }
        writeln!(self.out)?;
        let title = self.style.paint(Role::Heading, "after the last close, the kernel's TCP table:");
        writeln!(self.out, "{title}")?;
        if forgotten > 0 {
            writeln!(self.out, "{INDENT}(the last {} of {} connections)", fates.len(), forgotten + fates.len() as u64)?;
        }
        let mut time_wait = false;
        for fate in fates {
            let (local, remote) = fate.pair;
            writeln!(self.out, "{INDENT}{local} ↔ {remote}")?;
            for line in fate.story() {
                writeln!(self.out, "{INDENT}  {line}")?;
            }
            time_wait |= fate.ours == Some("TIME_WAIT") || fate.theirs == Some(Some("TIME_WAIT"));
        }
        if time_wait {
            for line in [
                "TIME_WAIT: the side that sends the first FIN keeps the pair of addresses for 60 s, so that",
                "late segments of this connection cannot land in a new one; meanwhile a new bind of that",
                "address and port needs SO_REUSEADDR (lesson 1).",
            ] {
                writeln!(self.out, "{INDENT}{line}")?;
            }
        }
        Ok(())
    }

    /// The sequence diagram of every connection in `events`; `me` names the side that made the calls ("us" in a
    /// lesson, "the program" in `hhttpp trace`).
    pub fn diagram(&mut self, events: &[Event], me: &str) -> io::Result<()> {
        self.diagram_of(events, 0, me)
    }

    /// [`diagram`](Self::diagram), where `forgotten` earlier connections' events were let go (they are counted).
    pub fn diagram_of(&mut self, events: &[Event], forgotten: u64, me: &str) -> io::Result<()> {
        if self.quiet {
            return Ok(());
        }
        let lines = diagram::render(events, KEPT_CONNECTIONS, forgotten, me);
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
        for line in text.lines() {
            for (i, piece) in wrap(line, 0, PROSE_WIDTH).into_iter().enumerate() {
                let more = if i == 0 { "" } else { INDENT };
                let piece = self.style.paint(Role::Heading, &piece);
                writeln!(self.sink(), "{more}{piece}")?;
            }
        }
        writeln!(self.sink())
    }

    /// The Python for the calls that follow: `>>> s.listen(1)` when it is the blog's own line, exactly, and
    /// `ours> s.getsockname()` when it is ours (the blog has no such line, or does something else there).
    pub fn python(&mut self, line: &str) -> io::Result<()> {
        let marker = if crate::blog::quotes(line) { ">>>" } else { "ours>" };
        let line = self.style.paint(Role::Python, &format!("{marker} {line}"));
        writeln!(self.sink(), "{INDENT}{line}")
    }

    /// One numbered system call, `name(args) = result`, exactly as it was made and as the kernel answered, with the
    /// TCP state its socket is in afterwards (`⟨LISTEN⟩`) when the kernel reported one.
    pub fn call(&mut self, call: &CallLine) -> io::Result<()> {
        let number = self.style.paint(Role::Number, &format!("{:>3}", call.number));
        let name = self.style.paint(Role::CallName, call.name);
        let role = if call.failed { Role::Failure } else { Role::Success };
        let result = self.style.paint(role, &format!("= {}", call.result));
        let state =
            call.state.map(|s| format!("  {}", self.style.paint(Role::Note, &format!("⟨{s}⟩")))).unwrap_or_default();
        if let Some(last) = &mut self.held {
            // A summarised run: this call replaces the one before it.
            last.clear();
        }
        writeln!(self.sink(), "{number}  {}{name}({}) {result}{state}", call.who, call.args)?;
        // A call may block next (accept4, recvfrom): whoever watches should see everything up to here.
        self.sink().flush()
    }

    /// A line the traced program printed, told apart from the transcript: `┆ stdout: …`, escaped.
    pub fn program_output(&mut self, stream: &str, line: &[u8]) -> io::Result<()> {
        let line = self.style.paint(Role::Dump, &format!("┆ {stream}: {}", escape::escape(line)));
        writeln!(self.sink(), "{INDENT}{line}")?;
        self.sink().flush()
    }

    /// A C library function that is not a system call (`getaddrinfo`): shown with `lib` in place of a number.
    pub fn library_call(&mut self, name: &str, args: &str, result: &str) -> io::Result<()> {
        let number = self.style.paint(Role::Number, "lib");
        let name = self.style.paint(Role::CallName, name);
        let result = self.style.paint(Role::Success, &format!("= {result}"));
        writeln!(self.sink(), "{number}  {name}({args}) {result}")?;
        self.sink().flush()
    }

    /// A remark between calls, indented under them. It is the lesson talking, not the kernel.
    pub fn note(&mut self, text: &str) -> io::Result<()> {
        // Continued lines are indented two more, so that one note reads as one.
        for (i, piece) in wrap(text, 0, PROSE_WIDTH - INDENT.len() - 2).into_iter().enumerate() {
            let piece = self.style.paint(Role::Note, &piece);
            let more = if i == 0 { "" } else { "  " };
            writeln!(self.sink(), "{INDENT}{more}{piece}")?;
        }
        Ok(())
    }

    /// A note printed as it is, however long: a `wire:` line of `--packets`, whose fields line up.
    pub fn note_unwrapped(&mut self, text: &str) -> io::Result<()> {
        let text = self.style.paint(Role::Note, text);
        writeln!(self.sink(), "{INDENT}{text}")
    }

    /// The line that says where the server listens; tests and scripts wait for it, so it is flushed at once.
    pub fn listening(&mut self, url: &str, hint: &str) -> io::Result<()> {
        let fits = INDENT.len() + "listening on ".len() + url.chars().count() + 2 + hint.chars().count() <= PROSE_WIDTH;
        let url = self.style.paint(Role::Url, url);
        if fits {
            writeln!(self.out, "{INDENT}listening on {url}  {hint}")?;
        } else {
            // The address stays on its line of its own: tests and scripts read it there.
            writeln!(self.out, "{INDENT}listening on {url}")?;
            for piece in wrap(hint, 0, PROSE_WIDTH - INDENT.len() - 2) {
                writeln!(self.out, "{INDENT}  {piece}")?;
            }
        }
        self.out.flush()
    }

    /// The bytes one call moved: a labelled preview, then the hex dump. `total` is how many bytes the call moved,
    /// of which `bytes` are the first ones, all that can be shown (strace prints at most so many of a call's bytes):
    /// the label counts the call's, and says where the dump stops.
    pub fn data(&mut self, direction: Direction, bytes: &[u8], total: u64) -> io::Result<()> {
        let moved = plural(total, "byte", "bytes");
        let (role, label) = match direction {
            Direction::Received => (Role::Received, format!("◀ received {moved}")),
            Direction::Sent => (Role::Sent, format!("▶ sent {moved}")),
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
        writeln!(self.sink(), "{INDENT}{label}  {}", escape::preview(bytes, PREVIEW_CHARS))?;
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

    /// Where a `sendfile` call's dump would be: the kernel moved `total` bytes from the file with descriptor
    /// `file_fd` to the socket without passing them through our memory, so there is nothing of ours to show.
    pub fn sent_from_file(&mut self, file_fd: i32, total: u64) -> io::Result<()> {
        if self.quiet || total == 0 {
            return Ok(());
        }
        let label = self.style.paint(Role::Sent, &format!("▶ sent {}", plural(total, "byte", "bytes")));
        let why = self.style.paint(
            Role::Note,
            &format!("from fd {file_fd} by the kernel: they never entered our memory, so there is no dump of them"),
        );
        writeln!(self.sink(), "{INDENT}{label} {why}")
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
    pub fn summary(&mut self, stats: &Stats, extra: &[String]) -> io::Result<()> {
        let s = stats;
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
        if s.sendfile_calls > 0 {
            parts.push(format!(
                "sent {} in {}",
                plural(s.bytes_sendfile, "byte", "bytes"),
                plural(s.sendfile_calls, "sendfile call", "sendfile calls")
            ));
        }
        writeln!(self.out)?;
        let title = self.style.paint(Role::Heading, "summary:");
        // Cut between the counts, never inside one, so that each reads whole.
        let mut lines: Vec<String> = vec![String::new()];
        for (i, part) in parts.iter().enumerate() {
            let piece = if i + 1 < parts.len() { format!("{part},") } else { part.clone() };
            let room = if lines.len() == 1 { PROSE_WIDTH - "summary: ".len() } else { PROSE_WIDTH - INDENT.len() };
            let last = lines.len() - 1; // `lines` starts with one line and only grows
            if !lines[last].is_empty() && lines[last].chars().count() + 1 + piece.chars().count() > room {
                lines.push(piece);
            } else {
                if !lines[last].is_empty() {
                    lines[last].push(' ');
                }
                lines[last].push_str(&piece);
            }
        }
        for (i, piece) in lines.into_iter().enumerate() {
            if i == 0 {
                writeln!(self.out, "{title} {piece}")?;
            } else {
                writeln!(self.out, "{INDENT}{piece}")?;
            }
        }
        for line in extra {
            for (i, piece) in wrap(line, 0, PROSE_WIDTH - INDENT.len() - 2).into_iter().enumerate() {
                let more = if i == 0 { "" } else { "  " };
                writeln!(self.out, "{INDENT}{more}{piece}")?;
            }
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

    fn render(full_dump: bool, f: impl FnOnce(&mut Transcript<Vec<u8>>) -> io::Result<()>) -> String {
        let mut t = Transcript::new(Vec::new(), false, full_dump);
        f(&mut t).unwrap();
        String::from_utf8(t.into_inner()).unwrap()
    }

    fn line<'a>(number: u64, name: &'a str, args: &'a str, result: &'a str) -> CallLine<'a> {
        CallLine { number, who: "", name, args, result, failed: result.starts_with("-1 "), state: None }
    }

    #[test]
    fn a_call_is_numbered_and_shows_its_result() {
        let text = render(false, |t| {
            t.python("s.listen(1)")?;
            t.call(&line(1, "listen", "3, 1", "0"))?;
            t.call(&line(2, "bind", "4, {…}, 16", "-1 EADDRINUSE (Address already in use)"))
        });
        assert_eq!(
            text,
            "     >>> s.listen(1)\n  1  listen(3, 1) = 0\n  2  bind(4, {…}, 16) = -1 EADDRINUSE (Address already in use)\n"
        );
    }

    #[test]
    fn received_bytes_get_a_preview_and_a_dump() {
        let bytes = b"GET / HTTP/1.1\r\n\xFF";
        let text = render(false, |t| t.data(Direction::Received, bytes, bytes.len() as u64));
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
        let text = render(false, |t| t.data(Direction::Sent, &bytes, 2000));
        // 2000 - 64 = 1936, already a multiple of 16: the tail shows offsets 0x790..0x7cf, 4 rows.
        assert!(text.contains("… 1,680 bytes not shown (offsets 0x0100 to 0x078f; --full-dump shows every byte)"));
        let rows = text.lines().filter(|l| l.trim_start().starts_with("0")).count();
        assert_eq!(rows, 16 + 4);
        assert!(text.contains("     0790:   "));
    }

    #[test]
    fn a_call_shown_in_part_counts_all_its_bytes_and_says_where_the_dump_stops() {
        let text = render(true, |t| t.data(Direction::Sent, b"abc", 100_000));
        assert!(text.starts_with("     ▶ sent 100,000 bytes (strace showed the first 3)  \"abc\"\n"), "{text}");
    }

    #[test]
    fn full_dump_shows_every_row() {
        let bytes = vec![b'x'; 2000];
        let text = render(true, |t| t.data(Direction::Sent, &bytes, 2000));
        assert!(!text.contains("not shown"));
        assert_eq!(text.lines().count(), 1 + 2000usize.div_ceil(16));
    }

    #[test]
    fn a_row_ending_in_a_space_has_no_trailing_white_space() {
        let text = render(false, |t| t.data(Direction::Sent, b"ab ", 3));
        assert!(text.lines().all(|l| l == l.trim_end()), "{text:?}");
        assert!(text.contains("61 62 20"));
    }

    #[test]
    fn a_held_run_prints_only_its_last_call_and_says_what_it_left_out() {
        let text = render(false, |t| {
            t.call(&line(1, "sendto", "4, buf, 3, 0, NULL, 0", "3"))?;
            t.data(Direction::Sent, b"one", 3)?;
            assert!(t.hold());
            for (i, bytes) in [&b"two"[..], b"three", b"four"].iter().enumerate() {
                let (args, result) = (format!("4, buf, {}, 0, NULL, 0", bytes.len()), bytes.len().to_string());
                t.call(&line(2 + i as u64, "sendto", &args, &result))?;
                t.data(Direction::Sent, bytes, bytes.len() as u64)?;
            }
            t.release(Some(Gap { call: "sendto", first: 2, calls: 2, bytes: 8 }))
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
            assert!(!t.hold());
            t.call(&line(1, "sendto", "4, buf, 3, 0, NULL, 0", "3"))?;
            t.call(&line(2, "sendto", "4, buf, 3, 0, NULL, 0", "3"))?;
            t.release(None)
        });
        assert_eq!(text.lines().count(), 2);
    }

    #[test]
    fn the_summary_says_what_it_is_given() {
        let stats =
            Stats { calls: 2, recv_calls: 1, bytes_received: 3, send_calls: 1, bytes_sent: 1, ..Stats::default() };
        let text = render(false, |t| t.summary(&stats, &[]));
        assert!(
            text.ends_with(
                "summary: 2 socket calls, received 3 bytes in 1 recvfrom call, sent 1 byte in 1 sendto call\n"
            )
        );
    }

    #[test]
    fn a_sendfile_has_one_line_where_the_dump_would_be_and_its_own_count() {
        let text = render(false, |t| {
            t.call(&line(9, "sendfile", "5, 3, [0] => [8347], 8347", "8347"))?;
            t.sent_from_file(3, 8347)?;
            let stats = Stats { calls: 1, sendfile_calls: 1, bytes_sendfile: 8347, ..Stats::default() };
            t.summary(&stats, &[])
        });
        assert!(text.contains(
            "  9  sendfile(5, 3, [0] => [8347], 8347) = 8347\n     ▶ sent 8,347 bytes from fd 3 by the kernel: they \
             never entered our memory, so there is no dump of them\n"
        ));
        assert!(text.ends_with("summary: 1 socket call, sent 8,347 bytes in 1 sendfile call\n"), "{text}");
    }
}
