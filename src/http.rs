//! The little HTTP the lessons need: gather a request head, judge it, and build a response head.
//!
//! Sockets carry bytes and know nothing of HTTP; this module is where bytes become HTTP. It makes no socket calls:
//! the lessons receive the bytes and hand them to a [`HeadReader`], which is why it can be fuzzed on its own.
//!
//! A production server would also handle keep-alive and check much more; we keep to what a browser needs to show a
//! page. Only `serve-folder`, the finished server, sends `Date` and `Last-Modified` (see [`http_date`]); the
//! lessons before it send the very same bytes on every run.

/// The largest request head we read; a longer one is answered `431 Request Header Fields Too Large`.
pub const MAX_HEAD: usize = 64 * 1024;

/// How many header lines we accept in one request head (browsers send about 15).
const MAX_HEADERS: usize = 100;

/// Where a request head stands after the bytes received so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadStatus {
    /// No blank line yet: read more.
    Incomplete,
    /// The head ends after byte `head_len`, with its blank line.
    Complete { head_len: usize },
    /// The limit reached with no blank line, or a head whose blank line ends past the limit: stop reading.
    TooLarge,
}

/// Gathers the bytes of one request until the blank line that ends its head.
///
/// TCP delivers a byte stream, not messages: one `recv` may return half a request, or a request and a half. So we
/// keep what each `recv` returned and look for the end of the head (`\r\n\r\n`, or `\n\n` and `\n\r\n`, which
/// lenient servers accept too) across the joins. Empty lines before the request line are skipped, as HTTP asks.
#[derive(Debug)]
pub struct HeadReader {
    bytes: Vec<u8>,
    limit: usize,
    status: HeadStatus,
}

impl HeadReader {
    /// A reader for a head of at most `limit` bytes, blank line included.
    pub fn new(limit: usize) -> Self {
        HeadReader { bytes: Vec::new(), limit, status: HeadStatus::Incomplete }
    }

    /// Adds the bytes one `recv` returned, and says where the head now stands.
    ///
    /// Bytes pushed after the head is complete or too large are kept but change nothing.
    pub fn push(&mut self, received: &[u8]) -> HeadStatus {
        if self.status != HeadStatus::Incomplete {
            self.bytes.extend_from_slice(received);
            return self.status;
        }
        self.bytes.extend_from_slice(received);
        // Empty lines before the request line are ignored, as HTTP asks (RFC 9112, 2.2) and httparse does. The
        // blank line may straddle the join with the bytes we already had: look again at their last 3.
        let leading = self.bytes.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
        let from = (self.bytes.len() - received.len()).saturating_sub(3).max(leading);
        self.status = match find_head_end(&self.bytes[from..]) {
            Some(end) if from + end <= self.limit => HeadStatus::Complete { head_len: from + end },
            // A head longer than the limit is too large, however the bytes came in.
            Some(_) => HeadStatus::TooLarge,
            None if self.bytes.len() >= self.limit => HeadStatus::TooLarge,
            None => HeadStatus::Incomplete,
        };
        self.status
    }

    /// Every byte received so far.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Where the head stands.
    pub fn status(&self) -> HeadStatus {
        self.status
    }
}

/// The index just past the first blank line (`\r\n\r\n`, `\n\n`, or the mixed `\n\r\n`), if there is one.
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    (0..bytes.len()).find_map(|i| {
        let rest = &bytes[i..];
        if rest.starts_with(b"\r\n\r\n") {
            Some(i + 4)
        } else if rest.starts_with(b"\n\n") {
            Some(i + 2)
        } else if rest.starts_with(b"\n\r\n") {
            Some(i + 3)
        } else {
            None
        }
    })
}

/// A request head that parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    /// How many header lines it had.
    pub headers: usize,
    /// The head's length in bytes, blank line included.
    pub head_len: usize,
}

/// Why a request cannot be answered as asked: the status to answer with, and the reason in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRequest {
    pub status: u16,
    pub reason: String,
}

