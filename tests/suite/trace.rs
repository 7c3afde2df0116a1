//! `hhttpp trace`: a learner's own program (Python servers of ours, in tests/programs/), run under strace and
//! shown in the lessons' form, with notes, and lined up with a lesson by `--compare`.
//!
//! Needs strace and python3; without them the tests fail and say so, unless `HHTTPP_SKIP` names them.

use crate::common::{REQUEST, Running, dumped_bytes, exchange, hhttpp, settings};

fn tools() -> bool {
    use crate::common::{Need, have};
    have(Need::Strace, "strace", "-V") && have(Need::Python3, "python3", "--version")
}

/// Traces `program`, plays a client sending the canonical request, and returns (exit code, transcript, reply).
fn trace(extra: &[&str], program: &str) -> (Option<i32>, String, Vec<u8>) {
    let mut args = vec!["trace"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "python3", program]);
    let mut traced = Running::start(&args);
    let reply = exchange(traced.address(), REQUEST);
    let done = traced.finish();
    (done.status.code(), done.stdout, reply)
}

#[test]
fn a_blog_style_server_is_shown_call_by_call_with_the_bytes_on_the_wire() {
    if !tools() {
        return;
    }
    let (code, transcript, reply) = trace(&["--full-dump"], "tests/programs/blog_server.py");
    assert_eq!(code, Some(0), "the program's own exit status: {transcript}");
    assert_eq!(reply, b"HTTP/1.1 200 OK\n\n<h1>Hello World</h1>");
    assert_eq!(dumped_bytes(&transcript, "◀"), REQUEST, "the dumps hold the bytes the program received");
    assert_eq!(dumped_bytes(&transcript, "▶"), reply, "and the bytes it sent");
    assert!(transcript.contains("  listen(3, 1) = 0"));
    assert!(transcript.contains("a backlog of 1, as in the blog"));
    assert!(transcript.contains("the response: no Content-Length header"));
    assert!(transcript.contains("the response: expected \\r\\n at the end of the status line, got \\n"));
    assert!(transcript.contains("┆ stdout: listening on http://127.0.0.1:"), "the program's output passes through");
    assert!(!transcript.contains("</dev/") && !transcript.contains("</usr/"), "no file or terminal is shown");
    // The program's output and strace's report come through two pipes, so their lines may interleave differently
    // from run to run: the snapshot pins the calls, without the pass-through lines.
    // A TCP state is shown only when it was read while strace held the program after the call, so it is the state
    // the call left: a bound socket is not in the kernel's table yet, a listening one is LISTEN. (On a busy machine
    // a state may be left out, never wrong.)
    let state_of = |call: &str| {
        let line = transcript.lines().find(|l| l.contains(call)).unwrap_or_else(|| panic!("no {call}"));
        line.rsplit_once("  ⟨").map(|(_, s)| s.trim_end_matches('⟩').to_string())
    };
    assert_eq!(state_of("  bind(3, "), None, "{transcript}");
    assert!(matches!(state_of("  listen(3, 1) = 0").as_deref(), None | Some("LISTEN")), "{transcript}");
    assert!(matches!(state_of("SOCK_CLOEXEC) = 4").as_deref(), None | Some("LISTEN; fd 4: ESTABLISHED")));
    // The states are checked above; the snapshot pins the calls without them.
    let calls: String = transcript
        .lines()
        .filter(|l| !l.contains("┆ "))
        .map(|l| format!("{}\n", l.split("  ⟨").next().unwrap_or(l)))
        .collect();
    settings().bind(|| insta::assert_snapshot!("trace_blog_server", calls));
}

#[test]
fn compare_names_the_blog_servers_differences_from_serve_text() {
    if !tools() {
        return;
    }
    let (code, transcript, _) = trace(&["--compare", "serve-text"], "tests/programs/blog_server.py");
    assert_eq!(code, Some(1), "differences exit 1: {transcript}");
    assert!(transcript.contains("  ✓ listen(1)"));
    assert!(transcript.contains("  ✗ the response: no Content-Length header"));
    assert!(transcript.contains("  ✗ the response: no Content-Type header; ours says text/html; charset=utf-8"));
    assert!(transcript.contains("3 differences from the lesson"), "{transcript}");
}

