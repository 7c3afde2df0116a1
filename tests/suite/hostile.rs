//! The finished server against hostile clients and odd files (issue 11): nothing from the network reaches the
//! terminal raw, no client holds the server, no reply cut short is logged as whole, and a short supply of file
//! descriptors or disk degrades the server instead of ending it.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{PATIENCE, Running, exchange, hhttpp, temp_dir};

/// A folder with a page in it, removed when dropped.
struct Site(tempfile::TempDir);

impl Site {
    fn new() -> Site {
        let dir = temp_dir();
        std::fs::write(dir.path().join("index.html"), "<h1>home</h1>").expect("a page");
        Site(dir)
    }
    fn dir(&self) -> String {
        self.0.path().to_string_lossy().into_owned()
    }
    fn path(&self, name: &str) -> std::path::PathBuf {
        self.0.path().join(name)
    }
}

fn serve(site: &Site, extra: &[&str]) -> (Running, SocketAddr) {
    let dir = site.dir();
    let mut args = vec!["lesson", "serve-folder", &dir, "--port", "0"];
    args.extend_from_slice(extra);
    let mut lesson = Running::start(&args);
    let addr = lesson.address();
    (lesson, addr)
}

fn get(addr: SocketAddr, target: &str) -> String {
    let request = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    String::from_utf8_lossy(&exchange(addr, request.as_bytes())).into_owned()
}

fn status(reply: &str) -> &str {
    reply.get(9..12).unwrap_or("???")
}

/// Ctrl-C, and everything the lesson printed, stdout then stderr.
fn stop(mut lesson: Running) -> String {
    lesson.interrupt();
    let done = lesson.finish();
    assert_eq!(done.status.code(), Some(130), "{}", done.stderr);
    format!("{}{}", done.stdout, done.stderr)
}

/// The raw bytes that must never reach a terminal: ESC and the other C0 controls but \n, DEL, the C1 controls
/// (U+0080 to U+009F), and the bidirectional controls such as U+202E.
fn assert_nothing_raw(output: &str) {
    for c in output.chars() {
        let bidi = matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        let raw = bidi || (c.is_control() && c != '\n');
        assert!(!raw, "{c:?} reached the output raw:\n{output}");
    }
}

/// Every kind of byte that could move a cursor, set a title or reorder a line: in the path, raw and
/// percent-encoded, and in a header value.
const HOSTILE: [&[u8]; 6] = [
    b"GET /\x1b[2J\xc2\x9b2J\xc2\x9d0;title\xc2\x9c\xe2\x80\xae.html HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /%1b[2J%c2%9b2J%e2%80%ae%7f HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX-Title: \xc2\x9d0;pwned\xc2\x9c \xe2\x80\xae\r\n\r\n",
    b"DELETE\xc2\x9b / HTTP/1.1\r\nHost: x\r\n\r\n",
];

#[test]
fn no_control_or_bidi_character_from_a_client_reaches_the_output_quiet_or_not() {
    let site = Site::new();
    // A file whose name is made of them, so that the "opened" line has one to print.
    std::fs::write(site.path("\x1b[2J\u{9b}2J\u{202e}"), "x").expect("a hostile name");
    for quiet in [false, true] {
        let (lesson, addr) = serve(&site, if quiet { &["--quiet"] } else { &[] });
        for request in HOSTILE {
            exchange(addr, request);
        }
        exchange(addr, b"GET /%1b[2J%c2%9b2J%e2%80%ae HTTP/1.1\r\nHost: x\r\n\r\n");
        let output = stop(lesson);
        let logged = if quiet { output.matches(" → ").count() } else { output.matches(": answered ").count() };
        assert_eq!(logged, 7, "one log line per request:\n{output}");
        assert_nothing_raw(&output);
        if !quiet {
            assert!(output.contains(r"\x1B[2J\xC2\x9B2J\u{202E}"), "shown escaped:\n{output}");
        }
    }
    // The lessons before it print the request too: its preview, its dump, the diagram.
    for lesson_name in ["echo-request", "serve-text"] {
        let mut lesson = Running::start(&["lesson", lesson_name, "--port", "0"]);
        let addr = lesson.address();
        exchange(addr, HOSTILE[4]);
        let done = lesson.finish();
        assert_nothing_raw(&format!("{}{}", done.stdout, done.stderr));
        assert!(done.stdout.contains(r"X-Title: \xC2\x9D0;pw"), "{}", done.stdout);
    }
}

