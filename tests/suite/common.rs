//! What every test of the real binary needs: start a lesson on port 0, wait for its "listening on" line, act as
//! its client, collect its transcript, and the one insta settings function (snapshot folder, port filter).
#![allow(dead_code)] // each test file uses its own part of this module

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::Duration;

/// The request every snapshot client sends, in one write: the same bytes on every run and every machine. It is the
/// built-in client's (`--client`) and `hhttpp check`'s too.
pub const REQUEST: &[u8] = hhttpp::lesson::CANONICAL_REQUEST;

/// How long a test waits for the lesson before it gives up (a bound, not a pause: nothing here sleeps).
pub const PATIENCE: Duration = Duration::from_secs(20);

/// The shared insta settings: snapshots in the top-level `snapshots/`, named after the lesson, with every port
/// the OS chose masked: the transcript prints a port only as `htons(N)`, as `host:N`, or in the Python line
/// `.bind(("host", N))`. Port 0, the one we ask for, stays visible.
pub fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.add_filter(r"htons\([1-9][0-9]*\)", "htons([PORT])");
    settings.add_filter(r"\b(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}):[1-9][0-9]*", "$1:[PORT]");
    settings.add_filter(r#"(\.(bind|connect)\(\("[^"]*", )[1-9][0-9]*\)\)"#, "$1[PORT]))");
    settings.add_filter(r#"(getaddrinfo\("[^"]*", "?)[1-9][0-9]*"#, "$1[PORT]");
    settings.add_filter(r"(ours> port = )[1-9][0-9]*", "$1[PORT]");
    // serve-folder's Date (now) and Last-Modified (the file's mtime) change from run to run: the dates as text,
    // and every hex-dump row that holds a byte of one (its ASCII column then shows a piece of a date).
    let date = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT";
    settings.add_filter(date, "[HTTP-DATE]");
    settings.add_filter(
        r"(?m)^(\s+[0-9a-f]{4,}:   ).{48}   .*(Date:|Modified:|GMT|, \d\d|[A-Z][a-z]{2} \d{4}|\d{4} \d\d:|\d\d:\d\d:\d\d).*$",
        "$1[a row of the Date or Last-Modified header]",
    );
    settings
}

/// The shared settings, for the client's lesson: its socket's state after it sent or received depends on whether
/// the server's reply and FIN have arrived yet (ESTABLISHED or CLOSE_WAIT), so the snapshot says "either".
pub fn client_settings() -> insta::Settings {
    let mut settings = settings();
    settings.add_filter(
        r"(?m)^(\s+\d+  (sendto|recvfrom)\(3, .* = [1-9][0-9]*)  ⟨(ESTABLISHED|CLOSE_WAIT)⟩$",
        "$1  ⟨ESTABLISHED or CLOSE_WAIT⟩",
    );
    settings
}

/// The transcript's summary as one line: it is wrapped to the prose width, its later lines indented.
pub fn summary(transcript: &str) -> String {
    let start = transcript.find("\nsummary: ").map_or(0, |at| at + 1);
    let mut lines = transcript[start..].lines();
    let mut summary = lines.next().unwrap_or_default().to_string();
    for line in lines {
        let Some(more) = line.strip_prefix("     ").filter(|m| !m.starts_with(' ')) else { break };
        if summary.ends_with(',') {
            summary.push(' ');
            summary.push_str(more);
        } else {
            break;
        }
    }
    summary
}

/// A copy of the real `hhttpp` binary at `to`, ready to run: a hard link where the two folders share a file system
/// (nothing is written, so nothing can be busy), else a copy, tried until the kernel lets it run. A copy made while
/// another test forks inherits our write descriptor in that child until its exec, and running the copy then fails
/// with ETXTBSY ("Text file busy"); that window closes within milliseconds.
pub fn copy_of_hhttpp(to: &std::path::Path) {
    let from = env!("CARGO_BIN_EXE_hhttpp");
    if std::fs::hard_link(from, to).is_ok() {
        return;
    }
    std::fs::copy(from, to).expect("copy the binary");
    for _ in 0..200 {
        match Command::new(to).arg("--version").output() {
            Err(err) if err.raw_os_error() == Some(libc::ETXTBSY) => std::thread::sleep(Duration::from_millis(5)),
            _ => return,
        }
    }
    panic!("{} stayed busy for a second", to.display());
}

/// A command for the real `hhttpp` binary, colour off.
pub fn hhttpp(args: &[&str]) -> Command {
    command(env!("CARGO_BIN_EXE_hhttpp"), args)
}

/// A command run from the repository's folder, colour off, as every test runs hhttpp.
fn command(program: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args).env("NO_COLOR", "1").env_remove("CLICOLOR_FORCE").current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// Something a test needs that the machine may lack: a tool `.ci/run` installs, or a property of the machine.
#[derive(Clone, Copy, Debug)]
pub enum Need {
    Strace,
    Python3,
    Ss,
    Chromium,
    Nginx,
    Curl,
    /// A mount namespace of the test's own (`unshare -m`, as root).
    Unshare,
    /// An IPv6 loopback address (`::1`).
    Ipv6,
    /// A kernel that keeps port 80 for root (`ip_unprivileged_port_start` above 80).
    PrivilegedPorts,
    /// `CAP_NET_RAW`, to capture on lo (`--packets`): root.
    RawSockets,
    Tcpdump,
}

impl Need {
    /// The name `HHTTPP_SKIP` knows it by, and what to do about it.
    fn describe(self) -> (&'static str, &'static str) {
        match self {
            Need::Strace => ("strace", "apt-get install strace"),
            Need::Python3 => ("python3", "apt-get install python3"),
            Need::Ss => ("ss", "apt-get install iproute2"),
            Need::Chromium => ("chromium", "apt-get install chromium"),
            Need::Nginx => ("nginx", "apt-get install nginx"),
            Need::Curl => ("curl", "apt-get install curl"),
            Need::Unshare => ("unshare", "run as root, with util-linux's unshare"),
            Need::Ipv6 => ("ipv6", "this machine has no IPv6 loopback (::1)"),
            Need::PrivilegedPorts => ("privileged-ports", "this kernel lets anyone bind port 80"),
            Need::RawSockets => ("packets", "run the tests as root, for CAP_NET_RAW"),
            Need::Tcpdump => ("tcpdump", "apt-get install tcpdump"),
        }
    }
}

/// Says that a test cannot run here because `need` is missing. That fails the test, so a run that tested nothing
/// against the kernel or a browser never looks green, unless the user asked to skip it knowingly: `HHTTPP_SKIP` holds
/// a comma-separated list of names (`strace,chromium`) or `all`. Returns so that the caller can `return`.
pub fn unavailable(need: Need) {
    let (name, remedy) = need.describe();
    let skip = std::env::var("HHTTPP_SKIP").unwrap_or_default();
    let asked = skip.split(',').map(str::trim).any(|item| item == name || item == "all");
    assert!(
        asked,
        "this test needs {name} ({remedy}); to skip the tests that need it knowingly, run with HHTTPP_SKIP={name}"
    );
    eprintln!("skipped, as HHTTPP_SKIP asks: this test needs {name} ({remedy})");
}

/// Whether `program` runs here (`program ARG` starts and exits 0); says so through [`unavailable`] when not.
pub fn have(need: Need, program: &str, arg: &str) -> bool {
    let found = Command::new(program).arg(arg).output().is_ok_and(|o| o.status.success());
    if !found {
        unavailable(need);
    }
    found
}

/// A fresh, private folder in the temp folder, removed with everything in it when dropped: the one temporary
/// folder every test uses.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("hhttpp-test-").tempdir().expect("a temp folder")
}

