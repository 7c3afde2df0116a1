//! A server lesson survives misbehaving clients, and says in its transcript what each one did.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Stdio;

use crate::common::{PATIENCE, REQUEST, Running, exchange, hhttpp};

/// A file with `bytes` in a temp folder of its own, removed when dropped.
struct TempFile {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        let dir = crate::common::temp_dir();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write a temp file");
        TempFile { _dir: dir, path }
    }

    fn path(&self) -> &str {
        self.path.to_str().expect("a UTF-8 temp path")
    }
}

fn connect(addr: std::net::SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).expect("a read timeout");
    stream
}

#[test]
fn a_request_split_over_several_writes_is_read_until_its_blank_line() {
    let mut lesson = Running::start(&["lesson", "echo-request", "--port", "0"]);
    let mut client = connect(lesson.address());
    // Each piece is sent only once the lesson has received the one before: three segments, three recvfrom calls.
    let (first, rest) = REQUEST.split_at(10);
    let (second, third) = rest.split_at(20);
    client.write_all(first).expect("first piece");
    lesson.wait_for("recvfrom(4, buf, 4096, 0, NULL, NULL) = 10");
    client.write_all(second).expect("second piece");
    lesson.wait_for("recvfrom(4, buf, 4096, 0, NULL, NULL) = 20");
    client.write_all(third).expect("third piece");
    let mut reply = Vec::new();
    client.read_to_end(&mut reply).expect("the reply");
    let done = lesson.finish();
    assert!(done.status.success(), "{}", done.stderr);
    assert!(done.stdout.contains("the request arrived in pieces: 3 recvfrom calls until its blank line"));
    assert!(reply.ends_with(REQUEST), "the echo holds all three pieces, in order");
    assert_eq!(crate::common::dumped_bytes(&done.stdout, "◀"), REQUEST);
}

#[test]
fn a_quiet_client_times_out_with_eagain_and_the_next_is_served() {
    let mut lesson = Running::start(&["lesson", "serve-text", "--port", "0", "--timeout", "0.3"]);
    let addr = lesson.address();
    let mut quiet = connect(addr);
    let reply = exchange(addr, REQUEST);
    let done = lesson.finish();
    assert!(done.status.success(), "{}", done.stderr);
    assert!(done.stdout.contains("setsockopt(4, SOL_SOCKET, SO_RCVTIMEO, {tv_sec=0, tv_usec=300000}, 16) = 0"));
    assert!(
        done.stdout.contains("recvfrom(4, buf, 4096, 0, NULL, NULL) = -1 EAGAIN (Resource temporarily unavailable)")
    );
    assert!(done.stdout.contains("it sent nothing for 0.3 s (--timeout"), "{}", done.stdout);
    assert!(reply.ends_with(b"<h1>Hello World</h1>"), "the next client is served");
    let mut rest = Vec::new();
    assert_eq!(quiet.read_to_end(&mut rest).expect("a clean close"), 0, "the quiet client was closed");
}

#[test]
fn a_head_larger_than_64_kib_is_answered_431() {
    let mut lesson = Running::start(&["lesson", "serve-text", "--port", "0"]);
    let mut client = connect(lesson.address());
    let mut huge = b"GET / HTTP/1.1\r\n".to_vec();
    while huge.len() < 70 * 1024 {
        huge.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    }
    client.write_all(&huge).expect("send 70 KiB of head");
    let mut reply = Vec::new();
    // The lesson closes with bytes of ours still unread, so the kernel may reset the connection: either way the
    // transcript must say what was sent.
    let _ = client.read_to_end(&mut reply);
    let done = lesson.finish();
    assert!(done.status.success(), "{}", done.stderr);
    assert!(done.stdout.contains("and still no blank line: we stop reading here"), "{}", done.stdout);
    assert!(done.stdout.contains("answered 431 Request Header Fields Too Large"));
    let sent = done.stdout.lines().find(|l| l.contains("▶ sent ")).expect("a reply was sent");
    assert!(sent.contains("\"HTTP/1.1 431 Request Header Fields Too Large\\r\\n"), "{sent}");
    if !reply.is_empty() {
        assert!(reply.starts_with(b"HTTP/1.1 431 "));
    }
}