#[test]
fn a_faithful_server_compares_clean() {
    if !tools() {
        return;
    }
    let (code, transcript, reply) = trace(&["--compare", "serve-text"], "tests/programs/good_server.py");
    assert_eq!(code, Some(0), "{transcript}");
    assert!(reply.ends_with(b"<h1>Hello World</h1>"));
    assert!(!transcript.contains('✗'), "{transcript}");
    assert!(transcript.contains("✓ the response matches hhttpp lesson serve-text's, byte for byte"));
}

#[test]
fn a_sloppy_server_gets_every_note_and_difference() {
    if !tools() {
        return;
    }
    let (code, transcript, _) = trace(&["--compare", "serve-text"], "tests/programs/sloppy_server.py");
    assert_eq!(code, Some(1), "{transcript}");
    assert!(transcript.contains("✗ missing: setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)"), "{transcript}");
    assert!(transcript.contains("✗ listen(1): a backlog of 5; the lesson's is 1"));
    assert!(transcript.contains("✗ recv(4096): a buffer of 1024 bytes; the lesson's is 4096"));
    assert!(transcript.contains("✗ missing: shutdown(SHUT_RDWR)"));
    assert!(transcript.contains("✗ the response: no Content-Type header"));
    assert!(transcript.contains("the process ended with 2 sockets never closed (fd 3, 4)"), "{transcript}");
}

#[test]
fn without_a_command_or_strace_it_says_what_is_missing() {
    let out = hhttpp(&["trace"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "clap: COMMAND is required");
    let out = hhttpp(&["trace", "--", "true"]).env("PATH", "/nonexistent").output().expect("run");
    assert_eq!(out.status.code(), Some(i32::from(hhttpp::error::EXIT_MISSING_TOOL)), "not a usage error");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "hhttpp: hhttpp trace runs your program under strace, which is not installed (apt-get install strace)\n",
        "one line that says how to install it"
    );
}

#[test]
fn a_forking_server_is_followed_into_its_child_with_reads_sendmsg_and_notes() {
    if !tools() {
        return;
    }
    let mut traced = Running::start(&["trace", "--", "python3", "tests/programs/forking_server.py"]);
    let addr = traced.address();
    let mut client = std::net::TcpStream::connect(addr).expect("connect");
    client.set_read_timeout(Some(crate::common::PATIENCE)).expect("timeout");
    // The request in two pieces: the second only once the child has read the first.
    let (first, second) = REQUEST.split_at(20);
    std::io::Write::write_all(&mut client, first).expect("first piece");
    traced.wait_for("read(4, buf, 4096) = 20");
    std::io::Write::write_all(&mut client, second).expect("second piece");
    let mut reply = vec![0u8; 84];
    std::io::Read::read_exact(&mut client, &mut reply).expect("the reply");
    drop(client);
    let done = traced.finish();
    let transcript = done.stdout;
    assert_eq!(done.status.code(), Some(0), "{transcript}");
    assert!(transcript.contains("bind(4, {sa_family=AF_INET, ") && transcript.contains("= -1 EADDRINUSE"));
    assert!(transcript.contains("EADDRINUSE, and this socket has no SO_REUSEADDR"), "{transcript}");
    let child: Vec<_> = transcript.lines().filter(|l| l.contains("[pid ")).collect();
    assert!(child.iter().any(|l| l.contains("sendmsg(4, msg, 0) = 84")), "the child's calls are followed: {child:#?}");
    assert!(transcript.contains("the request before this reply arrived in pieces: 2 reads"));
    assert!(transcript.contains("the read returned 0: the other side closed"));
    assert_eq!(dumped_bytes(&transcript, "◀"), REQUEST, "the child's reads, dumped");
    assert_eq!(dumped_bytes(&transcript, "▶"), reply, "sendmsg's two buffers, dumped as one reply");
}
