//! `hhttpp check LESSON --against HOST:PORT [PATH]`: judge a server you wrote yourself against one of our lessons.
//!
//! For each of the lesson's exchanges (one for most lessons: the canonical request; five for serve-folder) it
//! connects, sends the request in one write, reads the reply until its framing says it is whole, the server closes,
//! or `--timeout` passes, dumps it, and hands it to [`crate::judge`] for three verdicts, in this order:
//!
//! 1. **framing**: is it a valid HTTP/1.1 response, judged as strictly as h11 would? Every problem in one round.
//! 2. **meaning**: the same status, media type and body as the lesson's reply? Header order, letter case, extra
//!    headers and `Connection` are information.
//! 3. **bytes**: the very bytes of the lesson's reply? Information, unless `--exact` asks for it.
//!
//! The server passes when framing and meaning hold. Each problem names the offending bytes, marks them with a
//! caret, and says what to do.
//!
//! This is a grader, not a lesson: its own socket calls are ordinary std ones (`TcpStream`), and are not traced.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::escape::escape;
use crate::judge::{self, Asked, Ending, Problem, Progress};
use crate::lesson::{Exchange, Lesson};
use crate::trace::format::{count, plural};
use crate::trace::{Direction, Transcript};

/// A reply may be this much longer than the lesson's before we stop reading it.
const ROOM: usize = 1024 * 1024;
/// And never longer than this, whatever the lesson's.
const MAX_REPLY: usize = 64 * 1024 * 1024;
/// The longest `--timeout` that makes sense for one reply.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);

/// What `hhttpp check` was asked to do.
pub struct Options<'a> {
    pub lesson: &'static Lesson,
    /// `HOST:PORT`: every address the name has is tried, in order, until one answers.
    pub against: &'a str,
    /// The file or folder the lesson serves (serve-binary, serve-folder); the lesson's default when `None`.
    pub path: Option<&'a Path>,
    pub timeout: Duration,
    /// Require the very bytes of the lesson's reply.
    pub exact: bool,
    pub color: bool,
}

/// `--timeout` for `check`: as a lesson's, but at most [`MAX_TIMEOUT`]: a reply that takes longer has failed.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let timeout = crate::lesson::parse_timeout(text)?;
    if timeout > MAX_TIMEOUT {
        return Err(format!("check waits at most {} s for a reply", MAX_TIMEOUT.as_secs()));
    }
    Ok(timeout)
}

/// Runs the check, printing to stdout; returns whether the server passed.
pub fn run(options: &Options) -> Result<bool, Error> {
    let lesson = options.lesson;
    let check = lesson
        .check
        .ok_or_else(|| Error::Usage(format!("{:?} is not a server lesson; check judges servers", lesson.name)))?;
    // No path: the lesson's built-in picture or site, so that check works from any folder.
    let exchanges = (check.exchanges)(options.path)?;
    let addresses = resolve(options.against)?;
    let mut out = Report { out: io::stdout().lock() };
    out.say(&format!("hhttpp check {} --against {}\n", lesson.name, options.against))?;
    let mut addr = None;
    let mut failed = 0;
    for exchange in &exchanges {
        if exchanges.len() > 1 {
            out.say(&format!("── {}", exchange.asks))?;
        }
        let stream = match addr {
            // The address that answered first is the one judged, for every exchange.
            Some(addr) => connect(&mut out, &[addr], options)?,
            None => connect(&mut out, &addresses, options)?,
        };
        addr = stream.peer_addr().ok().or(addr);
        if !judge_exchange(&mut out, stream, exchange, options)? {
            failed += 1;
        }
        out.say("")?;
    }
    let name = lesson.name;
    if failed == 0 {
        out.say(&format!("✓ the server answers as hhttpp lesson {name} does"))?;
    } else if exchanges.len() > 1 {
        out.say(&format!("✗ {} of {} replies differ from hhttpp lesson {name}'s", failed, exchanges.len()))?;
    } else {
        out.say(&format!("✗ the reply differs from hhttpp lesson {name}'s"))?;
    }
    Ok(failed == 0)
}

/// Where the report goes; a failure to write it is the transcript's.
struct Report<W: Write> {
    out: W,
}

