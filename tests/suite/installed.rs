//! hhttpp installed: the binary alone, without the repository. `cargo install --path . --locked` gives exactly the
//! binary; these tests copy the built one into a folder of its own and run it from another, empty folder, so that
//! nothing it reads can come from the repository (running `cargo install` itself takes minutes, too slow here).
//!
//! With no file or folder named, the lessons serve the picture and the site built into the binary, byte for byte,
//! and no line of the transcript names a file that is not there.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{REQUEST, Running, dumped_bytes, exchange, temp_dir};

/// The binary, copied alone into a folder of its own, and an empty folder to run it from.
struct Installed {
    bin: PathBuf,
    empty: tempfile::TempDir,
    _bin_dir: tempfile::TempDir,
}

impl Installed {
    fn new() -> Installed {
        let bin_dir = temp_dir();
        let bin = bin_dir.path().join("hhttpp");
        crate::common::copy_of_hhttpp(&bin);
        Installed { bin, empty: temp_dir(), _bin_dir: bin_dir }
    }

    /// `hhttpp ARGS`, run from the empty folder, colour off.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args).env("NO_COLOR", "1").env_remove("CLICOLOR_FORCE").current_dir(self.empty.path());
        cmd
    }

    /// Panics if a line of `transcript` names a file that is not there: a path in the repository (`assets/…`,
    /// `lessons/…`), or a file it says it opened that the folder it ran in does not have.
    fn assert_names_only_what_is_there(&self, transcript: &str) {
        for line in transcript.lines() {
            for repository_path in ["assets/", "lessons/", ".md"] {
                assert!(!line.contains(repository_path), "names {repository_path:?}, which is not here: {line}");
            }
            if let Some(rest) = line.split("opened \"").nth(1) {
                let path = rest.split('"').next().unwrap_or_default();
                assert!(self.empty.path().join(path).exists(), "names {path:?}, which is not here: {line}");
            }
        }
        assert!(std::fs::read_dir(self.empty.path()).expect("the folder").next().is_none(), "it wrote nothing here");
    }
}

/// A file of the repository, as the binary was built with it.
fn repository_file(path: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect("a file of the repository")
}

/// The body of an HTTP reply: what follows the blank line.
fn body(reply: &[u8]) -> &[u8] {
    let end = reply.windows(4).position(|w| w == b"\r\n\r\n").expect("a head that ends") + 4;
    &reply[end..]
}

#[test]
fn installed_serve_binary_serves_the_built_in_picture_from_an_empty_folder() {
    let installed = Installed::new();
    let out = installed
        .command(&["lesson", "serve-binary", "--client", "--port", "0", "--full-dump"])
        .output()
        .expect("run serve-binary");
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}\n{transcript}", String::from_utf8_lossy(&out.stderr));
    assert!(transcript.contains("no file named: serving the blog's picture, ice-caps.jpg, built into hhttpp's binary"));
    let sent = dumped_bytes(&transcript, "▶");
    let picture = body(&sent);
    assert!(picture.starts_with(&[0xFF, 0xD8, 0xFF]), "a JPEG: {:02x?}", &picture[..3.min(picture.len())]);
    assert_eq!(picture, repository_file("assets/ice-caps.jpg"), "the built-in picture, byte for byte");
    assert!(transcript.contains("read about it: hhttpp explain serve-binary"), "{transcript}");
    installed.assert_names_only_what_is_there(&transcript);
}

#[test]
fn installed_serve_binary_with_sendfile_sends_the_built_in_picture_from_a_memfd() {
    let installed = Installed::new();
    let mut lesson =
        Running::start_command(installed.command(&["lesson", "serve-binary", "--sendfile", "--port", "0"]));
    let reply = exchange(lesson.address(), REQUEST);
    let done = lesson.finish();
    assert!(done.status.success(), "{}\n{}", done.stderr, done.stdout);
    assert_eq!(body(&reply), repository_file("assets/ice-caps.jpg"));
    assert!(done.stdout.contains("copied into a memfd, a file in memory (memfd_create), as fd 3: 8,347 bytes"));
    assert!(done.stdout.contains("sendfile(5, 3, [0] => [8347], 8347) = 8347"), "{}", done.stdout);
    installed.assert_names_only_what_is_there(&done.stdout);
}

#[test]
fn installed_serve_folder_serves_the_built_in_site_and_nothing_else() {
    let installed = Installed::new();
    let mut lesson = Running::start_command(installed.command(&["lesson", "serve-folder", "--port", "0"]));
    let addr = lesson.address();
    for (target, file) in [
        ("/", "index.html"),
        ("/index.html", "index.html"),
        ("/style.css", "style.css"),
        ("/ice-caps.jpg", "ice-caps.jpg"),
    ] {
        let reply = exchange(addr, format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes());
        assert!(reply.starts_with(b"HTTP/1.1 200 OK\r\n"), "{target}: {}", String::from_utf8_lossy(&reply));
        assert_eq!(body(&reply), repository_file(&format!("assets/site/{file}")), "{target}: the built-in {file}");
    }
    // The page names its style sheet and picture, which the site has.
    let page = String::from_utf8(repository_file("assets/site/index.html")).expect("a UTF-8 page");
    assert!(page.contains("style.css") && page.contains("ice-caps.jpg"), "{page}");
    // Nothing else: not a file of the folder it runs in, not a way out, not another method.
    std::fs::write(installed.empty.path().join("on-disk.html"), "not built in").expect("a file on disk");
    for (request, status) in [
        ("GET /on-disk.html HTTP/1.1\r\nHost: x\r\n\r\n", "404 Not Found"),
        ("GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", "403 Forbidden"),
        ("GET /index.html/ HTTP/1.1\r\nHost: x\r\n\r\n", "404 Not Found"),
        ("DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", "405 Method Not Allowed"),
    ] {
        let reply = exchange(addr, request.as_bytes());
        assert!(reply.starts_with(format!("HTTP/1.1 {status}\r\n").as_bytes()), "{request:?}");
    }
    let head = exchange(addr, b"HEAD /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(head.ends_with(b"\r\n\r\n"), "a HEAD reply is its head alone");
    lesson.wait_for("HEAD /style.css: answered 200 OK");
    lesson.wait_for(">>> client_connection, client_address = s.accept()");
    lesson.interrupt();
    let done = lesson.finish();
    assert_eq!(done.status.code(), Some(130), "{}", done.stderr);
    assert!(done.stdout.contains("no folder named: serving the example site built into hhttpp: index.html, style.css"));
    assert!(done.stdout.contains("opened the built-in \"style.css\" in a memfd: fd "), "{}", done.stdout);
    std::fs::remove_file(installed.empty.path().join("on-disk.html")).expect("remove the file");
    installed.assert_names_only_what_is_there(&done.stdout);
}

#[test]
fn installed_check_compares_against_the_built_in_site() {
    let installed = Installed::new();
    let mut lesson = Running::start_command(installed.command(&["lesson", "serve-folder", "--port", "0", "--quiet"]));
    let addr = lesson.address();
    let out = installed.command(&["check", "serve-folder", "--against", &addr.to_string()]).output().expect("check");
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}{}", String::from_utf8_lossy(&out.stderr));
    assert!(report.contains("✓ the server answers as hhttpp lesson serve-folder does"), "{report}");
    lesson.interrupt();
}
