//! How the transcript writes things down: socket addresses and errors in strace's shape, and bytes as escaped text.
//!
//! Everything here is a pure function from values to text, so it is easy to test and to hold against `strace`
//! output and `man 2 bind`.

use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;

/// A socket address the way strace prints a `struct sockaddr_in` or `sockaddr_in6`.
///
/// `127.0.0.1:8338` becomes `{sa_family=AF_INET, sin_port=htons(8338), sin_addr=inet_addr("127.0.0.1")}`. The port
/// is always written as `htons(N)` (and addresses as `host:N`), the one form the snapshot filter masks.
pub fn sockaddr(addr: &SocketAddr) -> String {
    match addr {
        SocketAddr::V4(v4) => {
            format!("{{sa_family=AF_INET, sin_port=htons({}), sin_addr=inet_addr(\"{}\")}}", v4.port(), v4.ip())
        }
        SocketAddr::V6(v6) => format!(
            "{{sa_family=AF_INET6, sin6_port=htons({}), sin6_flowinfo=htonl({}), \
             inet_pton(AF_INET6, \"{}\", &sin6_addr), sin6_scope_id={}}}",
            v6.port(),
            v6.flowinfo(),
            v6.ip(),
            v6.scope_id()
        ),
    }
}

/// The size of the C struct behind `addr`, the `addrlen` argument the kernel is given or returns.
pub fn sockaddr_len(addr: &SocketAddr) -> usize {
    match addr {
        SocketAddr::V4(_) => std::mem::size_of::<libc::sockaddr_in>(),
        SocketAddr::V6(_) => std::mem::size_of::<libc::sockaddr_in6>(),
    }
}

/// The address family's C name, as `socket(2)` and strace spell it.
pub fn family(addr: &SocketAddr) -> &'static str {
    match addr {
        SocketAddr::V4(_) => "AF_INET",
        SocketAddr::V6(_) => "AF_INET6",
    }
}

/// An address as a person types it: `127.0.0.1:8338`, `[::1]:8338`.
pub fn host_port(addr: &SocketAddr) -> String {
    addr.to_string()
}

/// A failed call's result as strace prints it: `-1 EADDRINUSE (Address already in use)`.
pub fn errno_result(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(code) => format!("-1 {} ({})", errno_name(code), strerror(code)),
        // Not an errno (it did not come from the kernel): say so rather than invent one.
        None => format!("-1 ({err})"),
    }
}

/// The kernel's symbolic name for an errno value, for the errors a socket program meets.
pub fn errno_name(code: i32) -> String {
    let name = match code {
        libc::EPERM => "EPERM",
        libc::EINTR => "EINTR",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EINVAL => "EINVAL",
        libc::ENFILE => "ENFILE",
        libc::EMFILE => "EMFILE",
        libc::EPIPE => "EPIPE",
        libc::ENOTSOCK => "ENOTSOCK",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::EADDRINUSE => "EADDRINUSE",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::ENETDOWN => "ENETDOWN",
        libc::ENETUNREACH => "ENETUNREACH",
        libc::ECONNABORTED => "ECONNABORTED",
        libc::ECONNRESET => "ECONNRESET",
        libc::ENOBUFS => "ENOBUFS",
        libc::EISCONN => "EISCONN",
        libc::ENOTCONN => "ENOTCONN",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::EHOSTUNREACH => "EHOSTUNREACH",
        libc::EALREADY => "EALREADY",
        libc::EINPROGRESS => "EINPROGRESS",
        _ => return format!("E{code}"),
    };
    name.to_string()
}

/// The C library's message for an errno value (`strerror(3)`), without std's " (os error N)" suffix.
pub fn strerror(code: i32) -> String {
    let message = io::Error::from_raw_os_error(code).to_string();
    match message.rfind(" (os error ") {
        Some(cut) => message[..cut].to_string(),
        None => message,
    }
}

/// Bytes as one line of text in which nothing is hidden: `"GET /\xFF HTTP/1.1\r\n"`.
///
/// Valid UTF-8 is shown as text; `\r`, `\n`, `\t`, `\\` and `"` are escaped as in Rust and C; other control bytes and
/// every byte that is not part of valid UTF-8 are shown as `\xNN`; characters that reorder text (bidirectional
/// controls such as U+202E) as `\u{202E}`. Nothing is lost, so two different byte strings
/// never look the same.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    for_each_piece(bytes, |piece| {
        out.push_str(piece);
        true
    });
    out
}

