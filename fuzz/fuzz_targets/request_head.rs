//! Fuzzes the path a request head takes: the bytes of several `recv` calls into a `HeadReader`, then
//! `parse_request`, `describe` and `error_response`, and the transcript's `escape` and `preview` of the raw input.
//!
//! The input is 4 control bytes, then the bytes the client sends (the payload):
//!
//! - byte 0: how the payload is cut into `recv` results (`mode`, below); bit 0x80 adds an empty push first,
//!   bit 0x40 an empty push after every chunk.
//! - bytes 1 and 2: the sizes the mode uses.
//! - byte 3: the limit of a third reader (0..=255) and the `max_chars` of one `preview`.
//!
//! Every chunk holds 1..=4096 bytes, as `recv(4096)` returns. The payload is read three times, with the limits
//! `MAX_HEAD`, 64 and byte 3, each as the lessons read it (push until the status is not `Incomplete`), in one push,
//! and pushing every chunk whatever the status; see `check_reader` for what must hold. `preview` also gets a huge
//! `max_chars` (from `usize::MAX / 4` to `usize::MAX`), where `max_chars * 4 + 4` used to overflow.

#![no_main]

use hhttpp::http::{self, BadRequest, HeadReader, HeadStatus, MAX_HEAD, Request};
use hhttpp::trace::format::{count, escape, preview};
use libfuzzer_sys::fuzz_target;

/// The lessons' receive buffer, `recv(4096)`: no chunk is longer.
const RECV: usize = 4096;

/// How many control bytes come before the payload.
const CONTROL: usize = 4;

/// The transcript's preview width (`PREVIEW_CHARS` in src/trace/transcript.rs).
const PREVIEW_CHARS: usize = 64;

fuzz_target!(|data: &[u8]| {
    let mut control = [0u8; CONTROL];
    let n = data.len().min(CONTROL);
    control[..n].copy_from_slice(&data[..n]);
    let payload = &data[n..];

    let chunks = cut(payload, control);
    assert_eq!(chunks.concat(), payload, "the chunks are the payload");
    assert!(chunks.iter().all(|c| c.len() <= RECV));

    for limit in [MAX_HEAD, 64, usize::from(control[3])] {
        check_reader(payload, &chunks, limit);
    }

    // The transcript's escape and preview of the raw input (escaped once: it is the slow part on 64 KiB inputs).
    let escaped = check_escape(data);
    // A huge width shows everything, and must not overflow: `usize::MAX / 4` overflowed the `+ 4`, the others the
    // `* 4`. One per input, as each one escapes the whole input again.
    let huge = [usize::MAX, usize::MAX / 4, usize::MAX / 4 + 1, usize::MAX / 2][usize::from(control[3] >> 6)];
    for max_chars in [0, 1, usize::from(control[3]), PREVIEW_CHARS, huge] {
        check_preview(data, &escaped, max_chars);
    }
});

/// Cuts `payload` into the results of successive `recv(4096)` calls, as `control` says.
fn cut(payload: &[u8], control: [u8; CONTROL]) -> Vec<&[u8]> {
    let (a, b) = (usize::from(control[1]), usize::from(control[2]));
    let wide = (a | b << 8) % RECV + 1;
    let mut rng = (u32::from(control[1]) << 8 | u32::from(control[2])) | 0x1_0000;
    let mut size = |i: usize| -> usize {
        match control[0] % 6 {
            // A fast client: every recv fills the buffer.
            0 => RECV,
            // A byte at a time.
            1 => 1,
            // The same size every time.
            2 => wide,
            // Two small sizes in turn.
            3 => {
                if i.is_multiple_of(2) {
                    a + 1
                } else {
                    b + 1
                }
            }
            // A first recv of some size, then full ones.
            4 => {
                if i == 0 {
                    wide
                } else {
                    RECV
                }
            }
            // Sizes from a little xorshift generator: half of them 1..=16, the others 1..=4096.
            _ => {
                rng ^= rng << 13;
                rng ^= rng >> 17;
                rng ^= rng << 5;
                let r = rng as usize;
                if r & 1 == 0 { (r >> 1) % 16 + 1 } else { (r >> 1) % RECV + 1 }
            }
        }
    };
    let mut chunks = Vec::new();
    if control[0] & 0x80 != 0 {
        chunks.push(&payload[..0]);
    }
    let mut rest = payload;
    let mut i = 0;
    while !rest.is_empty() {
        let n = size(i).clamp(1, RECV).min(rest.len());
        chunks.push(&rest[..n]);
        if control[0] & 0x40 != 0 {
            chunks.push(&rest[..0]);
        }
        rest = &rest[n..];
        i += 1;
    }
    chunks
}

