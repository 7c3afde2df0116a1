//! `hhttpp check`: our own lessons pass; small servers written here, right in other ways or wrong, each get the
//! verdict a strict, fair HTTP/1.1 client would give; and real servers (nginx, python's http.server) are judged.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::common::{Running, hhttpp};

/// The lesson serve-text's reply, as the lesson sends it.
const LESSON_REPLY: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 20\r\nConnection: close\r\n\r\n<h1>Hello World</h1>";

/// What a test server does after writing its reply.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Then {
    /// Close the connection.
    Close,
    /// Keep it open until the client goes (a keep-alive server).
    Wait,
    /// Keep sending until the client goes (a server stuck in a loop), at most `MAX_ENDLESS` bytes.
    Endless,
}

/// How much an endless server sends at most, so that a test that fails cannot fill memory for ever.
const MAX_ENDLESS: usize = 512 * 1024 * 1024;

/// A one-shot server of the test's own: reads a request head, writes `reply`, then does as `then` says.
fn server(reply: &'static [u8], then: Then) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a test server");
    let addr = listener.local_addr().expect("its address");
    let handle = std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else { return };
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = stream.write_all(reply);
        match then {
            Then::Close => {}
            Then::Wait => {
                let _ = stream.read(&mut buf);
            }
            Then::Endless => {
                let chunk = vec![b'x'; 64 * 1024];
                let mut sent = 0;
                while sent < MAX_ENDLESS && stream.write_all(&chunk).is_ok() {
                    sent += chunk.len();
                }
            }
        }
    });
    (addr, handle)
}

/// Runs `hhttpp check LESSON --against ADDR EXTRA…` and returns (exit code, stdout).
fn check(lesson: &str, addr: SocketAddr, extra: &[&str]) -> (Option<i32>, String) {
    let against = addr.to_string();
    let mut args = vec!["check", lesson, "--against", &against];
    args.extend_from_slice(extra);
    let out = hhttpp(&args).output().expect("run hhttpp check");
    (out.status.code(), String::from_utf8(out.stdout).expect("UTF-8"))
}

/// Serves `reply` once, checks it against serve-text, and returns (exit code, stdout).
fn judged(reply: &'static [u8], then: Then) -> (Option<i32>, String) {
    let (addr, server) = server(reply, then);
    let result = check("serve-text", addr, &["--timeout", "2"]);
    server.join().expect("server thread");
    result
}

#[test]
fn our_own_lessons_pass_the_check() {
    for lesson in ["accept", "echo-request", "serve-text", "serve-binary"] {
        let mut server = Running::start(&["lesson", lesson, "--port", "0"]);
        let (code, out) = check(lesson, server.address(), &["--exact"]);
        let done = server.finish();
        assert!(done.status.success(), "{lesson}: {}", done.stderr);
        assert_eq!(code, Some(0), "{lesson}:\n{out}");
        assert!(out.contains("✓ the server answers as hhttpp lesson"), "{out}");
    }
    let bound = TcpListener::bind("127.0.0.1:0").expect("a listening socket, as the bind lesson leaves one");
    let (code, out) = check("bind", bound.local_addr().expect("address"), &[]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn the_same_headers_in_another_order_and_case_mean_the_same() {
    let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 20\r\nconnection: close\r\ncontent-type: text/html; charset=utf-8\r\n\r\n<h1>Hello World</h1>";
    let (code, out) = judged(reply, Then::Close);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("framing: ✓") && out.contains("meaning: ✓"), "{out}");
    assert!(out.contains("bytes: · they differ from the lesson's at byte 17"), "information only: {out}");
    let (code, out) = {
        let (addr, server) = server(reply, Then::Close);
        let result = check("serve-text", addr, &["--exact"]);
        server.join().expect("server thread");
        result
    };
    assert_eq!(code, Some(1), "--exact requires the bytes: {out}");
    assert!(out.contains("bytes: ✗ they differ"), "{out}");
}

#[test]
fn a_chunked_reply_and_an_interim_100_continue_are_read_as_http_reads_them() {
    let chunked = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n<h1>\r\n10\r\nHello World</h1>\r\n0\r\n\r\n";
    let (code, out) = judged(chunked, Then::Close);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("✗"), "a chunked body needs no Content-Length: {out}");
    let continued = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 20\r\nConnection: close\r\n\r\n<h1>Hello World</h1>";
    let (code, out) = judged(continued, Then::Close);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("100"), "the interim response is named: {out}");
}