impl<W: Write> Report<W> {
    fn say(&mut self, line: &str) -> Result<(), Error> {
        writeln!(self.out, "{line}").and_then(|()| self.out.flush()).map_err(Error::Output)
    }

    /// A verdict's problems, each with its caret under the reply's bytes and its hint, and its notes.
    fn problems(&mut self, reply: &[u8], problems: &[Problem], notes: &[String]) -> Result<(), Error> {
        for problem in problems {
            self.say(&format!("  ✗ {}", problem.what))?;
            if let Some(offset) = problem.offset {
                let (line, caret) = mark(reply, offset);
                self.say(&format!("      {line}\n      {caret}"))?;
            }
            self.say(&format!("      hint: {}", problem.hint))?;
        }
        for note in notes {
            self.say(&format!("  · {note}"))?;
        }
        Ok(())
    }
}

/// Connects to the first of `addresses` that answers, saying which; a refusal moves on to the next.
fn connect(out: &mut Report<impl Write>, addresses: &[SocketAddr], options: &Options) -> Result<TcpStream, Error> {
    let mut last = None;
    for (i, addr) in addresses.iter().enumerate() {
        match TcpStream::connect_timeout(addr, options.timeout) {
            Ok(stream) => {
                let of = if addresses.len() > 1 {
                    format!(" (address {} of {})", i + 1, addresses.len())
                } else {
                    String::new()
                };
                out.say(&format!("connected to {addr}{of}"))?;
                return Ok(stream);
            }
            Err(err) => {
                out.say(&format!("cannot connect to {addr}: {}", crate::errno::reason(&err)))?;
                last = Some(err);
            }
        }
    }
    let source = last.unwrap_or_else(|| io::Error::from(io::ErrorKind::AddrNotAvailable));
    Err(Error::call("connect", format!("connect to {}", options.against), source))
}