/// Where the head ends: the shortest prefix that ends in `\n\n`, `\r\n\r\n` or `\n\r\n` after the empty lines
/// (any run of `\r` and `\n` bytes) that may come before the request line (RFC 9112, 2.2), which end nothing. Bytes
/// that are all `\r` and `\n` hold no head yet.
///
/// Written differently from `HeadReader` and `find_head_end` (the earliest end, not the earliest start, and the
/// empty lines skipped once, not per push), to be held against them.
fn reference_head_end(bytes: &[u8]) -> Option<usize> {
    let start = bytes.iter().position(|b| !is_cr_or_lf(b))?;
    (start + 1..=bytes.len()).find(|&end| {
        let head = &bytes[start..end];
        head.ends_with(b"\n\n") || head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\r\n")
    })
}

fn is_cr_or_lf(b: &u8) -> bool {
    *b == b'\r' || *b == b'\n'
}

/// How many `\r` and `\n` bytes `bytes` starts with: the empty lines the reader skips.
fn leading_empty_lines(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| is_cr_or_lf(b)).count()
}

/// Whether `lead` (bytes that are all `\r` or `\n`) is empty lines as httparse skips them: `\r\n` and `\n`, with
/// no `\r` alone. httparse answers a bare `\r` there with `Error::NewLine`.
fn httparse_empty_lines(lead: &[u8]) -> bool {
    let mut rest = lead;
    while !rest.is_empty() {
        rest = if let Some(after) = rest.strip_prefix(b"\r\n") {
            after
        } else if let Some(after) = rest.strip_prefix(b"\n") {
            after
        } else {
            return false;
        };
    }
    true
}

