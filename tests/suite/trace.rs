//! `hhttpp trace`: a learner's own program (Python servers of ours, in tests/programs/), run under strace and
//! shown in the lessons' form, with notes, and lined up with a lesson by `--compare`.
//!
//! Needs strace and python3; without them the tests fail and say so, unless `HHTTPP_SKIP` names them.

use crate::common::{REQUEST, Running, dumped_bytes, exchange, hhttpp, settings};

fn tools() -> bool {
    use crate::common::{Need, have};
    have(Need::Strace, "strace", "-V") && have(Need::Python3, "python3", "--version")
}

/// Traces `program`, plays a client sending the canonical request, and returns (exit code, transcript, reply).
fn trace(extra: &[&str], program: &str) -> (Option<i32>, String, Vec<u8>) {
    let mut args = vec!["trace"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "python3", program]);
    let mut traced = Running::start(&args);
    let reply = exchange(traced.address(), REQUEST);
    let done = traced.finish();
    (done.status.code(), done.stdout, reply)
}

#[test]
fn a_blog_style_server_is_shown_call_by_call_with_the_bytes_on_the_wire() {
    if !tools() {
        return;
    }
    let (code, transcript, reply) = trace(&["--full-dump"], "tests/programs/blog_server.py");
    assert_eq!(code, Some(0), "the program's own exit status: {transcript}");
    assert_eq!(reply, b"HTTP/1.1 200 OK\n\n<h1>Hello World</h1>");
    assert_eq!(dumped_bytes(&transcript, "◀"), REQUEST, "the dumps hold the bytes the program received");
    assert_eq!(dumped_bytes(&transcript, "▶"), reply, "and the bytes it sent");
    assert!(transcript.contains("  listen(3, 1) = 0"));
    assert!(transcript.contains("a backlog of 1, as in the blog"));
    assert!(transcript.contains("the response: no Content-Length header"));
    assert!(transcript.contains("the response: expected \\r\\n at the end of the status line, got \\n"));
    assert!(transcript.contains("┆ stdout: listening on http://127.0.0.1:"), "the program's output passes through");
    assert!(!transcript.contains("</dev/") && !transcript.contains("</usr/"), "no file or terminal is shown");
    // The program's output and strace's report come through two pipes, so their lines may interleave differently
    // from run to run: the snapshot pins the calls, without the pass-through lines.
    // A TCP state is shown only when it was read while strace held the program after the call, so it is the state
    // the call left: a bound socket is not in the kernel's table yet, a listening one is LISTEN. (On a busy machine
    // a state may be left out, never wrong.)
    let state_of = |call: &str| {
        let line = transcript.lines().find(|l| l.contains(call)).unwrap_or_else(|| panic!("no {call}"));
        line.rsplit_once("  ⟨").map(|(_, s)| s.trim_end_matches('⟩').to_string())
    };
    assert_eq!(state_of("  bind(3, "), None, "{transcript}");
    assert!(matches!(state_of("  listen(3, 1) = 0").as_deref(), None | Some("LISTEN")), "{transcript}");
    // (Either socket's reading may be left out on a busy machine, never replaced by another.)
    let accepted = state_of("SOCK_CLOEXEC) = 4");
    assert!(
        matches!(accepted.as_deref(), None | Some("LISTEN; fd 4: ESTABLISHED" | "LISTEN" | "fd 4: ESTABLISHED")),
        "accept4's state {accepted:?}: {transcript}"
    );
    // The client sends, then reads to the end before it closes: while the program reads and writes, its end is
    // ESTABLISHED; after its shutdown (our client closes once it has the FIN, perhaps inside the hold) and its close,
    // it has sent the first FIN: FIN_WAIT2 until the client's FIN comes, then TIME_WAIT.
    for call in ["  recvfrom(4, ", "  sendto(4, "] {
        assert!(matches!(state_of(call).as_deref(), None | Some("ESTABLISHED")), "{call}: {transcript}");
    }
    for call in ["  shutdown(4, SHUT_RDWR) = 0", "  close(4) = 0"] {
        let state = state_of(call);
        assert!(matches!(state.as_deref(), None | Some("FIN_WAIT1" | "FIN_WAIT2" | "TIME_WAIT")), "{transcript}");
    }
    // After the listener's close the table has no row for it, and the transcript says so.
    assert_eq!(state_of("  close(3) = 0").as_deref(), Some("no entry"), "{transcript}");
    // The states are checked above; the snapshot pins the calls without them.
    let calls: String = transcript
        .lines()
        .filter(|l| !l.contains("┆ "))
        .map(|l| format!("{}\n", l.split("  ⟨").next().unwrap_or(l)))
        .collect();
    settings().bind(|| insta::assert_snapshot!("trace_blog_server", calls));
}

