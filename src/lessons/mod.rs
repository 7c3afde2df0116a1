//! The lessons, one file each, in the blog's order, and the one list that names them.
//!
//! Each lesson is a straight-line function that reads like the blog's Python: a student can put
//! `src/lessons/serve_binary.rs` next to the blog's snippet and follow both top to bottom. A lesson reaches the
//! network only through [`TracedSocket`](crate::trace::TracedSocket), so every call it makes is printed.
//!
//! Later lessons reuse the steps earlier ones taught, by calling them: [`bind::listen`] (lesson 1's calls) and
//! [`echo_request::accept_request`] (lessons 2 and 3's calls).

pub mod accept;
pub mod bind;
pub mod echo_request;
pub mod fetch;
pub mod serve_binary;
pub mod serve_folder;
pub mod serve_text;

use std::net::SocketAddr;
use std::time::Duration;

use crate::cli::RequestKind;

/// The blog's port.
pub const DEFAULT_PORT: u16 = 8338;
/// The blog's backlog: at most one connection waits to be accepted (`s.listen(1)`).
pub const BACKLOG: i32 = 1;
/// The blog's receive buffer: `recv(4096)`.
pub const RECV_BUFFER: usize = 4096;

/// The request the snapshots were made with, sent in one write: the built-in client's (`--client`), `hhttpp
/// check`'s, and the tests'. Its `Host` has no port, so that its bytes are the same whatever port the OS chose;
/// `curl -H 'Host: localhost' -A hhttpp URL` sends exactly these bytes.
pub const CANONICAL_REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: hhttpp\r\nAccept: */*\r\n\r\n";

/// Where a server lesson listens, and how long it waits for a quiet client.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// The address and port to bind.
    pub addr: SocketAddr,
    /// With `--timeout`: how long a `recvfrom` may wait before it fails with `EAGAIN` (set with `SO_RCVTIMEO`).
    pub timeout: Option<Duration>,
    /// With `--client`: start the built-in client, sending this, once the socket listens.
    pub client: Option<RequestKind>,
    /// `listen`'s backlog: the blog's 1, or more for a server that browsers load pages from.
    pub backlog: i32,
}

/// One lesson: its name on the command line and everything that goes with it.
#[derive(Debug)]
pub struct Lesson {
    /// The name after `hhttpp lesson`, and (with `_` for `-`) of its code and snapshot files.
    pub name: &'static str,
    /// One line: what the lesson does.
    pub summary: &'static str,
    /// The blog's step it follows.
    pub blog_step: &'static str,
    /// A command to try, for `--help`.
    pub example: &'static str,
    /// The lesson's text, `lessons/NN-name.md`, built into the binary.
    pub text: &'static str,
}

impl Lesson {
    /// 1 for the first lesson.
    pub fn number(&self) -> usize {
        LESSONS.iter().position(|l| l.name == self.name).map_or(0, |i| i + 1)
    }

    /// The lesson's text file, relative to the repository: `lessons/05-serve-binary.md`.
    pub fn text_path(&self) -> String {
        format!("lessons/{:02}-{}.md", self.number(), self.name)
    }

    /// The lesson's snapshot name: `serve_binary` (→ `snapshots/serve_binary.snap`) and code file
    /// (`src/lessons/serve_binary.rs`).
    pub fn file_stem(&self) -> String {
        self.name.replace('-', "_")
    }

    /// The lesson after this one.
    pub fn next(&self) -> Option<&'static Lesson> {
        LESSONS.get(self.number())
    }
}

/// Every lesson, in order. The CLI, `hhttpp lessons`, the texts and the snapshot tests all follow this list, and
/// a test fails if a lesson lacks its text, its code or its snapshot.
pub static LESSONS: [Lesson; 7] = [
    Lesson {
        name: "bind",
        summary: "create a socket, set SO_REUSEADDR, bind an address, listen; then watch a second bind fail",
        blog_step: "set up, bind and listen",
        example: "hhttpp lesson bind\n  hhttpp lesson bind --port 0",
        text: include_str!("../../lessons/01-bind.md"),
    },
    Lesson {
        name: "accept",
        summary: "accept one connection, show the new socket and the client's address, close it unread",
        blog_step: "accept a connection",
        example: "hhttpp lesson accept\n  then, in a second terminal: hhttpp lesson fetch --request none",
        text: include_str!("../../lessons/02-accept.md"),
    },
    Lesson {
        name: "echo-request",
        summary: "receive a request with recv(4096) and send its own bytes back as the reply",
        blog_step: "exchange data: receive the request",
        example: "hhttpp lesson echo-request\n  then open http://127.0.0.1:8338/ in a browser: it shows its own request",
        text: include_str!("../../lessons/03-echo-request.md"),
    },
    Lesson {
        name: "serve-text",
        summary: "answer with a page of HTML, framed the way HTTP/1.1 wants it",
        blog_step: "exchange data: send a text response",
        example: "hhttpp lesson serve-text\n  hhttpp lesson serve-text assets/index.html",
        text: include_str!("../../lessons/04-serve-text.md"),
    },
    Lesson {
        name: "serve-binary",
        summary: "send a header, then a binary file (a JPEG) with sendall, straight from disk",
        blog_step: "exchange data: send a binary file",
        example: "hhttpp lesson serve-binary assets/ice-caps.jpg\n  then open http://127.0.0.1:8338/ in a browser",
        text: include_str!("../../lessons/05-serve-binary.md"),
    },
    Lesson {
        name: "fetch",
        summary: "the client's side: resolve the name, connect, send a request, read the reply until the close",
        blog_step: "the client: resolve, connect, send, wait for the reply",
        example: "hhttpp lesson fetch http://127.0.0.1:8338/\n  (with a server lesson running in another terminal)",
        text: include_str!("../../lessons/06-fetch.md"),
    },
    Lesson {
        name: "serve-folder",
        summary: "the series' finished server: files from a folder, 404, 405, HEAD, until Ctrl-C; nothing outside it",
        blog_step: "part 5: the finished server, done right",
        example: "hhttpp lesson serve-folder assets/site\n  then open http://127.0.0.1:8338/ in a browser; Ctrl-C stops it",
        text: include_str!("../../lessons/07-serve-folder.md"),
    },
];

/// The lesson called `name`.
pub fn find(name: &str) -> Option<&'static Lesson> {
    LESSONS.iter().find(|l| l.name == name)
}

/// The address a browser opens for a server bound to `addr`: `http://127.0.0.1:8338/`, `http://[::1]:8338/`.
pub fn url(addr: &SocketAddr) -> String {
    format!("http://{addr}/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::path::Path;

    #[test]
    fn lesson_names_are_unique_and_numbered_in_order() {
        let names: HashSet<_> = LESSONS.iter().map(|l| l.name).collect();
        assert_eq!(names.len(), LESSONS.len(), "lesson names must all be unique");
        for (i, lesson) in LESSONS.iter().enumerate() {
            assert_eq!(lesson.number(), i + 1);
        }
        assert_eq!(find("serve-binary").map(|l| l.text_path()), Some("lessons/05-serve-binary.md".into()));
        assert!(find("serve-folder").unwrap().next().is_none());
    }

    #[test]
    fn every_lesson_has_its_text_code_and_snapshot() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for lesson in &LESSONS {
            let text = root.join(lesson.text_path());
            assert!(text.is_file(), "{} has no text at {}", lesson.name, text.display());
            assert!(!lesson.text.trim().is_empty(), "{}'s text is empty", lesson.name);
            let code = root.join(format!("src/lessons/{}.rs", lesson.file_stem()));
            assert!(code.is_file(), "{} has no code at {}", lesson.name, code.display());
            let snap = root.join(format!("snapshots/{}.snap", lesson.file_stem()));
            assert!(snap.is_file(), "{} has no snapshot at {}", lesson.name, snap.display());
        }
    }
}
