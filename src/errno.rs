//! The kernel's error numbers, in one table: the name strace prints, and what it means for a learner.
//!
//! A failed call comes back as `-1` and a number in `errno`. strace and `man 2` name the number (`EADDRINUSE`), the C
//! library has a message for it (`Address already in use`), and a learner needs one more sentence: what usually
//! causes it, and (for our own lessons' calls) what to try.

use std::io;

/// One row: the number, its name, and what it usually means in a socket program (`None`: see the call's man page).
struct Errno {
    code: i32,
    name: &'static str,
    meaning: Option<&'static str>,
}

const fn row(code: i32, name: &'static str, meaning: Option<&'static str>) -> Errno {
    Errno { code, name, meaning }
}

/// The errors a socket program meets.
static TABLE: [Errno; 36] = [
    row(libc::EPERM, "EPERM", None),
    row(libc::EINTR, "EINTR", Some("a signal (Ctrl-C?) interrupted the call")),
    row(libc::EBADF, "EBADF", Some("that descriptor is not open")),
    row(libc::EAGAIN, "EAGAIN", Some("nothing arrived in time (a timeout), or a non-blocking socket has nothing yet")),
    row(libc::ENOMEM, "ENOMEM", None),
    row(libc::EACCES, "EACCES", Some("not allowed: ports below 1024 need root")),
    row(libc::EFAULT, "EFAULT", None),
    row(libc::EINVAL, "EINVAL", Some("an argument the kernel does not accept here")),
    row(libc::ENFILE, "ENFILE", Some("the whole system has as many files open as it allows")),
    row(libc::EMFILE, "EMFILE", Some("this process has as many files open as its limit (ulimit -n)")),
    row(libc::ENOENT, "ENOENT", Some("no such file or directory")),
    row(libc::ENOTDIR, "ENOTDIR", None),
    row(libc::ENXIO, "ENXIO", None),
    row(libc::EXDEV, "EXDEV", None),
    row(libc::ELOOP, "ELOOP", Some("too many symbolic links on the way")),
    row(libc::ENAMETOOLONG, "ENAMETOOLONG", None),
    row(libc::ENOSPC, "ENOSPC", Some("no space left on the device")),
    row(libc::EPIPE, "EPIPE", Some("the other side has closed: nothing more can be sent")),
    row(libc::ENOTSOCK, "ENOTSOCK", None),
    row(libc::EPROTONOSUPPORT, "EPROTONOSUPPORT", None),
    row(libc::EOPNOTSUPP, "EOPNOTSUPP", None),
    row(libc::EAFNOSUPPORT, "EAFNOSUPPORT", None),
    row(
        libc::EADDRINUSE,
        "EADDRINUSE",
        Some("another socket has this address and port (a running server, or old connections in TIME_WAIT)"),
    ),
    row(libc::EADDRNOTAVAIL, "EADDRNOTAVAIL", Some("no interface of this machine has that address")),
    row(libc::ENETDOWN, "ENETDOWN", None),
    row(libc::ENETUNREACH, "ENETUNREACH", None),
    row(libc::ECONNABORTED, "ECONNABORTED", None),
    row(
        libc::ECONNRESET,
        "ECONNRESET",
        Some("the other side broke the connection off (it closed with bytes unread, or crashed)"),
    ),
    row(libc::ENOBUFS, "ENOBUFS", None),
    row(libc::EISCONN, "EISCONN", None),
    row(libc::ENOTCONN, "ENOTCONN", Some("the socket is not connected (any more)")),
    row(libc::ETIMEDOUT, "ETIMEDOUT", None),
    row(libc::ECONNREFUSED, "ECONNREFUSED", Some("nothing listens at that address and port")),
    row(libc::EHOSTUNREACH, "EHOSTUNREACH", None),
    row(libc::EALREADY, "EALREADY", None),
    row(libc::EINPROGRESS, "EINPROGRESS", None),
];

fn find(code: i32) -> Option<&'static Errno> {
    TABLE.iter().find(|e| e.code == code)
}

/// The kernel's symbolic name for an errno value, as strace prints it: `EADDRINUSE` (`E4095` for one we do not know).
pub fn name(code: i32) -> String {
    find(code).map_or_else(|| format!("E{code}"), |e| e.name.to_string())
}

/// The C library's message for an errno value (`strerror(3)`), without std's " (os error N)" suffix.
pub fn message(code: i32) -> String {
    let message = io::Error::from_raw_os_error(code).to_string();
    match message.rfind(" (os error ") {
        Some(cut) => message[..cut].to_string(),
        None => message,
    }
}

/// The C library's wording for any I/O error, lowercased as our messages are.
pub fn reason(err: &io::Error) -> String {
    let text = match err.raw_os_error() {
        Some(code) => message(code),
        None => err.to_string(),
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A failed call's result as strace prints it: `-1 EADDRINUSE (Address already in use)`.
pub fn result(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(code) => format!("-1 {} ({})", name(code), message(code)),
        // Not an errno (it did not come from the kernel): say so rather than invent one.
        None => format!("-1 ({err})"),
    }
}

/// A note for a learner on an error strace named, for any program: `ECONNREFUSED: nothing listens at that …`.
pub fn note(name: &str) -> String {
    let meaning = TABLE.iter().find(|e| e.name == name).and_then(|e| e.meaning);
    format!("{name}: {}", meaning.unwrap_or("see man 2 of the call, ERRORS"))
}

/// What to try when one of our lessons' calls fails, for the errors a learner meets most.
pub fn advice(call: &str, code: i32) -> Option<&'static str> {
    Some(match (call, code) {
        ("bind", libc::EADDRINUSE) => "another program has the port; try --port 0",
        ("bind", libc::EACCES) => "ports below 1024 need root; try a port above 1023, or --port 0",
        ("bind", libc::EADDRNOTAVAIL) => "no interface of this machine has that address; try --host 127.0.0.1",
        ("sendto", libc::EPIPE | libc::ECONNRESET) => "the client hung up before the reply was complete",
        ("recvfrom", libc::ECONNRESET) => "the other side hung up without closing cleanly",
        ("recvfrom", libc::EAGAIN) => "nothing arrived within --timeout",
        ("connect", libc::ECONNREFUSED) => "nothing listens there; start a server first, e.g. hhttpp lesson serve-text",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_named_like_strace() {
        let err = io::Error::from_raw_os_error(libc::EADDRINUSE);
        assert_eq!(result(&err), "-1 EADDRINUSE (Address already in use)");
        assert!(result(&io::Error::from_raw_os_error(4095)).starts_with("-1 E4095 ("));
    }

    #[test]
    fn every_row_is_named_once() {
        for (i, row) in TABLE.iter().enumerate() {
            assert!(
                TABLE[i + 1..].iter().all(|other| other.code != row.code && other.name != row.name),
                "{}",
                row.name
            );
            assert_eq!(name(row.code), row.name);
        }
        assert_eq!(note("ECONNREFUSED"), "ECONNREFUSED: nothing listens at that address and port");
        assert_eq!(note("EWHAT"), "EWHAT: see man 2 of the call, ERRORS");
    }
}