#[test]
fn a_keep_alive_server_is_judged_as_soon_as_its_body_is_whole() {
    let started = Instant::now();
    let (code, out) = judged(LESSON_REPLY, Then::Wait);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("a whole response, as its framing says"), "{out}");
    assert!(started.elapsed() < Duration::from_secs(1), "no waiting for the timeout: {:?}", started.elapsed());
}

#[test]
fn invalid_framing_is_named_each_time() {
    let cases: [(&'static [u8], &str); 5] = [
        (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 20\r\nContent-Length: 21\r\n\r\n<h1>Hello World</h1>",
            "Content-Length",
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: +20\r\n\r\n<h1>Hello World</h1>", "+20"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nX-Note: a\0b\r\nContent-Length: 20\r\n\r\n<h1>Hello World</h1>",
            "NUL",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nX-Note: a\rb\r\nContent-Length: 20\r\n\r\n<h1>Hello World</h1>",
            "bare \\r",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nTransfer-Encoding: chunked\r\nContent-Length: 20\r\n\r\n14\r\n<h1>Hello World</h1>\r\n0\r\n\r\n",
            "both Transfer-Encoding and Content-Length",
        ),
    ];
    for (reply, named) in cases {
        let (code, out) = judged(reply, Then::Close);
        assert_eq!(code, Some(1), "{named}: {out}");
        let framing = out.split("framing: ✗").nth(1).unwrap_or_else(|| panic!("no framing problem for {named}: {out}"));
        let framing = framing.split("meaning:").next().unwrap_or_default();
        assert!(framing.contains(named), "{named} is named in the framing verdict: {framing}");
    }
}

#[test]
fn the_blogs_reply_gets_every_problem_in_the_first_round() {
    let (code, out) = judged(b"HTTP/1.1 200 OK\n\n<h1>Hello World</h1>", Then::Close);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("  ✗ expected \\r\\n"), "the bare \\n, with its caret: {out}");
    assert!(out.contains("no Content-Length header"), "{out}");
    assert!(out.contains("Content-Length: 20"), "the hint gives the body's length: {out}");
    assert!(out.contains("Content-Type"), "the missing type, in the meaning verdict: {out}");
    assert!(out.contains("\"HTTP/1.1 200 OK\\n\\n<h1>Hello World</h1>\"\n                      ^"), "{out}");
}

#[test]
fn a_reply_that_never_ends_is_diagnosed() {
    let (addr, server) = server(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<h1>Hello World</h1>", Then::Wait);
    let (code, out) = check("serve-text", addr, &["--timeout", "0.3"]);
    server.join().expect("server thread");
    assert_eq!(code, Some(1));
    assert!(out.contains("and the connection was still open when --timeout passed"), "{out}");
    assert!(out.contains("never ended"), "{out}");
}

#[test]
fn an_endless_body_is_cut_at_a_bound_and_judged() {
    let (addr, server) =
        server(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20\r\n\r\n", Then::Endless);
    // python's resource module reads the child's peak memory after it ends.
    let measure = "import resource, subprocess, sys\n\
                   done = subprocess.run(sys.argv[1:], capture_output=True)\n\
                   print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n\
                   sys.stdout.write(done.stdout.decode())";
    let against = addr.to_string();
    let out = Command::new("python3")
        .args(["-c", measure, env!("CARGO_BIN_EXE_hhttpp"), "check", "serve-text", "--against", &against])
        .env("NO_COLOR", "1")
        .output()
        .expect("python3");
    server.join().expect("server thread");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (first, report) = stdout.split_once('\n').expect("python's line, then the report");
    let (code, peak_kib) = first.split_once(' ').expect("status and peak");
    assert_eq!(code, "1", "{report}");
    let peak_mib = peak_kib.trim().parse::<u64>().expect("a number of KiB") / 1024;
    assert!(peak_mib < 100, "peak memory {peak_mib} MiB");
    assert!(report.contains("more than its framing says") || report.contains("too big"), "{report}");
}

#[test]
fn a_server_that_answers_the_accept_lesson_is_told_it_should_not() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let server = std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let _ = stream.write_all(b"hello");
        }
    });
    let (code, out) = check("accept", addr, &["--timeout", "0.5"]);
    server.join().expect("server thread");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("✗ the server sent 5 bytes; the accept lesson sends nothing"), "{out}");
}

