//! Bad input gets one clear line, a documented exit status, and no panic; odd bytes are shown, never lost.

use std::process::Stdio;

use crate::common::{Running, dumped_bytes, exchange, hhttpp};

/// Runs `hhttpp ARGS` to the end and returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = hhttpp(args).stdin(Stdio::null()).output().expect("run hhttpp");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_missing_file_is_named_before_any_socket_is_made() {
    let (code, stdout, stderr) = run(&["lesson", "serve-binary", "no/such/picture.jpg", "--port", "0"]);
    assert_eq!(code, Some(3));
    assert_eq!(
        stderr,
        "hhttpp: cannot read \"no/such/picture.jpg\": no such file or directory \
         (check the path; name no file and the lesson serves its built-in one)\n"
    );
    assert!(!stdout.contains("socket("), "no socket for a file we cannot serve:\n{stdout}");
}

#[test]
fn a_directory_is_refused_with_a_hint() {
    for lesson in ["serve-binary", "serve-text"] {
        let (code, stdout, stderr) = run(&["lesson", lesson, "assets", "--port", "0"]);
        assert_eq!(code, Some(3), "{lesson}");
        assert_eq!(
            stderr,
            "hhttpp: cannot serve \"assets\": it is a directory (name one file in it, or serve the whole folder \
             with: hhttpp lesson serve-folder assets)\n"
        );
        assert!(!stdout.contains("socket("));
    }
}

#[test]
fn serve_text_refuses_a_binary_file_and_points_to_serve_binary() {
    let (code, stdout, stderr) = run(&["lesson", "serve-text", "assets/ice-caps.jpg", "--port", "0"]);
    assert_eq!(code, Some(3));
    assert_eq!(
        stderr,
        "hhttpp: cannot serve \"assets/ice-caps.jpg\" as text: byte 0 (0xFF) is not UTF-8 \
         (for pictures and other binary files use: hhttpp lesson serve-binary assets/ice-caps.jpg)\n"
    );
    assert!(!stdout.contains("socket("));
}

#[test]
fn a_bad_port_or_host_is_a_usage_error() {
    for args in [["--port", "70000"], ["--port", "http"], ["--host", "localhost:80"], ["--host", "999.1.1.1"]] {
        let mut all = vec!["lesson", "bind"];
        all.extend_from_slice(&args);
        let (code, stdout, stderr) = run(&all);
        assert_eq!(code, Some(2), "{args:?}");
        assert!(stderr.contains("error: invalid value"), "{args:?}: {stderr}");
        assert_eq!(stdout, "");
    }
}

