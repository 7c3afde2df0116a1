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
//! - **A read timeout** ([`DEFAULT_TIMEOUT`] unless `--timeout` says otherwise): we serve one connection at a time,
//!   so one quiet client must not hold up the rest.

use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::fs::{Mode, OFlags, ResolveFlags};

use super::serve_binary::{self, SendWith};
use super::{bind, echo_request};
use crate::error::Error;
use crate::escape::escape;
use crate::http::{self, BadRequest, Text};
use crate::lesson::{self, Check, ClientRole, Exchange, Lesson, Options, Run, Server, ServerArgs};
use crate::trace::format::plural;
use crate::trace::{TracedSocket, Tracer};

/// The lesson, as `hhttpp lesson serve-folder` runs it.
pub static LESSON: Lesson = Lesson {
    name: "serve-folder",
    summary: "the series' finished server: files from a folder, 404, 405, HEAD, until Ctrl-C; nothing outside it",
    blog_step: "part 5: the finished server, done right",
    example: "hhttpp lesson serve-folder assets/site\n  then open http://127.0.0.1:8338/ in a browser; Ctrl-C stops it",
    text: include_str!("../../lessons/07-serve-folder.md"),
    args: <Args as clap::Args>::augment_args,
    parse: lesson::parse::<Args>,
    server: Some(Server { backlog: BACKLOG, default_timeout: Some(DEFAULT_TIMEOUT), client: ClientRole::Requests }),
    check: Some(Check {
        sends: "GET /, a missing file (404), HEAD /, DELETE / (405 with Allow) and a path out of the folder \
                (refused), each on a connection of its own, and expects what the lesson answers for the folder \
                (PATH, assets/site by default)",
        default_path: "assets/site",
        exchanges,
    }),
    steps: &[],
};

/// `hhttpp lesson serve-folder`'s arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The folder to serve; nothing outside it is ever read
    #[arg(default_value = "assets/site")]
    dir: PathBuf,
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
        run(tracer, options, &self.dir, SendWith::chosen(self.sendfile))
    }
}

/// Room in the queue for a browser's parallel connections (it opens about six per host).
pub const BACKLOG: i32 = 128;

/// How long a connection may stay quiet before we close it and serve the next.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs the lesson: serve the files under `dir` until Ctrl-C. Returns only by Ctrl-C (or a failure).
pub fn run(tracer: &Tracer, options: &Options, dir: &Path, with: SendWith) -> Result<Vec<String>, Error> {
    // The folder first, so a wrong one fails before a port is taken.
    let folder = Folder::open(dir)?;
    tracer.note(&format!(
        "serving the folder {:?} (fd {}); every file is opened beneath it, and nothing outside it ever is",
        dir.display().to_string(),
        folder.fd.as_raw_fd()
    ))?;

    let (s, _) = bind::listen(tracer, options, |_| "(open it in a browser; Ctrl-C stops the server)".to_string())?;
    let mut answered = [0u64; 6];
    loop {
        let served = serve_one(tracer, &s, options, &folder, with);
        match served {
            Ok(status) => answered[usize::from(status / 100).min(5)] += 1,
            Err(Error::Interrupted) => break,
            // One client's broken connection is its own business, and so is a file that changed under us: the
            // server goes on with the next.
            Err(err) if err.is_peer_gone() || matches!(err, Error::File { .. }) => {
                tracer.note(&format!("{err}; on to the next client"))?
            }
            Err(err) => return Err(err),
        }
    }
    s.close()?;
    tracer.note(&format!(
        "answered {} with 2xx, {} with 4xx, {} with 5xx",
        plural(answered[2], "request", "requests"),
        answered[4],
        answered[5]
    ))?;
    Err(Error::Interrupted)
}

/// Accepts one connection, answers its request, and closes it. Returns the status sent.
fn serve_one(
    tracer: &Tracer,
    s: &TracedSocket,
    options: &Options,
    folder: &Folder,
    with: SendWith,
) -> Result<u16, Error> {
    let echo_request::Received { client_connection, request, .. } = echo_request::accept_request(tracer, s, options)?;
    let sent_before = tracer.bytes_sent();
    let (status, target, sent) = match request {
        Err(bad) => (bad.status, "?".to_string(), client_connection.sendall("response", &http::error_response(&bad))),
        Ok(request) => {
            let head_only = request.method == "HEAD";
            // The method and path came from the client: escaped, so that they cannot reach the terminal raw.
            let target = format!("{} {}", escape(request.method.as_bytes()), escape(request.path.as_bytes()));
            match answer(folder, &request.method, &request.path) {
                Err(bad) => {
                    tracer.note(&format!("{} {}: {}", bad.status, bad.phrase(), bad.reason))?;
                    let sent = client_connection.sendall("response", &http::error_response(&bad));
                    (bad.status, target, sent)
                }
                Ok(found) => {
                    tracer.note(&format!(
                        "opened {:?} beneath the folder: fd {}, {}, {}",
                        found.shown,
                        found.file.as_raw_fd(),
                        plural(found.size, "byte", "bytes"),
                        found.content_type
                    ))?;
                    let shown = Path::new(&found.shown);
                    let sent = serve_binary::send_file(
                        &client_connection,
                        &found.file,
                        shown,
                        found.size,
                        &found.content_type,
                        head_only,
                        with,
                    );
                    let fd = found.file.as_raw_fd();
                    drop(found.file);
                    tracer.note(&format!("closed the file, fd {fd}"))?;
                    (200, target, sent)
                }
            }
        }
    };
    let outcome = echo_request::shutdown_and_close(tracer, client_connection, sent, status)?;
    // Every byte of the reply, head and body, that the kernel took.
    let bytes = tracer.bytes_sent() - sent_before;
    if tracer.is_quiet() {
        tracer.line(&format!(
            "{target} → {status} {}, {}",
            http::status_phrase(status),
            plural(bytes, "byte", "bytes")
        ))?;
    } else {
        tracer.note(&format!("{target}: {outcome}"))?;
    }
    Ok(status)
}

