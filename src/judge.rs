//! The judge of a reply: bytes in, verdicts out. `hhttpp check` reads a server's reply and hands it here.
//!
//! It judges three things, each on its own:
//!
//! - [`framing`]: is this a valid HTTP/1.1 response as RFC 9112 defines it, judged at least as strictly as h11 (the
//!   strict Python implementation) reads one, and by what RFC 9112 lets a server send? Every problem is listed in
//!   one round, so a student never fixes things one at a time.
//! - [`meaning`]: does it say what our lesson's reply says: the same status, media type and body bytes? Header order,
//!   letter case, extra headers and `Connection` are information, not failures.
//! - [`first_difference`]: are the bytes the very same as ours?
//!
//! And [`reply_end`] tells a reader, after each `recv`, whether a whole response has arrived, so it can stop reading
//! a keep-alive server as soon as the framing says the body is complete.
//!
//! We write our own parser rather than use `httparse` because a judge must keep going after the first fault, and
//! name each one with its offset; a production client stops at the first and discards the message.

use crate::escape::escape;
use crate::trace::format::{count, plural};

/// The longest head (status line and headers) we read; a head with no blank line within it is a problem.
pub const MAX_HEAD: usize = 64 * 1024;

/// The longest chunk-size line (size and extensions) we read.
const MAX_CHUNK_LINE: usize = 4 * 1024;

/// The most problems one verdict lists; the rest are counted, so a reply of a million bad lines stays readable.
const MAX_PROBLEMS: usize = 20;

/// How the reply ended, as the reader saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The server closed the connection (recv returned 0).
    Closed,
    /// The server reset the connection.
    Reset,
    /// The reader stopped waiting with the connection still open.
    StillOpen,
}

/// One thing wrong with the reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong, in one line.
    pub what: String,
    /// Where, as an offset into the reply's bytes, for a caret.
    pub offset: Option<usize>,
    /// What to do about it.
    pub hint: String,
}

/// One header line, as sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The name in the letter case it was sent in (always a valid token).
    pub name: String,
    /// The value, without the whitespace around it.
    pub value: Vec<u8>,
    /// Where the line starts in the reply.
    pub offset: usize,
}

/// A final response, as far as its framing could be read; only [`framing`] makes one (for ours too: judge our
/// lesson's reply with it, then hand both to [`meaning`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The status code, such as 200.
    pub status: u16,
    /// 1 for HTTP/1.1, 0 for HTTP/1.0 (another version is a problem of framing, and is kept as 1).
    pub version_minor: u8,
    /// The reason phrase, such as `OK`; it may be empty.
    pub reason: Vec<u8>,
    /// The header lines in the order sent (lines that are not valid header lines are left out).
    pub headers: Vec<Field>,
    /// The body, after chunked decoding.
    pub body: Vec<u8>,
    /// The status codes of the 1xx interim responses skipped before this one.
    pub interim: Vec<u16>,
    /// Where this response's status line starts in the reply (after any interim responses).
    pub start: usize,
    /// Where its body starts: the offset just after the blank line.
    pub body_start: usize,
    /// The offset just after the body, as the framing says.
    pub end: usize,
    /// Whether the body was sent chunked.
    pub chunked: bool,
    /// Where each piece of the body sits in the reply: (offset in the body, offset in the reply).
    pieces: Vec<(usize, usize)>,
}

impl Response {
    /// The first value of the header `name` (names are case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|f| f.name.eq_ignore_ascii_case(name)).map(|f| f.value.as_slice())
    }

    /// Where byte `at` of the decoded body sits in the reply, for a caret; `None` past the body.
    pub fn reply_offset(&self, at: usize) -> Option<usize> {
        if at >= self.body.len() {
            return None;
        }
        let (body_at, reply_at) = self.pieces.iter().rev().find(|(body_at, _)| *body_at <= at)?;
        Some(reply_at + (at - body_at))
    }
}

/// The verdict on a reply's framing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Framing {
    /// The final response, when its status line and head could be read.
    pub response: Option<Response>,
    /// What is wrong; empty when the reply is a valid HTTP/1.1 response.
    pub problems: Vec<Problem>,
    /// Information that fails nothing: interim responses skipped, HTTP/1.0, a repeated `Content-Length`.
    pub notes: Vec<String>,
}

/// The verdict on a reply's meaning, compared with ours.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meaning {
    /// Where it says something else than ours: the status, the media type, the body.
    pub problems: Vec<Problem>,
    /// Differences that do not matter: header order, letter case, extra headers, `Connection`, the charset of an
    /// ASCII body.
    pub notes: Vec<String>,
}

/// Where a reply stands after the bytes received so far, by its framing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// The head, or the body its framing announces, has not all arrived: read more.
    Incomplete,
    /// A whole final response (after any 1xx interim ones) ends just before byte `end`. When `end` is less than the
    /// bytes received, the server sent more than its framing says.
    Complete { end: usize },
    /// No framing says where it ends (no `Content-Length` nor chunked, or a head that cannot be read): only the
    /// close of the connection ends it.
    UntilClose,
}

/// Judges the framing of `reply`, which ended as `ending` says, as RFC 9112 asks of a server.
///
/// 1xx interim responses are skipped (and named in the notes), then the final response is judged: its status line,
/// its header lines, its length framing, and whether the bytes end where that framing says.
pub fn framing(reply: &[u8], ending: Ending) -> Framing {
    framing_to(reply, ending, Asked::WithBody)
}

/// What the request asked for, which says where a reply may end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    /// A GET (or any request but HEAD): the reply's framing says where its body ends.
    WithBody,
    /// A HEAD: the reply ends at its head, and its `Content-Length` is the one a GET would get (RFC 9110, 9.3.2).
    HeadOnly,
}

/// [`framing`], for a reply to a request that `asked` as it says.
pub fn framing_to(reply: &[u8], ending: Ending, asked: Asked) -> Framing {
    let mut v = Verdict { head_only: asked == Asked::HeadOnly, ..Verdict::default() };
    let response = judge_framing(reply, ending, &mut v);
    let mut problems = v.problems;
    if problems.len() > MAX_PROBLEMS {
        let more = problems.len() - MAX_PROBLEMS;
        problems.truncate(MAX_PROBLEMS);
        problems.push(problem(
            format!("and {} more", plural(more as u64, "problem", "problems")),
            None,
            "fix the ones above first; they are often one mistake repeated",
        ));
    }
    Framing { response, problems, notes: v.notes }
}

/// Compares what `theirs` says with what `ours` says: the status, the media type and the body bytes.
///
/// Both are responses as [`framing`] read them. Header order, the letter case of names, extra headers (`Server`,
/// `Date`, ...), `Connection`, the way the body is framed, and the charset of a body that is plain ASCII are notes.
pub fn meaning(theirs: &Response, ours: &Response) -> Meaning {
    let mut m = Meaning::default();
    if theirs.status != ours.status {
        m.problems.push(problem(
            format!("the status is {}, ours is {} {}", theirs.status, ours.status, escape(&ours.reason)),
            Some(status_offset(theirs)),
            format!("for this request the lesson answers {} {}", ours.status, escape(&ours.reason)),
        ));
    } else if theirs.reason != ours.reason {
        m.notes.push(format!(
            "the reason phrase is \"{}\", ours is \"{}\" (clients ignore it)",
            escape(&theirs.reason),
            escape(&ours.reason)
        ));
    }
    compare_media_types(theirs, ours, &mut m);
    compare_bodies(theirs, ours, &mut m);
    compare_headers(theirs, ours, &mut m);
    m
}

