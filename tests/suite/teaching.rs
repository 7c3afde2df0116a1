//! The workbook's teaching aids: the client's lesson, `--client`, `--step`, `explain`, and IPv6.

use std::io::Write;
use std::process::Stdio;

use crate::common::{REQUEST, Running, client_settings, dumped_bytes, hhttpp, settings};
use hhttpp::lessons::LESSONS;

/// Runs a server lesson with `--client` to its end and returns (transcript, stderr).
fn with_client(args: &[&str]) -> (String, String) {
    let out = hhttpp(args).stdin(Stdio::null()).output().expect("run hhttpp");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 transcript");
    let stderr = String::from_utf8(out.stderr).expect("UTF-8 stderr");
    assert!(out.status.success(), "{args:?}: {stderr}\n{stdout}");
    (stdout, stderr)
}

#[test]
fn fetch_resolves_connects_sends_and_reads_until_the_close() {
    let mut server = Running::start(&["lesson", "serve-text", "--port", "0"]);
    let url = format!("http://{}/", server.address());
    let out = hhttpp(&["lesson", "fetch", &url, "--request", "canonical", "--full-dump"]).output().expect("fetch");
    let transcript = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let served = server.finish();
    assert!(transcript.contains("lib  getaddrinfo(\"127.0.0.1\""), "{transcript}");
    assert!(transcript.contains("  connect(3, {sa_family=AF_INET, "));
    assert_eq!(dumped_bytes(&transcript, "▶"), REQUEST, "the client sent the canonical request");
    // What the client received is what the server sent, byte for byte.
    assert_eq!(dumped_bytes(&transcript, "◀"), dumped_bytes(&served.stdout, "▶"));
    assert!(transcript.contains("recvfrom(3, buf, 4096, 0, NULL, NULL) = 0"), "read until the server closed");
    client_settings().bind(|| insta::assert_snapshot!("fetch", transcript));
}

#[test]
fn fetch_tries_the_next_address_when_one_refuses() {
    // A name with two addresses, ::1 first and 127.0.0.1 second: fetch runs in a mount namespace of its own where
    // /etc/hosts says so. The server listens on 127.0.0.1 only, so ::1 refuses and fetch must go on to the next.
    let mut server = Running::start(&["lesson", "serve-text", "--port", "0"]);
    let port = server.address().port();
    let url = format!("http://two-addresses:{port}/");
    let Some(out) = crate::common::with_two_addresses(&["lesson", "fetch", &url]) else { return };
    let transcript = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(out.status.success(), "{transcript}{}", String::from_utf8_lossy(&out.stderr));
    let done = server.finish();
    assert!(done.stdout.contains("answered 200 OK"));
    assert!(transcript.contains("res = [[::1]:"), "getaddrinfo gave ::1 first: {transcript}");
    assert!(transcript.contains("socket(AF_INET6, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP)"), "{transcript}");
    assert!(transcript.contains("= -1 ECONNREFUSED (Connection refused)"), "{transcript}");
    assert!(transcript.contains("ECONNREFUSED: nothing listens on that address. We close this socket and try"));
    assert!(transcript.contains("socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP)"), "then IPv4: {transcript}");
    assert!(transcript.contains(&format!(r"Host: two-addresses:{port}\r\n")), "the URL's host and port: {transcript}");
}

#[test]
fn fetch_with_no_server_fails_with_a_hint() {
    // Bind a port and close it again: nothing listens there now.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let out = hhttpp(&["lesson", "fetch", &format!("http://127.0.0.1:{port}/")]).output().expect("fetch");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("connection refused (nothing listens there; start a server first"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("= -1 ECONNREFUSED (Connection refused)"));
}

#[test]
fn client_flag_gives_the_very_transcript_the_snapshot_pins() {
    for lesson in ["accept", "echo-request", "serve-text", "serve-binary"] {
        let (transcript, stderr) = with_client(&["lesson", lesson, "--port", "0", "--client", "--full-dump"]);
        assert!(stderr.contains("started the built-in client"), "{stderr}");
        let name = lesson.replace('-', "_");
        settings().bind(|| insta::assert_snapshot!(name, transcript));
    }
}

/// Runs `hhttpp ARGS --step`, pressing Enter `presses` times; returns (transcript, prompts).
fn stepped(args: &[&str], presses: usize) -> (String, String) {
    let mut child = hhttpp(args)
        .arg("--step")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hhttpp");
    child.stdin.take().expect("stdin").write_all(&b"\n".repeat(presses)).expect("press Enter");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{args:?}");
    (String::from_utf8(out.stdout).expect("UTF-8"), String::from_utf8(out.stderr).expect("UTF-8"))
}

#[test]
fn step_waits_for_enter_before_each_call_and_changes_nothing_else() {
    let (transcript, prompts) = stepped(&["lesson", "serve-text", "--port", "0", "--client", "--full-dump"], 11);
    assert_eq!(prompts.matches("press Enter to make it").count(), 11, "one prompt per call: {prompts}");
    assert!(prompts.contains("next, call 3: bind: reserve the address and port for this socket"));
    settings().bind(|| insta::assert_snapshot!("serve_text", transcript));
}

