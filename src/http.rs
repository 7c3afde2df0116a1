//! The little HTTP the lessons need: describe a request head, and build a response head.
//!
//! Sockets carry bytes and know nothing of HTTP; this module is where bytes become HTTP. A production server would
//! also send `Date`, handle keep-alive and validate much more; we keep to what a browser needs to show a page, so
//! that every run sends the very same bytes and a snapshot can pin them.

/// How many headers we are ready to read in one request head (browsers send about 15).
const MAX_HEADERS: usize = 64;

/// What the received bytes are, as HTTP: one line for the transcript.
///
/// The bytes are parsed with `httparse`, a strict HTTP/1.x parser; nothing here assumes they are valid UTF-8.
pub fn describe_request(bytes: &[u8]) -> String {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(bytes) {
        Ok(httparse::Status::Complete(head_len)) => {
            let method = request.method.unwrap_or("?");
            let path = request.path.unwrap_or("?");
            let version = request.version.map_or("?".to_string(), |v| format!("1.{v}"));
            let count = request.headers.len();
            let mut text = format!(
                "the request: {method} {path} HTTP/{version}, {count} header{}, head ends after byte {head_len}",
                if count == 1 { "" } else { "s" }
            );
            if head_len < bytes.len() {
                text.push_str(&format!(" (then {} bytes of body)", bytes.len() - head_len));
            }
            text
        }
        Ok(httparse::Status::Partial) => {
            "the request head is not complete in these bytes: no blank line (\\r\\n\\r\\n) ends it yet".to_string()
        }
        Err(err) => format!("these bytes are not an HTTP request ({err})"),
    }
}

/// A response head: the status line and our headers, each ending in `\r\n`, then the blank line.
///
/// `Content-Length` tells the client where the body ends, and `Connection: close` that we close afterwards.
pub fn response_head(status: u16, reason: &str, content_type: &str, content_length: u64) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} {reason}\r\n\
         Content-Type: {content_type}\r\n\
         Content-Length: {content_length}\r\n\
         Connection: close\r\n\
         \r\n"
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_head_is_crlf_framed_and_parses() {
        let head = response_head(200, "OK", "text/plain", 5);
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
    fn requests_are_described_complete_partial_or_invalid() {
        assert_eq!(
            describe_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            "the request: GET / HTTP/1.1, 1 header, head ends after byte 27"
        );
        assert!(describe_request(b"GET / HTTP/1.1\r\nHost: x\r\n").contains("not complete"));
        assert!(describe_request(b"HELLO\r\n\r\n").starts_with("these bytes are not an HTTP request"));
        assert!(describe_request(b"GET /\xFF HTTP/1.1\r\n\r\n").starts_with("these bytes are not"));
    }
}
