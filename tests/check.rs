//! `hhttpp check`: our own lessons pass; small wrong servers, written here, each get their own diagnosis.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread::JoinHandle;

use common::{Running, hhttpp};

/// A one-shot server of the test's own: reads a request head, writes `reply`, then closes (or keeps the
/// connection open until the client goes, when `close` is false).
fn wrong_server(reply: &'static [u8], close: bool) -> (SocketAddr, JoinHandle<()>) {
    one_shot(reply, close, true)
}

/// As `wrong_server`; with `read_first` false it writes at once, without waiting for a request.
fn one_shot(reply: &'static [u8], close: bool, read_first: bool) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a test server");
    let addr = listener.local_addr().expect("its address");
    let handle = std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else { return };
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while read_first && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = stream.write_all(reply);
        if !close {
            // Hold the connection open until the checker gives up and closes its side.
            let _ = stream.read(&mut buf);
        }
    });
    (addr, handle)
}

/// Runs `hhttpp check LESSON --against ADDR` and returns (exit code, stdout).
fn check(lesson: &str, addr: SocketAddr, extra: &[&str]) -> (Option<i32>, String) {
    let against = addr.to_string();
    let mut args = vec!["check", lesson, "--against", &against];
    args.extend_from_slice(extra);
    let out = hhttpp(&args).output().expect("run hhttpp check");
    (out.status.code(), String::from_utf8(out.stdout).expect("UTF-8"))
}

#[test]
fn our_own_lessons_pass_the_check() {
    for lesson in ["accept", "echo-request", "serve-text", "serve-binary"] {
        let mut server = Running::start(&["lesson", lesson, "--port", "0"]);
        let (code, out) = check(lesson, server.address(), &[]);
        let done = server.finish();
        assert!(done.status.success(), "{lesson}: {}", done.stderr);
        assert_eq!(code, Some(0), "{lesson}:\n{out}");
        assert!(out.contains("✓ "), "{out}");
    }
    let bound = TcpListener::bind("127.0.0.1:0").expect("a listening socket, as the bind lesson leaves one");
    let (code, out) = check("bind", bound.local_addr().expect("address"), &[]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn the_blogs_lf_only_reply_without_a_length_gets_three_diagnoses() {
    let (addr, server) = wrong_server(b"HTTP/1.1 200 OK\n\n<h1>Hello World</h1>", true);
    let (code, out) = check("serve-text", addr, &[]);
    server.join().expect("server thread");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("✗ expected \\r\\n after the status line, got \\n\n    \"HTTP/1.1 200 OK\\n\\n<h1>Hello World</h1>\"\n                    ^"), "{out}");
    assert!(out.contains("✗ no Content-Length header"));
    assert!(out.contains("✗ no Content-Type header"));
    assert!(out.contains("4 problems"), "the three, and the first differing byte: {out}");
}

#[test]
fn a_wrong_content_length_is_diagnosed() {
    let reply = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 24\r\nConnection: close\r\n\r\n<h1>Hello World</h1>";
    let (addr, server) = wrong_server(reply, true);
    let (code, out) = check("serve-text", addr, &[]);
    server.join().expect("server thread");
    assert_eq!(code, Some(1));
    assert!(out.contains("✗ Content-Length says 24, but the body has 20 bytes"), "{out}");
    assert!(out.contains("hint: count the body's bytes after encoding it"));
}

#[test]
fn an_http_1_0_reply_is_diagnosed() {
    let reply = b"HTTP/1.0 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 20\r\nConnection: close\r\n\r\n<h1>Hello World</h1>";
    let (addr, server) = wrong_server(reply, true);
    let (code, out) = check("serve-text", addr, &[]);
    server.join().expect("server thread");
    assert_eq!(code, Some(1));
    assert!(out.contains("✗ the status line says HTTP/1.0; the lesson answers HTTP/1.1"), "{out}");
    assert!(out.contains("2 problems"), "that, and the differing byte: {out}");
}

#[test]
fn a_reply_that_never_ends_is_diagnosed() {
    let (addr, server) = wrong_server(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<h1>Hello World</h1>", false);
    let (code, out) = check("serve-text", addr, &["--timeout", "0.3"]);
    server.join().expect("server thread");
    assert_eq!(code, Some(1));
    assert!(out.contains("and the connection was still open when --timeout passed"), "{out}");
    assert!(out.contains("✗ the reply never ended: after 0.3 s the server had neither closed the connection"), "{out}");
}

#[test]
fn a_server_that_answers_the_accept_lesson_is_told_it_should_not() {
    let (addr, server) = one_shot(b"hello", true, false);
    let (code, out) = check("accept", addr, &["--timeout", "0.5"]);
    server.join().expect("server thread");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("differs from hhttpp lesson accept at byte 0: expected the end, got \"hello\""), "{out}");
}

#[test]
fn a_server_that_never_closes_fails_the_accept_check() {
    let (addr, server) = one_shot(b"", false, false);
    let (code, out) = check("accept", addr, &["--timeout", "0.3"]);
    server.join().expect("server thread");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("✗ the connection was still open after 0.3 s"), "{out}");
}

#[test]
fn check_refuses_the_client_lesson_and_unknown_names() {
    let out = hhttpp(&["check", "fetch", "--against", "127.0.0.1:1"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"fetch\" is not a server lesson"));
    let out = hhttpp(&["check", "nope", "--against", "127.0.0.1:1"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
}
