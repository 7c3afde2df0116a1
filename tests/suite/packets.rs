//! `--packets` and `--pcap`: the segments the transcript shows are the ones on the wire, where they happened.
//!
//! These tests need `CAP_NET_RAW` (CI runs as root); without it a test says so and fails, as the other tests do
//! for a missing tool, unless `HHTTPP_SKIP=packets` names it. The last one runs as `nobody` on purpose.

use std::io::{Read, Write};
use std::net::TcpStream;

use etherparse::{SlicedPacket, TransportSlice};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::pcapng::{Block, PcapNgReader};

use crate::common::{self, Need, REQUEST, Running};

/// Whether this process may capture on lo (root, or CAP_NET_RAW); says so through `unavailable` when not.
pub(crate) fn may_capture() -> bool {
    // SAFETY: a plain socket call; the descriptor is closed at once.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0) };
    if fd < 0 {
        common::unavailable(Need::RawSockets);
        return false;
    }
    // SAFETY: ours.
    unsafe { libc::close(fd) };
    true
}

/// The `wire:` lines of a transcript.
fn wire(transcript: &str) -> Vec<&str> {
    transcript.lines().map(str::trim_start).filter(|l| l.starts_with("wire: ")).collect()
}

/// The line number of the first line that contains `needle`.
fn line_of(transcript: &str, needle: &str) -> usize {
    transcript.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("no {needle:?} in:\n{transcript}"))
}

/// serve-text with a client paced by the transcript, so that every segment lands in the same place on every run:
/// it connects once `accept` is called, sends once `recv` is called, and closes once the lesson's last call is
/// made. (With `--client`, which does not wait, the segments are the same but their places vary from run to run:
/// the handshake before or during `accept4`, the client's FIN under one close or the other.)
fn paced_serve_text(extra: &[&str]) -> String {
    let mut args = vec!["lesson", "serve-text", "--port", "0", "--packets", "--full-dump"];
    args.extend_from_slice(extra);
    let mut lesson = Running::start(&args);
    let addr = lesson.address();
    lesson.wait_for(">>> client_connection, client_address = s.accept()");
    let mut stream = TcpStream::connect(addr).expect("connect to the lesson");
    stream.set_read_timeout(Some(common::PATIENCE)).expect("a read timeout");
    lesson.wait_for(">>> raw_data = client_connection.recv(4096)");
    stream.write_all(REQUEST).expect("send the request");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).expect("read the reply");
    lesson.wait_for("close(3) = 0");
    drop(stream);
    let done = lesson.finish();
    assert!(done.status.success(), "{}{}", done.stdout, done.stderr);
    assert!(reply.starts_with(b"HTTP/1.1 200 OK\r\n"));
    done.stdout
}

#[test]
fn serve_text_with_packets_shows_each_segment_where_it_crossed_lo() {
    if !may_capture() {
        return;
    }
    let transcript = paced_serve_text(&[]);
    // The client connects once the `>>> … s.accept()` line is out (and sends once `>>> … recv` is), a few
    // microseconds before the call really starts: now and then the segments beat it. Both are true; the snapshot
    // says "either".
    let mut settings = common::settings();
    for place in [r"before call (\d+) \((accept4|recvfrom)\) began", r"during call (\d+) \((accept4|recvfrom)\)"] {
        settings.add_filter(place, "[before or during] call $1 ($2)");
    }
    settings.bind(|| insta::assert_snapshot!("serve_text_packets", transcript));
}