impl BadRequest {
    /// The status line's reason phrase.
    pub fn phrase(&self) -> &'static str {
        status_phrase(self.status)
    }
}

/// Judges what a [`HeadReader`] gathered, with `httparse`, a strict HTTP/1.x parser.
///
/// Nothing here assumes the bytes are valid UTF-8: a request line that is not is a `400`, never a crash.
pub fn parse_request(reader: &HeadReader) -> Result<Request, BadRequest> {
    let bad = |reason: String| Err(BadRequest { status: 400, reason });
    match reader.status() {
        HeadStatus::TooLarge => {
            return Err(BadRequest {
                status: 431,
                reason: format!(
                    "the request head is longer than {} bytes",
                    crate::trace::format::count(reader.limit as u64)
                ),
            });
        }
        HeadStatus::Incomplete => {
            return bad("the connection closed before the blank line that ends a request head".into());
        }
        HeadStatus::Complete { .. } => {}
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(reader.bytes()) {
        Ok(httparse::Status::Complete(_)) if host_lines(&request) > 1 => {
            bad(format!("{} Host header lines; a request has one (RFC 9112, 3.2)", host_lines(&request)))
        }
        Ok(httparse::Status::Complete(_)) if request.version == Some(1) && host_lines(&request) == 0 => {
            bad("an HTTP/1.1 request without a Host header (RFC 9112, 3.2: a server answers it 400)".into())
        }
        Ok(httparse::Status::Complete(head_len)) => Ok(Request {
            method: request.method.unwrap_or_default().to_string(),
            path: request.path.unwrap_or_default().to_string(),
            version: request.version.unwrap_or_default(),
            headers: request.headers.len(),
            head_len,
        }),
        // Our blank line was inside something httparse reads differently (a header value, say).
        Ok(httparse::Status::Partial) => bad("the request head does not end where its blank line is".into()),
        Err(httparse::Error::TooManyHeaders) => bad(format!("more than {MAX_HEADERS} header lines")),
        Err(err) => bad(format!("not an HTTP/1.x request head: {}", parse_error(err))),
    }
}

/// How many `Host` header lines a request has.
fn host_lines(request: &httparse::Request) -> usize {
    request.headers.iter().filter(|h| h.name.eq_ignore_ascii_case("host")).count()
}

/// The request target in origin form, `/path?query`: an absolute-form target (`http://host:8338/a?b`, which a
/// client sends to a proxy, and which a server must accept too: RFC 9112, 3.2.2) loses its scheme and authority.
/// Any other target is returned as it is.
pub fn origin_form(target: &str) -> &str {
    if !target.get(..7).is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://")) {
        return target;
    }
    let rest = &target[7..];
    match rest.find(['/', '?']) {
        Some(at) if rest[at..].starts_with('/') => &rest[at..],
        // `http://host?q` has an empty path, which is `/`; the query alone cannot be a path.
        _ => "/",
    }
}

/// httparse's errors, in words a learner can act on.
fn parse_error(err: httparse::Error) -> &'static str {
    match err {
        httparse::Error::HeaderName => "a header name has a character that names may not have",
        httparse::Error::HeaderValue => "a header value has a control character",
        httparse::Error::NewLine => "a line ends in a bare \\r",
        httparse::Error::Status => "the status is not a number",
        httparse::Error::Token => "the request line is not METHOD PATH HTTP/1.x (or the path is not UTF-8)",
        httparse::Error::TooManyHeaders => "too many header lines",
        httparse::Error::Version => "the version is not HTTP/1.0 or HTTP/1.1",
    }
}

/// One line for the transcript: what the request is, or why it is not one.
pub fn describe(result: &Result<Request, BadRequest>) -> String {
    match result {
        // The method and path may hold any UTF-8: escaped, so that no control character reaches the terminal.
        Ok(r) => format!(
            "the request: {} {} HTTP/1.{}, {} header{}, a head of {} bytes",
            crate::escape::escape(r.method.as_bytes()),
            crate::escape::escape(r.path.as_bytes()),
            r.version,
            r.headers,
            if r.headers == 1 { "" } else { "s" },
            r.head_len
        ),
        Err(bad) => format!("a bad request, answered {} {}: {}", bad.status, bad.phrase(), bad.reason),
    }
}