#[test]
fn every_lesson_can_be_stepped_through_without_a_browser_and_matches_its_snapshot() {
    for lesson in ["bind", "accept", "echo-request", "serve-text", "serve-binary"] {
        let (transcript, prompts) = stepped(&["lesson", lesson, "--port", "0", "--client", "--full-dump"], 40);
        let calls = transcript
            .lines()
            .filter(|l| l.trim_start().split("  ").next().is_some_and(|n| n.parse::<u32>().is_ok()))
            .count();
        assert_eq!(prompts.matches("press Enter to make it").count(), calls, "{lesson}: one prompt per call");
        let name = lesson.replace('-', "_");
        settings().bind(|| insta::assert_snapshot!(name, transcript));
    }
    // The client's lesson, stepped, against a server lesson.
    let mut server = Running::start(&["lesson", "serve-text", "--port", "0"]);
    let url = format!("http://{}/", server.address());
    let (transcript, _) = stepped(&["lesson", "fetch", &url, "--request", "canonical", "--full-dump"], 40);
    server.finish();
    client_settings().bind(|| insta::assert_snapshot!("fetch", transcript));
}

#[test]
fn step_q_stops_and_closes_the_sockets() {
    let mut child = hhttpp(&["lesson", "serve-text", "--port", "0", "--step"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hhttpp");
    // Make socket, setsockopt and bind, then stop before listen.
    child.stdin.take().expect("stdin").write_all(b"\n\n\nq\n").expect("answer the prompts");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "stopping is not a failure");
    let transcript = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(transcript.contains("  3  bind(3, "));
    assert!(!transcript.contains("listen(3, 1)"), "no call after q");
    assert!(transcript.contains("  4  close(3) = 0"), "{transcript}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("hhttpp: stopped at your request"));
}

#[test]
fn explain_prints_each_lessons_text_plain_when_piped() {
    for lesson in &LESSONS {
        let out = hhttpp(&["explain", lesson.name]).output().expect("explain");
        assert!(out.status.success());
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(hhttpp::lessons::text_path(lesson));
        let text = std::fs::read_to_string(path).expect("the lesson's text");
        assert_eq!(String::from_utf8(out.stdout).expect("UTF-8"), text, "{}", lesson.name);
    }
    let out = hhttpp(&["explain", "no-such-lesson"]).output().expect("explain");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no lesson \"no-such-lesson\"; the lessons are bind, accept")
    );
}

/// IPv6 loopback, where the machine has it.
fn ipv6() -> bool {
    let ok = std::net::TcpListener::bind("[::1]:0").is_ok();
    if !ok {
        crate::common::unavailable(crate::common::Need::Ipv6);
    }
    ok
}

#[test]
fn every_server_lesson_works_over_ipv6() {
    if !ipv6() {
        return;
    }
    for lesson in ["accept", "echo-request", "serve-text", "serve-binary"] {
        let (transcript, _) = with_client(&["lesson", lesson, "--host", "::1", "--port", "0", "--client"]);
        assert!(transcript.contains("  socket(AF_INET6, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = "), "{lesson}");
        assert!(transcript.contains("listening on http://[::1]:"), "{lesson}");
        assert!(transcript.contains(", {sa_family=AF_INET6, sin6_port=htons("), "{lesson}");
        assert!(transcript.contains("  accept4("), "{lesson}");
    }
    let out = hhttpp(&["lesson", "bind", "--host", "::1", "--port", "0"]).output().expect("bind");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("= -1 EADDRINUSE"));
}

#[test]
fn fetch_works_over_ipv6() {
    if !ipv6() {
        return;
    }
    let mut server = Running::start(&["lesson", "echo-request", "--host", "::1", "--port", "0"]);
    let addr = server.address();
    let out = hhttpp(&["lesson", "fetch", &format!("http://{addr}/")]).output().expect("fetch");
    let transcript = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(out.status.success(), "{transcript}");
    server.finish();
    assert!(transcript.contains("connect(3, {sa_family=AF_INET6, "));
    assert!(transcript.contains(&format!("Host: [::1]:{}", addr.port())), "{transcript}");
}

/// Every `>>>` line a pinned transcript shows is a line of the blog's code, exactly (`lessons/blog-code.md`), and every
/// other Python line is marked as ours: a student holding the blog beside the transcript finds each `>>>` line there.
#[test]
fn every_blog_line_in_the_snapshots_is_the_blogs_and_the_rest_are_marked_ours() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    let (mut blog, mut ours) = (0, 0);
    for entry in std::fs::read_dir(&folder).expect("snapshots/") {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|e| e != "snap") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a snapshot");
        // A Python line stands under the call numbers' column, five spaces in (a note's continued line, further in,
        // may mention `>>>` in its prose).
        for line in text.lines().filter_map(|l| l.strip_prefix("     ")).filter(|l| !l.starts_with(' ')) {
            if let Some(python) = line.strip_prefix(">>> ") {
                assert!(hhttpp::blog::quotes(python), "{}: not the blog's: {line}", path.display());
                blog += 1;
            } else if line.starts_with("ours> ") {
                ours += 1;
            }
        }
    }
    assert!(blog >= 40 && ours >= 20, "{blog} blog lines, {ours} of ours: the snapshots are not what this test reads");
    // And the blog's own lines are known as such (the check above can fail).
    assert!(hhttpp::blog::quotes("s.listen(1)") && !hhttpp::blog::quotes("s.listen(128)"));
}
