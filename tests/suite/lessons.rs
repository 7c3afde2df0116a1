//! Each lesson, run as the real binary on port 0 with a real client, pinned by a snapshot in `snapshots/`.
//!
//! Every test also reads the hex dumps back out of the transcript and checks them against the bytes that really
//! crossed the socket: the snapshot pins what the lesson printed, and these checks make sure it was true.

use std::net::{TcpListener, TcpStream};

use crate::common::{REQUEST, Running, dumped_bytes, exchange, hhttpp, settings};

/// Runs `hhttpp lesson ARGS --port 0 --full-dump`, sends `request` (when given) and returns the transcript and the
/// reply the client got.
fn run_with_client(args: &[&str], request: Option<&[u8]>) -> (String, Vec<u8>) {
    let mut all = vec!["lesson"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--port", "0", "--full-dump"]);
    let mut lesson = Running::start(&all);
    let addr = lesson.address();
    let reply = request.map(|request| exchange(addr, request)).unwrap_or_default();
    let done = lesson.finish();
    assert!(done.status.success(), "{args:?} failed: {}\n{}", done.stderr, done.stdout);
    assert_eq!(done.stderr, "", "a lesson that succeeds prints nothing on stderr");
    (done.stdout, reply)
}

/// The reply split at the blank line, with its head parsed by a strict HTTP/1.1 parser.
fn parse_reply(reply: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut response = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(head_len) = response.parse(reply).expect("a valid HTTP/1.1 response") else {
        panic!("the response head is incomplete: {reply:?}")
    };
    assert_eq!(response.version, Some(1), "HTTP/1.1");
    let headers = response
        .headers
        .iter()
        .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).into_owned()))
        .collect();
    (response.code.expect("a status code"), headers, reply[head_len..].to_vec())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

#[test]
fn bind_listens_and_a_second_bind_gets_eaddrinuse() {
    let (transcript, _) = run_with_client(&["bind"], None);
    assert!(transcript.contains("listen(3, 1) = 0"));
    assert!(transcript.contains("= -1 EADDRINUSE (Address already in use)"));
    assert!(transcript.contains("close(4) = 0") && transcript.contains("close(3) = 0"));
    settings().bind(|| insta::assert_snapshot!("bind", transcript));
}

#[test]
fn bind_reports_a_port_in_use_and_exits_1() {
    // Another program (this test) holds a port; the lesson's own bind must fail, and say what to try.
    let holder = TcpListener::bind("127.0.0.1:0").expect("hold a port");
    let port = holder.local_addr().expect("held port").port().to_string();
    let done = hhttpp(&["lesson", "bind", "--port", &port]).output().expect("run hhttpp");
    assert_eq!(done.status.code(), Some(1));
    let stdout = String::from_utf8(done.stdout).expect("UTF-8 transcript");
    let stderr = String::from_utf8(done.stderr).expect("UTF-8 message");
    assert!(stderr.contains("address already in use (another program has the port; try --port 0)"));
    assert!(!stdout.contains("listening on"), "a lesson that could not bind listens nowhere");
    let both = format!("{stdout}--- stderr ---\n{stderr}--- exit status: 1");
    settings().bind(|| insta::assert_snapshot!("bind_port_in_use", both));
}

#[test]
fn accept_takes_one_connection_and_closes_it_unread() {
    // The client sends nothing: closing a socket with unread data would send a reset instead of a clean close.
    let mut lesson = Running::start(&["lesson", "accept", "--port", "0"]);
    let addr = lesson.address();
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(crate::common::PATIENCE)).expect("timeout");
    let mut reply = Vec::new();
    std::io::Read::read_to_end(&mut stream, &mut reply).expect("a clean close");
    assert!(reply.is_empty(), "the accept lesson sends nothing");
    let me = stream.local_addr().expect("client address");
    drop(stream); // as a client does once the server has closed: the server's side then settles in TIME_WAIT
    let done = lesson.finish();
    assert!(done.status.success(), "{}", done.stderr);
    assert!(done.stdout.contains(&format!("sin_port=htons({})", me.port())), "the transcript names our port");
    assert!(done.stdout.contains("SOCK_CLOEXEC) = 4"));
    settings().bind(|| insta::assert_snapshot!("accept", done.stdout));
}