#[test]
fn a_server_that_never_closes_fails_the_accept_check() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let server = std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let _ = stream.read(&mut [0u8; 16]);
        }
    });
    let (code, out) = check("accept", addr, &["--timeout", "0.3"]);
    server.join().expect("server thread");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("✗ the connection was still open after 0.3 s"), "{out}");
}

#[test]
fn check_refuses_the_client_lesson_unknown_names_a_long_timeout_and_a_fifo() {
    let out = hhttpp(&["check", "fetch", "--against", "127.0.0.1:1"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"fetch\" is not a server lesson"));
    let out = hhttpp(&["check", "nope", "--against", "127.0.0.1:1"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = hhttpp(&["check", "serve-text", "--against", "127.0.0.1:1", "--timeout", "86400"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "a day is no timeout for one reply");
    let dir = crate::common::temp_dir();
    let fifo = dir.path().join("fifo");
    rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, rustix::fs::Mode::RWXU).expect("a FIFO");
    let started = Instant::now();
    let out = hhttpp(&["check", "serve-binary", "--against", "127.0.0.1:1"]).arg(&fifo).output().expect("run");
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("it is a FIFO (a named pipe), not a regular file"));
    assert!(started.elapsed() < Duration::from_secs(1), "a FIFO does not block the check");
}

#[test]
fn every_address_of_the_name_is_tried_and_the_one_judged_is_named() {
    // The lesson listens on 127.0.0.1 only; the name has ::1 first, which refuses.
    let mut server = Running::start(&["lesson", "serve-text", "--port", "0"]);
    let port = server.address().port();
    let against = format!("two-addresses:{port}");
    let Some(out) = crate::common::with_two_addresses(&["check", "serve-text", "--against", &against]) else { return };
    let _ = server.finish();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("cannot connect to [::1]:{port}: connection refused")), "{stdout}");
    assert!(stdout.contains(&format!("connected to 127.0.0.1:{port} (address 2 of 2)")), "{stdout}");
}

#[test]
fn check_serve_folder_holds_a_server_to_the_lessons_answers() {
    let mut lesson = Running::start(&["lesson", "serve-folder", "--port", "0", "--quiet"]);
    let addr = lesson.address();
    let (code, out) = check("serve-folder", addr, &["assets/site"]);
    lesson.interrupt();
    let _ = lesson.finish();
    assert_eq!(code, Some(0), "{out}");
    for asked in ["GET / (", "GET /hhttpp-check-no-such-file", "HEAD / (", "DELETE / (", "GET /%2e%2e/"] {
        assert!(out.contains(&format!("── {asked}")), "{asked}: {out}");
    }
    assert_eq!(out.matches("meaning: ✓").count(), 5, "{out}");
}

#[test]
fn check_serve_folder_names_pythons_differences() {
    if !crate::common::have(crate::common::Need::Python3, "python3", "--version") {
        return;
    }
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let mut python = Command::new("python3")
        .args(["-u", "-m", "http.server", &port.to_string(), "--bind", "127.0.0.1", "--directory", "assets/site"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 -m http.server");
    // It says "Serving HTTP on … port N" once it listens.
    let mut first = [0u8; 16];
    let _ = python.stdout.as_mut().expect("piped").read(&mut first);
    let (code, out) = check("serve-folder", SocketAddr::from(([127, 0, 0, 1], port)), &["assets/site"]);
    let _ = python.kill();
    let _ = python.wait();
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("the status is 501, ours is 405 Method Not Allowed"), "{out}");
    assert!(out.contains("the status line says HTTP/1.0"), "{out}");
    assert!(out.contains("✗ 4 of 5 replies differ"), "{out}");
}

#[test]
fn nginx_serving_the_lessons_body_passes_with_its_extra_headers_as_information() {
    let Some(nginx) = crate::common::Nginx::start("<h1>Hello World</h1>") else { return };
    let started = Instant::now();
    let (code, out) = check("serve-text", nginx.addr, &[]);
    let took = started.elapsed();
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("framing: ✓") && out.contains("meaning: ✓"), "{out}");
    assert!(out.contains("headers ours does not send: Server, Date"), "{out}");
    assert!(took < Duration::from_secs(1), "{took:?}");
}