/// Sends one exchange's request on `stream`, reads the reply, prints the three verdicts; returns whether it passed.
fn judge_exchange(
    out: &mut Report<impl Write>,
    mut stream: TcpStream,
    exchange: &Exchange,
    options: &Options,
) -> Result<bool, Error> {
    let name = options.lesson.name;
    let Some(ours) = &exchange.reply else {
        out.say(&format!(
            "✓ something listens on {}: the {name} lesson asks no more (it accepts no one)",
            options.against
        ))?;
        return Ok(true);
    };
    let mut transcript = Transcript::new(io::stdout(), options.color, false);
    match &exchange.request {
        Some(request) => {
            let sent = stream.write_all(request);
            sent.map_err(|source| Error::call("sendto", format!("send to {}", options.against), source))?;
            out.say(&format!(
                "sent {}, {} in one write:",
                exchange.asks,
                plural(request.len() as u64, "byte", "bytes")
            ))?;
            transcript.data(Direction::Sent, request, request.len() as u64).map_err(Error::Output)?;
        }
        None => out.say(&format!("sent nothing: the {name} lesson's client only connects"))?,
    }
    let asked = if exchange.head_only { Asked::HeadOnly } else { Asked::WithBody };
    let limit = (ours.len() + ROOM).min(MAX_REPLY);
    let read = read_reply(&mut stream, options.timeout, asked, limit)?;
    let how = match (read.ending, read.stopped) {
        (_, Stop::TooBig) => format!("and stopped reading there: more than {} bytes", count(limit as u64)),
        (_, Stop::Framed) => "a whole response, as its framing says".to_string(),
        (Ending::Closed, _) => "then the server closed the connection".to_string(),
        (Ending::Reset, _) => "then the server reset the connection".to_string(),
        (Ending::StillOpen, _) => "and the connection was still open when --timeout passed".to_string(),
    };
    let reply = &read.bytes;
    out.say(&format!("received {}, {how}:", plural(reply.len() as u64, "byte", "bytes")))?;
    transcript.data(Direction::Received, reply, reply.len() as u64).map_err(Error::Output)?;
    transcript.flush().map_err(Error::Output)?;
    out.say("")?;

    if ours.is_empty() {
        return judge_silence(out, reply, read.ending, options);
    }
    // A reply cut at our limit is judged as it stands, as if the connection had stayed open.
    let ending = if read.stopped == Stop::TooBig { Ending::StillOpen } else { read.ending };
    let mut framing = judge::framing_to(reply, ending, asked);
    if read.stopped == Stop::TooBig {
        framing.problems.push(Problem {
            what: format!(
                "the reply is too big: more than {} bytes, and ours has {}",
                count(limit as u64),
                count(ours.len() as u64)
            ),
            offset: None,
            hint: "send the body once, with a Content-Length that matches it".into(),
        });
    }
    let framed = framing.problems.is_empty();
    out.say(if framed {
        "framing: ✓ a valid HTTP/1.x response (RFC 9112)"
    } else {
        "framing: ✗ not a valid HTTP/1.x response (RFC 9112)"
    })?;
    out.problems(reply, &framing.problems, &framing.notes)?;

    let our_framing = judge::framing_to(ours, Ending::Closed, asked);
    let meant = match (&framing.response, &our_framing.response) {
        (Some(theirs), Some(our_response)) => {
            let meaning = judge::meaning(theirs, our_response);
            let same = meaning.problems.is_empty();
            if same {
                let body = plural(our_response.body.len() as u64, "byte", "bytes");
                out.say(&format!("meaning: ✓ the same status, media type and body ({body}) as hhttpp lesson {name}"))?;
            } else {
                out.say(&format!("meaning: ✗ it does not say what hhttpp lesson {name} says"))?;
            }
            out.problems(reply, &meaning.problems, &meaning.notes)?;
            same
        }
        _ => {
            out.say("meaning: ✗ not judged: the reply cannot be read as a response (see framing)")?;
            false
        }
    };

    let exact = match judge::first_difference(reply, ours) {
        None => {
            out.say(&format!("bytes: ✓ the very bytes of hhttpp lesson {name}'s reply"))?;
            true
        }
        Some(at) => {
            let around = |bytes: &[u8]| match bytes.get(at..) {
                Some(rest) if !rest.is_empty() => format!("\"{}\"", escape(&rest[..rest.len().min(12)])),
                _ => "the end".to_string(),
            };
            let mark = if options.exact { "✗" } else { "·" };
            let required = if options.exact { "" } else { " (information; --exact requires the same bytes)" };
            out.say(&format!(
                "bytes: {mark} they differ from the lesson's at byte {at}: ours has {}, the reply {}{required}",
                around(ours),
                around(reply)
            ))?;
            let (line, caret) = mark_line(reply, at);
            out.say(&format!("      {line}\n      {caret}"))?;
            !options.exact
        }
    };
    Ok(framed && meant && exact)
}

/// The accept lesson's exchange: the server must close the connection without a word.
fn judge_silence(out: &mut Report<impl Write>, reply: &[u8], ending: Ending, options: &Options) -> Result<bool, Error> {
    let name = options.lesson.name;
    let mut problems = Vec::new();
    if !reply.is_empty() {
        problems.push(Problem {
            what: format!(
                "the server sent {}; the {name} lesson sends nothing",
                plural(reply.len() as u64, "byte", "bytes")
            ),
            offset: Some(0),
            hint: format!("the {name} lesson only accepts the connection and closes it"),
        });
    }
    if ending == Ending::StillOpen {
        problems.push(Problem {
            what: format!("the connection was still open after {:.1} s", options.timeout.as_secs_f64()),
            offset: None,
            hint: format!("the {name} lesson closes the connection it accepted: call close on it"),
        });
    }
    if problems.is_empty() {
        out.say("✓ the server closed the connection without sending anything, as the lesson does")?;
        return Ok(true);
    }
    out.problems(reply, &problems, &[])?;
    Ok(false)
}

/// Why reading stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// The connection ended (closed, reset) or `--timeout` passed.
    Ended,
    /// The framing says the response is whole: a keep-alive server need not close for us to judge it.
    Framed,
    /// More bytes than a reply of this lesson may have.
    TooBig,
}

/// A reply as it was received.
struct Received {
    bytes: Vec<u8>,
    ending: Ending,
    stopped: Stop,
}