/// Runs `hhttpp ARGS` where the name `two-addresses` resolves to `::1` first and `127.0.0.1` second: in a mount
/// namespace of its own, with an `/etc/hosts` that says so. `None` (said loudly) where that cannot be made.
pub fn with_two_addresses(args: &[&str]) -> Option<std::process::Output> {
    let namespace = Command::new("unshare").args(["-m", "true"]).output();
    if !namespace.is_ok_and(|o| o.status.success()) {
        unavailable(Need::Unshare);
        return None;
    }
    let dir = temp_dir();
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "::1 two-addresses\n127.0.0.1 two-addresses\n").expect("a hosts file");
    let script = format!("mount --bind {} /etc/hosts && exec \"$0\" \"$@\"", hosts.display());
    let out = command("unshare", &["-m", "sh", "-c", &script, env!("CARGO_BIN_EXE_hhttpp")])
        .args(args)
        .output()
        .expect("hhttpp in a namespace");
    Some(out)
}

/// nginx in the foreground, serving `body` as `/index.html` (so `GET /` gets it) from a temp folder, with
/// `sendfile on`; stopped when dropped.
pub struct Nginx {
    pub addr: SocketAddr,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// Starts nginx; `None` (said loudly) where nginx is not installed.
    pub fn start(body: &str) -> Option<Nginx> {
        if !have(Need::Nginx, "nginx", "-v") {
            return None;
        }
        let dir = temp_dir();
        let root = dir.path().join("www");
        std::fs::create_dir(&root).expect("nginx's root");
        std::fs::write(root.join("index.html"), body).expect("the page");
        // nginx cannot listen on port 0: take a port the OS says is free, and try again if another took it first.
        for _ in 0..5 {
            let port =
                std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
            let d = dir.path().display();
            let conf = format!(
                "daemon off; master_process off; worker_processes 1; error_log {d}/error.log; pid {d}/nginx.pid;\n\
                 events {{ worker_connections 64; }}\n\
                 http {{ access_log off; include /etc/nginx/mime.types; sendfile on;\n\
                 client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d}; uwsgi_temp_path {d}; \
                 scgi_temp_path {d};\n\
                 server {{ listen 127.0.0.1:{port}; root {}; }} }}\n",
                root.display()
            );
            let conf_path = dir.path().join("nginx.conf");
            std::fs::write(&conf_path, conf).expect("nginx.conf");
            let mut child = Command::new("nginx")
                .arg("-c")
                .arg(&conf_path)
                .arg("-p")
                .arg(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start nginx");
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            // Ready when it accepts a connection: bounded retries, each a connect, until nginx answers or ends.
            let deadline = std::time::Instant::now() + PATIENCE;
            while std::time::Instant::now() < deadline {
                if TcpStream::connect(addr).is_ok() {
                    return Some(Nginx { addr, child, _dir: dir });
                }
                if child.try_wait().ok().flatten().is_some() {
                    break; // it could not listen there (the port was taken meanwhile): try another
                }
                std::thread::yield_now();
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("nginx did not start");
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A lesson running as its own process, so its sockets get the same fds on every run.
pub struct Running {
    child: Child,
    lines: Receiver<String>,
    reader: Option<JoinHandle<()>>,
    /// Everything the lesson printed so far.
    pub stdout: String,
    /// Once [`wait_for_stderr`](Running::wait_for_stderr) has run: stderr read so far, and the rest as it comes.
    stderr_seen: Vec<u8>,
    stderr_rest: Option<Receiver<Vec<u8>>>,
}

/// What a finished lesson left behind.
pub struct Finished {
    pub stdout: String,
    pub stderr: String,
    pub status: ExitStatus,
}

impl Running {
    /// Starts `hhttpp ARGS` (add `--port 0` yourself) with stdout and stderr piped.
    pub fn start(args: &[&str]) -> Running {
        Running::spawn(hhttpp(args))
    }

    /// Starts `hhttpp ARGS` with its stdin piped, for `--step`: the returned writer presses Enter.
    pub fn start_with_stdin(args: &[&str]) -> (Running, std::process::ChildStdin) {
        let mut cmd = hhttpp(args);
        cmd.stdin(Stdio::piped());
        let mut running = Running::spawn_with(cmd);
        let stdin = running.child.stdin.take().expect("piped stdin");
        (running, stdin)
    }

    /// Starts another program (strace, say) that runs hhttpp, with hhttpp's environment.
    pub fn start_program(program: &str, args: &[&str]) -> Running {
        Running::spawn(command(program, args))
    }

    /// Starts `cmd` as it is (its program, folder and environment already set), stdout and stderr piped.
    pub fn start_command(cmd: Command) -> Running {
        Running::spawn(cmd)
    }

    fn spawn(mut cmd: Command) -> Running {
        cmd.stdin(Stdio::null());
        Running::spawn_with(cmd)
    }

    /// Starts `cmd` (its stdin already set) with stdout read line by line and stderr kept for the end.
    fn spawn_with(mut cmd: Command) -> Running {
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start hhttpp");
        let stdout = child.stdout.take().expect("piped stdout");
        let (send, lines) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            reader: Some(reader),
            stdout: String::new(),
            stderr_seen: Vec::new(),
            stderr_rest: None,
        }
    }

    /// The lesson's process id (for `prlimit`, say).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the `listening on http://HOST:PORT/` line and returns the address in it.
    pub fn address(&mut self) -> SocketAddr {
        let line = self.wait_for("listening on http://");
        let rest = line.split("listening on http://").nth(1).unwrap_or_default();
        let host_port = rest.split('/').next().unwrap_or_default();
        // An IPv6 address is printed in brackets, as in a URL: [::1]:PORT.
        host_port.parse().unwrap_or_else(|_| panic!("no host:port in {line:?}"))
    }

    /// Waits for a line of the transcript that contains `needle`, and returns it.
    pub fn wait_for(&mut self, needle: &str) -> String {
        self.wait_for_within(needle, PATIENCE).unwrap_or_else(|| {
            let _ = self.child.kill();
            panic!("no line with {needle:?} within {PATIENCE:?}; got:\n{}", self.stdout)
        })
    }

    /// Waits at most `patience` for a line that contains `needle`.
    pub fn wait_for_within(&mut self, needle: &str, patience: Duration) -> Option<String> {
        let deadline = std::time::Instant::now() + patience;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = self.lines.recv_timeout(left).ok()?;
            self.stdout.push_str(&line);
            self.stdout.push('\n');
            if line.contains(needle) {
                return Some(line);
            }
        }
    }

    /// Presses Ctrl-C (sends SIGINT to hhttpp, even when it runs under strace) until the lesson has ended: its
    /// summary printed, or its output closed.
    ///
    /// Call it once the lesson waits in a call (its Python line printed). A Ctrl-C that lands in the instant before
    /// the call enters the kernel cannot interrupt it, so, as a person would, we press again if nothing happens.
    pub fn interrupt(&mut self) {
        let pid = hhttpp_pid(self.child.id());
        for _ in 0..5 {
            let pid = rustix::process::Pid::from_raw(pid as i32).expect("a process id is positive");
            rustix::process::kill_process(pid, rustix::process::Signal::INT).expect("send SIGINT");
            if self.wait_for_within("summary:", Duration::from_secs(1)).is_some() {
                return;
            }
        }
        panic!("Ctrl-C did not end the lesson:\n{}", self.stdout);
    }

    /// Waits for `needle` in what the lesson writes to stderr (a `--step` prompt, say); `finish` still returns all
    /// of stderr.
    pub fn wait_for_stderr(&mut self, needle: &str) {
        let chunks = match self.stderr_rest.take() {
            Some(chunks) => chunks,
            None => {
                let mut err = self.child.stderr.take().expect("piped stderr");
                let (send, chunks) = mpsc::channel();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    while let Ok(n @ 1..) = err.read(&mut buf) {
                        if send.send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                });
                chunks
            }
        };
        let deadline = std::time::Instant::now() + PATIENCE;
        while !String::from_utf8_lossy(&self.stderr_seen).contains(needle) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let chunk = chunks.recv_timeout(left).unwrap_or_else(|_| {
                panic!(
                    "no {needle:?} on stderr within {PATIENCE:?}; got:\n{}",
                    String::from_utf8_lossy(&self.stderr_seen)
                )
            });
            self.stderr_seen.extend(chunk);
        }
        self.stderr_rest = Some(chunks);
    }

    /// Waits for the lesson to end and collects the rest of its output.
    pub fn finish(mut self) -> Finished {
        let mut stderr = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            err.read_to_string(&mut stderr).expect("read stderr");
        }
        if let Some(chunks) = self.stderr_rest.take() {
            self.stderr_seen.extend(chunks.iter().flatten());
            stderr = String::from_utf8_lossy(&self.stderr_seen).into_owned();
        }
        if let Some(reader) = self.reader.take() {
            reader.join().expect("stdout reader");
        }
        while let Ok(line) = self.lines.try_recv() {
            self.stdout.push_str(&line);
            self.stdout.push('\n');
        }
        let status = self.child.wait().expect("wait for hhttpp");
        Finished { stdout: std::mem::take(&mut self.stdout), stderr, status }
    }
}

