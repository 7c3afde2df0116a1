//! The capstone, `serve-folder`: files from a folder and nothing outside it, 404, 405 with Allow, HEAD, until Ctrl-C.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;

use crate::common::{PATIENCE, REQUEST, Running, exchange, hhttpp, settings};

const CANARY: &str = "CANARY-this-file-is-outside-the-folder";

/// A site in a temp folder, with a canary file beside it (outside) and symlinks in it, removed when dropped.
struct Site(tempfile::TempDir);

impl Site {
    fn new() -> Site {
        let root = crate::common::temp_dir();
        let site = root.path().join("site");
        std::fs::create_dir_all(site.join("sub dir")).expect("make the site");
        std::fs::write(root.path().join("canary.txt"), CANARY).expect("the canary");
        std::fs::write(site.join("index.html"), "<h1>home</h1>").expect("index");
        std::fs::write(site.join("sub dir/page.html"), "<p>sub</p>").expect("a page");
        std::fs::write(site.join(".env"), "SECRET=1").expect("a hidden file");
        std::fs::write(site.join("latin1.txt"), b"caf\xe9").expect("a text that is not UTF-8");
        std::os::unix::fs::symlink("../canary.txt", site.join("out.txt")).expect("a link out");
        std::os::unix::fs::symlink("/etc/hostname", site.join("abs.txt")).expect("an absolute link out");
        std::os::unix::fs::symlink("..", site.join("up")).expect("a link to the parent");
        std::os::unix::fs::symlink("index.html", site.join("in.html")).expect("a link that stays inside");
        Site(root)
    }

    fn dir(&self) -> String {
        self.0.path().join("site").to_string_lossy().into_owned()
    }