/// Reads until the framing says the response is whole, the server closes or resets, `timeout` passes, or the
/// reply grows past `limit` bytes.
fn read_reply(stream: &mut TcpStream, timeout: Duration, asked: Asked, limit: usize) -> Result<Received, Error> {
    let deadline = Instant::now() + timeout;
    let mut bytes = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    let ended = |bytes, ending| Ok(Received { bytes, ending, stopped: Stop::Ended });
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return ended(bytes, Ending::StillOpen);
        }
        stream.set_read_timeout(Some(left)).map_err(|err| Error::io("set the reply's read timeout", err))?;
        match stream.read(&mut buf) {
            Ok(0) => return ended(bytes, Ending::Closed),
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(err) if matches!(err.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return ended(bytes, Ending::StillOpen);
            }
            Err(err) if err.kind() == io::ErrorKind::ConnectionReset => return ended(bytes, Ending::Reset),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => return Err(Error::call("recvfrom", "read the reply".into(), source)),
        }
        if bytes.len() > limit {
            bytes.truncate(limit + 1);
            return Ok(Received { bytes, ending: Ending::StillOpen, stopped: Stop::TooBig });
        }
        if let Progress::Complete { .. } = judge::reply_end_to(&bytes, asked) {
            return Ok(Received { bytes, ending: Ending::StillOpen, stopped: Stop::Framed });
        }
    }
}

/// A window of `bytes` around `offset`, escaped, and a caret line under the byte at `offset`.
pub fn mark(bytes: &[u8], offset: usize) -> (String, String) {
    mark_line(bytes, offset)
}

fn mark_line(bytes: &[u8], offset: usize) -> (String, String) {
    let offset = offset.min(bytes.len());
    let start = offset.saturating_sub(24);
    let end = (offset + 24).min(bytes.len());
    let before = escape(&bytes[start..offset]);
    let line = format!(
        "{}\"{}\"{}",
        if start > 0 { "…" } else { "" },
        escape(&bytes[start..end]),
        if end < bytes.len() { "…" } else { "" }
    );
    let column = usize::from(start > 0) + 1 + before.chars().count();
    (line, format!("{}^", " ".repeat(column)))
}

/// `HOST:PORT` as every address the name has, in the order to try them.
fn resolve(against: &str) -> Result<Vec<SocketAddr>, Error> {
    let resolve_error = |message: &str| Error::Resolve { host: against.to_string(), message: message.to_string() };
    let addresses: Vec<SocketAddr> =
        against.to_socket_addrs().map_err(|_| resolve_error("expected HOST:PORT, e.g. 127.0.0.1:8338"))?.collect();
    if addresses.is_empty() {
        return Err(resolve_error("it has no address"));
    }
    Ok(addresses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_replies_pass_every_verdict() {
        for lesson in crate::lessons::LESSONS {
            let Some(check) = lesson.check else { continue };
            for exchange in (check.exchanges)(None).unwrap() {
                let Some(ours) = exchange.reply.filter(|r| !r.is_empty()) else { continue };
                let asked = if exchange.head_only { Asked::HeadOnly } else { Asked::WithBody };
                let framing = judge::framing_to(&ours, Ending::Closed, asked);
                assert_eq!(framing.problems, vec![], "{} {}", lesson.name, exchange.asks);
                let response = framing.response.unwrap();
                assert!(judge::meaning(&response, &response).problems.is_empty());
                assert_eq!(judge::reply_end_to(&ours, asked), Progress::Complete { end: ours.len() });
            }
        }
    }

    #[test]
    fn the_caret_sits_under_the_offending_byte() {
        let (line, caret) = mark(b"HTTP/1.1 200 OK\n\n<h1>", 15);
        assert_eq!(line, r#""HTTP/1.1 200 OK\n\n<h1>""#);
        assert_eq!(caret, format!("{}^", " ".repeat(16)));
        assert_eq!(&line[caret.len() - 1..caret.len() + 1], r"\n");
    }

    #[test]
    fn timeouts_for_check_are_bounded() {
        assert_eq!(parse_timeout("3"), Ok(Duration::from_secs(3)));
        assert!(parse_timeout("61").is_err());
        assert!(parse_timeout("0").is_err());
    }
}
