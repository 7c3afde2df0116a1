//! `hhttpp check LESSON --against HOST:PORT`: judge a server you wrote yourself against one of our lessons.
//!
//! It sends the lesson's canonical request (the one the snapshots were made with) in one write, reads the reply
//! until the server closes or `--timeout` passes, dumps it, and then judges it twice: first the framing, strictly,
//! as HTTP/1.1 asks (status line, `\r\n` line ends, header syntax, `Content-Length` equal to the body's length,
//! `Content-Type`); then byte for byte against the reply our lesson sends. Each problem names the offending bytes,
//! marks them with a caret, and says what to do.
//!
//! This is a judge, not a lesson: its own socket calls are ordinary std ones and are not traced.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::escape::escape;
use crate::lesson::Lesson;
use crate::trace::format::{count, plural};
use crate::trace::{Direction, Transcript};

/// One thing wrong with the reply.
#[derive(Debug, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong, in one line.
    pub what: String,
    /// Where, when it is a place in the reply.
    pub offset: Option<usize>,
    /// What to do about it.
    pub hint: String,
}

impl Problem {
    fn new(what: impl Into<String>, offset: Option<usize>, hint: impl Into<String>) -> Self {
        Problem { what: what.into(), offset, hint: hint.into() }
    }
}

/// How the reply ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The server closed the connection (recv returned 0).
    Closed,
    /// The server reset the connection.
    Reset,
    /// `--timeout` passed with the connection still open.
    StillOpen,
}