    /// A file beside the site, for logs.
    fn beside(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

/// Sends `request` as it is (no client normalises the path) and returns the reply.
fn raw(addr: SocketAddr, request: &str) -> String {
    String::from_utf8_lossy(&exchange(addr, request.as_bytes())).into_owned()
}

fn get(addr: SocketAddr, target: &str) -> String {
    raw(addr, &format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n"))
}

fn status(reply: &str) -> &str {
    reply.get(9..12).unwrap_or("???")
}

/// Starts serve-folder on `dir`, quiet, and returns it with its address.
fn serve(dir: &str, extra: &[&str]) -> (Running, SocketAddr) {
    let mut args = vec!["lesson", "serve-folder", dir, "--port", "0"];
    args.extend_from_slice(extra);
    let mut lesson = Running::start(&args);
    let addr = lesson.address();
    (lesson, addr)
}

/// Stops the server with Ctrl-C and returns its transcript. Call it when the server waits in `accept4`.
fn stop(mut lesson: Running) -> String {
    lesson.interrupt();
    let done = lesson.finish();
    assert_eq!(done.status.code(), Some(130), "{}", done.stderr);
    done.stdout
}

#[test]
fn every_way_out_of_the_folder_is_refused_and_nothing_outside_is_read() {
    let site = Site::new();
    let battery = [
        "/../canary.txt",
        "/sub%20dir/../../canary.txt",
        "/%2e%2e/canary.txt",
        "/%2E%2E/canary.txt",
        "/.%2e/canary.txt",
        "/%2e%2e%2fcanary.txt",
        "/..%2fcanary.txt",
        "/..%5ccanary.txt",
        "/..\\canary.txt",
        "/%00/../canary.txt",
        "/index.html%00/../../canary.txt",
        "//../canary.txt",
        "/./../canary.txt",
        "/out.txt",
        "/abs.txt",
        "/up/canary.txt",
        "/up/site/index.html",
        &format!("{}/../canary.txt", site.dir()),
        "http://localhost/../canary.txt",
        "/%2",
        "/%zz/..",
        "/.env",
        "/%2eenv",
    ];
    let (lesson, addr) = serve(&site.dir(), &["--quiet"]);
    for target in battery {
        let reply = get(addr, target);
        assert!(matches!(status(&reply), "400" | "403" | "404"), "{target:?} got {:?}", status(&reply));
        assert!(!reply.contains(CANARY), "{target:?} leaked the canary");
    }
    // The server still serves what is inside, a link that stays inside included.
    assert_eq!(status(&get(addr, "/")), "200");
    assert!(get(addr, "/in.html").ends_with("<h1>home</h1>"));
    assert!(get(addr, "/sub%20dir/page.html").ends_with("<p>sub</p>"));
    let transcript = stop(lesson);
    assert!(!transcript.contains(CANARY));
    assert_eq!(transcript.matches(" → 200 OK").count(), 3, "{transcript}");
    assert_eq!(transcript.matches(" → 4").count(), battery.len());
}

#[test]
fn the_kernel_never_opens_a_file_outside_the_folder() {
    // Under strace: any open that names the canary, by any path, must have failed (there should be none at all).
    if !crate::common::have(crate::common::Need::Strace, "strace", "-V") {
        return;
    }
    let site = Site::new();
    let log = site.beside("strace.log");
    let log_arg = log.to_string_lossy().into_owned();
    let dir = site.dir();
    let hhttpp = env!("CARGO_BIN_EXE_hhttpp");
    let trace = ["-f", "-qq", "-e", "trace=open,openat,openat2", "-o", &log_arg, hhttpp];
    let mut lesson =
        Running::start_program("strace", &[&trace[..], &["lesson", "serve-folder", &dir, "--port", "0"]].concat());
    let addr = lesson.address();
    for target in ["/../canary.txt", "/%2e%2e/canary.txt", "/out.txt", "/abs.txt", "/up/canary.txt", "/index.html"] {
        get(addr, target);
    }
    lesson.interrupt();
    lesson.finish();
    let opens = std::fs::read_to_string(&log).expect("strace's log");
    assert!(opens.contains("openat2("), "files are opened with openat2: {opens}");
    for line in opens.lines().filter(|l| l.contains("canary") || l.contains("hostname")) {
        assert!(line.contains(" = -1 "), "an open outside the folder succeeded: {line}");
    }
    let beneath: Vec<_> = opens.lines().filter(|l| l.contains("openat2(")).collect();
    assert!(beneath.iter().any(|l| l.contains("\"out.txt\"") && l.contains("= -1 EXDEV")), "{beneath:#?}");
}

#[test]
fn missing_files_get_404_other_methods_405_with_allow_and_head_no_body() {
    let site = Site::new();
    let (lesson, addr) = serve(&site.dir(), &["--quiet"]);
    assert_eq!(status(&get(addr, "/no-such.html")), "404");
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let reply = raw(addr, &format!("{method} / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n"));
        assert_eq!(status(&reply), "405", "{method}");
        assert!(reply.contains("\r\nAllow: GET, HEAD\r\n"), "{method}: {reply}");
    }
    let head = raw(addr, "HEAD /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.contains("Content-Length: 13\r\n"), "{head}");
    assert!(head.ends_with("\r\n\r\n"), "HEAD sends no body: {head:?}");
    assert_eq!(status(&get(addr, "/sub%20dir/")), "404", "a folder without an index.html");
    let html = raw(addr, "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(html.contains("Content-Type: text/html; charset=utf-8\r\n"), "UTF-8, checked: {html}");
    let latin1 = raw(addr, "GET /latin1.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(latin1.contains("Content-Type: text/plain\r\n"), "no charset we have not checked: {latin1}");
    let transcript = stop(lesson);
    assert!(transcript.contains("GET /no-such.html → 404 Not Found"), "{transcript}");
    assert!(transcript.contains("HEAD /index.html → 200 OK, "), "the head's bytes, and no body");
}

#[test]
fn serve_folder_answers_until_ctrl_c_and_then_closes_and_sums_up() {
    let (mut lesson, addr) = serve("assets/site", &["--full-dump"]);
    let reply = exchange(addr, REQUEST);
    assert!(reply.starts_with(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"));
    let mut second = TcpStream::connect(addr).expect("connect again");
    second.set_read_timeout(Some(PATIENCE)).expect("timeout");
    second.write_all(b"GET /style.css HTTP/1.1\r\nHost: localhost\r\n\r\n").expect("send");
    let mut css = Vec::new();
    second.read_to_end(&mut css).expect("the style sheet");
    assert!(String::from_utf8_lossy(&css).contains("Content-Type: text/css; charset=utf-8"));
    lesson.wait_for("GET /style.css: answered 200 OK");
    lesson.wait_for(">>> client_connection, client_address = s.accept()");
    let transcript = stop(lesson);
    assert!(transcript.contains("listen(4, 128) = 0"), "a backlog that fits a browser");
    assert!(transcript.contains("accept4(4, addr, [128], SOCK_CLOEXEC) = -1 EINTR (Interrupted system call)"));
    assert!(transcript.contains("  close(4) = 0"), "the listening socket is closed, and shown");
    assert!(transcript.contains("answered 2 requests with 2xx, 0 with 4xx, 0 with 5xx"));
    assert!(transcript.contains("summary: "), "a lesson stopped by Ctrl-C still sums up");
}

#[test]
fn serve_folder_transcript_is_pinned() {
    let (mut lesson, addr) = serve("assets/site", &["--full-dump"]);
    let _ = exchange(addr, REQUEST);
    lesson.wait_for("GET /: answered 200 OK");
    // Ctrl-C once it waits in accept4 again, so that the snapshot always ends with the same interrupted call.
    lesson.wait_for(">>> client_connection, client_address = s.accept()");
    let transcript = stop(lesson);
    settings().bind(|| insta::assert_snapshot!("serve_folder", transcript));
}

#[test]
fn a_folder_that_is_a_file_or_missing_is_refused_before_any_socket() {
    for (dir, code) in [("assets/ice-caps.jpg", 3), ("no/such/folder", 3)] {
        let out = hhttpp(&["lesson", "serve-folder", dir, "--port", "0"]).output().expect("run");
        assert_eq!(out.status.code(), Some(code), "{dir}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("socket("));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with(&format!("hhttpp: cannot serve the folder {dir:?}: ")), "{stderr}");
    }
}

#[test]
fn a_client_that_hangs_up_mid_file_does_not_stop_the_server() {
    let site = Site::new();
    std::fs::write(std::path::Path::new(&site.dir()).join("big.bin"), vec![0x5a; 64 * 1024 * 1024])
        .expect("a big file");
    let (mut lesson, addr) = serve(&site.dir(), &[]);
    let mut client = TcpStream::connect(addr).expect("connect");
    client.write_all(b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n").expect("send");
    let mut start = [0u8; 100];
    client.read_exact(&mut start).expect("the start of the reply");
    drop(client); // with bytes unread: the kernel resets the connection
    lesson.wait_for("the reply was cut short");
    assert_eq!(status(&get(addr, "/")), "200", "the next client is served");
    lesson.wait_for("GET /: answered 200 OK");
    lesson.wait_for(">>> client_connection, client_address = s.accept()");
    let transcript = stop(lesson);
    assert!(transcript.contains("answered 1 request with 2xx, 0 with 4xx, 0 with 5xx; 1 cut short"), "{transcript}");
}
