//! `--client`: the built-in client, started as a separate process next to a server lesson.
//!
//! It is the fetch lesson (`hhttpp lesson fetch URL --request canonical`), so it sends the very request the
//! snapshots were made with, in one write. Being a process of its own, it leaves the server's file descriptors and
//! transcript exactly as any other client would: the server's transcript is the one its snapshot pins. The client's
//! own output is discarded.

use std::cell::RefCell;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::{Child, Command, Stdio};

use clap::ValueEnum;

/// `fetch --request`: what the client sends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum RequestKind {
    /// `GET PATH HTTP/1.1` with the URL's `Host`
    #[default]
    Url,
    /// The request the snapshots were made with (Host: localhost, one write)
    Canonical,
    /// Nothing: connect, then wait for the server to close
    None,
}

/// The built-in client of one lesson run: what it sends, and its process once started.
#[derive(Debug)]
pub struct Client {
    request: RequestKind,
    /// `hhttpp lesson NAME`: the client's lesson, fetch.
    lesson: &'static str,
    running: RefCell<Option<Child>>,
}

impl Client {
    /// A client that will run `hhttpp lesson LESSON URL --request REQUEST` once started.
    pub fn new(lesson: &'static str, request: RequestKind) -> Self {
        Client { request, lesson, running: RefCell::new(None) }
    }

    /// Starts the client against the server listening on `addr`. Says so on stderr, which the transcript does not
    /// use; a client that cannot start is said there too, and the lesson goes on (a browser or curl will do).
    pub fn start(&self, addr: SocketAddr) {
        // A server on 0.0.0.0 or :: listens on every interface; the client dials this machine's own.
        let ip = match addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let url = format!("http://{}/", SocketAddr::new(ip, addr.port()));
        let kind = self.request.to_possible_value().map_or_else(String::new, |v| v.get_name().to_string());
        let mut stderr = std::io::stderr();
        let started = std::env::current_exe().and_then(|exe| {
            Command::new(exe)
                .args(["lesson", self.lesson, &url, "--request", &kind, "--color", "never"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
        });
        match started {
            Ok(child) => {
                let _ = writeln!(
                    stderr,
                    "     (started the built-in client, process {}: hhttpp lesson {} {url} --request {kind})",
                    child.id(),
                    self.lesson
                );
                *self.running.borrow_mut() = Some(child);
            }
            Err(err) => {
                let _ = writeln!(stderr, "hhttpp: cannot start the built-in client: {err} (use curl or a browser)");
            }
        }
    }

    /// Waits for the client to end, so that no process is left behind.
    pub fn wait(&self) {
        if let Some(mut child) = self.running.borrow_mut().take() {
            let _ = child.wait();
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.wait();
    }
}