#[test]
fn the_handshake_comes_before_accept4_returns_and_our_close_with_unread_bytes_sends_rst() {
    if !may_capture() {
        return;
    }
    let mut lesson = Running::start(&["lesson", "accept", "--port", "0", "--packets"]);
    let addr = lesson.address();
    // As curl does: the request goes at once, before the lesson has read anything (it never will).
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.write_all(REQUEST).expect("send");
    let done = lesson.finish();
    drop(stream);
    let t = &done.stdout;
    let accept = line_of(t, "accept4(3, ");
    for flags in ["client → us  SYN  seq 0", "us → client  SYN-ACK  seq 0  ack 1", "client → us  ACK  seq 1  ack 1"]
    {
        assert!(line_of(t, flags) < accept, "{flags} after accept4:\n{t}");
    }
    assert!(t.contains("no TIME_WAIT on either side"), "{t}");
    if line_of(t, "68 bytes: client's bytes 0–67") < line_of(t, "close(4) = 0") {
        // The usual order: the request is in before our close, which then resets the connection.
        let rst = line_of(t, "wire: us → client  RST-ACK");
        assert!(rst > line_of(t, "close(4) = 0") && rst < line_of(t, "close(3) = 0"), "{t}");
        assert!(t.contains("ended by a RST from us, during call 7 (close)"), "{t}");
        assert!(t.contains("the client had sent 68 bytes and our calls read 0"), "{t}");
        assert!(!wire(t).iter().any(|l| l.contains("FIN")), "{t}");
    } else {
        // Seen about once in twenty runs: our close beat the request, so it sent a FIN, and the request, coming to
        // a closed socket, got the RST.
        assert!(line_of(t, "wire: us → client  FIN-ACK") > line_of(t, "close(4) = 0"), "{t}");
        assert!(t.contains("the client's bytes came after our FIN"), "{t}");
    }
}

#[test]
fn echo_request_sends_the_first_fin_and_keeps_the_time_wait() {
    if !may_capture() {
        return;
    }
    let mut lesson = Running::start(&["lesson", "echo-request", "--port", "0", "--packets"]);
    let addr = lesson.address();
    let reply = common::exchange(addr, REQUEST);
    let done = lesson.finish();
    assert!(!reply.is_empty());
    let t = &done.stdout;
    let fins: Vec<_> = wire(t).into_iter().filter(|l| l.contains("FIN")).collect();
    assert_eq!(fins.len(), 2, "{t}");
    assert!(fins[0].starts_with("wire: us → client  FIN-ACK"), "{t}");
    assert!(fins[1].starts_with("wire: client → us  FIN-ACK"), "{t}");
    assert!(line_of(t, "wire: us → client  FIN-ACK") > line_of(t, "shutdown(4, SHUT_RDWR) = 0"), "{t}");
    assert!(t.contains("first to close: us, with a FIN during call"), "{t}");
    assert!(t.contains("TIME_WAIT: our side."), "{t}");
}

/// The payload of every TCP segment in a pcapng file, and how many segments it holds: (client's bytes, ours).
fn read_pcap(path: &std::path::Path, port: u16) -> (Vec<String>, Vec<u8>, Vec<u8>) {
    let file = std::fs::File::open(path).expect("open the pcapng file");
    let mut reader = PcapNgReader::new(file).expect("a pcapng file");
    let (mut segments, mut theirs, mut ours) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(block) = reader.next_block() {
        let Block::EnhancedPacket(packet) = block.expect("a block") else { continue };
        let sliced = SlicedPacket::from_ethernet(&packet.data).expect("an Ethernet frame");
        let Some(TransportSlice::Tcp(tcp)) = sliced.transport else { continue };
        let comment = packet.options.iter().find_map(|option| match option {
            EnhancedPacketOption::Comment(text) => Some(text.to_string()),
            _ => None,
        });
        segments.push(comment.expect("each packet has its transcript line as a comment"));
        if tcp.source_port() == port {
            ours.extend_from_slice(tcp.payload());
        } else {
            theirs.extend_from_slice(tcp.payload());
        }
    }
    (segments, theirs, ours)
}