#[test]
fn echo_request_sends_back_exactly_the_bytes_it_received() {
    let (transcript, reply) = run_with_client(&["echo-request"], Some(REQUEST));
    let (status, headers, body) = parse_reply(&reply);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(header(&headers, "content-length"), Some(REQUEST.len().to_string().as_str()));
    assert_eq!(body, REQUEST);
    assert_eq!(dumped_bytes(&transcript, "◀"), REQUEST, "the ◀ dumps are the request's bytes");
    assert_eq!(dumped_bytes(&transcript, "▶"), reply, "the ▶ dumps are the reply's bytes");
    settings().bind(|| insta::assert_snapshot!("echo_request", transcript));
}

#[test]
fn serve_text_sends_the_blogs_page_framed_for_http_1_1() {
    let (transcript, reply) = run_with_client(&["serve-text"], Some(REQUEST));
    let (status, headers, body) = parse_reply(&reply);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(header(&headers, "content-length"), Some("20"));
    assert_eq!(header(&headers, "connection"), Some("close"));
    assert_eq!(body, b"<h1>Hello World</h1>");
    assert_eq!(dumped_bytes(&transcript, "◀"), REQUEST);
    assert_eq!(dumped_bytes(&transcript, "▶"), reply);
    settings().bind(|| insta::assert_snapshot!("serve_text", transcript));
}

#[test]
fn serve_text_serves_a_named_html_file() {
    let (transcript, reply) = run_with_client(&["serve-text", "assets/index.html"], Some(REQUEST));
    let page = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/index.html")).expect("the page");
    let (status, headers, body) = parse_reply(&reply);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(body, page);
    assert_eq!(dumped_bytes(&transcript, "▶"), reply);
}

#[test]
fn serve_binary_sends_header_then_file() {
    // No file named: the built-in copy of the picture, as every `--client` run of the snapshot serves it.
    let (transcript, reply) = run_with_client(&["serve-binary"], Some(REQUEST));
    let picture = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/ice-caps.jpg")).expect("the picture");
    let (status, headers, body) = parse_reply(&reply);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("image/jpeg"));
    assert_eq!(header(&headers, "content-length"), Some(picture.len().to_string().as_str()));
    assert_eq!(body, picture, "the body is the file, byte for byte");
    assert!(body.starts_with(&[0xFF, 0xD8, 0xFF]), "a JPEG");
    assert_eq!(dumped_bytes(&transcript, "◀"), REQUEST);
    assert_eq!(dumped_bytes(&transcript, "▶"), reply);
    // The header and the file go in two sendalls, the header first.
    let header_at =
        transcript.find(">>> client_connection.send(first_line_of_response.encode())").expect("header sendall");
    let data_at = transcript.find(">>> client_connection.sendall(data)").expect("data sendall");
    assert!(header_at < data_at);
    assert!(transcript.contains("ff d8 ff e0"), "the dump shows the JPEG's first bytes");
    settings().bind(|| insta::assert_snapshot!("serve_binary", transcript));
}

#[test]
fn a_connection_that_sends_nothing_is_reported_and_the_next_one_is_served() {
    let mut lesson = Running::start(&["lesson", "serve-text", "--port", "0"]);
    let addr = lesson.address();
    // A browser's spare connection: opened, then closed without a request.
    drop(TcpStream::connect(addr).expect("connect the spare connection"));
    let reply = exchange(addr, REQUEST);
    let done = lesson.finish();
    assert!(done.status.success(), "{}", done.stderr);
    assert!(reply.ends_with(b"<h1>Hello World</h1>"));
    assert!(done.stdout.contains("recvfrom(4, buf, 4096, 0, NULL, NULL) = 0"));
    assert!(done.stdout.contains("closed the connection without sending a request"));
    assert_eq!(done.stdout.matches("accept4(3, ").count(), 2, "{}", done.stdout);
}

#[test]
fn lessons_lists_every_lesson_in_order() {
    let done = hhttpp(&["lessons"]).output().expect("run hhttpp lessons");
    assert!(done.status.success());
    let text = String::from_utf8(done.stdout).expect("UTF-8");
    let names: Vec<_> = hhttpp::lessons::LESSONS.iter().map(|l| l.name).collect();
    let positions: Vec<_> = names.iter().map(|n| text.find(&format!(" {n} ")).expect("listed")).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "in order");
    settings().bind(|| insta::assert_snapshot!("lessons", text));
}
