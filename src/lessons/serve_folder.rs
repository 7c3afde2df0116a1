//! Lesson 7, `serve-folder`: the series' finished server, done right. It answers every request with a file from a
//! folder, until Ctrl-C.
//!
//! The blog's part 5 grows the lessons into a server that maps each URL path to a file under a folder, answers
//! 404 for unknown paths and 403 for PUT, POST and DELETE, guesses the MIME type from the extension, and loops over
//! `accept` until interrupted. In Python, its heart is:
//!
//! ```python
//! while True:
//!     client_connection, client_address = s.accept()
//!     raw_data = client_connection.recv(4096)
//!     path = folder + request.path           # what stops "/../../etc/passwd"?
//!     ...
//! ```
//!
//! The calls, for each connection: `accept4`, `recvfrom` until the blank line, one `sendall` of the head and one of
//! the file (none for HEAD), `shutdown(SHUT_RDWR)`, `close`. What we do differently, and why:
//!
//! - **Nothing outside the folder.** We open the folder once, and every file *beneath* it with
//!   `openat2(…, RESOLVE_BENEATH)`: the kernel itself refuses a path that leads out, by `..` or by a symlink. Before
//!   that we refuse what no file name needs: `..` and `.` segments (also percent-encoded), backslashes, NUL bytes.
//! - **405 with `Allow`** for methods other than GET and HEAD, where the blog answers 403: 403 says "you may not",
//!   405 says "this resource does not do that", and names what it does.
//! - **A backlog of [`BACKLOG`]**, not the blog's 1: a browser opens several connections for one page at once, and
//!   with `listen(1)` the kernel drops the ones that do not fit, which the browser retries after about a second.
//!   (Measured with Chromium: no drop for our three-file example page; 4 or 5 drops, and a second more per load,
//!   for a page with a dozen pictures. See the lesson's text.)
//! - **Two deadlines**: [`DEFAULT_TIMEOUT`] for the whole request head (`--timeout`; `SO_RCVTIMEO` set again
//!   before each `recvfrom` to what is left, so a client that trickles bytes cannot stretch it) and
//!   [`DEFAULT_SEND_TIMEOUT`] for a client that reads nothing (`--send-timeout`, `SO_SNDTIMEO`). We serve one
//!   connection at a time, so one slow client must not hold up the rest. A reply we give up on, or whose file
//!   shrank under us, ends with a reset (`SO_LINGER` 0), so the client cannot take it for whole.
//! - **Only regular files**, opened with `O_NONBLOCK` so a FIFO cannot hold `openat2`; `EMFILE` is a 503 with
//!   `Retry-After`, and an `accept4` that fails with it is tried again a second later.
//! - **`Date` and `Last-Modified`** in every response (RFC 9110, 6.6.1), which only this lesson sends.
//! - **A built-in site** when no folder is named: [`assets::SITE`], looked up by name after the same checks, each
//!   file copied into a memfd to be sent; nothing on disk is read (and a built-in file has no `Last-Modified`).

use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rustix::fs::{Mode, OFlags, ResolveFlags};

use super::serve_binary::{self, SendWith};
use super::{bind, echo_request};
use crate::assets;
use crate::error::Error;
use crate::escape::{escape, quoted};
use crate::http::{self, BadRequest, Text};
use crate::lesson::{self, Check, ClientRole, Exchange, Lesson, Options, Run, Server, ServerArgs};
use crate::trace::format::{count, plural};
use crate::trace::{TracedSocket, Tracer};