/// A state read at once after a connection's first read and first write, and after a shutdown, is shown when the
/// program's next call began after it was read: a program that pauses after each gives that proof, so they are there.
#[test]
fn the_first_read_and_write_of_a_connection_and_its_shutdown_show_the_state_they_left() {
    if !tools() {
        return;
    }
    let (code, transcript, reply) = trace(&[], "tests/programs/pausing_server.py");
    assert_eq!(code, Some(0), "{transcript}");
    assert_eq!(reply, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    let state_of = |call: &str| {
        let line = transcript.lines().find(|l| l.contains(call)).unwrap_or_else(|| panic!("no {call}: {transcript}"));
        line.rsplit_once("  ⟨").map(|(_, s)| s.trim_end_matches('⟩').to_string())
    };
    assert_eq!(state_of("  recvfrom(4, ").as_deref(), Some("ESTABLISHED"), "{transcript}");
    assert_eq!(state_of("  sendto(4, ").as_deref(), Some("ESTABLISHED"), "{transcript}");
    // Its shutdown sent the first FIN; the client closes once it has read to the end, perhaps before we look.
    let shut = state_of("  shutdown(4, SHUT_RDWR) = 0");
    assert!(matches!(shut.as_deref(), Some("FIN_WAIT1" | "FIN_WAIT2" | "TIME_WAIT")), "{transcript}");
    // After its close the program sent the first FIN; the client's own close follows its read of the end.
    let closed = state_of("  close(4) = 0");
    assert!(matches!(closed.as_deref(), None | Some("FIN_WAIT1" | "FIN_WAIT2" | "TIME_WAIT")), "{transcript}");
    // Only the first read and the first write of a connection are read; the listener's getsockname is not.
    assert_eq!(state_of("  getsockname(3, "), None, "{transcript}");
}

#[test]
fn compare_names_the_blog_servers_differences_from_serve_text() {
    if !tools() {
        return;
    }
    let (code, transcript, _) = trace(&["--compare", "serve-text"], "tests/programs/blog_server.py");
    assert_eq!(code, Some(1), "differences exit 1: {transcript}");
    assert!(transcript.contains("  ✓ listen(1)"));
    assert!(transcript.contains("  ✗ the response: no Content-Length header"));
    assert!(transcript.contains("  ✗ the response: no Content-Type header; ours says text/html; charset=utf-8"));
    assert!(transcript.contains("3 differences from the lesson"), "{transcript}");
}

#[test]
fn a_faithful_server_compares_clean() {
    if !tools() {
        return;
    }
    let (code, transcript, reply) = trace(&["--compare", "serve-text"], "tests/programs/good_server.py");
    assert_eq!(code, Some(0), "{transcript}");
    assert!(reply.ends_with(b"<h1>Hello World</h1>"));
    assert!(!transcript.contains('✗'), "{transcript}");
    assert!(transcript.contains("✓ the response matches hhttpp lesson serve-text's, byte for byte"));
}

#[test]
fn a_sloppy_server_gets_every_note_and_difference() {
    if !tools() {
        return;
    }
    let (code, transcript, _) = trace(&["--compare", "serve-text"], "tests/programs/sloppy_server.py");
    assert_eq!(code, Some(1), "{transcript}");
    assert!(transcript.contains("✗ missing: setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)"), "{transcript}");
    assert!(transcript.contains("✗ listen(1): a backlog of 5; the lesson's is 1"));
    assert!(transcript.contains("✗ recv(4096): a buffer of 1024 bytes; the lesson's is 4096"));
    assert!(transcript.contains("✗ missing: shutdown(SHUT_RDWR)"));
    assert!(transcript.contains("✗ the response: no Content-Type header"));
    assert!(transcript.contains("the process ended with 2 sockets never closed (fd 3, 4)"), "{transcript}");
}

#[test]
fn without_a_command_or_strace_it_says_what_is_missing() {
    let out = hhttpp(&["trace"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "clap: COMMAND is required");
    let out = hhttpp(&["trace", "--", "true"]).env("PATH", "/nonexistent").output().expect("run");
    assert_eq!(out.status.code(), Some(i32::from(hhttpp::error::EXIT_MISSING_TOOL)), "not a usage error");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "hhttpp: hhttpp trace runs your program under strace, which is not installed (apt-get install strace)\n",
        "one line that says how to install it"
    );
}

#[test]
fn a_forking_server_is_followed_into_its_child_with_reads_sendmsg_and_notes() {
    if !tools() {
        return;
    }
    let mut traced = Running::start(&["trace", "--", "python3", "tests/programs/forking_server.py"]);
    let addr = traced.address();
    let mut client = std::net::TcpStream::connect(addr).expect("connect");
    client.set_read_timeout(Some(crate::common::PATIENCE)).expect("timeout");
    // The request in two pieces: the second only once the child has read the first.
    let (first, second) = REQUEST.split_at(20);
    std::io::Write::write_all(&mut client, first).expect("first piece");
    traced.wait_for("read(4, buf, 4096) = 20");
    std::io::Write::write_all(&mut client, second).expect("second piece");
    let mut reply = vec![0u8; 84];
    std::io::Read::read_exact(&mut client, &mut reply).expect("the reply");
    drop(client);
    let done = traced.finish();
    let transcript = done.stdout;
    assert_eq!(done.status.code(), Some(0), "{transcript}");
    assert!(transcript.contains("bind(4, {sa_family=AF_INET, ") && transcript.contains("= -1 EADDRINUSE"));
    assert!(transcript.contains("EADDRINUSE, and this socket has no SO_REUSEADDR"), "{transcript}");
    let child: Vec<_> = transcript.lines().filter(|l| l.contains("[pid ")).collect();
    assert!(child.iter().any(|l| l.contains("sendmsg(4, msg, 0) = 84")), "the child's calls are followed: {child:#?}");
    assert!(transcript.contains("the request before this reply arrived in pieces: 2 reads"));
    assert!(transcript.contains("the read returned 0: the other side closed"));
    assert_eq!(dumped_bytes(&transcript, "◀"), REQUEST, "the child's reads, dumped");
    assert_eq!(dumped_bytes(&transcript, "▶"), reply, "sendmsg's two buffers, dumped as one reply");
}

/// Runs `hhttpp trace -- ARGS` to its end with no client, and returns (exit code, stdout, stderr).
fn run_to_end(args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["trace", "--"];
    all.extend_from_slice(args);
    let out = hhttpp(&all).stdin(std::process::Stdio::null()).output().expect("run hhttpp trace");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The summary's byte counts: (received, sent).
fn totals(transcript: &str) -> (u64, u64) {
    let total = |way: &str| {
        transcript
            .lines()
            .find_map(|l| l.trim().strip_prefix(way))
            .and_then(|rest| rest.split(' ').next())
            .map_or(0, |n| n.replace(',', "").parse().expect("a count"))
    };
    (total("received "), total("sent "))
}

#[test]
fn output_that_is_not_utf8_passes_through_escaped_and_the_program_runs_on() {
    if !tools() {
        return;
    }
    let (code, transcript, _) = run_to_end(&["sh", "-c", r#"printf '\377\033]52;c;eA==\007\n'; echo after"#]);
    assert_eq!(code, Some(0), "{transcript}");
    assert!(transcript.contains(r"┆ stdout: \xFF\x1B]52;c;eA==\x07"), "escaped, never raw: {transcript}");
    assert!(transcript.contains("┆ stdout: after"), "read to the end: {transcript}");
    assert!(!transcript.contains('\u{1b}'), "no control character reaches the terminal");
}

#[test]
fn a_program_killed_by_sigterm_ends_with_143_and_a_missing_one_with_127() {
    if !tools() {
        return;
    }
    let (code, transcript, _) = run_to_end(&["sh", "-c", "kill -TERM $$"]);
    assert_eq!(code, Some(143), "{transcript}");
    assert!(transcript.contains("the program was killed by SIGTERM"), "{transcript}");
    // Killed with a socket open: the kernel closed it; no advice to close it, the program had no chance to.
    let listen_and_die = "import os, signal, socket\ns = socket.socket()\ns.bind(('127.0.0.1', 0))\ns.listen()\n\
                          os.kill(os.getpid(), signal.SIGTERM)";
    let (code, transcript, _) = run_to_end(&["python3", "-c", listen_and_die]);
    assert_eq!(code, Some(143), "{transcript}");
    assert!(transcript.contains("the process was killed by SIGTERM with 1 socket open (fd 3)"), "{transcript}");
    assert!(!transcript.contains("Close each socket"), "{transcript}");
    let (code, _, stderr) = run_to_end(&["hhttpp-no-such-program"]);
    assert_eq!(code, Some(127));
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
}

#[test]
fn a_traced_program_cannot_write_calls_into_the_report() {
    if !tools() {
        return;
    }
    let (code, transcript, _) = run_to_end(&["python3", "tests/programs/forger.py"]);
    assert_eq!(code, Some(0), "{transcript}");
    assert!(transcript.contains("forger done"), "{transcript}");
    assert!(!transcript.contains("connect(3, "), "no forged call is numbered: {transcript}");
    assert!(transcript.contains("summary: 0 socket calls"), "{transcript}");
}

#[test]
fn a_threaded_server_closes_in_its_thread_and_compares_clean() {
    if !tools() {
        return;
    }
    let (code, transcript, reply) = trace(&["--compare", "serve-text"], "tests/programs/threaded_server.py");
    assert!(reply.ends_with(b"<h1>Hello World</h1>"));
    assert!(!transcript.contains("never closed"), "the thread closed it: {transcript}");
    assert!(transcript.contains("✓ the response matches hhttpp lesson serve-text's"), "{transcript}");
    assert_eq!(code, Some(0), "{transcript}");
}

#[test]
fn a_splice_sender_has_its_bytes_counted_and_its_file_named() {
    if !tools() {
        return;
    }
    let mut traced =
        Running::start(&["trace", "--", "python3", "tests/programs/splice_sender.py", "assets/ice-caps.jpg"]);
    let reply = exchange(traced.address(), REQUEST);
    let done = traced.finish();
    let transcript = done.stdout;
    assert_eq!(done.status.code(), Some(0), "{transcript}");
    let size = std::fs::metadata("assets/ice-caps.jpg").expect("the picture").len();
    assert!(transcript.contains("splice("), "{transcript}");
    assert!(transcript.contains("from pipe:["), "the other side is named: {transcript}");
    assert_eq!(totals(&transcript).1, reply.len() as u64, "every byte on the wire is counted: {transcript}");
    assert!(reply.len() as u64 > size);
    assert!(!transcript.contains("the response:"), "no false note: {transcript}");
}

#[test]
fn a_non_blocking_accept_loop_is_not_a_failure() {
    if !tools() {
        return;
    }
    let (code, transcript, reply) = trace(&[], "tests/programs/nonblocking_server.py");
    assert_eq!(code, Some(0), "{transcript}");
    assert!(transcript.contains("= -1 EAGAIN"), "the failed accept4 is shown: {transcript}");
    assert!(transcript.contains("no connection is waiting yet"), "{transcript}");
    assert!(transcript.contains("select6(4, [3], "), "the wait is shown: {transcript}");
    let summary = transcript.lines().find(|l| l.starts_with("summary:")).unwrap_or_default();
    assert!(!summary.contains("failed"), "{summary}");
    assert_eq!(totals(&transcript), (REQUEST.len() as u64, reply.len() as u64), "{transcript}");
}

/// A free port on 127.0.0.1 (nginx and http.server cannot be told to take port 0 and say which they got).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// Starts `hhttpp trace -- ARGS` in a process group of its own, as a shell starts a job, so that Ctrl-C can be
/// sent to the whole group as a terminal sends it; waits until `port` accepts a connection.
fn start_job(args: &[&str], port: u16) -> std::process::Child {
    use std::os::unix::process::CommandExt;
    let mut all = vec!["trace", "--"];
    all.extend_from_slice(args);
    let child = hhttpp(&all)
        .process_group(0)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start hhttpp trace");
    let deadline = std::time::Instant::now() + crate::common::PATIENCE;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "nothing listens on {port}");
        std::thread::yield_now();
    }
    child
}

/// Ctrl-C to the job's whole process group once its transcript has `closes` lines with `] close(` (its threads
/// are done), then its output and status.
fn ctrl_c(mut child: std::process::Child, closes: usize) -> (Option<i32>, String) {
    use std::io::BufRead;
    let stdout = child.stdout.take().expect("piped stdout");
    let (send, lines) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    let mut transcript = String::new();
    let mut seen = 0;
    while seen < closes {
        let line = lines.recv_timeout(crate::common::PATIENCE).expect("the threads' closes");
        seen += usize::from(line.contains("] close("));
        transcript.push_str(&line);
        transcript.push('\n');
    }
    let group = rustix::process::Pid::from_raw(child.id() as i32).expect("a pid");
    rustix::process::kill_process_group(group, rustix::process::Signal::INT).expect("Ctrl-C");
    let status = child.wait().expect("hhttpp ends");
    reader.join().expect("the reader");
    transcript.extend(lines.try_iter().map(|l| l + "\n"));
    (status.code(), transcript)
}

fn curl(url: &str) -> Vec<u8> {
    let out = std::process::Command::new("curl").args(["-s", url]).output().expect("curl");
    assert!(out.status.success(), "curl {url}");
    out.stdout
}

/// `python3 -m http.server` (a thread per request) under `hhttpp trace`, serving a page from a folder of its own;
/// the job, the page's URL, and the folder (kept while the test runs).
fn traced_http_server() -> (std::process::Child, String, tempfile::TempDir) {
    let port = free_port();
    let dir = crate::common::temp_dir();
    std::fs::write(dir.path().join("index.html"), "<h1>Hello World</h1>").expect("a page");
    let root = dir.path().to_str().expect("a path").to_string();
    let p = port.to_string();
    let child = start_job(&["python3", "-m", "http.server", &p, "--bind", "127.0.0.1", "--directory", &root], port);
    (child, format!("http://127.0.0.1:{port}/index.html"), dir)
}

#[test]
fn python_http_server_with_threads_stopped_by_ctrl_c() {
    if !tools() || !crate::common::have(crate::common::Need::Curl, "curl", "--version") {
        return;
    }
    let (child, url, _dir) = traced_http_server();
    let got = [curl(&url), curl(&url)];
    // Our readiness probe and the two curls: three connections, each closed by its thread.
    let (code, transcript) = ctrl_c(child, 3);
    assert_eq!(code, Some(130), "{transcript}");
    assert!(!transcript.contains("never closed"), "its threads closed their sockets: {transcript}");
    assert!(!transcript.contains("the response:"), "no false note: {transcript}");
    assert!(transcript.contains("after the last close, the kernel's TCP table:"), "{transcript}");
    assert!(transcript.contains("the exchange, as the calls above made it:"), "{transcript}");
    assert!(transcript.contains("after Ctrl-C"), "{transcript}");
    // Our readiness probe connected once and sent nothing; the two curls got every byte the summary counts.
    let wire: usize = got.iter().map(Vec::len).sum();
    assert!(totals(&transcript).1 as usize > wire, "heads and bodies: {transcript}");
}

/// A server that answers many connections keeps only the last few for the aftermath and the diagram, and says how
/// many there were.
#[test]
fn many_connections_are_counted_and_only_the_last_three_drawn() {
    if !tools() || !crate::common::have(crate::common::Need::Curl, "curl", "--version") {
        return;
    }
    let (child, url, _dir) = traced_http_server();
    // More connections than strace holds accept for (8 a thread): the later accepts are read at once instead.
    for _ in 0..11 {
        curl(&url);
    }
    let (code, transcript) = ctrl_c(child, 12);
    assert_eq!(code, Some(130), "{transcript}");
    let accepts = transcript.lines().filter(|l| l.contains("  accept4(3, ") && !l.contains("= -1")).count();
    assert_eq!(accepts, 12, "our probe and 11 curls: {transcript}");
    assert_eq!(transcript.matches("(the last 3 of 12 connections)").count(), 2, "aftermath and diagram: {transcript}");
    assert!(!transcript.contains("never closed"), "{transcript}");
}

#[test]
fn nginx_with_sendfile_in_a_worker_process_has_every_byte_counted() {
    if !tools() || !crate::common::have(crate::common::Need::Nginx, "nginx", "-v") {
        return;
    }
    let port = free_port();
    let dir = crate::common::temp_dir();
    let d = dir.path().display();
    std::fs::create_dir(dir.path().join("www")).expect("www");
    let body = "<h1>Hello World</h1>\n".repeat(200);
    std::fs::write(dir.path().join("www/index.html"), &body).expect("the page");
    let conf = format!(
        "daemon off; master_process on; worker_processes 1; error_log {d}/error.log; pid {d}/nginx.pid;\n\
         events {{ worker_connections 64; }}\n\
         http {{ access_log off; include /etc/nginx/mime.types; sendfile on; keepalive_timeout 5;\n\
         client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d}; uwsgi_temp_path {d}; \
         scgi_temp_path {d};\n\
         server {{ listen 127.0.0.1:{port}; root {d}/www; }} }}\n"
    );
    let conf_path = dir.path().join("nginx.conf");
    std::fs::write(&conf_path, conf).expect("nginx.conf");
    let conf_path = conf_path.to_str().expect("a path").to_string();
    let prefix = d.to_string();
    let child = start_job(&["nginx", "-c", &conf_path, "-p", &prefix], port);
    // Three requests on one keep-alive connection (curl reuses it), and one more on its own.
    let url = format!("http://127.0.0.1:{port}/index.html");
    let out = std::process::Command::new("curl").args(["-s", &url, &url, &url]).output().expect("curl");
    let one = curl(&url);
    // The probe's, the keep-alive connection's and the last one's closes, in the worker.
    let (code, transcript) = ctrl_c(child, 3);
    assert_eq!(code, Some(130), "{transcript}");
    assert!(transcript.contains("sendfile("), "{transcript}");
    assert!(transcript.contains("index.html at offset 0"), "the file is named: {transcript}");
    assert!(transcript.contains("[pid "), "the worker is a child process: {transcript}");
    assert!(transcript.contains("│  1 × writev + 1 × sendfile"), "the diagram names the calls: {transcript}");
    assert!(!transcript.contains("response"), "no false note on any response: {transcript}");
    assert_eq!(out.stdout.len() + one.len(), 4 * body.len());
    let sent = totals(&transcript).1 as usize;
    assert!(sent > 4 * body.len() && sent < 4 * (body.len() + 400), "heads and bodies counted: {transcript}");
}

#[test]
fn curl_as_a_traced_client_connects_without_blocking_and_the_diagram_draws_it() {
    if !tools() || !crate::common::have(crate::common::Need::Curl, "curl", "--version") {
        return;
    }
    let Some(nginx) = crate::common::Nginx::start("<h1>Hello World</h1>") else { return };
    let url = format!("http://{}/", nginx.addr);
    let (code, transcript, _) = run_to_end(&["curl", "-s", "-o", "/dev/null", &url]);
    assert_eq!(code, Some(0), "{transcript}");
    assert!(transcript.contains("= -1 EINPROGRESS"), "{transcript}");
    assert!(transcript.contains("a non-blocking connect returns at once"), "{transcript}");
    assert!(!transcript.contains("no connection was made"), "{transcript}");
    assert!(transcript.contains("client (the program, fd "), "{transcript}");
    // connect named the socket by its inode; a later call named its addresses, and the aftermath looks them up.
    assert!(transcript.contains("after the last close, the kernel's TCP table:"), "{transcript}");
    let summary = transcript.lines().find(|l| l.starts_with("summary:")).unwrap_or_default();
    assert!(!summary.contains("failed"), "{summary}");
}

/// A response bigger than what hhttpp keeps to judge (32 MiB): the lesson's own serve-binary, sending a 40 MB file
/// with sendfile, traced. Its bytes are all counted, and its responses are no longer judged from there on, rather
/// than kept in memory; no note claims the body is short.
#[test]
fn a_response_over_32_mib_is_counted_and_not_kept() {
    if !tools() {
        return;
    }
    let dir = crate::common::temp_dir();
    let path = dir.path().join("big.bin");
    let len = 40_000_000;
    std::fs::write(&path, vec![b'x'; len]).expect("write the file");
    let path = path.to_str().expect("a path");
    let lesson = env!("CARGO_BIN_EXE_hhttpp");
    let args = ["trace", "--", lesson, "--color", "never", "lesson", "serve-binary", path, "--sendfile", "--port", "0"];
    let mut traced = Running::start(&args);
    let reply = exchange(traced.address(), REQUEST);
    let done = traced.finish();
    let transcript = done.stdout;
    assert_eq!(done.status.code(), Some(0), "{transcript}");
    let head = reply.windows(4).position(|w| w == b"\r\n\r\n").expect("a head") + 4;
    assert_eq!(reply.len() - head, len, "the client got the whole file");
    assert!(transcript.contains("this connection's response is now over 32 MiB"), "{transcript}");
    assert!(!transcript.contains("the response:"), "no note on a response not judged: {transcript}");
    assert_eq!(totals(&transcript).1 as usize, reply.len(), "every byte sent is counted: {transcript}");
}