/// The hhttpp process behind `pid`: `pid` itself, or, when `pid` is strace, the process strace started.
fn hhttpp_pid(pid: u32) -> u32 {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if comm.trim() != "strace" {
        return pid;
    }
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    children.split_whitespace().next().and_then(|c| c.parse().ok()).unwrap_or(pid)
}

impl Drop for Running {
    /// A test that fails half-way must not leave a lesson running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Connects to `addr`, sends `request` in one write, and reads the reply until the server closes.
pub fn exchange(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).expect("connect to the lesson");
    stream.set_read_timeout(Some(PATIENCE)).expect("set a read timeout");
    stream.write_all(request).expect("send the request");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).expect("read the reply");
    reply
}

/// The bytes of every hex dump under the transcript's `◀ received` (or `▶ sent`) labels, in order.
///
/// This reads the dumps back into bytes, so a test can check them against what really crossed the socket.
pub fn dumped_bytes(transcript: &str, label: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut inside = false;
    for line in transcript.lines() {
        let line = line.trim_start();
        if line.starts_with('◀') || line.starts_with('▶') {
            inside = line.starts_with(label);
            continue;
        }
        let Some((offset, rest)) = line.split_once(":   ") else {
            inside = false;
            continue;
        };
        if !inside || !offset.chars().all(|c| c.is_ascii_hexdigit()) {
            continue;
        }
        // The hex column is 48 characters (16 bytes, an extra space after the 8th); the ASCII column follows it.
        let hex = rest.get(..48).unwrap_or(rest);
        for byte in hex.split_whitespace() {
            bytes.push(u8::from_str_radix(byte, 16).expect("a hex byte"));
        }
    }
    bytes
}