/// The lesson, as `hhttpp lesson serve-folder` runs it.
pub static LESSON: Lesson = Lesson {
    name: "serve-folder",
    summary: "the series' finished server: files from a folder, 404, 405, HEAD, until Ctrl-C; nothing outside it",
    blog_step: "part 5: the finished server, done right",
    example: "hhttpp lesson serve-folder\n  hhttpp lesson serve-folder my-site\n  then open http://127.0.0.1:8338/ in a browser; Ctrl-C stops it",
    text: include_str!("../../lessons/07-serve-folder.md"),
    args: <Args as clap::Args>::augment_args,
    parse: lesson::parse::<Args>,
    server: Some(Server {
        backlog: BACKLOG,
        default_timeout: Some(DEFAULT_TIMEOUT),
        default_send_timeout: Some(DEFAULT_SEND_TIMEOUT),
        client: ClientRole::Requests,
    }),
    check: Some(Check {
        sends: "GET /, a missing file (404), HEAD /, DELETE / (405 with Allow) and a path out of the folder \
                (refused), each on a connection of its own, and expects what the lesson answers for the folder \
                (PATH, or the built-in site)",
        exchanges,
    }),
    steps: &[],
};

/// `hhttpp lesson serve-folder`'s arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The folder to serve; nothing outside it is ever read (without one: the example site, built into hhttpp)
    dir: Option<PathBuf>,
    /// One line per request instead of every call (for load tests)
    #[arg(long)]
    quiet: bool,
    /// Send each file's bytes with sendfile(2): the kernel copies them from the file to the socket, and they never
    /// enter our memory (nor the transcript's dump)
    #[arg(long)]
    sendfile: bool,
    #[command(flatten)]
    server: ServerArgs,
}

impl Run for Args {
    fn server(&self) -> Option<&ServerArgs> {
        Some(&self.server)
    }
    fn quiet(&self) -> bool {
        self.quiet
    }
    fn run(&self, tracer: &Tracer, options: &Options) -> Result<Vec<String>, Error> {
        run(tracer, options, self.dir.as_deref(), SendWith::chosen(self.sendfile))
    }
}

/// Room in the queue for a browser's parallel connections (it opens about six per host).
pub const BACKLOG: i32 = 128;

/// How long a client has to send its whole request head before we close its connection and serve the next.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a client may read nothing of our reply before we give up on it (`SO_SNDTIMEO`).
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// How long to wait before the next `accept4` when the last one failed for want of a file descriptor.
const FD_PAUSE: Duration = Duration::from_secs(1);

/// Runs the lesson: serve the files under `dir` (or the built-in site) until Ctrl-C. Returns only by Ctrl-C (or a
/// failure).
pub fn run(tracer: &Tracer, options: &Options, dir: Option<&Path>, with: SendWith) -> Result<Vec<String>, Error> {
    // The folder first, so a wrong one fails before a port is taken.
    let folder = Folder::open(dir)?;
    tracer.note(&match (&folder, dir) {
        (Folder::Disk { fd, .. }, Some(dir)) => format!(
            "serving the folder {} (fd {}); every file is opened beneath it, and nothing outside it ever is",
            quoted(dir.as_os_str().as_bytes()),
            fd.as_raw_fd()
        ),
        _ => format!("no folder named: serving the example site built into hhttpp: {}", assets::site_names()),
    })?;
    if let Folder::BuiltIn = folder {
        tracer.note(&format!("a request can reach only these {} files, and nothing on disk", assets::SITE.len()))?;
    }

    let (s, _) = bind::listen(tracer, options, |_| "(open it in a browser; Ctrl-C stops the server)".to_string())?;
    let mut answered = [0u64; 6];
    let mut cut = 0u64;
    let mut out_of_fds = false;
    loop {
        let served = serve_one(tracer, &s, options, &folder, with);
        match served {
            Ok(Served { status, whole: true }) => answered[usize::from(status / 100).min(5)] += 1,
            Ok(Served { whole: false, .. }) => cut += 1,
            Err(Error::Interrupted) => break,
            // No file descriptor for the connection: it waits in the kernel's queue, and accept4 would fail again
            // at once. We pause, then try again; a connection that ends meanwhile frees one.
            Err(err @ Error::Call { call: "accept4", .. })
                if matches!(err.errno(), Some(libc::EMFILE | libc::ENFILE)) =>
            {
                let text = format!(
                    "{err}: no file descriptor is free for the next connection ({}), so it waits in the queue; we \
                     try again in {} s",
                    if err.errno() == Some(libc::EMFILE) {
                        "EMFILE: this process has as many open as its limit, ulimit -n"
                    } else {
                        "ENFILE: the whole system has as many open as it allows"
                    },
                    lesson::seconds(FD_PAUSE)
                );
                if tracer.is_quiet() {
                    // One line for a run of failures, not one a second.
                    if !out_of_fds {
                        tracer.line(&text)?;
                    }
                } else {
                    tracer.note(&text)?;
                }
                out_of_fds = true;
                pause(FD_PAUSE);
                continue;
            }
            // One client's broken connection is its own business: the server goes on with the next.
            Err(err) if err.is_peer_gone() => tracer.note(&format!("{err}; on to the next client"))?,
            Err(err) => return Err(err),
        }
        out_of_fds = false;
    }
    s.close()?;
    tracer.note(&format!(
        "answered {} with 2xx, {} with 4xx, {} with 5xx; {} cut short",
        plural(answered[2], "request", "requests"),
        answered[4],
        answered[5],
        cut
    ))?;
    Err(Error::Interrupted)
}