/// Judges the framing of `reply` as HTTP/1.1 asks, whatever the lesson.
pub fn judge_framing(reply: &[u8], ending: Ending, timeout: Duration) -> Vec<Problem> {
    let mut problems = Vec::new();
    if reply.is_empty() {
        problems.push(Problem::new(
            "the server sent no bytes",
            None,
            "after reading the request, send a response: a status line, headers, a blank line, the body",
        ));
        return problems;
    }
    // The status line.
    let Some(first_end) = reply.iter().position(|&b| b == b'\n') else {
        problems.push(Problem::new(
            "the status line never ends: no \\n in the reply",
            Some(reply.len()),
            "end it with \\r\\n",
        ));
        return problems;
    };
    let status_line = reply[..first_end].strip_suffix(b"\r").unwrap_or(&reply[..first_end]);
    if !reply[..first_end].ends_with(b"\r") {
        problems.push(Problem::new(
            "expected \\r\\n after the status line, got \\n",
            Some(first_end),
            "HTTP/1.1 ends every line of the head with \\r\\n; browsers forgive a bare \\n, strict clients do not",
        ));
    }
    if status_line.starts_with(b"HTTP/1.0 ") {
        problems.push(Problem::new(
            "the status line says HTTP/1.0; the lesson answers HTTP/1.1",
            Some(5),
            "start the reply with HTTP/1.1",
        ));
    } else if !status_line.starts_with(b"HTTP/1.1 ") {
        problems.push(Problem::new(
            "the reply does not start with HTTP/1.1 and a space",
            Some(0),
            "the first line is the status line: HTTP/1.1 200 OK",
        ));
    }
    let code = status_line.get(9..12).filter(|c| c.iter().all(u8::is_ascii_digit));
    if code.is_none() || status_line.get(12).is_some_and(|&b| b != b' ') {
        problems.push(Problem::new(
            "no three-digit status code after the version",
            Some(9.min(status_line.len())),
            "a status line is HTTP/1.1, a space, a code such as 200, a space, a reason such as OK",
        ));
    }
    // The header lines, up to the blank line.
    let mut at = first_end + 1;
    let mut bare_lf = None;
    let mut content_length: Option<(usize, Option<u64>)> = None;
    let mut content_type = false;
    let mut body_start = None;
    while at < reply.len() {
        let Some(len) = reply[at..].iter().position(|&b| b == b'\n') else {
            problems.push(Problem::new(
                "the head never ends: no blank line after the headers",
                Some(reply.len()),
                "end the headers with an empty line: \\r\\n\\r\\n",
            ));
            break;
        };
        let end = at + len;
        let line = reply[at..end].strip_suffix(b"\r").unwrap_or(&reply[at..end]);
        if !reply[at..end].ends_with(b"\r") && bare_lf.is_none() {
            bare_lf = Some(end);
        }
        if line.is_empty() {
            body_start = Some(end + 1);
            break;
        }
        match line.iter().position(|&b| b == b':') {
            Some(colon) if colon > 0 && line[..colon].iter().all(|&b| is_token(b)) => {
                let name = String::from_utf8_lossy(&line[..colon]).to_ascii_lowercase();
                let value = String::from_utf8_lossy(&line[colon + 1..]).trim().to_string();
                if name == "content-length" {
                    content_length = Some((at, value.parse().ok()));
                } else if name == "content-type" {
                    content_type = true;
                }
            }
            _ => problems.push(Problem::new(
                "a header line is not NAME: VALUE",
                Some(at),
                "each header is a name (letters, digits, -), a colon, and its value",
            )),
        }
        at = end + 1;
    }
    // One bare \n is one habit: when the status line had it, the header lines' are not reported again.
    if let Some(offset) = bare_lf.filter(|_| reply[..first_end].ends_with(b"\r")) {
        problems.push(Problem::new(
            "expected \\r\\n at the end of a header line, got \\n",
            Some(offset),
            "end every header line, and the blank line after them, with \\r\\n",
        ));
    }
    let Some(body_start) = body_start else { return problems };
    let body_len = (reply.len() - body_start) as u64;
    match content_length {
        None => problems.push(Problem::new(
            "no Content-Length header",
            None,
            format!(
                "without it the client can only tell where the body ends when the connection closes; send \
                 Content-Length: {body_len}"
            ),
        )),
        Some((offset, None)) => problems.push(Problem::new(
            "the Content-Length value is not a number",
            Some(offset),
            "write the body's length in bytes, in decimal digits",
        )),
        Some((offset, Some(said))) if said != body_len => problems.push(Problem::new(
            format!("Content-Length says {said}, but the body has {}", plural(body_len, "byte", "bytes")),
            Some(offset),
            "count the body's bytes after encoding it (len(body.encode()) in Python), not its characters",
        )),
        Some(_) => {}
    }
    if !content_type {
        problems.push(Problem::new(
            "no Content-Type header",
            None,
            "say what the body is, e.g. Content-Type: text/html; charset=utf-8",
        ));
    }
    if ending == Ending::StillOpen && content_length.is_none_or(|(_, said)| said != Some(body_len)) {
        problems.push(Problem::new(
            format!(
                "the reply never ended: after {:.1} s the server had neither closed the connection nor sent a \
                 Content-Length that the body matches",
                timeout.as_secs_f64()
            ),
            None,
            "send Content-Length, or close the connection (shutdown, then close) when the body is sent",
        ));
    }
    problems
}

/// Compares `reply` with `ours` byte for byte; `None` when they are the same.
pub fn compare(reply: &[u8], ours: &[u8], lesson: &str) -> Option<Problem> {
    let at = reply
        .iter()
        .zip(ours)
        .position(|(a, b)| a != b)
        .or_else(|| (reply.len() != ours.len()).then_some(reply.len().min(ours.len())))?;
    let around = |bytes: &[u8]| format!("\"{}\"", escape(&bytes[at.min(bytes.len())..(at + 12).min(bytes.len())]));
    Some(Problem::new(
        format!(
            "differs from hhttpp lesson {lesson} at byte {at}: expected {}, got {}",
            if at < ours.len() { around(ours) } else { "the end".into() },
            if at < reply.len() { around(reply) } else { "the end".into() }
        ),
        Some(at.min(reply.len())),
        format!("run hhttpp lesson {lesson} --client to see our reply's bytes"),
    ))
}