/// The status a request is answered with: 200, or its error's.
pub fn status_of(request: &Result<Request, BadRequest>) -> u16 {
    match request {
        Ok(_) => 200,
        Err(bad) => bad.status,
    }
}

/// The reason phrase for the statuses we send.
pub fn status_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// A response head: the status line and our headers, each ending in `\r\n`, then the blank line.
///
/// `Content-Length` tells the client where the body ends, and `Connection: close` that we close afterwards.
pub fn response_head(status: u16, content_type: &str, content_length: u64) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} {}\r\n\
         Content-Type: {content_type}\r\n\
         Content-Length: {content_length}\r\n\
         Connection: close\r\n\
         \r\n",
        status_phrase(status)
    )
    .into_bytes()
}

/// A response head with `extra` header lines (`Date: …`) after ours, before the blank line.
pub fn response_head_with(status: u16, content_type: &str, content_length: u64, extra: &[(&str, String)]) -> Vec<u8> {
    let mut head = response_head(status, content_type, content_length);
    head.truncate(head.len() - 2);
    for (name, value) in extra {
        head.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// A time as HTTP writes it (RFC 9110, 5.6.7, the IMF-fixdate): `Wed, 02 Dec 2026 15:10:37 GMT`.
///
/// For `Date` (when the response was made: an origin server with a clock sends it, RFC 9110, 6.6.1) and
/// `Last-Modified` (the file's modification time, which lets a browser ask "only if it changed").
pub fn http_date(time: std::time::SystemTime) -> String {
    let secs = time.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (hour, minute, second) = (rest / 3600, rest % 3600 / 60, rest % 60);
    // 1970-01-01 was a Thursday.
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    // Days to a civil date (Howard Hinnant's algorithm), for days since 1970 (so no negative years).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS[(month - 1) as usize];
    format!("{weekday}, {day:02} {month} {year} {hour:02}:{minute:02}:{second:02} GMT")
}

/// What we know of a file's text, for [`content_type`].
pub enum Text<'a> {
    /// Every byte was checked and is UTF-8 (serve-text reads the whole file first).
    Checked,
    /// Not known yet: the function tells, and is called only for a textual type.
    Check(&'a dyn Fn() -> bool),
    /// Not looked at: the bytes are sent as they are (serve-binary).
    Unchecked,
}

/// The types that are text although they are not `text/*`.
const TEXTUAL: [&str; 4] = ["application/javascript", "application/json", "application/xml", "image/svg+xml"];

/// The one `Content-Type` policy: the type the file's extension names, with `; charset=utf-8` only for a textual
/// type whose bytes are known to be UTF-8.
///
/// An unknown extension is `application/octet-stream` (the client may only save it), except for a file known to
/// be UTF-8 text, which is `text/plain`.
pub fn content_type(path: &std::path::Path, text: Text) -> String {
    let guessed = mime_guess::from_path(path).first();
    let essence = match &guessed {
        Some(mime) => mime.essence_str().to_string(),
        None if matches!(text, Text::Checked) => "text/plain".to_string(),
        None => return "application/octet-stream".to_string(),
    };
    let textual = essence.starts_with("text/") || TEXTUAL.contains(&essence.as_str());
    let utf8 = match text {
        Text::Checked => true,
        Text::Check(is_utf8) => textual && is_utf8(),
        Text::Unchecked => false,
    };
    if textual && utf8 { format!("{essence}; charset=utf-8") } else { essence }
}

/// A whole error response whose plain-text body says what was wrong.
pub fn error_response(bad: &BadRequest) -> Vec<u8> {
    error_response_with(bad, &[])
}

/// [`error_response`], with `extra` header lines after the status's own.
pub fn error_response_with(bad: &BadRequest, extra: &[(&str, String)]) -> Vec<u8> {
    let body = format!("{} {}: {}\n", bad.status, bad.phrase(), bad.reason);
    let mut headers = Vec::new();
    match bad.status {
        // A 405 must say which methods the resource allows.
        405 => headers.push(("Allow", "GET, HEAD".to_string())),
        // 503: the server is short of something it will have again soon (file descriptors): say when to retry.
        503 => headers.push(("Retry-After", "1".to_string())),
        _ => {}
    }
    headers.extend(extra.iter().cloned());
    let head = response_head_with(bad.status, "text/plain; charset=utf-8", body.len() as u64, &headers);
    [head, body.into_bytes()].concat()
}

/// An `http://` URL, split the way a client needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    /// The host as written, without brackets: `127.0.0.1`, `localhost`, `::1`.
    pub host: String,
    pub port: u16,
    /// The path and query, from the first `/`: `/`, `/index.html?x=1`.
    pub path: String,
}

impl Url {
    /// Parses `http://HOST[:PORT][/PATH]`; the port defaults to 80. IPv6 hosts go in brackets: `http://[::1]:8338/`.
    pub fn parse(text: &str) -> Result<Url, String> {
        let rest = text.strip_prefix("http://").ok_or_else(|| match text.split_once("://") {
            Some((scheme, _)) => format!("{text:?} is a {scheme}:// address; this lesson speaks plain http:// only"),
            None => {
                format!("{text:?} does not start with http://; did you mean http://{}/ ?", text.trim_end_matches('/'))
            }
        })?;
        let (authority, path) = match rest.find(['/', '?']) {
            Some(at) if rest[at..].starts_with('/') => (&rest[..at], rest[at..].to_string()),
            Some(at) => (&rest[..at], format!("/{}", &rest[at..])),
            None => (rest, "/".to_string()),
        };
        let (host, port) = if let Some(inside) = authority.strip_prefix('[') {
            let (host, after) = inside.split_once(']').ok_or_else(|| format!("{text:?} has a [ without its ]"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() || host.contains(['@', ' ']) {
            return Err(format!("{text:?} has no host name we can use"));
        }
        let port = match port {
            None => 80,
            Some(port) => port.parse().map_err(|_| format!("{port:?} in {text:?} is not a port (0 to 65535)"))?,
        };
        Ok(Url { host: host.to_string(), port, path })
    }

    /// The `Host` header's value: the host, and the port unless it is HTTP's 80.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        if self.port == 80 { host } else { format!("{host}:{}", self.port) }
    }
}

/// One line for the transcript: what a response is.
pub fn describe_response(bytes: &[u8]) -> String {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(bytes) {
        Ok(httparse::Status::Complete(head_len)) => {
            let length = response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .map(|h| String::from_utf8_lossy(h.value).into_owned());
            format!(
                "the response: HTTP/1.{} {} {}, {} headers, Content-Length {}, and {} bytes of body after the head",
                response.version.unwrap_or_default(),
                response.code.unwrap_or_default(),
                response.reason.unwrap_or_default(),
                response.headers.len(),
                length.as_deref().unwrap_or("missing"),
                bytes.len() - head_len
            )
        }
        Ok(httparse::Status::Partial) if bytes.is_empty() => "no response: the server closed without a byte".into(),
        Ok(httparse::Status::Partial) => "the response's head never ended: no blank line before the close".into(),
        Err(err) => format!("the response is not HTTP/1.x ({})", parse_error(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pieces: &[&[u8]]) -> HeadReader {
        let mut reader = HeadReader::new(MAX_HEAD);
        for piece in pieces {
            reader.push(piece);
        }
        reader
    }

    #[test]
    fn a_response_head_is_crlf_framed_and_parses() {
        let head = response_head(200, "text/plain", 5);
        assert_eq!(
            head,
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
        );
        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut response = httparse::Response::new(&mut headers);
        assert_eq!(response.parse(&head).unwrap(), httparse::Status::Complete(head.len()));
        assert_eq!(response.code, Some(200));
    }

    #[test]
    fn the_head_ends_at_the_blank_line_even_across_recvs() {
        let whole = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        for cut in 0..whole.len() {
            let reader = read(&[&whole[..cut], &whole[cut..]]);
            assert_eq!(reader.status(), HeadStatus::Complete { head_len: whole.len() }, "cut at {cut}");
        }
        let mut reader = HeadReader::new(MAX_HEAD);
        for byte in whole {
            reader.push(&[*byte]);
        }
        assert_eq!(reader.status(), HeadStatus::Complete { head_len: whole.len() });
        assert_eq!(read(&[b"GET / HTTP/1.1\n\n"]).status(), HeadStatus::Complete { head_len: 16 });
        assert_eq!(read(&[b"GET / HTTP/1.1\r\n"]).status(), HeadStatus::Incomplete);
    }

    #[test]
    fn empty_lines_before_the_request_line_are_ignored() {
        let whole = b"\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
        for cut in 0..whole.len() {
            let reader = read(&[&whole[..cut], &whole[cut..]]);
            assert_eq!(reader.status(), HeadStatus::Complete { head_len: whole.len() }, "cut at {cut}");
            assert_eq!(parse_request(&reader).map(|r| r.head_len), Ok(whole.len()));
        }
    }

    #[test]
    fn a_head_that_ends_past_the_limit_is_too_large_however_it_arrives() {
        let mut head = b"GET / HTTP/1.1\r\nX: ".to_vec();
        head.resize(100, b'a');
        head.extend_from_slice(b"\r\n\r\n");
        let mut reader = HeadReader::new(64);
        assert_eq!(reader.push(&head[..50]), HeadStatus::Incomplete);
        assert_eq!(reader.push(&head[50..]), HeadStatus::TooLarge);
        assert_eq!(read(&[&head]).status(), HeadStatus::Complete { head_len: 104 }, "MAX_HEAD is far above 104");
    }

    #[test]
    fn a_path_with_control_characters_is_described_escaped() {
        let described = describe(&parse_request(&read(&[b"GET /\xC2\x9B31m HTTP/1.1\r\nHost: x\r\n\r\n"])));
        assert!(described.contains(r"/\xC2\x9B31m"), "{described}");
    }

    #[test]
    fn a_head_past_the_limit_is_too_large() {
        let mut reader = HeadReader::new(10);
        assert_eq!(reader.push(b"GET / HTT"), HeadStatus::Incomplete);
        assert_eq!(reader.push(b"P/1.1\r\n"), HeadStatus::TooLarge);
        assert_eq!(parse_request(&reader).unwrap_err().status, 431);
    }

    #[test]
    fn requests_parse_or_get_a_reason() {
        let ok = parse_request(&read(&[b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"])).unwrap();
        assert_eq!(
            (ok.method.as_str(), ok.path.as_str(), ok.version, ok.headers, ok.head_len),
            ("GET", "/a", 1, 1, 28)
        );
        assert_eq!(describe(&Ok(ok)), "the request: GET /a HTTP/1.1, 1 header, a head of 28 bytes");
        let garbage = parse_request(&read(&[b"HELLO\r\n\r\n"])).unwrap_err();
        assert_eq!(garbage.status, 400);
        assert!(garbage.reason.starts_with("not an HTTP/1.x request head"));
        let not_utf8 = parse_request(&read(&[b"GET /\xFF HTTP/1.1\r\n\r\n"])).unwrap_err();
        assert_eq!(not_utf8.status, 400);
        let cut_short = parse_request(&read(&[b"GET / HTTP/1.1\r\n"])).unwrap_err();
        assert_eq!(cut_short.status, 400);
        assert!(cut_short.reason.contains("closed before the blank line"));
    }

    #[test]
    fn urls_split_into_host_port_and_path() {
        let url = |t: &str| Url::parse(t).map(|u| (u.host, u.port, u.path));
        assert_eq!(url("http://127.0.0.1:8338/"), Ok(("127.0.0.1".into(), 8338, "/".into())));
        assert_eq!(url("http://localhost"), Ok(("localhost".into(), 80, "/".into())));
        assert_eq!(url("http://[::1]:8338/a?b"), Ok(("::1".into(), 8338, "/a?b".into())));
        assert_eq!(url("http://example.com?q"), Ok(("example.com".into(), 80, "/?q".into())));
        assert!(url("https://example.com/").is_err());
        assert!(url("http://:80/").is_err());
        assert!(url("http://host:99999/").is_err());
        assert_eq!(Url::parse("http://[::1]:8338/").unwrap().host_header(), "[::1]:8338");
        assert_eq!(Url::parse("http://localhost/").unwrap().host_header(), "localhost");
    }

    #[test]
    fn responses_are_described() {
        let ok = describe_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
        assert_eq!(
            ok,
            "the response: HTTP/1.1 200 OK, 1 headers, Content-Length 2, and 2 bytes of body after the head"
        );
        assert!(describe_response(b"").starts_with("no response"));
        assert!(describe_response(b"HTTP/1.1 200 OK\r\n").contains("never ended"));
    }

    #[test]
    fn a_405_says_which_methods_are_allowed() {
        let response = error_response(&BadRequest { status: 405, reason: "no".into() });
        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut parsed = httparse::Response::new(&mut headers);
        let httparse::Status::Complete(head_len) = parsed.parse(&response).unwrap() else { panic!("partial") };
        assert_eq!(parsed.code, Some(405));
        assert!(parsed.headers.iter().any(|h| h.name == "Allow" && h.value == b"GET, HEAD"));
        assert_eq!(&response[head_len..], b"405 Method Not Allowed: no\n");
    }

    #[test]
    fn http_11_needs_exactly_one_host() {
        let status = |head: &[u8]| parse_request(&read(&[head])).map(|r| r.path).map_err(|bad| bad.status);
        assert_eq!(status(b"GET / HTTP/1.1\r\n\r\n"), Err(400));
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), Err(400));
        assert_eq!(status(b"GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n"), Err(400));
        assert_eq!(status(b"GET / HTTP/1.0\r\n\r\n"), Ok("/".into()), "HTTP/1.0 needs no Host");
        assert_eq!(status(b"GET / HTTP/1.1\r\nHOST: a\r\n\r\n"), Ok("/".into()));
    }

    #[test]
    fn an_absolute_target_becomes_its_path() {
        assert_eq!(origin_form("http://localhost:8338/a/b?c"), "/a/b?c");
        assert_eq!(origin_form("HTTP://localhost"), "/");
        assert_eq!(origin_form("http://localhost?q"), "/");
        assert_eq!(origin_form("/a"), "/a");
        assert_eq!(origin_form("https://x/a"), "https://x/a", "not ours to serve");
    }

    #[test]
    fn dates_are_imf_fixdates() {
        let at = |secs| http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs));
        assert_eq!(at(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(at(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT", "RFC 9110's example");
        assert_eq!(at(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(at(1_798_848_000), "Sat, 02 Jan 2027 00:00:00 GMT");
    }

    #[test]
    fn a_503_says_when_to_retry() {
        let response = error_response(&BadRequest { status: 503, reason: "no fd".into() });
        assert!(response.starts_with(b"HTTP/1.1 503 Service Unavailable\r\n"));
        assert!(response.windows(15).any(|w| w == b"Retry-After: 1\r"));
    }

    #[test]
    fn an_error_response_says_why_in_its_body() {
        let bad = BadRequest { status: 400, reason: "no".into() };
        let response = error_response(&bad);
        assert!(response.starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
        assert!(response.ends_with(b"\r\n\r\n400 Bad Request: no\n"));
    }
}
