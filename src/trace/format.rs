//! How the transcript writes things down: socket addresses in strace's shape, and counts as people read them.
//!
//! Bytes are escaped by [`crate::escape`], and errors named by [`crate::errno`].
//!
//! Everything here is a pure function from values to text, so it is easy to test and to hold against `strace`
//! output and `man 2 bind`.

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
    fn counts_get_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_048_576), "1,048,576");
        assert_eq!(plural(1, "byte", "bytes"), "1 byte");
        assert_eq!(plural(2, "byte", "bytes"), "2 bytes");
    }
}

/// The width the transcript's prose keeps to: notes, headings, summaries (call lines, dumps, diagrams and the
/// per-request log lines are not wrapped: each is one record, as long as what it shows).
pub const PROSE_WIDTH: usize = 100;

/// `text` as lines of at most `width` characters, cut at spaces: the first line `first` characters narrower (for
/// what goes before it). Text that fits is returned whole, its leading spaces kept; a word longer than a line
/// stays whole on a line of its own.
pub fn wrap(text: &str, first: usize, width: usize) -> Vec<String> {
    if text.chars().count() + first <= width {
        return vec![text.to_string()];
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut room = width.saturating_sub(first).max(1);
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > room {
            lines.push(std::mem::take(&mut line));
            room = width;
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod wrap_tests {
    use super::wrap;

    #[test]
    fn prose_is_cut_at_spaces_and_long_words_stay_whole() {
        assert_eq!(wrap("one two three", 0, 7), ["one two", "three"]);
        assert_eq!(wrap("one two three", 4, 7), ["one", "two", "three"]);
        assert_eq!(wrap("a http://a-very-long-address/ b", 0, 8), ["a", "http://a-very-long-address/", "b"]);
        assert_eq!(wrap("  ✓ short", 0, 100), ["  ✓ short"]);
        assert_eq!(wrap("", 0, 100), [""]);
        assert_eq!(wrap("ünïcödé ünïcödé", 0, 7), ["ünïcödé", "ünïcödé"]);
    }
}