/// A window of `bytes` around `offset`, escaped, and a caret line under the byte at `offset`.
pub fn mark(bytes: &[u8], offset: usize) -> (String, String) {
    let start = offset.saturating_sub(24);
    let end = (offset + 24).min(bytes.len());
    let before = escape(&bytes[start..offset.min(bytes.len())]);
    let line = format!(
        "{}\"{}\"{}",
        if start > 0 { "…" } else { "" },
        escape(&bytes[start..end]),
        if end < bytes.len() { "…" } else { "" }
    );
    let column = usize::from(start > 0) + 1 + before.chars().count();
    (line, format!("{}^", " ".repeat(column)))
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Runs the check, printing to `out`; returns whether the server passed.
pub fn run(lesson: &Lesson, against: &str, file: &Path, timeout: Duration, color: bool) -> Result<bool, Error> {
    let reply = lesson
        .reply
        .ok_or_else(|| Error::Usage(format!("{:?} is not a server lesson; check judges servers", lesson.name)))?;
    let expected = reply(file)?;
    let name = lesson.name;
    let addr = resolve(against)?;
    let mut out = io::stdout().lock();
    writeln!(out, "hhttpp check {name} --against {against}\n").map_err(Error::Output)?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|source| Error::call("connect", format!("connect to {against}"), source))?;
    writeln!(out, "connected to {addr}").map_err(Error::Output)?;
    let Some(ours) = expected.reply else {
        writeln!(out, "\n✓ something listens on {against}: the {name} lesson asks no more (it accepts no one)")
            .map_err(Error::Output)?;
        return Ok(true);
    };
    let mut transcript = Transcript::new(io::stdout(), color, false);
    if let Some(request) = expected.request {
        stream.write_all(request).map_err(|source| Error::call("sendto", format!("send to {against}"), source))?;
        writeln!(out, "sent the canonical request, {} in one write:", plural(request.len() as u64, "byte", "bytes"))
            .map_err(Error::Output)?;
        transcript.data(Direction::Sent, request, request.len() as u64).map_err(Error::Output)?;
    } else {
        writeln!(out, "sent nothing: the {name} lesson's client only connects").map_err(Error::Output)?;
    }
    let (reply, ending) = read_reply(&mut stream, timeout)?;
    let how = match ending {
        Ending::Closed => "then the server closed the connection",
        Ending::Reset => "then the server reset the connection",
        Ending::StillOpen => "and the connection was still open when --timeout passed",
    };
    writeln!(out, "received {}, {how}:", plural(reply.len() as u64, "byte", "bytes")).map_err(Error::Output)?;
    transcript.data(Direction::Received, &reply, reply.len() as u64).map_err(Error::Output)?;
    transcript.flush().map_err(Error::Output)?;

    let mut problems = if !ours.is_empty() {
        judge_framing(&reply, ending, timeout)
    } else if ending == Ending::StillOpen {
        // The accept lesson: no reply is right, but the connection must end.
        vec![Problem::new(
            format!("the connection was still open after {:.1} s", timeout.as_secs_f64()),
            None,
            format!("the {name} lesson closes the connection it accepted: call close on it"),
        )]
    } else {
        Vec::new()
    };
    problems.extend(compare(&reply, &ours, name));
    writeln!(out).map_err(Error::Output)?;
    if problems.is_empty() {
        writeln!(out, "✓ the reply is framed as HTTP/1.1 asks and matches hhttpp lesson {name} byte for byte")
            .map_err(Error::Output)?;
        return Ok(true);
    }
    for problem in &problems {
        writeln!(out, "✗ {}", problem.what).map_err(Error::Output)?;
        if let Some(offset) = problem.offset {
            let (line, caret) = mark(&reply, offset);
            writeln!(out, "    {line}\n    {caret}").map_err(Error::Output)?;
        }
        writeln!(out, "    hint: {}", problem.hint).map_err(Error::Output)?;
    }
    writeln!(
        out,
        "\n{} (the reply has {}, ours has {})",
        plural(problems.len() as u64, "problem", "problems"),
        plural(reply.len() as u64, "byte", "bytes"),
        count(ours.len() as u64)
    )
    .map_err(Error::Output)?;
    Ok(false)
}