/// Waits `duration`, or less if Ctrl-C is pressed meanwhile (std's `sleep` would go on sleeping through it).
fn pause(duration: Duration) {
    let step = Duration::from_millis(50);
    let until = std::time::Instant::now() + duration;
    while !crate::interrupt::interrupted() && std::time::Instant::now() < until {
        std::thread::sleep(step);
    }
}

/// What one connection got: the status we answered, and whether the reply went out whole.
struct Served {
    status: u16,
    whole: bool,
}

/// Accepts one connection, answers its request, and closes it.
fn serve_one(
    tracer: &Tracer,
    s: &TracedSocket,
    options: &Options,
    folder: &Folder,
    with: SendWith,
) -> Result<Served, Error> {
    let echo_request::Received { client_connection, request, .. } = echo_request::accept_request(tracer, s, options)?;
    let sent_before = tracer.bytes_sent();
    // RFC 9110, 6.6.1: an origin server with a clock sends Date in its responses. It changes every second, so the
    // lessons before this one, whose every byte a snapshot pins, do not send it.
    let date = ("Date", http::http_date(SystemTime::now()));
    let error_reply = |bad: &BadRequest| http::error_response_with(bad, std::slice::from_ref(&date));
    // The bytes the reply should have, head and body: what the log holds the bytes sent against.
    let (status, target, expected, sent) = match request {
        Err(bad) => {
            let reply = error_reply(&bad);
            (bad.status, "?".to_string(), reply.len() as u64, client_connection.sendall("response", &reply))
        }
        Ok(request) => {
            let head_only = request.method == "HEAD";
            // The method and path came from the client: escaped, so that they cannot reach the terminal raw.
            let target = format!("{} {}", escape(request.method.as_bytes()), escape(request.path.as_bytes()));
            match answer(folder, &request.method, &request.path) {
                Err(bad) => {
                    tracer.note(&format!("{} {}: {}", bad.status, bad.phrase(), bad.reason))?;
                    let reply = error_reply(&bad);
                    let sent = client_connection.sendall("response", &reply);
                    (bad.status, target, reply.len() as u64, sent)
                }
                Ok(found) => {
                    let (built_in, opened) =
                        if found.built_in { ("the built-in ", "in a memfd") } else { ("", "beneath the folder") };
                    tracer.note(&format!(
                        "opened {built_in}{} {opened}: fd {}, {}, {}",
                        quoted(found.shown.as_os_str().as_bytes()),
                        found.file.as_raw_fd(),
                        plural(found.size, "byte", "bytes"),
                        found.content_type
                    ))?;
                    let mut headers = vec![date.clone()];
                    if let Some(modified) = found.modified {
                        headers.push(("Last-Modified", http::http_date(modified)));
                    }
                    let header = http::response_head_with(200, &found.content_type, found.size, &headers);
                    let expected = header.len() as u64 + if head_only { 0 } else { found.size };
                    let sent = serve_binary::send_file(
                        &client_connection,
                        &found.file,
                        &found.shown,
                        found.size,
                        &header,
                        head_only,
                        with,
                    );
                    let fd = found.file.as_raw_fd();
                    drop(found.file);
                    tracer.note(&format!("closed the file, fd {fd}"))?;
                    (200, target, expected, sent)
                }
            }
        }
    };
    let ended = echo_request::shutdown_and_close(tracer, client_connection, sent, status)?;
    // Every byte of the reply, head and body, that the kernel took: not what we meant to send.
    let bytes = tracer.bytes_sent() - sent_before;
    let cut =
        ended.cut.as_ref().map(|why| format!("cut short at {} of {} bytes: {why}", count(bytes), count(expected)));
    if tracer.is_quiet() {
        tracer.line(&match &cut {
            None => format!("{target} → {status} {}, {}", http::status_phrase(status), plural(bytes, "byte", "bytes")),
            Some(cut) => format!("{target} → {cut}"),
        })?;
    } else {
        tracer.note(&match &cut {
            None => format!("{target}: {}, {}", ended.summary, plural(bytes, "byte", "bytes")),
            Some(cut) => format!("{target}: {cut}"),
        })?;
    }
    Ok(Served { status, whole: ended.cut.is_none() })
}