/// `escape`, cut to at most `max_chars` characters with `…` when longer, and quoted. An escape such as `\r` or
/// `\xFF` is never cut in half.
pub fn preview(bytes: &[u8], max_chars: usize) -> String {
    let mut out = String::new();
    let mut chars = 0;
    let mut cut = false;
    // Each byte gives at least one character, so the first few bytes are all a preview can need.
    let head = &bytes[..bytes.len().min(max_chars.saturating_mul(4).saturating_add(4))];
    for_each_piece(head, |piece| {
        let n = piece.chars().count();
        if chars + n > max_chars {
            cut = true;
            return false;
        }
        chars += n;
        out.push_str(piece);
        true
    });
    if cut || head.len() < bytes.len() { format!("\"{out}\"…") } else { format!("\"{out}\"") }
}

/// Calls `f` with each piece of `escape`'s output (a character, or one escape) until `f` returns false.
fn for_each_piece(bytes: &[u8], mut f: impl FnMut(&str) -> bool) {
    let mut buf = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            buf.clear();
            match c {
                '\r' => buf.push_str("\\r"),
                '\n' => buf.push_str("\\n"),
                '\t' => buf.push_str("\\t"),
                '\\' => buf.push_str("\\\\"),
                '"' => buf.push_str("\\\""),
                // Characters that reorder the text around them (bidirectional controls): shown by number.
                c if matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
                {
                    let _ = write!(buf, "\\u{{{:04X}}}", u32::from(c));
                }
                // A control character: one byte when ASCII, two for U+0080..U+009F; each byte shown as \xNN.
                c if c.is_control() => {
                    let mut utf8 = [0u8; 4];
                    for b in c.encode_utf8(&mut utf8).bytes() {
                        let _ = write!(buf, "\\x{b:02X}");
                    }
                }
                c => buf.push(c),
            }
            if !f(&buf) {
                return;
            }
        }
        for b in chunk.invalid() {
            buf.clear();
            let _ = write!(buf, "\\x{b:02X}");
            if !f(&buf) {
                return;
            }
        }
    }
}

/// A count with thousands separators, as people read it: `1,048,576`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// "1 byte", "2 bytes", "1 sendto call", "3 sendto calls".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockaddr_v4_matches_strace() {
        let addr: SocketAddr = "127.0.0.1:8338".parse().unwrap();
        assert_eq!(sockaddr(&addr), r#"{sa_family=AF_INET, sin_port=htons(8338), sin_addr=inet_addr("127.0.0.1")}"#);
        assert_eq!(sockaddr_len(&addr), 16);
    }

    #[test]
    fn sockaddr_v6_matches_strace() {
        let addr: SocketAddr = "[::1]:8338".parse().unwrap();
        assert_eq!(
            sockaddr(&addr),
            r#"{sa_family=AF_INET6, sin6_port=htons(8338), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}"#
        );
        assert_eq!(sockaddr_len(&addr), 28);
    }

    #[test]
    fn errno_result_names_the_error_like_strace() {
        let err = io::Error::from_raw_os_error(libc::EADDRINUSE);
        assert_eq!(errno_result(&err), "-1 EADDRINUSE (Address already in use)");
        let odd = io::Error::from_raw_os_error(4095);
        assert!(errno_result(&odd).starts_with("-1 E4095 ("));
    }

    #[test]
    fn escape_shows_line_ends_and_invalid_bytes() {
        assert_eq!(escape(b"GET /\xFF HTTP/1.1\r\n"), r"GET /\xFF HTTP/1.1\r\n");
        assert_eq!(escape("caf\u{e9} \"q\" \\ \t\0".as_bytes()), r#"café \"q\" \\ \t\x00"#);
        assert_eq!(escape(b"\xC3"), r"\xC3", "a lone lead byte is not valid UTF-8");
        assert_eq!(escape("a\u{202e}b".as_bytes()), r"a\u{202E}b", "a right-to-left override cannot reorder the line");
        assert_eq!(preview(b"abc", usize::MAX), "\"abc\"");
    }

    #[test]
    fn preview_cuts_long_text_without_splitting_an_escape() {
        assert_eq!(preview(b"abc", 10), "\"abc\"");
        assert_eq!(preview(b"abcdefgh\r\n", 9), "\"abcdefgh\"…");
        assert_eq!(preview(b"abcdefgh\xFF", 10), "\"abcdefgh\"…");
        assert_eq!(preview(b"abcdefgh\\\\", 11), "\"abcdefgh\\\\\"…", "an escaped backslash stays whole");
        assert_eq!(preview(&[b'a'; 10_000], 3), "\"aaa\"…");
    }

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_048_576), "1,048,576");
        assert_eq!(plural(1, "byte", "bytes"), "1 byte");
        assert_eq!(plural(2, "byte", "bytes"), "2 bytes");
    }
}