/// Reads until the server closes, resets, or `timeout` passes.
fn read_reply(stream: &mut TcpStream, timeout: Duration) -> Result<(Vec<u8>, Ending), Error> {
    let deadline = Instant::now() + timeout;
    let mut reply = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok((reply, Ending::StillOpen));
        }
        stream.set_read_timeout(Some(left)).map_err(|err| Error::io("set the reply's read timeout", err))?;
        match stream.read(&mut buf) {
            Ok(0) => return Ok((reply, Ending::Closed)),
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(err) if matches!(err.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return Ok((reply, Ending::StillOpen));
            }
            Err(err) if err.kind() == io::ErrorKind::ConnectionReset => return Ok((reply, Ending::Reset)),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => return Err(Error::call("recvfrom", "read the reply".into(), source)),
        }
    }
}

/// `HOST:PORT` as an address (a name is looked up; the first address is used).
fn resolve(against: &str) -> Result<SocketAddr, Error> {
    let resolve_error = |message: &str| Error::Resolve { host: against.to_string(), message: message.to_string() };
    let mut addresses =
        against.to_socket_addrs().map_err(|_| resolve_error("expected HOST:PORT, e.g. 127.0.0.1:8338"))?;
    addresses.next().ok_or_else(|| resolve_error("it has no address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(3);

    fn whats(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.what.as_str()).collect()
    }

    #[test]
    fn our_own_reply_is_well_framed() {
        let reply = crate::lessons::serve_text::LESSON.reply.unwrap();
        let ours = reply(Path::new("assets/ice-caps.jpg")).unwrap().reply.unwrap();
        assert_eq!(judge_framing(&ours, Ending::Closed, T), vec![]);
        assert_eq!(compare(&ours, &ours, crate::lessons::serve_text::LESSON.name), None);
    }

    #[test]
    fn the_blogs_reply_gets_its_three_diagnoses() {
        let blog = b"HTTP/1.1 200 OK\n\n<h1>Hello World</h1>";
        let problems = judge_framing(blog, Ending::Closed, T);
        assert_eq!(
            whats(&problems),
            vec![
                "expected \\r\\n after the status line, got \\n",
                "no Content-Length header",
                "no Content-Type header"
            ]
        );
        assert_eq!(problems[0].offset, Some(15));
    }

    #[test]
    fn a_wrong_length_is_named_with_both_numbers() {
        let reply = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 25\r\n\r\n<h1>Hello World</h1>";
        let problems = judge_framing(reply, Ending::Closed, T);
        assert_eq!(whats(&problems), vec!["Content-Length says 25, but the body has 20 bytes"]);
    }

    #[test]
    fn http_1_0_and_a_reply_that_never_ends_are_named() {
        let reply = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20\r\n\r\n<h1>Hello World</h1>";
        assert_eq!(
            whats(&judge_framing(reply, Ending::Closed, T)),
            vec!["the status line says HTTP/1.0; the lesson answers HTTP/1.1"]
        );
        let open = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<h1>Hello";
        let problems = judge_framing(open, Ending::StillOpen, T);
        assert!(problems.iter().any(|p| p.what.starts_with("the reply never ended: after 3.0 s")), "{problems:?}");
    }

    #[test]
    fn the_caret_sits_under_the_offending_byte() {
        let (line, caret) = mark(b"HTTP/1.1 200 OK\n\n<h1>", 15);
        assert_eq!(line, r#""HTTP/1.1 200 OK\n\n<h1>""#);
        assert_eq!(caret, format!("{}^", " ".repeat(16)));
        assert_eq!(&line[caret.len() - 1..caret.len() + 1], r"\n");
    }

    #[test]
    fn the_first_difference_is_found() {
        let problem = compare(b"HTTP/1.1 200 OK\n", b"HTTP/1.1 200 OK\r\n", "x").unwrap();
        assert_eq!(problem.offset, Some(15));
        assert!(problem.what.starts_with(r#"differs from hhttpp lesson x at byte 15: expected "\r\n", got "\n""#));
        assert!(compare(b"abc", b"abcd", "x").unwrap().what.contains("got the end"));
    }
}