/// What the lesson answers to `method` and `target`: the file to send, or why not.
///
/// An absolute-form target (`http://host/page.html`) names its path like any other (RFC 9112, 3.2.2).
fn answer(folder: &Folder, method: &str, target: &str) -> Result<Found, BadRequest> {
    if method == "GET" || method == "HEAD" {
        folder.find(http::origin_form(target))
    } else {
        Err(BadRequest {
            status: 405,
            reason: format!("this server answers GET and HEAD, not {}", escape(method.as_bytes())),
        })
    }
}

/// What `hhttpp check serve-folder` sends, and what this lesson answers to each for the folder `dir` (`None`: the
/// built-in site).
///
/// The replies leave out `Date` and `Last-Modified`, which the lesson sends but which change with the clock and the
/// file: `check` judges a reply's meaning by its status, media type and body, and counts extra headers as notes.
fn exchanges(dir: Option<&Path>) -> Result<Vec<Exchange>, Error> {
    const PROBES: [(&str, &str, &str); 5] = [
        ("GET", "/", "the folder's index"),
        ("GET", "/hhttpp-check-no-such-file", "a missing file: 404"),
        ("HEAD", "/", "the head alone"),
        ("DELETE", "/", "a method this server does not answer: 405 with Allow"),
        ("GET", "/%2e%2e/hhttpp-check-outside", "a path that leads out of the folder: refused"),
    ];
    let folder = Folder::open(dir)?;
    let mut exchanges = Vec::new();
    for (method, target, why) in PROBES {
        let request =
            format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: hhttpp\r\nAccept: */*\r\n\r\n");
        let head_only = method == "HEAD";
        let reply = match answer(&folder, method, target) {
            Err(bad) => http::error_response(&bad),
            Ok(found) => {
                let mut reply = http::response_head(200, &found.content_type, found.size);
                if !head_only {
                    let read =
                        std::io::Read::read_to_end(&mut std::io::Read::take(&found.file, found.size), &mut reply);
                    let path = dir.map_or(found.shown.clone(), |dir| dir.join(&found.shown));
                    read.map_err(|source| Error::File { path, source })?;
                }
                reply
            }
        };
        exchanges.push(Exchange {
            asks: format!("{method} {target} ({why})"),
            request: Some(request.into_bytes()),
            reply: Some(reply),
            head_only,
        });
    }
    Ok(exchanges)
}

/// The folder we serve: a folder on disk, or the site built into the binary.
pub enum Folder {
    /// A folder on disk: a descriptor to open files beneath.
    Disk {
        fd: OwnedFd,
        /// Its canonical path, for the check when the kernel has no `openat2`.
        canonical: PathBuf,
    },
    /// The example site, [`assets::SITE`]: only its files, looked up by name, never a path on disk.
    BuiltIn,
}

/// A file found for a request.
pub struct Found {
    file: File,
    size: u64,
    content_type: String,
    /// The file's path inside the folder, for the transcript (escaped when printed: it came from the client).
    shown: PathBuf,
    /// When the file was last changed, for `Last-Modified` (a built-in file has no such date).
    modified: Option<SystemTime>,
    /// It is the built-in site's (in a memfd), not a file on disk.
    built_in: bool,
}

impl Folder {
    /// Opens `dir`, which must be a directory; `None` is the built-in site.
    pub fn open(dir: Option<&Path>) -> Result<Folder, Error> {
        let Some(dir) = dir else {
            return Ok(Folder::BuiltIn);
        };
        let folder_error = |problem: String| Error::Folder { path: dir.to_path_buf(), problem };
        let reason = |err: std::io::Error| {
            let reason = crate::error::reason(&err);
            folder_error(if err.kind() == std::io::ErrorKind::PermissionDenied {
                format!("{reason}: it is there, but this user may not read it")
            } else {
                reason
            })
        };
        let canonical = dir.canonicalize().map_err(reason)?;
        if !canonical.is_dir() {
            return Err(folder_error("it is a file, not a folder".into()));
        }
        let file = File::open(&canonical).map_err(reason)?;
        Ok(Folder::Disk { fd: OwnedFd::from(file), canonical })
    }

    /// The file for the request target `target` (`/style.css?v=2`), or the status and reason to refuse it with.
    ///
    /// Only regular files are served: a FIFO, a device or a socket in the folder is refused (we open with
    /// `O_NONBLOCK`, so that opening a FIFO cannot wait for a writer, then look at what we opened).
    pub fn find(&self, target: &str) -> Result<Found, BadRequest> {
        let relative = safe_relative_path(target)?;
        if let Folder::BuiltIn = self {
            // The same reasons as for a folder on disk, so that `check` judges a server the same with or without PATH.
            return find_built_in(&relative, target);
        }
        let mut file = self.open_beneath(&relative)?;
        let mut shown = relative;
        let mut meta = file.metadata().map_err(|err| server_error(&err))?;
        if meta.is_dir() {
            // A folder: its index.html, if it has one.
            drop(file);
            shown = shown.join("index.html");
            file = self.open_beneath(&shown)?;
            meta = file.metadata().map_err(|err| server_error(&err))?;
        } else if target.split(['?', '#']).next().is_some_and(|path| path.ends_with('/')) {
            // `/index.html/`: a slash says "a folder", and this is a file (nginx and Apache answer 404 too).
            return Err(not_found("the path ends with /, but it names a file, not a folder"));
        }
        if let Some(what) = lesson::not_regular(&meta) {
            return Err(forbidden(&format!("it is {what}, not a regular file: only regular files are served")));
        }
        // We say charset=utf-8 only for a text file we have read through and found to be UTF-8 (up to 1 MiB).
        let content_type = http::content_type(&shown, Text::Check(&|| is_utf8(&file, meta.len())));
        Ok(Found { file, size: meta.len(), content_type, shown, modified: meta.modified().ok(), built_in: false })
    }

    /// `openat2(folder, relative, O_RDONLY|O_NONBLOCK, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`: the kernel
    /// refuses a path that would leave the folder. Where the kernel has no `openat2` (before Linux 5.6), we
    /// resolve the path ourselves and check that it stays inside.
    fn open_beneath(&self, relative: &Path) -> Result<File, BadRequest> {
        let Folder::Disk { fd, .. } = self else {
            return Err(not_found("no such file in the folder"));
        };
        let path = if relative.as_os_str().is_empty() { Path::new(".") } else { relative };
        if path.as_os_str().as_bytes().contains(&0) {
            return Err(bad_request("the path has a NUL byte"));
        }
        let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
        let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK;
        match rustix::fs::openat2(fd, path, flags, Mode::empty(), resolve) {
            Ok(fd) => Ok(File::from(fd)),
            // No openat2 here (an old kernel, or a sandbox that forbids it): check the path ourselves.
            Err(rustix::io::Errno::NOSYS | rustix::io::Errno::PERM) => self.open_checked(path),
            Err(errno) => Err(refusal(errno)),
        }
    }

    /// The fallback for kernels without `openat2`: resolve every symlink, then check the result is inside.
    fn open_checked(&self, relative: &Path) -> Result<File, BadRequest> {
        use std::os::unix::fs::OpenOptionsExt;
        let Folder::Disk { canonical, .. } = self else {
            return Err(not_found("no such file in the folder"));
        };
        let resolved = canonical.join(relative).canonicalize().map_err(|err| refusal(errno_of(&err)))?;
        if !resolved.starts_with(canonical) {
            return Err(forbidden("the path leads out of the folder"));
        }
        let opened = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&resolved);
        opened.map_err(|err| refusal(errno_of(&err)))
    }
}

/// The built-in site's file for the path `relative` (already judged safe) of the request target `target`: the site
/// has one folder, its root, whose index is `index.html`; any other name is one of its files or not found. Nothing
/// is looked up on disk.
fn find_built_in(relative: &Path, target: &str) -> Result<Found, BadRequest> {
    let is_root = relative.as_os_str().is_empty();
    let name = if is_root { "index.html" } else { relative.to_str().unwrap_or_default() };
    let asset = assets::site_file(name).ok_or_else(|| not_found("no such file in the folder"))?;
    if !is_root && target.split(['?', '#']).next().is_some_and(|path| path.ends_with('/')) {
        // As on disk: a slash says "a folder", and this is a file.
        return Err(not_found("the path ends with /, but it names a file, not a folder"));
    }
    let file = asset.memfd().map_err(|err| refusal(errno_of(&err)))?;
    let shown = PathBuf::from(asset.name);
    let content_type = http::content_type(&shown, Text::Check(&|| std::str::from_utf8(asset.bytes).is_ok()));
    Ok(Found { file, size: asset.size(), content_type, shown, modified: None, built_in: true })
}

/// The kernel's answer to an `open` as an `Errno`.
fn errno_of(err: &std::io::Error) -> rustix::io::Errno {
    rustix::io::Errno::from_raw_os_error(err.raw_os_error().unwrap_or(libc::EIO))
}

/// Why a file could not be opened, as a status and a reason that names the kernel's error: a full table of file
/// descriptors is not a missing file.
fn refusal(errno: rustix::io::Errno) -> BadRequest {
    use rustix::io::Errno;
    let named = |text: &str| format!("{}: {text}", crate::errno::name(errno.raw_os_error()));
    match errno {
        Errno::NOENT | Errno::NOTDIR => not_found("no such file in the folder"),
        Errno::XDEV => forbidden("the path leads out of the folder"),
        Errno::LOOP => not_found(&named("too many symbolic links on the way (a loop?)")),
        Errno::ACCESS => forbidden("the file may not be read"),
        // A socket file: open(2) cannot open one.
        Errno::NXIO => forbidden("it is a socket or a device with nothing behind it, not a regular file"),
        Errno::NAMETOOLONG => not_found(&named("the name is too long")),
        Errno::MFILE | Errno::NFILE => BadRequest {
            status: 503,
            reason: named(
                "the server has no file descriptor free to open the file with (too many open files); try again \
                 in a second",
            ),
        },
        other => BadRequest {
            status: 500,
            reason: format!(
                "{}: {}",
                crate::errno::name(other.raw_os_error()),
                crate::errno::message(other.raw_os_error())
            ),
        },
    }
}

/// A file we opened but cannot look at.
fn server_error(err: &std::io::Error) -> BadRequest {
    BadRequest { status: 500, reason: format!("cannot look at the file: {}", crate::error::reason(err)) }
}

/// True when the file (at most 1 MiB of it) is UTF-8. Positioned reads leave the file's offset where it was.
fn is_utf8(file: &File, size: u64) -> bool {
    use std::os::unix::fs::FileExt;
    if size > 1024 * 1024 {
        return false;
    }
    let mut bytes = vec![0u8; size as usize];
    file.read_exact_at(&mut bytes, 0).is_ok() && std::str::from_utf8(&bytes).is_ok()
}

/// The request target as a path relative to the folder, or why it cannot be one.
///
/// `/a%20b/c.html?x=1` becomes `a b/c.html`. Refused: a target that does not start with `/`, a bad `%` escape,
/// a NUL byte, a backslash, and any `.` or `..` segment, written plainly or percent-encoded.
pub fn safe_relative_path(target: &str) -> Result<PathBuf, BadRequest> {
    let path = target.split(['?', '#']).next().unwrap_or_default();
    if !path.starts_with('/') {
        return Err(bad_request("the path does not start with /"));
    }
    let decoded =
        percent_decode(path.as_bytes()).ok_or_else(|| bad_request("a % is not followed by two hex digits"))?;
    if decoded.contains(&0) {
        return Err(bad_request("the path has a NUL byte"));
    }
    if decoded.contains(&b'\\') {
        return Err(bad_request("the path has a backslash"));
    }
    let mut relative = PathBuf::new();
    for segment in decoded.split(|&b| b == b'/').filter(|s| !s.is_empty()) {
        if segment == b".." || segment == b"." {
            return Err(forbidden("the path has a . or .. segment"));
        }
        if segment.starts_with(b".") {
            // .git, .env, .htpasswd: hidden files often hold what no visitor should read.
            return Err(forbidden("hidden files (names that start with a dot) are not served"));
        }
        relative.push(std::ffi::OsStr::from_bytes(segment));
    }
    Ok(relative)
}

/// `%2e` → `.`; `None` for a `%` without two hex digits after it.
fn percent_decode(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

fn bad_request(reason: &str) -> BadRequest {
    BadRequest { status: 400, reason: reason.to_string() }
}

fn forbidden(reason: &str) -> BadRequest {
    BadRequest { status: 403, reason: reason.to_string() }
}

fn not_found(reason: &str) -> BadRequest {
    BadRequest { status: 404, reason: reason.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_become_relative_paths() {
        assert_eq!(safe_relative_path("/"), Ok(PathBuf::new()));
        assert_eq!(safe_relative_path("/a%20b/c.html?x=1#top"), Ok(PathBuf::from("a b/c.html")));
        assert_eq!(safe_relative_path("//style.css"), Ok(PathBuf::from("style.css")));
    }

    #[test]
    fn the_built_in_site_serves_its_files_and_nothing_from_disk() {
        let site = Folder::BuiltIn;
        for (target, name) in [("/", "index.html"), ("/style.css", "style.css"), ("/ice-caps.jpg?v=2", "ice-caps.jpg")]
        {
            let found = site.find(target).unwrap_or_else(|bad| panic!("{target}: {}", bad.reason));
            assert_eq!(found.shown, PathBuf::from(name));
            assert!(found.built_in && found.modified.is_none());
            assert_eq!(found.size, assets::site_file(name).unwrap().size());
        }
        // The tests run in the repository's folder, where these exist on disk: the built-in site still has none.
        for target in
            ["/Cargo.toml", "/src/main.rs", "/assets/site/index.html", "/../Cargo.toml", "/index.html/", "/.git"]
        {
            assert!(site.find(target).is_err(), "{target} was served");
        }
    }

    #[test]
    fn every_way_out_is_refused() {
        for target in [
            "/../secret",
            "/a/../../secret",
            "/%2e%2e/secret",
            "/%2E%2E/secret",
            "/.%2e/secret",
            "/%2e%2e%2fsecret",
            "/./index.html",
            "/..",
            "/a\\..\\secret",
            "/%5c..%5csecret",
            "/secret%00.html",
            "/%zz",
            "/%2",
            "secret",
            "http://example.com/../secret",
            "*",
        ] {
            let refused = safe_relative_path(target);
            assert!(refused.is_err(), "{target:?} was let through as {refused:?}");
        }
    }
}
