//! `--sendfile`: the body goes out with `sendfile(2)`, every byte of it, and the transcript counts what the kernel
//! took; a file that shrinks while it is sent is caught. (`strace.rs` holds the calls against strace's.)

use std::io::Write;

use crate::common::{REQUEST, Running, exchange};

/// A temp folder holding one file of `len` patterned bytes (no two neighbouring 253-byte runs alike).
fn patterned_file(name: &str, len: usize) -> (tempfile::TempDir, String, Vec<u8>) {
    let dir = crate::common::temp_dir();
    let bytes: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
    let path = dir.path().join(name);
    std::fs::write(&path, &bytes).expect("write the file");
    (dir, path.to_string_lossy().into_owned(), bytes)
}

#[test]
fn sendfile_sends_the_whole_file_and_the_transcript_counts_it() {
    let (_dir, path, bytes) = patterned_file("big.bin", 3 * 1024 * 1024 + 5);
    let mut lesson = Running::start(&["lesson", "serve-binary", &path, "--sendfile", "--port", "0"]);
    let reply = exchange(lesson.address(), REQUEST);
    let done = lesson.finish();
    assert!(done.status.success(), "{}", done.stderr);
    let head_len = reply.windows(4).position(|w| w == b"\r\n\r\n").expect("a head") + 4;
    assert!(reply[head_len..] == bytes[..], "the body is the file, byte for byte");

    let out = &done.stdout;
    assert!(out.contains("     ours> client_connection.sendfile(response_file)\n"), "{out}");
    // Each call in strace's shape: the socket, the file, the offset before and after, the count.
    let calls: Vec<&str> = out.lines().filter(|l| l.contains("sendfile(5, 3, [")).collect();
    assert!(!calls.is_empty(), "{out}");
    assert!(calls[0].contains("sendfile(5, 3, [0] => ["), "{}", calls[0]);
    let total = hhttpp::trace::format::count(bytes.len() as u64);
    assert!(out.contains(&format!("sendfile: {total} bytes in ")), "{out}");
    assert!(out.contains(&format!("sent {total} bytes in ")), "the summary counts the sendfile bytes: {out}");
    assert!(out.contains(" sendfile call"), "{out}");
    // No dump of the body: one line says why, where the dump would be.
    assert!(out.contains("they never entered our memory, so there is no dump of them"), "{out}");
    assert_eq!(
        crate::common::dumped_bytes(out, "▶").len(),
        head_len,
        "only the head, which we wrote ourselves, is dumped"
    );
}

#[test]
fn one_sendfile_call_shows_the_offset_moving_by_what_it_sent() {
    let (_dir, path, bytes) = patterned_file("small.bin", 1000);
    let mut lesson = Running::start(&["lesson", "serve-binary", &path, "--sendfile", "--port", "0"]);
    let reply = exchange(lesson.address(), REQUEST);
    let done = lesson.finish();
    assert!(done.status.success(), "{}", done.stderr);
    assert!(reply.ends_with(&bytes));
    assert!(done.stdout.contains("  9  sendfile(5, 3, [0] => [1000], 1000) = 1000"), "{}", done.stdout);
    assert!(done.stdout.contains("sendfile: 1,000 bytes in 1 sendfile call"));
    assert!(done.stdout.contains("1 × sendto + 1 × sendfile"), "the diagram names both kinds of call");
}

#[test]
fn a_file_that_shrinks_during_sendfile_ends_in_a_reset_not_a_short_body() {
    let (_dir, path, _) = patterned_file("shrinks.bin", 10_000);
    // --step waits for a line on stdin before each call: we let the 8 calls before sendfile go, cut the file while
    // the lesson waits before the sendfile, then close stdin (the end of input lets every remaining call go).
    let (mut lesson, mut stdin) =
        Running::start_with_stdin(&["lesson", "serve-binary", &path, "--sendfile", "--step", "--port", "0"]);
    stdin.write_all(&b"\n".repeat(8)).expect("let the first calls go");
    let addr = lesson.address();
    let client = std::thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream.write_all(REQUEST).expect("the request");
        std::io::Read::read_to_end(&mut stream, &mut Vec::new()).map_err(|err| err.kind())
    });
    lesson.wait_for("ours> client_connection.sendfile(response_file)");
    std::fs::OpenOptions::new().write(true).open(&path).and_then(|f| f.set_len(4000)).expect("cut the file");
    drop(stdin);
    let reply = client.join().expect("the client");
    let done = lesson.finish();

    assert!(done.status.success(), "{}", done.stderr);
    assert!(done.stdout.contains("sendfile(5, 3, [0] => [4000], 10000) = 4000"), "{}", done.stdout);
    assert!(done.stdout.contains("sendfile(5, 3, [4000], 6000) = 0"), "the call that found the end: {}", done.stdout);
    assert!(done.stdout.contains("sendfile: 4,000 bytes in 2 sendfile calls"), "{}", done.stdout);
    assert!(done.stdout.contains("cut short at 4,000 of 10,000 bytes"), "{}", done.stdout);
    assert!(done.stdout.contains("SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0"), "{}", done.stdout);
    assert_eq!(reply, Err(std::io::ErrorKind::ConnectionReset), "a reset, so the short body cannot pass for whole");
}