#[test]
fn a_slowloris_client_delays_the_next_by_at_most_the_head_deadline() {
    let site = Site::new();
    let (lesson, addr) = serve(&site, &["--timeout", "1"]);
    let mut slow = TcpStream::connect(addr).expect("connect");
    slow.write_all(b"G").expect("a first byte");
    let started = Instant::now();
    let (answered, answer) = std::sync::mpsc::channel();
    std::thread::spawn(move || answered.send(get(addr, "/index.html")));
    // One byte every 200 ms, the slow client's own pace, until the next client has its answer: each recvfrom
    // returns in time, but the head never completes.
    let mut bytes = b"ET / HTTP/1.1\r\nHost: x\r\nX: aaaaaaaaaaaaaaaaaaaa".iter();
    let reply = loop {
        match answer.recv_timeout(Duration::from_millis(200)) {
            Ok(reply) => break reply,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if let Some(byte) = bytes.next() {
                    let _ = slow.write_all(&[*byte]);
                }
            }
            Err(err) => panic!("the next client: {err}"),
        }
    };
    let waited = started.elapsed();
    assert_eq!(status(&reply), "200", "{reply}");
    assert!(waited < Duration::from_secs(2), "the next client waited {waited:?}");
    let output = stop(lesson);
    assert!(output.contains("SO_RCVTIMEO, {tv_sec=0, tv_usec="), "SO_RCVTIMEO set to what is left:\n{output}");
    assert!(output.contains("its request head was not complete 1 s after it connected"), "{output}");
}

/// A file of `size` zero bytes (sparse: it costs no disk).
fn big_file(site: &Site, name: &str, size: u64) -> std::path::PathBuf {
    let path = site.path(name);
    std::fs::File::create(&path).and_then(|f| f.set_len(size)).expect("a big file");
    path
}

#[test]
fn a_client_that_never_reads_delays_the_next_by_at_most_the_send_timeout() {
    let site = Site::new();
    big_file(&site, "big.bin", 64 << 20);
    let (lesson, addr) = serve(&site, &["--send-timeout", "1"]);
    let mut stalled = TcpStream::connect(addr).expect("connect");
    stalled.write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n").expect("the request");
    let started = Instant::now();
    let reply = get(addr, "/index.html");
    let waited = started.elapsed();
    assert_eq!(status(&reply), "200", "{reply}");
    assert!(waited < Duration::from_secs(2), "the next client waited {waited:?}");
    // It reads now, and finds the reply cut off by a reset, not ended by a FIN.
    let mut rest = Vec::new();
    let read = stalled.read_to_end(&mut rest);
    assert!(read.is_err() || rest.len() < 64 << 20, "{read:?}");
    let output = stop(lesson);
    assert!(output.contains("SO_SNDTIMEO, {tv_sec=1, tv_usec=0}, 16) = 0"), "{output}");
    assert!(output.contains("it read nothing for 1 s"), "{output}");
    assert!(output.contains("SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0"), "{output}");
    assert!(output.contains("GET /big.bin: cut short at "), "{output}");
    assert!(!output.contains("GET /big.bin: answered"), "{output}");
}

