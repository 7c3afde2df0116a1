//! `--client`: the built-in client, started as a separate process next to a server lesson.
//!
//! It is `hhttpp lesson fetch URL --request canonical`, so it sends the very request the snapshots were made with,
//! in one write. Being a process of its own, it leaves the server's file descriptors and transcript exactly as any
//! other client would: the server's transcript is the one its snapshot pins. The client's own output is discarded.

use std::cell::RefCell;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::{Child, Command, Stdio};

use crate::cli::RequestKind;

thread_local! {
    static RUNNING: RefCell<Option<Child>> = const { RefCell::new(None) };
}

/// Starts the client against the server listening on `addr`. Says so on stderr, which the transcript does not use.
pub fn start(addr: SocketAddr, request: RequestKind) {
    // A server on 0.0.0.0 or :: listens on every interface; the client dials this machine's own.
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let url = format!("http://{}/", SocketAddr::new(ip, addr.port()));
    let kind = match request {
        RequestKind::Url => "url",
        RequestKind::Canonical => "canonical",
        RequestKind::None => "none",
    };
    let mut stderr = std::io::stderr();
    let started = std::env::current_exe().and_then(|exe| {
        Command::new(exe)
            .args(["lesson", "fetch", &url, "--request", kind, "--color", "never"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
    });
    match started {
        Ok(child) => {
            let _ = writeln!(
                stderr,
                "     (started the built-in client, process {}: hhttpp lesson fetch {url} --request {kind})",
                child.id()
            );
            RUNNING.with(|running| *running.borrow_mut() = Some(child));
        }
        Err(err) => {
            let _ = writeln!(stderr, "hhttpp: cannot start the built-in client: {err} (use curl or a browser)");
        }
    }
}

/// Waits for the client to end, so that no process is left behind.
pub fn wait() {
    if let Some(mut child) = RUNNING.with(|running| running.borrow_mut().take()) {
        let _ = child.wait();
    }
}
