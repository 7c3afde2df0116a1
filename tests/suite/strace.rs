//! The transcript against the kernel: every lesson, run under `strace -f -e trace=network,close,sendfile`, must show the
//! same socket calls, in the same order, with the same arguments and results as its transcript, and the transcript
//! must show no call that did not happen.
//!
//! Needs strace (Debian's package). Without it these tests fail and say so, unless `HHTTPP_SKIP=strace` asks to skip
//! them knowingly.

use std::collections::HashSet;
use std::io::Read;
use std::net::TcpStream;
use std::process::Command;

use crate::common::{PATIENCE, REQUEST, Running, exchange};

fn strace_available() -> bool {
    crate::common::have(crate::common::Need::Strace, "strace", "-V")
}

/// Runs `hhttpp lesson NAME ARGS --port 0` under strace, plays the lesson's client, and returns the transcript's
/// calls and strace's socket calls, both as `name(args) = result`.
fn calls_both_ways(name: &str, args: &[&str]) -> (Vec<String>, Vec<String>) {
    let dir = crate::common::temp_dir();
    let log = dir.path().join(format!("{name}.log"));
    let log_arg = log.to_string_lossy().into_owned();
    let mut all = vec!["-f", "-qq", "-e", "trace=network,close,sendfile", "-o", &log_arg, env!("CARGO_BIN_EXE_hhttpp")];
    all.extend_from_slice(&["lesson", name, "--port", "0", "--full-dump"]);
    all.extend_from_slice(args);
    let mut lesson = Running::start_program("strace", &all);
    let addr = lesson.address();
    match name {
        "bind" => {}
        "accept" => {
            let mut stream = TcpStream::connect(addr).expect("connect");
            stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
            let _ = stream.read_to_end(&mut Vec::new());
        }
        _ => {
            exchange(addr, REQUEST);
        }
    }
    let done = lesson.finish();
    assert!(done.status.success(), "{name}: {}", done.stderr);
    let strace = std::fs::read_to_string(&log).expect("strace's log");
    (transcript_calls(&done.stdout), socket_calls(&strace))
}

/// The numbered lines of a transcript: `  7  recvfrom(4, buf, 4096, 0, NULL, NULL) = 73` → `recvfrom(…) = 73`.
fn transcript_calls(transcript: &str) -> Vec<String> {
    transcript
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let (number, call) = line.split_once("  ")?;
            // The TCP state after a call (`  ⟨LISTEN⟩`) is the transcript's own reading, not part of the call.
            let call = call.split("  ⟨").next().unwrap_or(call);
            number.chars().all(|c| c.is_ascii_digit()).then(|| call.to_string())
        })
        .collect()
}

/// strace's lines for calls on sockets, in the transcript's spelling: the pid and strace's alignment removed, and
/// the data argument of `recvfrom`/`sendto` written `buf` (the transcript dumps those bytes below the call). A
/// `close` counts only for a descriptor that `socket` or `accept4` returned: the others are files and the loader's.
fn socket_calls(strace: &str) -> Vec<String> {
    let mut sockets = HashSet::new();
    let mut own = HashSet::new();
    let mut calls = Vec::new();
    for line in strace.lines() {
        // "12345 listen(3, 1)                      = 0"
        let line = line.split_once(' ').map_or(line, |(_, rest)| rest).trim_start();
        let Some((call, result)) = line.rsplit_once(" = ").map(|(c, r)| (c.trim_end(), r)) else { continue };
        // An error's result is "-1 EADDRINUSE (Address already in use)": split at the first " = " instead.
        let (call, result) = match line.find(") = -1 ") {
            Some(at) => (&line[..=at], &line[at + 4..]),
            None => (call, result),
        };
        let name = call.split('(').next().unwrap_or_default();
        let fd = call.split_once('(').and_then(|(_, a)| a.split([',', ')']).next()).unwrap_or_default();
        // hhttpp's own sockets, not the lesson's: the netlink socket it asks the TCP states on, made first and
        // moved at once to a descriptor from 100 up, out of the lesson's way (see `sock_diag::FIRST_FD`).
        if call.starts_with("socket(AF_NETLINK,") {
            own.insert(result.to_string());
            continue;
        }
        if fd.parse::<i32>().is_ok_and(|n| n >= hhttpp::trace::sock_diag::FIRST_FD)
            || (name == "close" && own.remove(fd))
        {
            continue;
        }
        match name {
            "socket" | "accept4" => {
                sockets.insert(result.to_string());
            }
            "close" if !sockets.remove(fd) => continue,
            _ => {}
        }
        calls.push(format!("{} = {result}", decode_timeval(&with_buf(call))));
    }
    calls
}

/// `sendto(4, "HTTP/1.1 200"..., 86, 0, NULL, 0)` → `sendto(4, buf, 86, 0, NULL, 0)`.
fn with_buf(call: &str) -> String {
    let Some(rest) = call.strip_prefix("recvfrom(").or_else(|| call.strip_prefix("sendto(")) else {
        return call.to_string();
    };
    let name = &call[..call.len() - rest.len()];
    let (fd, rest) = rest.split_once(", ").expect("an fd, then the data");
    // Skip the quoted string (it may hold \" escapes) and strace's "..." after a cut one.
    let mut chars = rest.char_indices().skip(1);
    let mut end = rest.len();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '"' => {
                end = i + 1;
                break;
            }
            _ => {}
        }
    }
    let after = rest[end..].trim_start_matches("...");
    format!("{name}{fd}, buf{after}")
}