#[test]
fn a_request_line_that_is_not_utf8_is_shown_escaped_and_answered_400() {
    let request = b"GET /caf\xE9\xFF HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let mut lesson = Running::start(&["lesson", "echo-request", "--port", "0"]);
    let reply = exchange(lesson.address(), request);
    let done = lesson.finish();
    assert!(done.status.success(), "{}", done.stderr);
    assert!(done.stdout.contains(r#""GET /caf\xE9\xFF HTTP/1.1\r\nHost: localhost\r\n\r\n""#), "{}", done.stdout);
    assert!(done.stdout.contains("a bad request, answered 400 Bad Request: not an HTTP/1.x request head"));
    assert!(reply.starts_with(b"HTTP/1.1 400 Bad Request\r\n"), "{}", String::from_utf8_lossy(&reply));
    assert_eq!(dumped_bytes(&done.stdout, "◀"), request, "the dump holds the very bytes, \\xFF included");
    assert_eq!(dumped_bytes(&done.stdout, "▶"), reply);
}

#[test]
fn a_header_value_that_is_not_utf8_is_echoed_exactly() {
    // HTTP allows any byte from 0x80 up in a header value; the request is valid, and the echo returns it whole.
    let request = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Name: Andr\xE9\r\n\r\n";
    let mut lesson = Running::start(&["lesson", "echo-request", "--port", "0"]);
    let reply = exchange(lesson.address(), request);
    let done = lesson.finish();
    assert!(done.status.success(), "{}", done.stderr);
    assert!(done.stdout.contains(r"X-Name: Andr\xE9\r\n"), "{}", done.stdout);
    assert!(reply.starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert!(reply.ends_with(request), "the body is exactly the bytes received");
    assert_eq!(dumped_bytes(&done.stdout, "◀"), request);
}

#[test]
fn a_garbage_request_line_is_answered_400() {
    let mut lesson = Running::start(&["lesson", "serve-text", "--port", "0"]);
    let reply = exchange(lesson.address(), b"HELLO\r\n\r\n");
    let done = lesson.finish();
    assert!(done.status.success(), "{}", done.stderr);
    assert!(reply.starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
    assert!(!reply.ends_with(b"<h1>Hello World</h1>"), "no page for a request that is not one");
    assert!(done.stdout.contains("answered 400 Bad Request"));
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let esc = "\x1b[";
    let (_, plain, _) = run(&["lesson", "bind", "--port", "0"]);
    assert!(!plain.contains(esc), "piped and NO_COLOR: plain");
    let (_, never, _) = run(&["lesson", "bind", "--port", "0", "--color", "never"]);
    assert!(!never.contains(esc));
    let (_, always, _) = run(&["lesson", "bind", "--port", "0", "--color", "always"]);
    assert!(always.contains(esc), "--color always colours even into a pipe");
    // Without NO_COLOR, `auto` into a pipe is still plain.
    let out = hhttpp(&["lesson", "bind", "--port", "0"]).env_remove("NO_COLOR").output().expect("run");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(esc));
}

#[test]
fn a_closed_stdout_ends_quietly() {
    // `hhttpp lesson bind | head -0`: the reader is gone before the lesson writes its first line.
    let mut child = hhttpp(&["lesson", "bind", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hhttpp");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "no panic, no message");
}

/// `hhttpp ARGS` as an unprivileged user: as root we drop to `nobody` with setpriv, since root may bind any port
/// and read any file. `nobody` may not be able to reach the build folder (a checkout under /root, say), so it runs
/// a copy of the binary from a folder of its own in the temp folder.
pub(crate) fn run_unprivileged(name: &str, args: &[&str]) -> (Option<i32>, String, String) {
    use std::os::unix::fs::PermissionsExt;
    let root = rustix::process::geteuid().is_root();
    let folder = crate::common::temp_dir();
    let home = folder.path().join(name);
    let mut cmd = if root {
        // nobody must reach the copy: the temp folder of our own is open to all for this, its files are not.
        std::fs::set_permissions(folder.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod 755");
        std::fs::create_dir_all(&home).expect("a folder for nobody");
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o755)).expect("chmod 755");
        let exe = home.join("hhttpp");
        crate::common::copy_of_hhttpp(&exe);
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"]).arg(&exe);
        cmd.args(args).env("NO_COLOR", "1").current_dir(&home);
        cmd
    } else {
        hhttpp(args)
    };
    let out = cmd.stdin(Stdio::null()).output().expect("run hhttpp unprivileged");
    drop(folder);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_privileged_port_is_refused_with_eacces_and_a_hint() {
    let start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start").unwrap_or_default();
    if start.trim().parse::<u16>().is_ok_and(|first| first <= 80) {
        crate::common::unavailable(crate::common::Need::PrivilegedPorts);
        return;
    }
    let (code, stdout, stderr) = run_unprivileged("port80", &["lesson", "bind", "--port", "80"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("= -1 EACCES (Permission denied)"), "{stdout}");
    assert_eq!(
        stderr,
        "hhttpp: cannot bind 127.0.0.1:80: permission denied \
         (ports below 1024 need root; try a port above 1023, or --port 0)\n"
    );
}

#[test]
fn an_unreadable_file_is_named_with_the_reason() {
    let folder = crate::common::temp_dir();
    std::fs::set_permissions(folder.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod 755");
    let path = folder.path().join("secret.jpg");
    std::fs::write(&path, b"\xFF\xD8\xFF").expect("write the file");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o000)).expect("chmod 000");
    let shown = path.to_string_lossy().into_owned();
    let (code, stdout, stderr) = run_unprivileged("secret", &["lesson", "serve-binary", &shown, "--port", "0"]);
    assert_eq!(code, Some(3), "{stdout}{stderr}");
    assert_eq!(
        stderr,
        format!(
            "hhttpp: cannot read {shown:?}: permission denied (it is there, but this user may not read it: see its \
             permissions, ls -l)\n"
        )
    );
    assert!(!stdout.contains("socket("));
}

#[test]
fn an_address_of_no_interface_here_is_refused_with_a_hint() {
    // 192.0.2.1 is TEST-NET-1, reserved for documentation: no machine has it, so bind fails (no packet is sent).
    let (code, stdout, stderr) = run(&["lesson", "bind", "--host", "192.0.2.1", "--port", "0"]);
    assert_eq!(code, Some(1));
    assert!(stdout.contains("= -1 EADDRNOTAVAIL (Cannot assign requested address)"), "{stdout}");
    assert!(stderr.contains("try --host 127.0.0.1"), "{stderr}");
}

/// `--html` and `--pcap` naming a FIFO that nobody reads: one clear line at once, status 1, not a run held before its
/// first call (opening a FIFO to write waits for a reader).
#[test]
fn an_output_fifo_nobody_reads_is_refused_at_once() {
    let dir = crate::common::temp_dir();
    let fifo = dir.path().join("fifo");
    let path = std::ffi::CString::new(fifo.to_str().expect("a UTF-8 temp path")).expect("no NUL");
    // SAFETY: a plain mkfifo on a path of ours.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0, "mkfifo");
    // --pcap's file is made once the capture is open, which needs CAP_NET_RAW.
    let options: &[&str] = if crate::packets::may_capture() { &["--html", "--pcap"] } else { &["--html"] };
    for &option in options {
        let child = hhttpp(&["lesson", "bind", "--port", "0", option, fifo.to_str().expect("UTF-8")])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run hhttpp");
        let pid = child.id() as i32;
        let (send, ended) = std::sync::mpsc::channel();
        std::thread::spawn(move || send.send(child.wait_with_output()));
        let Ok(out) = ended.recv_timeout(crate::common::PATIENCE) else {
            // SAFETY: our own child, which has not been waited for.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("{option} FIFO: hhttpp still waits after {:?}", crate::common::PATIENCE);
        };
        let out = out.expect("hhttpp's output");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{option}: {stderr}");
        assert!(
            stderr.contains("it is a FIFO that no program reads yet (start its reader first)"),
            "{option}: {stderr}"
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains("socket("), "{option}: no call before the refusal");
    }
}