#[test]
fn a_fifo_in_the_folder_is_refused_at_once_and_the_server_goes_on() {
    let site = Site::new();
    let fifo = site.path("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
    let (lesson, addr) = serve(&site, &["--quiet"]);
    let started = Instant::now();
    let reply = get(addr, "/fifo");
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    assert_eq!(status(&reply), "403", "{reply}");
    assert!(reply.contains("it is a FIFO (a named pipe), not a regular file"), "{reply}");
    assert_eq!(status(&get(addr, "/index.html")), "200");
    let output = stop(lesson);
    assert!(output.contains("GET /fifo → 403 Forbidden"), "{output}");
}

#[test]
fn a_file_that_shrinks_mid_send_ends_in_a_reset_and_is_logged_cut_short() {
    let site = Site::new();
    let size = 64u64 << 20;
    let path = big_file(&site, "shrinks.bin", size);
    let (lesson, addr) = serve(&site, &["--quiet"]);
    let mut client = TcpStream::connect(addr).expect("connect");
    client.set_read_timeout(Some(PATIENCE)).expect("a timeout");
    client.write_all(b"GET /shrinks.bin HTTP/1.1\r\nHost: x\r\n\r\n").expect("the request");
    // Read 4 MiB, so that the server has read past the 1 MiB the file will have; it then waits for us.
    let mut got = vec![0u8; 4 << 20];
    client.read_exact(&mut got).expect("the start of the reply");
    std::fs::OpenOptions::new().write(true).open(&path).and_then(|f| f.set_len(1 << 20)).expect("truncate");
    let mut rest = Vec::new();
    let read = client.read_to_end(&mut rest);
    assert_eq!(read.map_err(|e| e.kind()).err(), Some(ErrorKind::ConnectionReset), "a reset, not a clean end");
    let output = stop(lesson);
    assert!(output.contains("GET /shrinks.bin → cut short at "), "{output}");
    assert!(output.contains("the file shrank while we sent it; reset"), "{output}");
    assert!(!output.contains("GET /shrinks.bin → 200"), "{output}");
}

/// serve-folder with at most `fds` file descriptors open (a soft limit, which the test may raise again).
fn serve_with_fds(site: &Site, fds: u32) -> (Running, SocketAddr) {
    let script = format!("ulimit -S -n {fds}; exec \"$0\" \"$@\"");
    let dir = site.dir();
    let args = ["-c", &script, env!("CARGO_BIN_EXE_hhttpp"), "lesson", "serve-folder", &dir, "--port", "0", "--quiet"];
    let mut lesson = Running::start_program("sh", &args);
    let addr = lesson.address();
    (lesson, addr)
}

fn raise_fds(lesson: &Running) {
    let pid = rustix::process::Pid::from_raw(lesson.pid() as i32);
    let limit = rustix::process::Rlimit { current: Some(64), maximum: None };
    let old = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    let limit = rustix::process::Rlimit { maximum: old.maximum, ..limit };
    rustix::process::prlimit(pid, rustix::process::Resource::Nofile, limit).expect("raise the lesson's limit");
}

#[test]
fn with_6_fds_a_file_is_answered_503_not_404_and_served_once_fds_are_free() {
    let site = Site::new();
    let (lesson, addr) = serve_with_fds(&site, 6);
    let reply = get(addr, "/index.html");
    assert_eq!(status(&reply), "503", "{reply}");
    assert!(reply.contains("Retry-After: 1\r\n") && reply.contains("EMFILE"), "{reply}");
    raise_fds(&lesson);
    assert_eq!(status(&get(addr, "/index.html")), "200");
    let output = stop(lesson);
    assert!(!output.contains("404"), "{output}");
}

#[test]
fn with_5_fds_a_failed_accept_does_not_end_the_server() {
    let site = Site::new();
    let (mut lesson, addr) = serve_with_fds(&site, 5);
    let waiting = std::thread::spawn(move || get(addr, "/index.html"));
    lesson.wait_for("EMFILE: this process has as many open as its limit");
    raise_fds(&lesson);
    let started = Instant::now();
    let reply = waiting.join().expect("the waiting client");
    assert_eq!(status(&reply), "200", "{reply}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    stop(lesson);
}

#[test]
fn one_shot_lessons_refuse_a_fifo_or_a_device_in_one_line_before_listening() {
    let dir = temp_dir();
    let fifo = dir.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
    let fifo = fifo.to_string_lossy().into_owned();
    for (lesson, file, what) in [
        ("serve-binary", fifo.as_str(), "a FIFO"),
        ("serve-text", fifo.as_str(), "a FIFO"),
        ("serve-text", "/dev/zero", "a device"),
        ("serve-binary", "/dev/urandom", "a device"),
        ("serve-binary", "/proc/self/maps", "size says 0"),
    ] {
        let started = Instant::now();
        let out = hhttpp(&["lesson", lesson, file, "--port", "0"]).stdin(Stdio::null()).output().expect("run");
        assert!(started.elapsed() < Duration::from_secs(1), "{lesson} {file}: {:?}", started.elapsed());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{lesson} {file}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(what), "{lesson} {file}: {stderr}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("listening"), "refused before listening");
    }
}

#[test]
fn serve_folder_keeps_http_11s_rules() {
    let site = Site::new();
    let (lesson, addr) = serve(&site, &["--quiet", "--host", "0.0.0.0"]);
    let local = SocketAddr::from(([127, 0, 0, 1], addr.port()));
    let raw = |request: &str| String::from_utf8_lossy(&exchange(local, request.as_bytes())).into_owned();
    assert_eq!(status(&raw("GET http://localhost/index.html HTTP/1.1\r\nHost: localhost\r\n\r\n")), "200");
    assert_eq!(status(&raw("GET /index.html HTTP/1.1\r\n\r\n")), "400", "no Host");
    assert_eq!(status(&raw("GET /index.html HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")), "400", "two");
    assert_eq!(status(&raw("GET /index.html HTTP/1.0\r\n\r\n")), "200", "HTTP/1.0 needs no Host");
    assert_eq!(status(&get(local, "/index.html/")), "404");
    let page = get(local, "/index.html");
    for header in ["\r\nDate: ", " GMT\r\n", "\r\nLast-Modified: "] {
        assert!(page.contains(header), "{header:?} in {page}");
    }
    let output = stop(lesson);
    assert!(output.contains("hhttpp: warning: listening on http://0.0.0.0:"), "on stderr, --quiet or not:\n{output}");
}

/// A port that was free a moment ago, for a lesson whose stdout we cannot read the port from.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// Connects to 127.0.0.1:`port` until the lesson listens there (bounded), then sends a GET.
fn get_when_listening(port: u16, target: &str) -> String {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + PATIENCE;
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {addr}");
        std::thread::yield_now();
    }
    get(addr, target)
}

#[test]
fn a_full_disk_under_the_transcript_is_said_on_stderr_and_the_server_goes_on() {
    let site = Site::new();
    let port = free_port().to_string();
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let dir = site.dir();
    let mut child = hhttpp(&["lesson", "serve-folder", &dir, "--port", &port])
        .stdout(full)
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("start");
    // The empty request first: it reaches accept4 only once the lesson listens.
    let port: u16 = port.parse().expect("a port");
    for _ in 0..2 {
        assert_eq!(status(&get_when_listening(port, "/index.html")), "200");
    }
    let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("a pid");
    rustix::process::kill_process(pid, rustix::process::Signal::INT).expect("Ctrl-C");
    let mut stderr = String::new();
    child.stderr.take().expect("piped").read_to_string(&mut stderr).expect("stderr");
    assert_eq!(child.wait().expect("wait").code(), Some(130), "{stderr}");
    assert!(stderr.contains("cannot write the transcript: no space left"), "{stderr}");
    assert!(stderr.contains("goes on without it"), "{stderr}");
}

#[test]
fn ctrl_c_ends_a_server_whose_stdout_nobody_reads() {
    let site = Site::new();
    let dir = site.dir();
    let mut child = hhttpp(&["lesson", "serve-folder", &dir, "--port", "0", "--full-dump"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("start");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(stdout.read_line(&mut line).expect("a line") > 0, "no listening line");
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split('/').next().unwrap_or_default().parse::<SocketAddr>().expect("an address");
        }
    };
    // From here on nobody reads: after a few requests the pipe is full, and the server blocks in write.
    let mut blocked = false;
    for _ in 0..200 {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(Duration::from_millis(500))).expect("a timeout");
        stream.write_all(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n").expect("send");
        let mut reply = Vec::new();
        if stream.read_to_end(&mut reply).is_err() {
            blocked = true;
            break;
        }
    }
    assert!(blocked, "the transcript never filled the pipe");
    let started = Instant::now();
    let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("a pid");
    rustix::process::kill_process(pid, rustix::process::Signal::INT).expect("Ctrl-C");
    let mut stderr = String::new();
    child.stderr.take().expect("piped").read_to_string(&mut stderr).expect("stderr");
    let code = child.wait().expect("wait").code();
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("nobody reads stdout"), "{stderr}");
    drop(stdout);
}

#[test]
fn ctrl_c_at_a_step_prompt_ends_the_lesson() {
    let (mut lesson, _stdin) = Running::start_with_stdin(&["lesson", "serve-text", "--step", "--port", "0"]);
    lesson.wait_for_stderr("press Enter to make it");
    let started = Instant::now();
    lesson.interrupt();
    let done = lesson.finish();
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(done.status.code(), Some(130), "{}", done.stderr);
    assert!(done.stderr.contains("press Enter to make it"), "it waited at a prompt: {}", done.stderr);
}