/// Reads `payload` with a limit of `limit` bytes in one push, as the lessons do, and pushing every chunk.
fn check_reader(payload: &[u8], chunks: &[&[u8]], limit: usize) {
    let head_end = reference_head_end(payload);

    // In one push, the status is a function of the payload alone. A head that ends past the limit is too large.
    let mut whole = HeadReader::new(limit);
    let whole_status = whole.push(payload);
    let expected = match head_end {
        Some(head_len) if head_len <= limit => HeadStatus::Complete { head_len },
        Some(_) => HeadStatus::TooLarge,
        None if payload.len() >= limit => HeadStatus::TooLarge,
        None => HeadStatus::Incomplete,
    };
    assert_eq!(whole_status, expected, "one push, limit {limit}");
    assert_eq!(whole.status(), whole_status);
    assert_eq!(whole.bytes(), payload);

    // As the lessons read: push each recv's bytes until the status is no longer Incomplete.
    let mut reader = HeadReader::new(limit);
    assert_eq!(reader.status(), HeadStatus::Incomplete);
    assert!(reader.bytes().is_empty());
    let mut status = HeadStatus::Incomplete;
    let mut pushes = 0usize;
    let mut before_last = 0usize;
    for chunk in chunks {
        before_last = reader.bytes().len();
        status = reader.push(chunk);
        pushes += 1;
        assert_eq!(reader.status(), status, "status() is what push returned");
        assert_eq!(reader.bytes().len(), before_last + chunk.len(), "push keeps every byte");
        if status != HeadStatus::Incomplete {
            break;
        }
    }
    let got = reader.bytes();
    assert_eq!(got, &payload[..got.len()], "the bytes are what was pushed, in order");
    // Before the last push the reader was Incomplete: under the limit, and no blank line yet.
    if pushes > 1 {
        assert!(before_last < limit, "Incomplete at {before_last} bytes with limit {limit}");
    }
    assert!(head_end.is_none_or(|end| end > before_last), "a blank line was missed before the last push");

    match status {
        HeadStatus::Complete { head_len } => {
            assert_eq!(Some(head_len), head_end, "the head ends at the first blank line");
            assert!(head_len <= got.len());
            let head = &got[..head_len];
            assert!(head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n") || head.ends_with(b"\n\r\n"));
            assert!(!head.iter().all(is_cr_or_lf), "a head of empty lines only: {:?}", escape(head));
            // However the bytes came in, a Complete head fits in the limit (a longer one is TooLarge)...
            assert!(head_len <= limit, "Complete {{ head_len: {head_len} }} with limit {limit}");
            // ...which is stronger than what held before the fix: past it by less than one recv.
            assert!(head_len <= limit.saturating_sub(1) + RECV || pushes == 1);
        }
        HeadStatus::TooLarge => {
            assert!(got.len() >= limit, "TooLarge at {} bytes with limit {limit}", got.len());
            // Either no blank line has come, or the first one ends past the limit (it may be in the bytes).
            assert!(
                head_end.is_none_or(|end| end > limit),
                "TooLarge, but the head ends at {head_end:?}, within the limit {limit} ({} bytes read)",
                got.len()
            );
            assert!(got.len() <= limit.saturating_sub(1) + RECV, "read more than one recv past the limit");
        }
        HeadStatus::Incomplete => {
            assert_eq!(got.len(), payload.len(), "Incomplete before the last chunk");
            assert_eq!(head_end, None);
            // (A reader that was never pushed to is Incomplete whatever its limit, even 0.)
            assert!(got.len() < limit || pushes == 0);
        }
    }

    // Cutting the payload into recvs changes nothing: a head that ends past the limit is TooLarge whether its
    // blank line came in the push that crossed the limit or not, and the empty lines before the request line are
    // skipped wherever the cuts fall.
    match (whole_status, status) {
        (a, b) if a == b => {}
        // An empty payload cut into no chunk at all: the lessons never push nothing. (One empty push at limit 0 is
        // TooLarge, as the single push is.)
        (HeadStatus::TooLarge, HeadStatus::Incomplete) if pushes == 0 && limit == 0 => {}
        (a, b) => panic!("one push gives {a:?} but {} pushes give {b:?} (limit {limit})", pushes),
    }

    // Bytes pushed after the head is complete or too large are kept but change nothing.
    let mut drain = HeadReader::new(limit);
    for chunk in chunks {
        drain.push(chunk);
    }
    assert_eq!(drain.status(), status, "pushing past the end changed the status");
    assert_eq!(drain.bytes(), payload);

    let parsed = check_parse(&reader, limit);
    let parsed_whole = check_parse(&whole, limit);
    let parsed_drain = check_parse(&drain, limit);

    // The same status gives the same judgement, however the bytes arrived and whatever came after the head: httparse
    // stops at our blank line (or before it, with an error), so it never sees the bytes past it.
    if status == whole_status {
        assert_eq!(parsed, parsed_whole, "as the lessons read vs one push ({status:?}, limit {limit})");
    }
    assert_eq!(parsed, parsed_drain, "as the lessons read vs pushing every chunk ({status:?}, limit {limit})");
}

/// `parse_request`, `describe` and `error_response` on what `reader` gathered. Returns `parse_request`'s result.
fn check_parse(reader: &HeadReader, limit: usize) -> Result<Request, BadRequest> {
    let result = http::parse_request(reader);
    let line = http::describe(&result);
    // The transcript line goes to a terminal: no control character, and nothing that reorders the text.
    assert!(!line.chars().any(|c| c.is_control() || is_bidi_control(c)), "a raw control character in {line:?}");
    match (&result, reader.status()) {
        (Ok(request), HeadStatus::Complete { head_len }) => {
            // Both skip the empty lines before the request line, and end the head at the same blank line.
            assert_eq!(request.head_len, head_len, "httparse's head length is not ours");
            assert!(request.head_len <= reader.bytes().len());
            assert!(request.version <= 1);
            assert!(!request.method.is_empty());
            assert!(request.headers <= 100);
            check_describe_request(&line, request);
        }
        (Ok(request), status) => panic!("{request:?} parsed from a reader that is {status:?}"),
        (Err(bad), status) => {
            match status {
                HeadStatus::TooLarge => {
                    assert_eq!(bad.status, 431);
                    assert!(bad.reason.contains(&count(limit as u64)), "{}", bad.reason);
                }
                // A 431 only comes from TooLarge.
                _ => assert_eq!(bad.status, 400, "{bad:?} from {status:?}"),
            }
            assert!(!bad.reason.is_empty());
            assert!(!bad.phrase().is_empty());
            let prefix = format!("a bad request, answered {} {}: ", bad.status, bad.phrase());
            assert!(line.starts_with(&prefix), "{line}");
            check_error_response(bad);
        }
    }
    if let HeadStatus::Complete { head_len } = reader.status() {
        check_empty_lines_skipped(reader, limit, head_len, &result);
    }
    result
}

/// Empty lines before the request line change nothing but where the head ends, when httparse skips them too; a
/// bare `\r` among them is a 400.
fn check_empty_lines_skipped(reader: &HeadReader, limit: usize, head_len: usize, result: &Result<Request, BadRequest>) {
    let bytes = reader.bytes();
    let lead = leading_empty_lines(bytes);
    if lead == 0 {
        return;
    }
    let mut stripped = HeadReader::new(limit);
    let stripped_status = stripped.push(&bytes[lead..]);
    assert_eq!(
        stripped_status,
        HeadStatus::Complete { head_len: head_len - lead },
        "without the {lead} empty-line bytes"
    );
    let plain = http::parse_request(&stripped);
    if httparse_empty_lines(&bytes[..lead]) {
        match (result, &plain) {
            (Ok(request), Ok(without)) => {
                assert_eq!(*request, Request { head_len: without.head_len + lead, ..without.clone() });
            }
            (Err(bad), Err(without)) => assert_eq!(bad, without),
            (a, b) => panic!("{a:?} with {lead} bytes of empty lines first, {b:?} without them"),
        }
    } else {
        let bad = result.as_ref().expect_err("httparse took a bare \\r before the request line");
        assert_eq!(bad.status, 400);
        assert!(bad.reason.contains("bare \\r"), "{bad:?}");
    }
}

/// `describe` of a request: `the request: METHOD PATH HTTP/1.x, N headers, a head of N bytes`, with the method and
/// the path escaped, so that they read back as they came.
fn check_describe_request(line: &str, request: &Request) {
    let rest = line.strip_prefix("the request: ").unwrap_or_else(|| panic!("{line:?}"));
    // Neither a method (a token) nor a path (httparse ends it at a space) holds a space, and escape writes none.
    let (method, rest) = rest.split_once(' ').unwrap_or_else(|| panic!("{line:?}"));
    let (path, rest) = rest.split_once(' ').unwrap_or_else(|| panic!("{line:?}"));
    assert_eq!(unescape(method), request.method.as_bytes(), "the method in {line:?}");
    assert_eq!(unescape(path), request.path.as_bytes(), "the path in {line:?}");
    let s = if request.headers == 1 { "" } else { "s" };
    let tail =
        format!("HTTP/1.{}, {} header{s}, a head of {} bytes", request.version, request.headers, request.head_len);
    assert_eq!(rest, tail, "in {line:?}");
}

/// The bidirectional controls (Unicode's Bidi_Control property): they reorder the text around them on a terminal,
/// and `char::is_control` calls none of them control.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{61C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// An error response is a complete HTTP/1.1 response whose `Content-Length` is its body's length.
fn check_error_response(bad: &BadRequest) {
    let response = http::error_response(bad);
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut parsed = httparse::Response::new(&mut headers);
    let head_len = match parsed.parse(&response) {
        Ok(httparse::Status::Complete(n)) => n,
        other => panic!("error_response({bad:?}) does not parse: {other:?}: {}", escape(&response)),
    };
    assert_eq!(parsed.version, Some(1));
    assert_eq!(parsed.code, Some(bad.status));
    assert_eq!(parsed.reason, Some(bad.phrase()));
    let lengths: Vec<&[u8]> =
        parsed.headers.iter().filter(|h| h.name.eq_ignore_ascii_case("content-length")).map(|h| h.value).collect();
    assert_eq!(lengths.len(), 1, "one Content-Length");
    let length: usize = std::str::from_utf8(lengths[0]).unwrap().parse().unwrap();
    let body = &response[head_len..];
    assert_eq!(length, body.len(), "Content-Length is the body's length");
    let body = std::str::from_utf8(body).expect("the body is UTF-8");
    assert!(body.starts_with(&format!("{} {}: ", bad.status, bad.phrase())) && body.ends_with('\n'), "{body:?}");
}

/// `escape` shows no raw control character, bidirectional control or quote, and loses nothing: it can be read back.
/// Returns it.
fn check_escape(bytes: &[u8]) -> String {
    let escaped = escape(bytes);
    assert!(!escaped.chars().any(char::is_control), "a raw control character in {escaped:?}");
    assert!(!escaped.chars().any(is_bidi_control), "a raw bidirectional control in {escaped:?}");
    assert_eq!(unescape(&escaped), bytes, "escape is not one-to-one: {escaped:?}");
    escaped
}

/// `preview` is `"…escape's first pieces…"`, with `…` after it when cut, at most `max_chars` characters between
/// the quotes, as many as fit, and never half an escape. `full` is `escape(bytes)`.
fn check_preview(bytes: &[u8], full: &str, max_chars: usize) {
    let shown = preview(bytes, max_chars);
    assert!(shown.chars().count() <= max_chars.saturating_add(3), "{shown:?} is longer than {max_chars} + 3");
    let (quoted, cut) = match shown.strip_suffix('…') {
        Some(quoted) => (quoted, true),
        None => (shown.as_str(), false),
    };
    let inner = quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"')).expect("a preview is quoted");
    assert!(inner.chars().count() <= max_chars);
    assert!(full.starts_with(inner), "{shown:?} is not the start of {full:?}");
    assert!(bytes.starts_with(&unescape(inner)), "an escape cut in half in {shown:?}");
    if cut {
        let next = next_piece(&full[inner.len()..]);
        assert!(inner.chars().count() + next.chars().count() > max_chars, "{shown:?} cut before {next:?} would fit");
    } else {
        assert_eq!(inner, full, "shown whole but not all of it");
    }
}

/// The first piece of escaped text: one character, or one escape (`\r`, `\xFF`, `\u{202E}`), or the two escapes of
/// a C1 control character (U+0080..U+009F, `\xC2\x80`..`\xC2\x9F`), which `preview` never cuts apart.
fn next_piece(escaped: &str) -> &str {
    let mut chars = escaped.chars();
    match (chars.next(), chars.next()) {
        (Some('\\'), Some('x')) if escaped.starts_with("\\xC2\\x8") || escaped.starts_with("\\xC2\\x9") => {
            &escaped[..8]
        }
        (Some('\\'), Some('x')) => &escaped[..4],
        (Some('\\'), Some('u')) => &escaped[..=escaped.find('}').expect("\\u{ without its }")],
        (Some('\\'), Some(_)) => &escaped[..2],
        (Some(c), _) => &escaped[..c.len_utf8()],
        (None, _) => panic!("cut with nothing left to show"),
    }
}

/// The bytes `escape` was given, read back from what it wrote; panics on what escape should never write.
fn unescape(escaped: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(escaped.len());
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('r') => out.push(b'\r'),
                Some('n') => out.push(b'\n'),
                Some('t') => out.push(b'\t'),
                Some('\\') => out.push(b'\\'),
                Some('"') => out.push(b'"'),
                Some('x') => {
                    let mut hex = || match chars.next() {
                        Some(d @ ('0'..='9' | 'A'..='F')) => d.to_digit(16).unwrap() as u8,
                        other => panic!("\\x not followed by two upper-case hex digits: {other:?} in {escaped:?}"),
                    };
                    let high = hex();
                    let low = hex();
                    out.push(high << 4 | low);
                }
                // A bidirectional control by number: `\u{XXXX}`, four upper-case hex digits (all of them are below
                // U+10000). escape writes no other character this way.
                Some('u') => {
                    assert_eq!(chars.next(), Some('{'), "\\u not followed by {{ in {escaped:?}");
                    let mut code = 0u32;
                    for _ in 0..4 {
                        match chars.next() {
                            Some(d @ ('0'..='9' | 'A'..='F')) => code = code << 4 | d.to_digit(16).unwrap(),
                            other => {
                                panic!("\\u{{ not followed by four upper-case hex digits: {other:?} in {escaped:?}")
                            }
                        }
                    }
                    assert_eq!(chars.next(), Some('}'), "\\u{{XXXX not followed by }} in {escaped:?}");
                    let c = char::from_u32(code).unwrap_or_else(|| panic!("\\u{{{code:04X}}} is no character"));
                    assert!(is_bidi_control(c), "\\u{{{code:04X}}} is not a bidirectional control, in {escaped:?}");
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                other => panic!("an unknown escape \\{other:?} in {escaped:?}"),
            },
            '"' => panic!("a raw quote in {escaped:?}"),
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    out
}
