//! Bad input gets one clear line, a documented exit status, and no panic; odd bytes are shown, never lost.

mod common;

use std::process::Stdio;

use common::{Running, dumped_bytes, exchange, hhttpp};

/// Runs `hhttpp ARGS` to the end and returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = hhttpp(args).stdin(Stdio::null()).output().expect("run hhttpp");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_missing_file_is_named_before_any_socket_is_made() {
    let (code, stdout, stderr) = run(&["lesson", "serve-binary", "no/such/picture.jpg", "--port", "0"]);
    assert_eq!(code, Some(3));
    assert_eq!(
        stderr,
        "hhttpp: cannot read \"no/such/picture.jpg\": no such file or directory \
         (the lessons serve only the file you name; check the path)\n"
    );
    assert!(!stdout.contains("socket("), "no socket for a file we cannot serve:\n{stdout}");
}

#[test]
fn a_directory_is_refused_with_a_hint() {
    for lesson in ["serve-binary", "serve-text"] {
        let (code, stdout, stderr) = run(&["lesson", lesson, "assets", "--port", "0"]);
        assert_eq!(code, Some(3), "{lesson}");
        assert_eq!(stderr, "hhttpp: cannot serve \"assets\": it is a directory (name one file in it)\n");
        assert!(!stdout.contains("socket("));
    }
}

#[test]
fn serve_text_refuses_a_binary_file_and_points_to_serve_binary() {
    let (code, stdout, stderr) = run(&["lesson", "serve-text", "assets/ice-caps.jpg", "--port", "0"]);
    assert_eq!(code, Some(3));
    assert_eq!(
        stderr,
        "hhttpp: cannot serve \"assets/ice-caps.jpg\" as text: byte 0 (0xFF) is not UTF-8 \
         (for pictures and other binary files use: hhttpp lesson serve-binary assets/ice-caps.jpg)\n"
    );
    assert!(!stdout.contains("socket("));
}

#[test]
fn a_bad_port_or_host_is_a_usage_error() {
    for args in [["--port", "70000"], ["--port", "http"], ["--host", "localhost:80"], ["--host", "999.1.1.1"]] {
        let mut all = vec!["lesson", "bind"];
        all.extend_from_slice(&args);
        let (code, stdout, stderr) = run(&all);
        assert_eq!(code, Some(2), "{args:?}");
        assert!(stderr.contains("error: invalid value"), "{args:?}: {stderr}");
        assert_eq!(stdout, "");
    }
}

#[test]
fn a_request_line_that_is_not_utf8_is_shown_escaped_and_answered_400() {
    let request = b"GET /caf\xE9\xFF HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let mut lesson = Running::start(&["lesson", "echo-request", "--port", "0"]);
    let reply = exchange(lesson.address(), request);
    let done = lesson.finish();
    assert!(done.status.success(), "{}", done.stderr);
    assert!(done.stdout.contains(r#""GET /caf\xE9\xFF HTTP/1.1\r\nHost: localhost\r\n\r\n""#), "{}", done.stdout);
    assert!(done.stdout.contains("a bad request, answered 400 Bad Request: not an HTTP/1.x request head"));
    assert!(reply.starts_with(b"HTTP/1.1 400 Bad Request\r\n"), "{}", String::from_utf8_lossy(&reply));
    assert_eq!(dumped_bytes(&done.stdout, "◀"), request, "the dump holds the very bytes, \\xFF included");
    assert_eq!(dumped_bytes(&done.stdout, "▶"), reply);
}

#[test]
fn a_header_value_that_is_not_utf8_is_echoed_exactly() {
    // HTTP allows any byte from 0x80 up in a header value; the request is valid, and the echo returns it whole.
    let request = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Name: Andr\xE9\r\n\r\n";
    let mut lesson = Running::start(&["lesson", "echo-request", "--port", "0"]);
    let reply = exchange(lesson.address(), request);
    let done = lesson.finish();
    assert!(done.status.success(), "{}", done.stderr);
    assert!(done.stdout.contains(r"X-Name: Andr\xE9\r\n"), "{}", done.stdout);
    assert!(reply.starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert!(reply.ends_with(request), "the body is exactly the bytes received");
    assert_eq!(dumped_bytes(&done.stdout, "◀"), request);
}

#[test]
fn a_garbage_request_line_is_answered_400() {
    let mut lesson = Running::start(&["lesson", "serve-text", "--port", "0"]);
    let reply = exchange(lesson.address(), b"HELLO\r\n\r\n");
    let done = lesson.finish();
    assert!(done.status.success(), "{}", done.stderr);
    assert!(reply.starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
    assert!(!reply.ends_with(b"<h1>Hello World</h1>"), "no page for a request that is not one");
    assert!(done.stdout.contains("answered 400 Bad Request"));
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let esc = "\x1b[";
    let (_, plain, _) = run(&["lesson", "bind", "--port", "0"]);
    assert!(!plain.contains(esc), "piped and NO_COLOR: plain");
    let (_, never, _) = run(&["lesson", "bind", "--port", "0", "--color", "never"]);
    assert!(!never.contains(esc));
    let (_, always, _) = run(&["lesson", "bind", "--port", "0", "--color", "always"]);
    assert!(always.contains(esc), "--color always colours even into a pipe");
    // Without NO_COLOR, `auto` into a pipe is still plain.
    let out = hhttpp(&["lesson", "bind", "--port", "0"]).env_remove("NO_COLOR").output().expect("run");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(esc));
}

#[test]
fn a_closed_stdout_ends_quietly() {
    // `hhttpp lesson bind | head -0`: the reader is gone before the lesson writes its first line.
    let mut child = hhttpp(&["lesson", "bind", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hhttpp");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "no panic, no message");
}