/// The offset of the first byte where `theirs` and `ours` differ; `None` when they are the same bytes.
///
/// When one is a prefix of the other, the difference is where the shorter one ends.
pub fn first_difference(theirs: &[u8], ours: &[u8]) -> Option<usize> {
    theirs
        .iter()
        .zip(ours)
        .position(|(a, b)| a != b)
        .or_else(|| (theirs.len() != ours.len()).then_some(theirs.len().min(ours.len())))
}

/// Whether the bytes received so far hold a whole response, by its framing; cheap enough to call after each read.
///
/// Only the heads are parsed (at most [`MAX_HEAD`] bytes each); a chunked body is walked from one chunk-size line to
/// the next without copying its data, so the work grows with the number of chunks, not with the body's bytes.
pub fn reply_end(bytes: &[u8]) -> Progress {
    reply_end_to(bytes, Asked::WithBody)
}

/// [`reply_end`], for a reply to a request that `asked` as it says.
pub fn reply_end_to(bytes: &[u8], asked: Asked) -> Progress {
    // The problems are the framing verdict's business; here we only want the ends.
    let mut v = Verdict { head_only: asked == Asked::HeadOnly, ..Verdict::default() };
    let mut at = 0;
    loop {
        let head = match scan_head(bytes, at, &mut v) {
            HeadScan::Complete(head) => head,
            HeadScan::Incomplete => return Progress::Incomplete,
            HeadScan::TooLarge | HeadScan::NotHttp => return Progress::UntilClose,
        };
        let Some(status) = head.status else { return Progress::UntilClose };
        if is_interim(status) {
            at = head.end;
            continue;
        }
        return match body_kind(&head, status, &mut v) {
            BodyKind::Empty => Progress::Complete { end: head.end },
            BodyKind::Length(n) => match head.end.checked_add(usize::try_from(n).unwrap_or(usize::MAX)) {
                Some(end) if end <= bytes.len() => Progress::Complete { end },
                _ => Progress::Incomplete,
            },
            BodyKind::Chunked => match walk_chunks(bytes, head.end, false, &mut v).state {
                Chunks::Complete { end } => Progress::Complete { end },
                Chunks::Incomplete => Progress::Incomplete,
                Chunks::Broken => Progress::UntilClose,
            },
            BodyKind::UntilClose { .. } => Progress::UntilClose,
        };
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The parser, shared by `framing` and `reply_end`.

fn problem(what: impl Into<String>, offset: Option<usize>, hint: impl Into<String>) -> Problem {
    Problem { what: what.into(), offset, hint: hint.into() }
}

/// Problems and notes as they are found, and whether a bare `\n` was named already (one habit, named once).
#[derive(Default)]
struct Verdict {
    problems: Vec<Problem>,
    notes: Vec<String>,
    bare_lf: bool,
    /// The reply answers a HEAD request: it ends at its head, whatever its `Content-Length` says.
    head_only: bool,
}

impl Verdict {
    fn problem(&mut self, what: impl Into<String>, offset: Option<usize>, hint: impl Into<String>) {
        self.problems.push(problem(what, offset, hint));
    }

    /// A line of `place` ended at the `\n` at `lf`; `has_cr` when a `\r` came just before it.
    fn line_end(&mut self, lf: usize, has_cr: bool, place: &str) {
        if !has_cr && !self.bare_lf {
            self.bare_lf = true;
            self.problem(
                format!("expected \\r\\n at the end of {place}, got \\n"),
                Some(lf),
                "HTTP/1.1 ends every line of the head, and of chunked framing, with \\r\\n; browsers forgive a \
                 bare \\n, strict clients do not; this is its first place: fix them all",
            );
        }
    }
}

/// A head whose blank line arrived.
struct Head {
    start: usize,
    status: Option<u16>,
    version_minor: u8,
    reason: Vec<u8>,
    fields: Vec<Field>,
    /// Just after the blank line.
    end: usize,
}

enum HeadScan {
    Complete(Head),
    /// No blank line yet.
    Incomplete,
    /// No blank line within [`MAX_HEAD`] bytes.
    TooLarge,
    /// The bytes do not start with `HTTP/`.
    NotHttp,
}

/// One line of the head: its content without `\r\n`, where it starts, and where its `\n` is.
struct Line<'a> {
    content: &'a [u8],
    at: usize,
    lf: usize,
    has_cr: bool,
}

/// The next line of `bytes` from `at`, looking no further than `limit`; `None` when no `\n` came before it.
fn next_line(bytes: &[u8], at: usize, limit: usize) -> Option<Line<'_>> {
    let window = bytes.get(at..limit.min(bytes.len()))?;
    let len = window.iter().position(|&b| b == b'\n')?;
    let raw = &window[..len];
    let content = raw.strip_suffix(b"\r").unwrap_or(raw);
    Some(Line { content, at, lf: at + len, has_cr: content.len() < raw.len() })
}

/// Reads the head that starts at `start`, judging each line as it comes.
fn scan_head(bytes: &[u8], start: usize, v: &mut Verdict) -> HeadScan {
    let rest = bytes.get(start..).unwrap_or_default();
    let prefix = &rest[..rest.len().min(5)];
    if !b"HTTP/"[..prefix.len()].eq_ignore_ascii_case(prefix) {
        return HeadScan::NotHttp;
    }
    let limit = start.saturating_add(MAX_HEAD);
    let Some(first) = next_line(bytes, start, limit) else {
        return if bytes.len() >= limit { HeadScan::TooLarge } else { HeadScan::Incomplete };
    };
    v.line_end(first.lf, first.has_cr, "the status line");
    let (status, version_minor, reason) = status_line(first.content, first.at, v);
    let mut head = Head { start, status, version_minor, reason, fields: Vec::new(), end: 0 };
    let mut at = first.lf + 1;
    loop {
        let Some(line) = next_line(bytes, at, limit) else {
            return if bytes.len() >= limit { HeadScan::TooLarge } else { HeadScan::Incomplete };
        };
        at = line.lf + 1;
        if line.content.is_empty() {
            v.line_end(line.lf, line.has_cr, "the blank line after the headers");
            head.end = at;
            return HeadScan::Complete(head);
        }
        v.line_end(line.lf, line.has_cr, "a header line");
        head.fields.extend(field_line(line.content, line.at, v));
    }
}

/// Judges a status line, `HTTP/1.1 SP 3DIGIT SP reason`; returns the status (when it is one), the minor version and
/// the reason.
fn status_line(line: &[u8], at: usize, v: &mut Verdict) -> (Option<u16>, u8, Vec<u8>) {
    let hint = "a status line is HTTP/1.1, a space, a code such as 200, a space, a reason such as OK";
    if !line.starts_with(b"HTTP/") {
        v.problem("the status line must start with HTTP/ in capitals", Some(at), "start the reply with HTTP/1.1");
    }
    // The version runs to the first space.
    let version_end = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
    let version = line.get(5..version_end).unwrap_or_default();
    let minor = match version {
        b"1.1" => 1,
        b"1.0" => {
            v.notes.push("the status line says HTTP/1.0: valid framing, but our lesson answers HTTP/1.1".into());
            0
        }
        _ => {
            v.problem(
                format!("the status line says HTTP/{}, not HTTP/1.1", escape(version)),
                Some(at + 5.min(line.len())),
                "start the reply with HTTP/1.1",
            );
            1
        }
    };
    let after_version = &line[version_end..];
    let spaces = after_version.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    if spaces != 1 || after_version.first() != Some(&b' ') {
        let what = if spaces == 0 { "no space after the version" } else { "more than one space after the version" };
        v.problem(what, Some(at + version_end), hint);
    }
    let code_at = version_end + spaces;
    let rest = &line[code_at..];
    let code_len = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    let code = &rest[..code_len];
    let status = if code.len() == 3 && code.iter().all(u8::is_ascii_digit) {
        let n = code.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
        if !(100..=599).contains(&n) {
            v.problem(
                format!("the status code {n} is not one of HTTP's (100 to 599)"),
                Some(at + code_at),
                "answer 200 when all went well",
            );
        }
        Some(n)
    } else {
        v.problem(
            format!("no three-digit status code after the version: got \"{}\"", escape(code)),
            Some(at + code_at),
            hint,
        );
        None
    };
    let reason = match rest.get(code_len..) {
        Some([b' ', reason @ ..]) => reason,
        _ => {
            // RFC 9112 lets a client accept a status line without this space; a server must send it (h11 too).
            v.problem(
                "no space after the status code",
                Some(at + code_at + code_len),
                "keep the space even when the reason is empty: HTTP/1.1 200 \\r\\n",
            );
            &[]
        }
    };
    if let Some(i) = reason.iter().position(|&b| is_ctl(b) && b != b'\t') {
        let reason_at = at + code_at + code_len + 1;
        let (what, hint) = bad_byte(reason[i], "the reason phrase");
        v.problem(what, Some(reason_at + i), hint);
    }
    (status, minor, reason.to_vec())
}