#[test]
fn the_pcap_file_holds_the_segments_shown_and_their_bytes_are_the_calls_bytes() {
    if !may_capture() {
        return;
    }
    let folder = common::temp_dir();
    let path = folder.path().join("serve-text.pcapng");
    let transcript = paced_serve_text(&["--pcap", path.to_str().expect("a UTF-8 path")]);
    let port: u16 = transcript
        .split("listening on http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|port| port.parse().ok())
        .expect("the port");
    let (comments, theirs, ours) = read_pcap(&path, port);
    let segments = comments.len();
    let lines = wire(&transcript);
    assert_eq!(segments, lines.len(), "{transcript}");
    for (comment, line) in comments.iter().zip(&lines) {
        assert!(comment.starts_with(&format!("{line}, ")), "{comment:?} for {line:?}");
    }
    assert!(transcript.contains(&format!("on the wire, {segments} TCP segments")), "{transcript}");
    assert_eq!(theirs, common::dumped_bytes(&transcript, "◀ received"));
    assert_eq!(ours, common::dumped_bytes(&transcript, "▶ sent"));

    // tcpdump reads the file too, and counts the same segments.
    if common::have(Need::Tcpdump, "tcpdump", "--version") {
        let out = std::process::Command::new("tcpdump").args(["-nn", "-r"]).arg(&path).output().expect("tcpdump");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let lines = String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.contains(" IP ")).count();
        assert_eq!(lines, segments);
    }
}