/// strace 6 prints `SO_RCVTIMEO` as `SO_RCVTIMEO_OLD` (its number on 64-bit Linux, where it was never old) with
/// the `struct timeval` as 16 raw bytes; the transcript decodes them: `{tv_sec=0, tv_usec=300000}`.
fn decode_timeval(call: &str) -> String {
    let Some((head, rest)) = call.split_once("SO_RCVTIMEO_OLD, \"") else { return call.to_string() };
    let Some((quoted, tail)) = rest.split_once("\", ") else { return call.to_string() };
    let bytes = hhttpp::escape::unescape(quoted);
    let field = |at: usize| bytes.get(at..at + 8).map_or(0, |b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
    format!("{head}SO_RCVTIMEO, {{tv_sec={}, tv_usec={}}}, {tail}", field(0), field(8))
}

fn check(name: &str, args: &[&str]) {
    if !strace_available() {
        return;
    }
    let (transcript, kernel) = calls_both_ways(name, args);
    assert!(transcript.len() >= 5, "{name}: too few calls in the transcript: {transcript:#?}");
    assert_eq!(transcript, kernel, "{name}: the transcript (left) and strace (right) disagree");
}

#[test]
fn bind_shows_exactly_the_calls_strace_sees() {
    check("bind", &[]);
}

#[test]
fn accept_shows_exactly_the_calls_strace_sees() {
    check("accept", &[]);
}

#[test]
fn echo_request_shows_exactly_the_calls_strace_sees() {
    check("echo-request", &[]);
}

#[test]
fn serve_text_shows_exactly_the_calls_strace_sees() {
    check("serve-text", &[]);
}

#[test]
fn serve_binary_shows_exactly_the_calls_strace_sees() {
    check("serve-binary", &["assets/ice-caps.jpg"]);
}

#[test]
fn serve_binary_with_sendfile_shows_exactly_the_calls_strace_sees() {
    check("serve-binary", &["assets/ice-caps.jpg", "--sendfile"]);
}

#[test]
fn fetch_shows_exactly_the_calls_strace_sees() {
    if !strace_available() {
        return;
    }
    let mut server = Running::start(&["lesson", "serve-text", "--port", "0"]);
    let url = format!("http://{}/", server.address());
    let dir = crate::common::temp_dir();
    let log = dir.path().join("fetch.log");
    let log_arg = log.to_string_lossy().into_owned();
    // A numeric host: getaddrinfo then makes no calls of its own, so every socket call is the lesson's.
    let out = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=network,close", "-o", &log_arg, env!("CARGO_BIN_EXE_hhttpp")])
        .args(["lesson", "fetch", &url, "--request", "canonical", "--color", "never"])
        .output()
        .expect("run fetch under strace");
    server.finish();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let strace = std::fs::read_to_string(&log).expect("strace's log");
    let transcript = transcript_calls(&String::from_utf8_lossy(&out.stdout));
    assert!(transcript.len() >= 5, "{transcript:#?}");
    assert_eq!(transcript, socket_calls(&strace), "fetch: the transcript (left) and strace (right) disagree");
}

#[test]
fn a_read_timeout_shows_the_setsockopt_strace_sees() {
    check("serve-text", &["--timeout", "2.5"]);
}

#[test]
fn strace_timevals_are_decoded() {
    assert_eq!(
        decode_timeval(r#"setsockopt(4, SOL_SOCKET, SO_RCVTIMEO_OLD, "\0\0\0\0\0\0\0\0@\r\3\0\0\0\0\0", 16)"#),
        "setsockopt(4, SOL_SOCKET, SO_RCVTIMEO, {tv_sec=0, tv_usec=200000}, 16)"
    );
    assert_eq!(
        decode_timeval(r#"setsockopt(4, SOL_SOCKET, SO_RCVTIMEO_OLD, "\2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16)"#),
        "setsockopt(4, SOL_SOCKET, SO_RCVTIMEO, {tv_sec=2, tv_usec=0}, 16)"
    );
}

#[test]
fn the_strace_reader_keeps_socket_calls_only() {
    let log = "10 close(3)                          = 0\n\
               10 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3\n\
               10 bind(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = -1 EACCES (Permission denied)\n\
               10 recvfrom(3, \"a \\\"quoted\\\" = b\"..., 4096, 0, NULL, NULL) = 4096\n\
               10 close(3)                          = 0\n\
               10 close(3)                          = 0\n\
               10 +++ exited with 0 +++\n";
    assert_eq!(
        socket_calls(log),
        vec![
            "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3",
            "bind(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = -1 EACCES (Permission denied)",
            "recvfrom(3, buf, 4096, 0, NULL, NULL) = 4096",
            "close(3) = 0",
        ]
    );
}