/// Judges a header line; returns it when its name is a token and it has a colon.
fn field_line(line: &[u8], at: usize, v: &mut Verdict) -> Option<Field> {
    let hint = "each header is a name (letters, digits, -), a colon, and its value: Content-Length: 20";
    if matches!(line.first(), Some(b' ' | b'\t')) {
        v.problem(
            "a header line starts with whitespace: a folded line (obs-fold), which HTTP/1.1 forbids a server to send",
            Some(at),
            "put each header on one line",
        );
        return None;
    }
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        v.problem(format!("a header line has no colon: \"{}\"", escape(line)), Some(at), hint);
        return None;
    };
    let raw_name = &line[..colon];
    let name = raw_name.strip_suffix(b" ").or_else(|| raw_name.strip_suffix(b"\t")).map_or(raw_name, |n| {
        v.problem(
            format!("whitespace between the header name \"{}\" and its colon", escape(trim_ows(n))),
            Some(at + trim_ows(n).len()),
            "write the colon right after the name: Content-Length: 20",
        );
        trim_ows(n)
    });
    if name.is_empty() {
        v.problem("a header line has no name before its colon", Some(at), hint);
        return None;
    }
    if let Some(i) = name.iter().position(|&b| !is_tchar(b)) {
        let what = match name[i] {
            b'\r' => "a bare \\r in a header name (\\r may only come right before \\n)".to_string(),
            b => format!("the header name \"{}\" has a byte names may not have: \"{}\"", escape(name), escape(&[b])),
        };
        v.problem(what, Some(at + i), hint);
        return None;
    }
    let name = String::from_utf8_lossy(name).into_owned();
    let value_at = colon + 1 + line[colon + 1..].iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    let value = trim_ows(&line[value_at..]);
    if let Some(i) = value.iter().position(|&b| is_ctl(b) && b != b'\t') {
        let (what, hint) = bad_byte(value[i], &format!("the value of {name}"));
        v.problem(what, Some(at + value_at + i), hint);
    }
    Some(Field { name, value: value.to_vec(), offset: at })
}

/// The problem of a control byte `b` inside `place`.
fn bad_byte(b: u8, place: &str) -> (String, String) {
    match b {
        b'\r' => (
            format!("a bare \\r in {place}"),
            "\\r may only come right before the \\n that ends a line; remove it from the text".into(),
        ),
        0 => (format!("a NUL byte (\\x00) in {place}"), "remove it: HTTP forbids NUL anywhere in the head".into()),
        b => (
            format!("a control byte (\\x{b:02X}) in {place}"),
            "header text is printable characters, spaces and tabs; remove it".into(),
        ),
    }
}