#[test]
fn without_cap_net_raw_packets_says_what_it_needs_and_the_lesson_runs_on() {
    let (code, stdout, stderr) =
        crate::inputs::run_unprivileged("packets", &["lesson", "serve-text", "--port", "0", "--client", "--packets"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    // A note longer than the transcript's width goes on over lines indented two more: read it whole.
    let unwrapped = stdout.replace("\n       ", " ");
    let needs: Vec<_> = unwrapped.lines().filter(|l| l.contains("CAP_NET_RAW")).collect();
    assert_eq!(needs.len(), 1, "{stdout}");
    assert!(needs[0].contains("sudo setcap cap_net_raw+ep"), "{stdout}");
    assert!(stdout.contains("summary: 11 socket calls"), "{stdout}");
    assert!(wire(&stdout).is_empty(), "{stdout}");
}

/// `hhttpp trace --packets` on a server of a learner's: the handshake is above its `accept4` line (the kernel
/// finished it while the call waited), the segments carry exactly the bytes the calls dumped, the program's
/// shutdown sends the first FIN, and the pcapng file holds every segment shown, as tcpdump reads it.
#[test]
fn a_traced_program_gets_its_segments_beside_its_calls_and_in_the_pcap_file() {
    if !may_capture()
        || !common::have(Need::Strace, "strace", "-V")
        || !common::have(Need::Python3, "python3", "--version")
    {
        return;
    }
    let folder = common::temp_dir();
    let path = folder.path().join("trace.pcapng");
    let pcap = path.to_str().expect("a UTF-8 path");
    let args = ["trace", "--full-dump", "--pcap", pcap, "--", "python3", "tests/programs/blog_server.py"];
    let mut traced = Running::start(&args);
    let addr = traced.address();
    let reply = common::exchange(addr, REQUEST);
    let done = traced.finish();
    let transcript = done.stdout;
    assert_eq!(done.status.code(), Some(0), "{transcript}{}", done.stderr);
    assert!(reply.starts_with(b"HTTP/1.1 200 OK"), "{transcript}");
    let accept = line_of(&transcript, "  accept4(3, ");
    let syn = line_of(&transcript, "wire: client → the program  SYN  seq 0");
    let syn_ack = line_of(&transcript, "wire: the program → client  SYN-ACK  seq 0  ack 1");
    let ack = line_of(&transcript, "wire: client → the program  ACK  seq 1  ack 1");
    assert!(syn < syn_ack && syn_ack < ack && ack < accept, "{transcript}");
    let fin = line_of(&transcript, "wire: the program → client  FIN");
    assert!(fin > line_of(&transcript, "  shutdown(4, SHUT_RDWR) = 0"), "{transcript}");
    assert!(transcript.contains("first to close: the program, with a FIN"), "{transcript}");
    assert!(transcript.contains("TIME_WAIT: the program's side."), "{transcript}");

    let (comments, theirs, ours) = read_pcap(&path, addr.port());
    let lines = wire(&transcript);
    assert_eq!(comments.len(), lines.len(), "{transcript}");
    for (comment, line) in comments.iter().zip(&lines) {
        assert!(comment.starts_with(&format!("{line}, ")), "{comment:?} for {line:?}");
    }
    assert!(transcript.contains(&format!("on the wire, {} TCP segments", lines.len())), "{transcript}");
    assert_eq!(theirs, common::dumped_bytes(&transcript, "◀ received"));
    assert_eq!(ours, common::dumped_bytes(&transcript, "▶ sent"));
    if common::have(Need::Tcpdump, "tcpdump", "--version") {
        let out = std::process::Command::new("tcpdump").args(["-nn", "-r"]).arg(&path).output().expect("tcpdump");
        let read = String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.contains(" IP ")).count();
        assert_eq!(read, lines.len(), "{transcript}");
    }
}

#[test]
fn a_traced_program_without_cap_net_raw_runs_with_one_line_saying_what_is_needed() {
    if !common::have(Need::Strace, "strace", "-V") {
        return;
    }
    let (code, stdout, stderr) =
        crate::inputs::run_unprivileged("trace-packets", &["trace", "--packets", "--", "sh", "-c", "echo done"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let unwrapped = stdout.replace("\n       ", " ");
    let needs: Vec<_> = unwrapped.lines().filter(|l| l.contains("CAP_NET_RAW")).collect();
    assert_eq!(needs.len(), 1, "{stdout}");
    assert!(needs[0].contains("sudo setcap cap_net_raw+ep"), "{stdout}");
    assert!(stdout.contains("stdout: done"), "{stdout}");
    assert!(wire(&stdout).is_empty(), "{stdout}");
}

/// A traced client: curl's non-blocking `connect` sends the SYN, and the handshake is shown under its line, as its
/// own (strace holds curl after it, and the segments of that hold are placed with it), or, when the kernel's stamps
/// fall after the next call's start by strace's clock, as the connect's or the next call's, or (past the
/// connect's margin) before the next call.
#[test]
fn a_traced_curl_has_its_handshake_with_its_connect() {
    if !may_capture() || !common::have(Need::Strace, "strace", "-V") || !common::have(Need::Curl, "curl", "--version") {
        return;
    }
    let Some(nginx) = common::Nginx::start("<h1>Hello World</h1>") else { return };
    let url = format!("http://{}/", nginx.addr);
    let done = common::hhttpp(&["trace", "--packets", "--", "curl", "-s", "-o", "/dev/null", &url])
        .output()
        .expect("run hhttpp trace");
    let transcript = String::from_utf8_lossy(&done.stdout).into_owned();
    assert_eq!(done.status.code(), Some(0), "{transcript}");
    let syn = line_of(&transcript, "wire: the program → server  SYN  seq 0");
    let connect = line_of(&transcript, "  connect(");
    assert!(syn > connect, "under its line: {transcript}");
    // Placed with the connect, or (the kernel's stamps past the connect's margin by strace's clock, as on a loaded
    // machine) before the very next call began: never further from it.
    let number: u64 =
        transcript.lines().nth(connect).and_then(|l| l.split_whitespace().next()?.parse().ok()).expect("a number");
    let handshake = transcript.lines().find(|l| l.contains("the handshake: ")).unwrap_or_default();
    let next = format!("before call {} (", number + 1);
    assert!(handshake.contains("SYN") && handshake.contains("ACK"), "{transcript}");
    assert!(handshake.contains("(connect)") || handshake.contains(&next), "{transcript}");
    assert!(transcript.contains("client (the program)"), "the picture's lane: {transcript}");
}