/// What the lesson answers to `method` and `target`: the file to send, or why not.
fn answer(folder: &Folder, method: &str, target: &str) -> Result<Found, BadRequest> {
    if method == "GET" || method == "HEAD" {
        folder.find(target)
    } else {
        Err(BadRequest {
            status: 405,
            reason: format!("this server answers GET and HEAD, not {}", escape(method.as_bytes())),
        })
    }
}

/// What `hhttpp check serve-folder` sends, and what this lesson answers to each for the folder `dir`.
fn exchanges(dir: &Path) -> Result<Vec<Exchange>, Error> {
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
                    read.map_err(|source| Error::File { path: dir.join(&found.shown), source })?;
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

/// The folder we serve: a descriptor to open files beneath.
pub struct Folder {
    fd: OwnedFd,
    /// Its canonical path, for the check when the kernel has no `openat2`.
    canonical: PathBuf,
}

/// A file found for a request.
pub struct Found {
    file: File,
    size: u64,
    content_type: String,
    /// The file's path inside the folder, for the transcript.
    shown: String,
}

impl Folder {
    /// Opens `dir`, which must be a directory.
    pub fn open(dir: &Path) -> Result<Folder, Error> {
        let folder_error = |problem: String| Error::Folder { path: dir.to_path_buf(), problem };
        let canonical = dir.canonicalize().map_err(|err| folder_error(crate::error::reason(&err)))?;
        if !canonical.is_dir() {
            return Err(folder_error("it is a file, not a folder".into()));
        }
        let file = File::open(&canonical).map_err(|err| folder_error(crate::error::reason(&err)))?;
        Ok(Folder { fd: OwnedFd::from(file), canonical })
    }

    /// The file for the request target `target` (`/style.css?v=2`), or the status and reason to refuse it with.
    pub fn find(&self, target: &str) -> Result<Found, BadRequest> {
        let relative = safe_relative_path(target)?;
        let mut file = self.open_beneath(&relative)?;
        let mut shown = relative;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            // A folder: its index.html, if it has one.
            drop(file);
            shown = shown.join("index.html");
            file = self.open_beneath(&shown)?;
        }
        let meta = file.metadata().map_err(|err| not_found(&format!("cannot read it: {err}")))?;
        if !meta.is_file() {
            return Err(not_found("it is not a regular file"));
        }
        // We say charset=utf-8 only for a text file we have read through and found to be UTF-8 (up to 1 MiB).
        let content_type = http::content_type(&shown, Text::Check(&|| is_utf8(&file, meta.len())));
        Ok(Found { file, size: meta.len(), content_type, shown: shown.display().to_string() })
    }

    /// `openat2(folder, relative, O_RDONLY, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`: the kernel refuses a path
    /// that would leave the folder. Where the kernel has no `openat2` (before Linux 5.6), we resolve the path
    /// ourselves and check that it stays inside.
    fn open_beneath(&self, relative: &Path) -> Result<File, BadRequest> {
        let path = if relative.as_os_str().is_empty() { Path::new(".") } else { relative };
        if path.as_os_str().as_bytes().contains(&0) {
            return Err(bad_request("the path has a NUL byte"));
        }
        let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
        match rustix::fs::openat2(&self.fd, path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty(), resolve) {
            Ok(fd) => Ok(File::from(fd)),
            // No openat2 here (an old kernel, or a sandbox that forbids it): check the path ourselves.
            Err(rustix::io::Errno::NOSYS | rustix::io::Errno::PERM) => self.open_checked(path),
            Err(rustix::io::Errno::XDEV | rustix::io::Errno::LOOP) => {
                Err(forbidden("the path leads out of the folder"))
            }
            Err(rustix::io::Errno::ACCESS) => Err(forbidden("the file may not be read")),
            Err(_) => Err(not_found("no such file in the folder")),
        }
    }

    /// The fallback for kernels without `openat2`: resolve every symlink, then check the result is inside.
    fn open_checked(&self, relative: &Path) -> Result<File, BadRequest> {
        let resolved =
            self.canonical.join(relative).canonicalize().map_err(|_| not_found("no such file in the folder"))?;
        if !resolved.starts_with(&self.canonical) {
            return Err(forbidden("the path leads out of the folder"));
        }
        File::open(&resolved).map_err(|_| not_found("no such file in the folder"))
    }
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