/// `bytes` without the spaces and tabs (HTTP's OWS) around them; unlike `trim_ascii`, a `\r` or form feed stays, to
/// be judged.
fn trim_ows(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// RFC 9110's `tchar`, the bytes of a token such as a header name.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A control byte: 0x00 to 0x1F, and DEL.
fn is_ctl(b: u8) -> bool {
    b < 0x20 || b == 0x7F
}

/// 1xx responses before the final one, except 101, after which the connection speaks another protocol.
fn is_interim(status: u16) -> bool {
    (100..200).contains(&status) && status != 101
}

/// How the body's end is found.
enum BodyKind {
    /// The status has no body (204, 304; and 1xx).
    Empty,
    Length(u64),
    Chunked,
    /// Only the close ends it; `named` when a problem about the framing headers was named already.
    UntilClose {
        named: bool,
    },
}

/// Reads the framing headers of `head` (RFC 9112, 6.3), naming what is wrong with them.
fn body_kind(head: &Head, status: u16, v: &mut Verdict) -> BodyKind {
    let te: Vec<&Field> = head.fields.iter().filter(|f| f.name.eq_ignore_ascii_case("transfer-encoding")).collect();
    let cl: Vec<&Field> = head.fields.iter().filter(|f| f.name.eq_ignore_ascii_case("content-length")).collect();
    let no_body = is_interim(status) || status == 101 || status == 204 || status == 304;
    if no_body && status != 304 {
        // RFC 9110, 8.6, and RFC 9112, 6.1: a server MUST NOT send either in a 1xx or 204 response.
        for f in te.iter().chain(&cl) {
            v.problem(
                format!("a {status} response has no body, but it sends {}", f.name),
                Some(f.offset),
                format!("leave {} out of a {status} response", f.name),
            );
        }
    }
    let mut kind = if te.is_empty() { None } else { Some(transfer_coding(&te, v)) };
    if let (Some(_), Some(first)) = (&kind, cl.first()) {
        v.problem(
            "both Transfer-Encoding and Content-Length: a server must send only one",
            Some(first.offset),
            "send Content-Length when you know the body's length, chunked Transfer-Encoding when you do not",
        );
    }
    if kind.is_none() && !cl.is_empty() {
        kind = Some(content_length(&cl, v));
    }
    if no_body || v.head_only {
        return BodyKind::Empty;
    }
    kind.unwrap_or(BodyKind::UntilClose { named: false })
}

/// The framing a `Transfer-Encoding` says: chunked when chunked is its last and only coding.
fn transfer_coding(te: &[&Field], v: &mut Verdict) -> BodyKind {
    let codings: Vec<Vec<u8>> = te
        .iter()
        .flat_map(|f| f.value.split(|&b| b == b','))
        .map(|c| c.split(|&b| b == b';').next().map(trim_ows).unwrap_or_default().to_ascii_lowercase())
        .filter(|c| !c.is_empty())
        .collect();
    let offset = te.first().map(|f| f.offset);
    let chunked = codings.iter().filter(|c| c.as_slice() == b"chunked").count();
    let joined = codings.iter().map(|c| escape(c)).collect::<Vec<_>>().join(", ");
    if codings.last().is_some_and(|c| c == b"chunked") {
        if chunked > 1 {
            v.problem(
                format!("Transfer-Encoding applies chunked more than once: {joined}"),
                offset,
                "send Transfer-Encoding: chunked, once",
            );
        } else if codings.len() > 1 {
            // Valid by RFC 9112, but h11 and most small clients know only chunked; the body we compare is the
            // dechunked one, which would still be compressed.
            v.problem(
                format!("Transfer-Encoding: {joined}: only chunked is understood here (and by h11)"),
                offset,
                "send Transfer-Encoding: chunked alone, or Content-Length",
            );
        }
        return BodyKind::Chunked;
    }
    let what = if codings.is_empty() {
        "Transfer-Encoding is empty".to_string()
    } else if chunked > 0 {
        format!("Transfer-Encoding: {joined}: chunked must be the last coding")
    } else {
        format!("Transfer-Encoding: {joined}: without chunked, only the close of the connection ends the body")
    };
    v.problem(what, offset, "send Transfer-Encoding: chunked, or leave it out and send Content-Length");
    BodyKind::UntilClose { named: true }
}

/// The length the `Content-Length` lines say, when they say one (RFC 9110, 8.6: `1*DIGIT`).
fn content_length(cl: &[&Field], v: &mut Verdict) -> BodyKind {
    let hint = "write the body's length in bytes, in decimal digits only: Content-Length: 20";
    let mut values = Vec::new();
    let mut bad = false;
    for f in cl {
        for element in f.value.split(|&b| b == b',') {
            let element = trim_ows(element);
            let parsed = if !element.is_empty() && element.iter().all(u8::is_ascii_digit) {
                element.iter().try_fold(0u64, |n, d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
            } else {
                None
            };
            match parsed {
                Some(n) => values.push(n),
                None => {
                    bad = true;
                    v.problem(
                        format!("Content-Length: \"{}\" is not a number of bytes", escape(&f.value)),
                        Some(f.offset),
                        hint,
                    );
                    break;
                }
            }
        }
    }
    if bad {
        return BodyKind::UntilClose { named: true };
    }
    let first = values.first().copied().unwrap_or(0);
    if let Some(other) = values.iter().find(|&&n| n != first) {
        v.problem(
            format!("conflicting Content-Length values: {first} and {other}"),
            cl.get(1).or(cl.first()).map(|f| f.offset),
            "send one Content-Length, the body's length in bytes",
        );
        return BodyKind::UntilClose { named: true };
    }
    if values.len() > 1 {
        // RFC 9110, 8.6 lets a recipient accept a list of identical values as one, and h11 does; we do too, and say
        // so, since a stricter client may not.
        v.notes.push(format!(
            "Content-Length is sent {} times with the same value, {first}: accepted, but send it once",
            values.len()
        ));
    }
    BodyKind::Length(first)
}

/// Where a chunked body stands.
enum Chunks {
    /// The last chunk and the trailers arrived; the body ends just before `end`.
    Complete {
        end: usize,
    },
    Incomplete,
    /// The chunk framing is wrong; a problem was named.
    Broken,
}

struct Walk {
    state: Chunks,
    /// The decoded body so far (only when decoding).
    body: Vec<u8>,
    /// (offset in the body, offset in the reply) of each chunk's data.
    pieces: Vec<(usize, usize)>,
}

/// Walks the chunked body that starts at `start` (RFC 9112, 7.1); copies the data out when `decode`.
fn walk_chunks(bytes: &[u8], start: usize, decode: bool, v: &mut Verdict) -> Walk {
    let mut walk = Walk { state: Chunks::Incomplete, body: Vec::new(), pieces: Vec::new() };
    let mut at = start;
    let mut decoded = 0usize;
    let hint = "each chunk is its size in hex, \\r\\n, the data, \\r\\n; the body ends with 0\\r\\n\\r\\n";
    loop {
        let Some(line) = next_line(bytes, at, at.saturating_add(MAX_CHUNK_LINE)) else {
            if bytes.len().saturating_sub(at) >= MAX_CHUNK_LINE {
                v.problem("a chunk-size line longer than 4 KiB", Some(at), hint);
                walk.state = Chunks::Broken;
            }
            return walk;
        };
        let digits = line.content.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if digits == 0 || digits > 15 {
            let what = if digits == 0 {
                format!("expected a chunk size in hex, got \"{}\"", escape(line.content))
            } else {
                "a chunk size too large to be true".to_string()
            };
            v.problem(what, Some(at), hint);
            walk.state = Chunks::Broken;
            return walk;
        }
        v.line_end(line.lf, line.has_cr, "a chunk-size line");
        // At most 15 hex digits, so the size fits 60 bits; a size beyond memory is a chunk that never arrives.
        let size = line.content[..digits].iter().fold(0u64, |n, &d| n * 16 + hex_value(d));
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        // After the size: nothing, or `;` extensions (with optional whitespace before the `;`).
        let ext = &line.content[digits..];
        let ext_start = ext.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
        if ext.get(ext_start).is_some_and(|&b| b != b';') {
            v.problem(
                format!("after the chunk size, \"{}\" is not a ;extension", escape(ext)),
                Some(at + digits),
                hint,
            );
        } else if let Some(i) = ext.iter().position(|&b| is_ctl(b) && b != b'\t') {
            let (what, hint) = bad_byte(ext[i], "a chunk extension");
            v.problem(what, Some(at + digits + i), hint);
        }
        at = line.lf + 1;
        if size == 0 {
            return trailers(bytes, at, walk, v);
        }
        let Some(data_end) = at.checked_add(size).filter(|&end| end <= bytes.len()) else {
            if decode {
                walk.pieces.push((decoded, at));
                walk.body.extend_from_slice(&bytes[at.min(bytes.len())..]);
            }
            return walk;
        };
        if decode {
            walk.pieces.push((decoded, at));
            walk.body.extend_from_slice(&bytes[at..data_end]);
        }
        decoded += size;
        match &bytes[data_end..] {
            [b'\r', b'\n', ..] => at = data_end + 2,
            [b'\n', ..] => {
                v.line_end(data_end, false, "a chunk's data");
                at = data_end + 1;
            }
            [] | [b'\r'] => return walk,
            _ => {
                v.problem(
                    format!("a chunk of {} is not followed by \\r\\n", plural(size as u64, "byte", "bytes")),
                    Some(data_end),
                    "the chunk size is the data's length in bytes, in hex; after the data comes \\r\\n",
                );
                walk.state = Chunks::Broken;
                return walk;
            }
        }
    }
}

/// The trailer lines after the last chunk, up to the blank line that ends the body.
fn trailers(bytes: &[u8], start: usize, mut walk: Walk, v: &mut Verdict) -> Walk {
    let limit = start.saturating_add(MAX_HEAD);
    let mut at = start;
    loop {
        let Some(line) = next_line(bytes, at, limit) else {
            if bytes.len() >= limit {
                v.problem("no blank line within 64 KiB after the last chunk", Some(start), "end it with 0\\r\\n\\r\\n");
                walk.state = Chunks::Broken;
            }
            return walk;
        };
        at = line.lf + 1;
        if line.content.is_empty() {
            v.line_end(line.lf, line.has_cr, "the blank line after the last chunk");
            walk.state = Chunks::Complete { end: at };
            return walk;
        }
        v.line_end(line.lf, line.has_cr, "a trailer line");
        field_line(line.content, line.at, v);
    }
}

fn hex_value(d: u8) -> u64 {
    u64::from(match d {
        b'0'..=b'9' => d - b'0',
        b'a'..=b'f' => d - b'a' + 10,
        b'A'..=b'F' => d - b'A' + 10,
        _ => 0,
    })
}

/// The framing verdict's work: interim responses, then the final one.
fn judge_framing(reply: &[u8], ending: Ending, v: &mut Verdict) -> Option<Response> {
    if reply.is_empty() {
        let what = match ending {
            Ending::StillOpen => "the server sent no bytes, and kept the connection open",
            Ending::Closed => "the server sent no bytes before closing the connection",
            Ending::Reset => "the server sent no bytes before resetting the connection",
        };
        v.problem(
            what,
            None,
            "after reading the request, send a response: a status line, headers, a blank line, the body",
        );
        return None;
    }
    let mut interim = Vec::new();
    let mut at = 0;
    let head = loop {
        let head = match scan_head(reply, at, v) {
            HeadScan::Complete(head) => head,
            HeadScan::NotHttp if at == 0 => {
                v.problem(
                    "the reply does not start with a status line",
                    Some(0),
                    "the first line is the status line, HTTP/1.1 200 OK, then the headers, a blank line, the body",
                );
                return None;
            }
            HeadScan::NotHttp => {
                v.problem(
                    format!("after the interim {} response, the bytes are not a status line", interim_name(&interim)),
                    Some(at),
                    "after a 1xx response, send the final response: HTTP/1.1 200 OK, headers, a blank line, the body",
                );
                return None;
            }
            HeadScan::Incomplete => {
                let what = if at == reply.len() && !interim.is_empty() {
                    format!("after the interim {} response, the final response never came", interim_name(&interim))
                } else {
                    "the head never ends: no blank line after the headers".to_string()
                };
                v.problem(what, Some(reply.len()), "end the headers with an empty line: \\r\\n\\r\\n");
                return None;
            }
            HeadScan::TooLarge => {
                v.problem(
                    format!("no blank line within {} bytes: the head never ends", count(MAX_HEAD as u64)),
                    Some(at),
                    "end the headers with an empty line: \\r\\n\\r\\n",
                );
                return None;
            }
        };
        match head.status {
            Some(status) if is_interim(status) => {
                // Interim responses carry no body (RFC 9112, 6.3); check their framing headers all the same.
                body_kind(&head, status, v);
                v.notes.push(format!("skipped the interim response {status} {}", escape(&head.reason)));
                interim.push(status);
                at = head.end;
            }
            _ => break head,
        }
    };
    let status = head.status?;
    if status == 101 {
        v.problem(
            "101 Switching Protocols, but the request asked for no upgrade",
            Some(head.start),
            "answer the GET itself: HTTP/1.1 200 OK",
        );
    }
    let kind = body_kind(&head, status, v);
    let mut chunked = false;
    let mut pieces = vec![(0, head.end)];
    let (body, end) = match kind {
        BodyKind::Empty => (Vec::new(), head.end),
        BodyKind::Length(n) => {
            let available = reply.len() - head.end;
            match usize::try_from(n).ok().filter(|&n| n <= available) {
                Some(n) => (reply[head.end..head.end + n].to_vec(), head.end + n),
                None => {
                    let hint = match ending {
                        Ending::StillOpen => {
                            "count the body's bytes after encoding it (in Python, \
                                              len(body.encode())), not its characters; we waited for the rest \
                                              with the connection open"
                        }
                        _ => {
                            "count the body's bytes after encoding it (in Python, len(body.encode())), not its \
                              characters"
                        }
                    };
                    v.problem(
                        format!(
                            "Content-Length says {n}, but the body has {}",
                            plural(available as u64, "byte", "bytes")
                        ),
                        cl_offset(&head),
                        hint,
                    );
                    (reply[head.end..].to_vec(), reply.len())
                }
            }
        }
        BodyKind::Chunked => {
            chunked = true;
            let walk = walk_chunks(reply, head.end, true, v);
            pieces = walk.pieces;
            match walk.state {
                Chunks::Complete { end } => (walk.body, end),
                Chunks::Broken => (walk.body, reply.len()),
                Chunks::Incomplete => {
                    let what = match ending {
                        Ending::StillOpen => {
                            "the reply never ended: the chunked body has no last chunk (0\\r\\n\\r\\n), and the \
                             connection was still open"
                        }
                        _ => "the connection ended before the chunked body's last chunk (0\\r\\n\\r\\n)",
                    };
                    v.problem(what, Some(reply.len()), "end a chunked body with the last chunk: 0\\r\\n\\r\\n");
                    (walk.body, reply.len())
                }
            }
        }
        BodyKind::UntilClose { named } => {
            let body_len = (reply.len() - head.end) as u64;
            if ending == Ending::StillOpen {
                v.problem(
                    "the reply never ended: the server neither closed the connection nor sent a Content-Length \
                     (or a chunked body) that says where the body ends",
                    None,
                    format!(
                        "send Content-Length (the body so far has {}), or close the connection (shutdown, then \
                         close) when the body is sent",
                        plural(body_len, "byte", "bytes")
                    ),
                );
            } else if !named {
                let reset = if ending == Ending::Reset {
                    " (and the connection was reset, so the client cannot even be sure the body is whole)"
                } else {
                    ""
                };
                v.problem(
                    "no Content-Length header",
                    None,
                    format!(
                        "without it the client can only tell where the body ends when the connection closes{reset}; \
                         send Content-Length: {body_len}"
                    ),
                );
            }
            (reply[head.end..].to_vec(), reply.len())
        }
    };
    if end < reply.len() {
        let extra = (reply.len() - end) as u64;
        let hint = match kind {
            BodyKind::Length(n) => format!(
                "Content-Length says {n}; if the extra bytes are part of the body, send Content-Length: {}, \
                 counting bytes after encoding (in Python, len(body.encode())); else send nothing after the body",
                reply.len() - head.end
            ),
            BodyKind::Chunked => "after the last chunk (0\\r\\n\\r\\n) send nothing more".to_string(),
            _ => format!("a {status} response has no body: send nothing after its head"),
        };
        v.problem(
            format!(
                "the reply sends more than its framing says: {} after the body's end",
                plural(extra, "byte", "bytes")
            ),
            Some(end),
            hint,
        );
    }
    if ending == Ending::Reset {
        v.notes.push(
            "the server reset the connection instead of closing it (often: it closed with request bytes unread)".into(),
        );
    }
    if !body.is_empty() && !head.fields.iter().any(|f| f.name.eq_ignore_ascii_case("content-type")) {
        // RFC 9110, 8.3: a sender SHOULD send it; so it is no fault of framing. `meaning` fails it when ours has one.
        v.notes.push("no Content-Type header: the client must guess what the body is".into());
    }
    Some(Response {
        status,
        version_minor: head.version_minor,
        reason: head.reason,
        headers: head.fields,
        body,
        interim,
        start: head.start,
        body_start: head.end,
        end,
        chunked,
        pieces,
    })
}

fn interim_name(interim: &[u16]) -> String {
    interim.last().map_or_else(String::new, u16::to_string)
}

fn cl_offset(head: &Head) -> Option<usize> {
    head.fields.iter().find(|f| f.name.eq_ignore_ascii_case("content-length")).map(|f| f.offset)
}

// ---------------------------------------------------------------------------------------------------------------
// Meaning.

/// Where the status code sits: after `HTTP/1.1 `, as near as a well-formed status line puts it.
fn status_offset(r: &Response) -> usize {
    r.start + 9
}

/// A `Content-Type`'s essence (`type/subtype`, lower case) and its charset (lower case, unquoted).
fn media_type(value: &[u8]) -> (String, Option<String>) {
    let mut parts = value.split(|&b| b == b';');
    let essence = escape(&parts.next().unwrap_or_default().trim_ascii().to_ascii_lowercase());
    let charset = parts.find_map(|p| {
        let (name, value) = p.split_at(p.iter().position(|&b| b == b'=')?);
        name.trim_ascii().eq_ignore_ascii_case(b"charset").then(|| {
            let value = value[1..].trim_ascii();
            let value = value.strip_prefix(b"\"").and_then(|v| v.strip_suffix(b"\"")).unwrap_or(value);
            escape(&value.to_ascii_lowercase())
        })
    });
    (essence, charset)
}

fn compare_media_types(theirs: &Response, ours: &Response, m: &mut Meaning) {
    let field = theirs.headers.iter().find(|f| f.name.eq_ignore_ascii_case("content-type"));
    let (Some(ours_value), theirs_value) = (ours.header("content-type"), field.map(|f| f.value.as_slice())) else {
        if let Some(value) = theirs.header("content-type") {
            m.notes.push(format!("Content-Type: {}, and ours sends none", escape(value)));
        }
        return;
    };
    let offset = field.map(|f| f.offset);
    let Some(theirs_value) = theirs_value else {
        m.problems.push(problem(
            format!("no Content-Type header; ours says {}", escape(ours_value)),
            None,
            format!("say what the body is: Content-Type: {}", escape(ours_value)),
        ));
        return;
    };
    let (their_essence, their_charset) = media_type(theirs_value);
    let (our_essence, our_charset) = media_type(ours_value);
    if their_essence != our_essence {
        m.problems.push(problem(
            format!("the media type is {their_essence}, ours is {our_essence}"),
            offset,
            format!("send Content-Type: {}", escape(ours_value)),
        ));
        return;
    }
    if their_charset == our_charset {
        return;
    }
    let say = |c: &Option<String>| c.as_ref().map_or("no charset".to_string(), |c| format!("charset={c}"));
    // Our verdict on the charset: the body bytes are compared exactly, so the charset only changes how a client
    // turns them into characters. Every charset a browser might pick for text (UTF-8, windows-1252, ISO-8859-1,
    // which is what text/html falls back to without one) reads ASCII the same, so for an ASCII body, such as the
    // lesson's, a missing or other charset changes nothing a reader sees: nginx serving our page with `text/html`
    // passes. A body with other bytes would be shown differently, so there it is a problem.
    if theirs.body.is_ascii() {
        m.notes.push(format!(
            "Content-Type: {} says {}, ours {}; the body is ASCII, which every charset reads alike",
            escape(theirs_value),
            say(&their_charset),
            say(&our_charset)
        ));
    } else {
        m.problems.push(problem(
            format!(
                "the Content-Type says {}, ours {}, and the body is not plain ASCII",
                say(&their_charset),
                say(&our_charset)
            ),
            offset,
            format!("send Content-Type: {}, so that the client decodes the characters as we do", escape(ours_value)),
        ));
    }
}

fn compare_bodies(theirs: &Response, ours: &Response, m: &mut Meaning) {
    let Some(at) = first_difference(&theirs.body, &ours.body) else { return };
    let around = |body: &[u8]| {
        if at < body.len() {
            format!("\"{}\"", escape(&body[at..(at + 12).min(body.len())]))
        } else {
            "the end".to_string()
        }
    };
    let what = if at == theirs.body.len().min(ours.body.len()) {
        format!(
            "the body has {}, ours {}",
            plural(theirs.body.len() as u64, "byte", "bytes"),
            plural(ours.body.len() as u64, "byte", "bytes")
        )
    } else {
        format!(
            "the body differs from ours at its byte {at}: expected {}, got {}",
            around(&ours.body),
            around(&theirs.body)
        )
    };
    m.problems.push(problem(
        what,
        theirs.reply_offset(at).or(Some(theirs.end)),
        "send the lesson's body unchanged: the same bytes, encoded as UTF-8 (in Python, body.encode())",
    ));
}

/// Headers judged elsewhere (framing and media type), left out of the notes on the others.
const JUDGED: [&str; 4] = ["content-length", "transfer-encoding", "content-type", "connection"];

fn compare_headers(theirs: &Response, ours: &Response, m: &mut Meaning) {
    let has = |r: &Response, name: &str| r.headers.iter().any(|f| f.name.eq_ignore_ascii_case(name));
    let names = |r: &Response, other: &Response, keep: &dyn Fn(&Response, &str) -> bool| {
        let mut seen: Vec<&str> = Vec::new();
        for f in &r.headers {
            if keep(other, &f.name) && !seen.iter().any(|s| s.eq_ignore_ascii_case(&f.name)) {
                seen.push(&f.name);
            }
        }
        seen.join(", ")
    };
    let extra = names(theirs, ours, &|other, name| !has(other, name) && !JUDGED.contains(&&*name.to_ascii_lowercase()));
    if !extra.is_empty() {
        m.notes.push(format!("headers ours does not send: {extra}"));
    }
    let missing =
        names(ours, theirs, &|other, name| !has(other, name) && !JUDGED.contains(&&*name.to_ascii_lowercase()));
    if !missing.is_empty() {
        m.notes.push(format!("headers ours sends and this reply does not: {missing}"));
    }
    let cased = names(theirs, ours, &|other, name| has(other, name) && !other.headers.iter().any(|f| f.name == name));
    if !cased.is_empty() {
        m.notes.push(format!("header names in another letter case than ours (names are case-insensitive): {cased}"));
    }
    // The order of the headers both send.
    let order = |r: &Response, other: &Response| -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        for f in &r.headers {
            let name = f.name.to_ascii_lowercase();
            if has(other, &name) && !seen.contains(&name) {
                seen.push(name);
            }
        }
        seen
    };
    if order(theirs, ours) != order(ours, theirs) {
        m.notes.push("the headers come in another order than ours (order does not matter)".into());
    }
    let connection = |r: &Response| r.header("connection").map(|v| escape(&v.to_ascii_lowercase()));
    match (connection(theirs), connection(ours)) {
        (a, b) if a == b => {}
        (a, b) => m.notes.push(format!(
            "{}, ours {} (it says how long the connection lives, not what the reply means)",
            a.map_or("no Connection header".to_string(), |a| format!("Connection: {a}")),
            b.map_or("sends none".to_string(), |b| format!("says Connection: {b}"))
        )),
    }
    if theirs.chunked != ours.chunked {
        let how = |r: &Response| if r.chunked { "chunked" } else { "with Content-Length" };
        m.notes.push(format!("the body is sent {}, ours {}", how(theirs), how(ours)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LESSON: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 20\r\n\
                            Connection: close\r\n\r\n<h1>Hello World</h1>";

    fn whats(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.what.as_str()).collect()
    }

    fn response(reply: &[u8]) -> Response {
        let framing = framing(reply, Ending::Closed);
        assert_eq!(whats(&framing.problems), Vec::<&str>::new(), "{}", escape(reply));
        framing.response.unwrap()
    }

    fn problems_of(reply: &[u8]) -> Vec<Problem> {
        framing(reply, Ending::Closed).problems
    }

    #[test]
    fn the_lessons_reply_passes_framing_and_meaning_against_itself() {
        let ours = response(LESSON);
        assert_eq!(ours.status, 200);
        assert_eq!(ours.body, b"<h1>Hello World</h1>");
        assert_eq!(ours.end, LESSON.len());
        assert_eq!(meaning(&ours, &ours), Meaning::default());
        assert_eq!(first_difference(LESSON, LESSON), None);
        assert_eq!(reply_end(LESSON), Progress::Complete { end: LESSON.len() });
    }

    #[test]
    fn reordered_lower_case_headers_mean_the_same_but_differ_in_bytes() {
        let theirs = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 20\r\n\
                       content-type: text/html; charset=utf-8\r\n\r\n<h1>Hello World</h1>";
        let verdict = meaning(&response(theirs), &response(LESSON));
        assert_eq!(whats(&verdict.problems), Vec::<&str>::new());
        assert!(verdict.notes.iter().any(|n| n.starts_with("header names in another letter case")), "{verdict:?}");
        assert!(verdict.notes.iter().any(|n| n.starts_with("the headers come in another order")), "{verdict:?}");
        assert_eq!(first_difference(theirs, LESSON), Some(17));
    }

    #[test]
    fn nginx_serving_the_lessons_body_passes_with_its_extra_headers_as_notes() {
        let nginx = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 02 Jun 2025 10:00:00 GMT\r\n\
                      Content-Type: text/html\r\nContent-Length: 20\r\n\
                      Last-Modified: Mon, 02 Jun 2025 09:00:00 GMT\r\nConnection: keep-alive\r\n\
                      ETag: \"683d6a10-14\"\r\nAccept-Ranges: bytes\r\n\r\n<h1>Hello World</h1>";
        let theirs = response(nginx);
        let verdict = meaning(&theirs, &response(LESSON));
        assert_eq!(whats(&verdict.problems), Vec::<&str>::new());
        let notes = verdict.notes.join("\n");
        assert!(
            notes.contains("headers ours does not send: Server, Date, Last-Modified, ETag, Accept-Ranges"),
            "{notes}"
        );
        assert!(notes.contains("no charset, ours charset=utf-8"), "{notes}");
        assert!(notes.contains("Connection: keep-alive, ours says Connection: close"), "{notes}");
        // A keep-alive server: the reader may stop at the end Content-Length gives.
        assert_eq!(reply_end(nginx), Progress::Complete { end: nginx.len() });
        assert_eq!(framing(nginx, Ending::StillOpen).problems, vec![]);
    }

    #[test]
    fn a_missing_charset_fails_a_body_that_is_not_ascii() {
        let ours = response(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 5\r\n\r\ncaf\xC3\xA9",
        );
        let theirs = response(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\ncaf\xC3\xA9");
        let verdict = meaning(&theirs, &ours);
        assert_eq!(
            whats(&verdict.problems),
            vec!["the Content-Type says no charset, ours charset=utf-8, and the body is not plain ASCII"]
        );
        let quoted = response(
            b"HTTP/1.1 200 OK\r\ncontent-type: Text/HTML;Charset=\"UTF-8\"\r\nContent-Length: 5\r\n\r\ncaf\xC3\xA9",
        );
        assert_eq!(meaning(&quoted, &ours).problems, vec![]);
    }

    #[test]
    fn a_chunked_reply_with_the_lessons_body_passes() {
        let chunked =
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n\
                        4\r\n<h1>\r\nb;name=value\r\nHello World\r\n5\r\n</h1>\r\n0\r\nExpires: never\r\n\r\n";
        let theirs = response(chunked);
        assert!(theirs.chunked);
        assert_eq!(theirs.body, b"<h1>Hello World</h1>");
        assert_eq!(theirs.end, chunked.len());
        let verdict = meaning(&theirs, &response(LESSON));
        assert_eq!(whats(&verdict.problems), Vec::<&str>::new());
        assert!(verdict.notes.iter().any(|n| n == "the body is sent chunked, ours with Content-Length"), "{verdict:?}");
        // The caret of a body byte lands on that byte in the reply, across chunks.
        let at = theirs.reply_offset(6).unwrap();
        assert_eq!(&chunked[at..at + 5], b"llo W");
    }

    #[test]
    fn an_interim_100_continue_is_skipped_and_named() {
        let reply = [b"HTTP/1.1 100 Continue\r\n\r\n".as_slice(), LESSON].concat();
        let verdict = framing(&reply, Ending::Closed);
        assert_eq!(verdict.problems, vec![]);
        assert_eq!(verdict.notes, vec!["skipped the interim response 100 Continue"]);
        let theirs = verdict.response.unwrap();
        assert_eq!(theirs.interim, vec![100]);
        assert_eq!(theirs.start, 25);
        assert_eq!(meaning(&theirs, &response(LESSON)).problems, vec![]);
        assert_eq!(reply_end(&reply), Progress::Complete { end: reply.len() });
        assert_eq!(reply_end(&reply[..25]), Progress::Incomplete);
    }

    #[test]
    fn bad_framing_headers_are_each_named() {
        let with = |headers: &str| {
            let reply = format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n{headers}\r\n<h1>Hello World</h1>");
            whats(&problems_of(reply.as_bytes())).into_iter().map(String::from).collect::<Vec<_>>()
        };
        assert_eq!(
            with("Content-Length: 20\r\nContent-Length: 21\r\n"),
            ["conflicting Content-Length values: 20 and 21"]
        );
        assert_eq!(with("Content-Length: 20, 21\r\n"), ["conflicting Content-Length values: 20 and 21"]);
        assert_eq!(with("Content-Length: +20\r\n"), ["Content-Length: \"+20\" is not a number of bytes"]);
        assert_eq!(with("Content-Length: -1\r\n"), ["Content-Length: \"-1\" is not a number of bytes"]);
        assert_eq!(with("Content-Length:  20 x\r\n"), ["Content-Length: \"20 x\" is not a number of bytes"]);
        assert_eq!(with("Content-Length: 99999999999999999999999\r\n").len(), 1);
        assert_eq!(with("Content-Length: 20\r\nX-Bad: a\0b\r\n"), ["a NUL byte (\\x00) in the value of X-Bad"]);
        assert_eq!(with("Content-Length: 20\r\nX-Bad: a\rb\r\n"), ["a bare \\r in the value of X-Bad"]);
        assert_eq!(with("Content-Length: 20\r\nX-Bad: a\r\r\n"), ["a bare \\r in the value of X-Bad"]);
        assert_eq!(
            with("Content-Length: 20\x0C\r\n"),
            [
                "a control byte (\\x0C) in the value of Content-Length",
                "Content-Length: \"20\\x0C\" is not a number of bytes"
            ]
        );
        assert_eq!(
            with("Content-Length : 20\r\n"),
            ["whitespace between the header name \"Content-Length\" and its colon"]
        );
        assert_eq!(
            with("Content-Length: 20\r\n folded\r\n"),
            ["a header line starts with whitespace: a folded line (obs-fold), which HTTP/1.1 forbids a server to send"]
        );
        assert_eq!(
            with("Content-Length: 20\r\nX Y: z\r\n"),
            ["the header name \"X Y\" has a byte names may not have: \" \""]
        );
        assert_eq!(with("Content-Length: 20\r\nno colon\r\n"), ["a header line has no colon: \"no colon\""]);
        let both = with("Transfer-Encoding: chunked\r\nContent-Length: 20\r\n");
        assert_eq!(both[0], "both Transfer-Encoding and Content-Length: a server must send only one");
        assert_eq!(
            with("Transfer-Encoding: chunked, gzip\r\n")[0],
            "Transfer-Encoding: chunked, gzip: chunked must be the last coding"
        );
        // A list of the same value is one value, as h11 and RFC 9110 allow; it is noted.
        let same = b"HTTP/1.1 200 OK\r\nContent-Length: 20, 20\r\n\r\n<h1>Hello World</h1>";
        let verdict = framing(same, Ending::Closed);
        assert_eq!(verdict.problems, vec![]);
        assert!(verdict.notes[0].starts_with("Content-Length is sent 2 times"), "{:?}", verdict.notes);
    }

    #[test]
    fn a_bad_status_line_is_named_and_the_headers_are_still_judged() {
        assert_eq!(
            whats(&problems_of(b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n")),
            ["the status line says HTTP/2.0, not HTTP/1.1"]
        );
        assert_eq!(
            whats(&problems_of(b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")),
            ["no space after the status code"]
        );
        assert_eq!(response(b"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n").reason, b"");
        assert_eq!(
            whats(&problems_of(b"HTTP/1.1  200 OK\r\nX\0: 1\r\nContent-Length: 0\r\n\r\n")),
            [
                "more than one space after the version",
                "the header name \"X\\x00\" has a byte names may not have: \"\\x00\""
            ]
        );
        assert_eq!(whats(&problems_of(b"<h1>Hello World</h1>")), ["the reply does not start with a status line"]);
        let old = framing(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", Ending::Closed);
        assert_eq!((old.problems.len(), old.response.unwrap().version_minor), (0, 0));
        assert!(old.notes[0].starts_with("the status line says HTTP/1.0"));
    }

    #[test]
    fn the_blogs_reply_gets_all_its_problems_in_one_round() {
        let blog = b"HTTP/1.1 200 OK\n\n<h1>Hello World</h1>";
        let verdict = framing(blog, Ending::Closed);
        assert_eq!(
            whats(&verdict.problems),
            ["expected \\r\\n at the end of the status line, got \\n", "no Content-Length header"]
        );
        assert_eq!(verdict.problems[0].offset, Some(15));
        assert!(verdict.problems[1].hint.ends_with("send Content-Length: 20"), "{:?}", verdict.problems[1]);
        assert!(verdict.notes.iter().any(|n| n.starts_with("no Content-Type header")));
        let theirs = verdict.response.unwrap();
        let verdict = meaning(&theirs, &response(LESSON));
        assert_eq!(whats(&verdict.problems), ["no Content-Type header; ours says text/html; charset=utf-8"]);
        assert!(verdict.notes.iter().any(|n| n.starts_with("no Connection header, ours says Connection: close")));
        assert_eq!(reply_end(blog), Progress::UntilClose);
    }

    #[test]
    fn a_body_past_its_content_length_sends_more_than_its_framing_says() {
        let mut endless = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\n".to_vec();
        let head_len = endless.len();
        endless.resize(head_len + 5 * 1024 * 1024, b'x');
        let verdict = framing(&endless, Ending::StillOpen);
        assert_eq!(
            whats(&verdict.problems),
            ["the reply sends more than its framing says: 5,242,870 bytes after the body's end"]
        );
        assert_eq!(verdict.problems[0].offset, Some(head_len + 10));
        assert_eq!(reply_end(&endless), Progress::Complete { end: head_len + 10 });
    }

    #[test]
    fn a_short_body_or_an_open_unframed_reply_never_ends() {
        let short = b"HTTP/1.1 200 OK\r\nContent-Length: 25\r\n\r\n<h1>Hello World</h1>";
        assert_eq!(whats(&problems_of(short)), ["Content-Length says 25, but the body has 20 bytes"]);
        assert_eq!(reply_end(short), Progress::Incomplete);
        let open = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<h1>Hello";
        let problems = framing(open, Ending::StillOpen).problems;
        assert_eq!(problems.len(), 1);
        assert!(problems[0].what.starts_with("the reply never ended"), "{problems:?}");
        let chunks = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n";
        assert!(framing(chunks, Ending::StillOpen).problems[0].what.starts_with("the reply never ended"));
        assert_eq!(whats(&problems_of(b"")), ["the server sent no bytes before closing the connection"]);
    }

    #[test]
    fn broken_chunks_are_named() {
        let wrong_size = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nhello\r\n0\r\n\r\n";
        assert_eq!(whats(&problems_of(wrong_size)), ["a chunk of 4 bytes is not followed by \\r\\n"]);
        let not_hex = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nhello\r\n";
        assert_eq!(whats(&problems_of(not_hex)), ["expected a chunk size in hex, got \"hello\""]);
        let after_end = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nmore";
        assert_eq!(
            whats(&problems_of(after_end)),
            ["the reply sends more than its framing says: 4 bytes after the body's end"]
        );
        let bare = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n";
        assert_eq!(whats(&problems_of(bare)), ["expected \\r\\n at the end of a chunk-size line, got \\n"]);
        assert_eq!(
            response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n").body,
            b"0123456789"
        );
    }

    #[test]
    fn reply_end_follows_every_prefix_of_a_chunked_reply() {
        let reply = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n<h1>\r\nb\r\nHello World\r\n5\r\n</h1>\r\n0\r\n\r\n";
        for n in 0..reply.len() {
            assert_eq!(reply_end(&reply[..n]), Progress::Incomplete, "{}", escape(&reply[..n]));
        }
        assert_eq!(reply_end(reply), Progress::Complete { end: reply.len() });
        let more = [reply.as_slice(), b"HTTP/1.1"].concat();
        assert_eq!(reply_end(&more), Progress::Complete { end: reply.len() });
    }

    #[test]
    fn a_reply_to_head_ends_at_its_head_whatever_its_length() {
        let reply = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20\r\n\r\n";
        assert_eq!(reply_end_to(reply, Asked::HeadOnly), Progress::Complete { end: reply.len() });
        assert_eq!(reply_end(reply), Progress::Incomplete);
        let verdict = framing_to(reply, Ending::Closed, Asked::HeadOnly);
        assert!(verdict.problems.is_empty(), "{:?}", verdict.problems);
        assert!(!framing(reply, Ending::Closed).problems.is_empty(), "to a GET, the body is missing");
    }

    #[test]
    fn no_body_statuses_end_at_their_head() {
        let reply = b"HTTP/1.1 204 No Content\r\n\r\n";
        assert_eq!(reply_end(reply), Progress::Complete { end: reply.len() });
        assert_eq!(response(reply).body, b"");
        assert_eq!(
            whats(&problems_of(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")),
            ["a 204 response has no body, but it sends Content-Length"]
        );
    }

    #[test]
    fn a_different_status_or_body_fails_the_meaning() {
        let theirs = response(b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 20\r\n\r\n<h1>Hello Wor1d</h1>");
        let verdict = meaning(&theirs, &response(LESSON));
        assert_eq!(
            whats(&verdict.problems),
            [
                "the status is 404, ours is 200 OK",
                "the body differs from ours at its byte 13: expected \"ld</h1>\", got \"1d</h1>\""
            ]
        );
        assert_eq!(verdict.problems[1].offset, Some(theirs.body_start + 13));
        let wrong_type =
            response(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n\r\n<h1>Hello World</h1>");
        assert_eq!(
            whats(&meaning(&wrong_type, &response(LESSON)).problems),
            ["the media type is text/plain, ours is text/html"]
        );
    }

    /// Every prefix of these replies, and bytes from a little generator, under every ending: no panic, and
    /// `reply_end` never says a response ends past the bytes it was given.
    #[test]
    fn no_input_makes_the_judge_panic() {
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=\"y\"\r\n<h1>\r\n0\r\nT: 1\r\n\r\n";
        let weird = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 \r\nContent-Length: 3, 3\r\nX:\r\n\r\nabcdef";
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for reply in [LESSON, chunked.as_slice(), weird.as_slice(), b"HTTP/1.1 200 OK\n\n<h1>Hello World</h1>"] {
            inputs.extend((0..=reply.len()).map(|n| reply[..n].to_vec()));
        }
        // A small linear congruential generator: the same bytes every run, biased towards HTTP's own bytes.
        let mut seed: u32 = 12345;
        let alphabet = b"HTTP/1.1 200 OK\r\n:;0123456789abcdefABCDEF \t\0\x7F\xFFchunked-Content-Length";
        for _ in 0..300 {
            let mut bytes = b"HTTP/1.1 ".to_vec();
            for _ in 0..(seed % 200) {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                bytes.push(alphabet[(seed >> 16) as usize % alphabet.len()]);
            }
            inputs.push(bytes);
        }
        for input in &inputs {
            for ending in [Ending::Closed, Ending::Reset, Ending::StillOpen] {
                let verdict = framing(input, ending);
                if let Some(r) = &verdict.response {
                    assert!(r.end <= input.len());
                    let _ = meaning(r, r);
                    for i in 0..=r.body.len() {
                        assert!(r.reply_offset(i).is_none_or(|at| at < input.len()));
                    }
                }
            }
            if let Progress::Complete { end } = reply_end(input) {
                assert!(end <= input.len(), "{}", escape(input));
            }
        }
    }
}