#[test]
fn a_client_that_hangs_up_mid_reply_cuts_the_reply_short_and_the_lesson_ends_cleanly() {
    // 64 MiB: far more than the socket buffers hold, so the lesson is still sending when the client goes.
    let big = TempFile::new("big.bin", &vec![0x5a; 64 * 1024 * 1024]);
    let mut lesson = Running::start(&["lesson", "serve-binary", big.path(), "--port", "0"]);
    let mut client = connect(lesson.address());
    client.write_all(REQUEST).expect("send the request");
    let mut start = [0u8; 100];
    client.read_exact(&mut start).expect("the start of the reply");
    assert!(start.starts_with(b"HTTP/1.1 200 OK\r\n"));
    drop(client); // with unread bytes: the kernel answers the lesson's next segments with a reset
    let done = lesson.finish();
    assert!(done.status.success(), "a client hanging up is not the lesson's failure: {}", done.stderr);
    let failed = done.stdout.lines().find(|l| l.contains("sendto(") && l.contains("= -1 ")).expect("the failed sendto");
    assert!(
        failed.contains("EPIPE (Broken pipe)") || failed.contains("ECONNRESET (Connection reset by peer)"),
        "{failed}"
    );
    assert!(done.stdout.contains("the reply was cut short"), "{}", done.stdout);
    // The counts add up to what the kernel took: the bytes of every sendto shown, and of the hidden ones (a run cut
    // short by the failure included), are the summary's.
    let number = |text: &str| text.replace(',', "").parse::<u64>().expect("a count");
    let shown: u64 = done
        .stdout
        .lines()
        .filter(|l| l.contains("sendto(") && !l.contains("= -1 "))
        .filter_map(|l| l.split(" = ").nth(1)?.split_whitespace().next().map(number))
        .sum();
    let hidden: u64 = done
        .stdout
        .lines()
        .filter(|l| l.contains("sendto calls not shown") || l.contains("sendto call not shown"))
        // `… 4 sendto calls not shown: numbers 12 to 15, 2,097,152 bytes in all (--full-dump shows every call)`
        .filter_map(|l| l.split(" bytes in all").next()?.rsplit(", ").next().map(number))
        .sum();
    let summary = crate::common::summary(&done.stdout);
    let sent = summary.split("sent ").nth(1).and_then(|s| s.split(" bytes").next()).map(number).expect("bytes sent");
    assert_eq!(shown + hidden, sent, "{summary}");
    assert!(done.stdout.contains("  close(5) = 0") && done.stdout.contains("  close(4) = 0"), "both sockets closed");
    assert!(!done.stdout.contains("shutdown("), "no shutdown on a connection the client has reset");
}

#[test]
fn a_long_sendall_shows_its_first_and_last_calls_and_counts_the_rest() {
    // Five chunks and one byte: the file is read in chunks of CHUNK bytes, so 6 sendto calls for the body.
    let chunk = hhttpp::lessons::serve_binary::CHUNK;
    let bytes: Vec<u8> = (0..5 * chunk + 1).map(|i| (i % 253) as u8).collect();
    let file = TempFile::new("five.bin", &bytes);
    let mut lesson = Running::start(&["lesson", "serve-binary", file.path(), "--port", "0"]);
    let reply = exchange(lesson.address(), REQUEST);
    let done = lesson.finish();
    assert!(done.status.success(), "{}", done.stderr);
    assert!(reply.ends_with(&bytes), "every byte arrives, whatever the transcript shows");
    let shown: Vec<_> = done.stdout.lines().filter(|l| l.contains("sendto(5, buf, ")).collect();
    // The header's one call, the body's first three, and the body's last.
    assert_eq!(shown.len(), 5, "{shown:#?}");
    assert!(shown[1].contains(&format!("sendto(5, buf, {chunk}, 0, NULL, 0) = {chunk}")), "a whole chunk a call");
    assert!(shown[4].contains("sendto(5, buf, 1, 0, NULL, 0) = 1"), "the last call, of the last byte");
    let count = |n: usize| hhttpp::trace::format::count(n as u64);
    assert!(
        done.stdout
            .contains(&format!("… 2 sendto calls not shown: numbers 12 to 13, {} bytes in all", count(2 * chunk))),
        "{}",
        done.stdout
    );
    assert!(done.stdout.contains(&format!("sendall: {} bytes in 6 sendto calls", count(bytes.len()))));
    let total = count(reply.len());
    assert!(
        crate::common::summary(&done.stdout).contains(&format!("sent {total} bytes in 7 sendto calls")),
        "the summary counts the hidden calls"
    );
}

#[test]
fn ctrl_c_closes_the_sockets_it_printed_and_exits_130() {
    let mut lesson = Running::start(&["lesson", "echo-request", "--port", "0"]);
    let addr = lesson.address();
    let _client = connect(addr); // accepted; the lesson then waits in recvfrom
    lesson.wait_for(">>> raw_data = client_connection.recv(4096)");
    lesson.interrupt();
    let done = lesson.finish();
    assert_eq!(done.status.code(), Some(130), "{}", done.stderr);
    assert!(done.stdout.contains("recvfrom(4, buf, 4096, 0, NULL, NULL) = -1 EINTR (Interrupted system call)"));
    // The numbered close calls (the diagram below them names the closes too).
    let closes: Vec<_> = done
        .stdout
        .lines()
        .filter(|l| {
            l.trim_start()
                .split_once("  ")
                .is_some_and(|(n, call)| n.parse::<u32>().is_ok() && call.starts_with("close("))
        })
        .collect();
    assert_eq!(closes.len(), 2, "{}", done.stdout);
    assert!(closes[0].ends_with("close(4) = 0") && closes[1].ends_with("close(3) = 0"));
    assert_eq!(done.stderr, "hhttpp: interrupted by Ctrl-C (the transcript shows the sockets closed)\n");
}

#[test]
fn a_closed_stdout_mid_lesson_ends_quietly() {
    // `hhttpp lesson serve-text | head -12`: the reader leaves while the lesson waits for a client.
    let mut child = hhttpp(&["lesson", "serve-text", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hhttpp");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let listening = lines.find_map(|l| l.ok().filter(|l| l.contains("listening on http://"))).expect("listening");
    drop(lines);
    let addr = listening.split("http://").nth(1).and_then(|r| r.split('/').next()).expect("an address");
    let mut client = connect(addr.parse().expect("host:port"));
    let _ = client.write_all(REQUEST);
    let _ = client.read_to_end(&mut Vec::new());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "no panic, no message");
}
