//! Lesson 6, `fetch`: the client's side. Resolve the name, connect, send the request, wait for the reply.
//!
//! The blog describes a client's four steps in words only; in Python of ours they are:
//!
//! ```python
//! addresses = socket.getaddrinfo("127.0.0.1", 8338, type=socket.SOCK_STREAM)
//! s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
//! s.connect(("127.0.0.1", 8338))
//! s.sendall(request)
//! response = s.recv(4096)      # again, until it returns b"": the server closed
//! s.close()
//! ```
//!
//! The calls, in order: `getaddrinfo` (a C library function, shown but not counted), then for each address until
//! one answers: `socket`, `connect`; then `sendall` of the request (one `sendto` or more), `recvfrom` until it
//! returns 0, and `close`.
//!
//! Run a server lesson first (`hhttpp lesson serve-text`) and fetch from it, as a browser would.

use crate::client::RequestKind;
use crate::error::Error;
use crate::http::{self, Url};
use crate::lesson::{self, CANONICAL_REQUEST, CommonArgs, Lesson, Options, RECV_BUFFER, Run, ServerArgs};
use crate::trace::socket::getaddrinfo;
use crate::trace::{TracedSocket, Tracer};

/// The lesson, as `hhttpp lesson fetch` runs it.
pub static LESSON: Lesson = Lesson {
    name: "fetch",
    summary: "the client's side: resolve the name, connect, send a request, read the reply until the close",
    blog_step: "the client: resolve, connect, send, wait for the reply",
    example: "hhttpp lesson fetch http://127.0.0.1:8338/\n  (with a server lesson running in another terminal)",
    text: include_str!("../../lessons/06-fetch.md"),
    args: <Args as clap::Args>::augment_args,
    parse: lesson::parse::<Args>,
    server: None,
    // A client: there is no server reply to check, nor server steps to compare.
    check: None,
    steps: &[],
};

/// `hhttpp lesson fetch`'s arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The page to fetch: http://HOST[:PORT][/PATH]
    #[arg(default_value = "http://127.0.0.1:8338/", value_parser = Url::parse)]
    url: Url,
    /// What to send: a request for URL, the snapshots' canonical request, or nothing (connect and wait)
    #[arg(long, value_enum, default_value_t = RequestKind::Url)]
    request: RequestKind,
    #[command(flatten)]
    common: CommonArgs,
}

impl Run for Args {
    fn server(&self) -> Option<&ServerArgs> {
        None
    }
    fn common(&self) -> &CommonArgs {
        &self.common
    }
    fn run(&self, tracer: &Tracer, options: &Options) -> Result<Vec<String>, Error> {
        run(tracer, &self.url, self.request, options.timeout)
    }
}

/// Runs the lesson: fetch `url`, sending what `request` says.
pub fn run(
    tracer: &Tracer,
    url: &Url,
    request: RequestKind,
    timeout: Option<std::time::Duration>,
) -> Result<Vec<String>, Error> {
    let request = match request {
        RequestKind::Url => format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: hhttpp\r\nAccept: */*\r\nConnection: close\r\n\r\n",
            url.path,
            url.host_header()
        )
        .into_bytes(),
        RequestKind::Canonical => CANONICAL_REQUEST.to_vec(),
        RequestKind::None => Vec::new(),
    };

    // 0. The name to addresses. A name may have several (IPv6 and IPv4): we try them in the order given.
    let addresses = getaddrinfo(tracer, &url.host, url.port)?;
    let mut s = None;
    for (i, address) in addresses.iter().enumerate() {
        // 1. A socket, and a connection through it.
        let mut candidate = TracedSocket::new(tracer, "s", address)?;
        match candidate.connect(address) {
            Ok(()) => {
                s = Some(candidate);
                break;
            }
            Err(err) if err.errno() == Some(libc::ECONNREFUSED) && i + 1 < addresses.len() => {
                tracer.note("ECONNREFUSED: nothing listens on that address. We close this socket and try the next.")?;
                candidate.close()?;
            }
            Err(err) => return Err(err),
        }
    }
    let Some(s) = s else {
        return Err(Error::Resolve { host: url.host.clone(), message: "it has no address".into() });
    };
    if let Some(timeout) = timeout {
        s.set_read_timeout(timeout)?;
    }

    // 2. The request.
    if !request.is_empty() {
        s.sendall("request", &request)?;
    }

    // 3. The reply, until the server closes its side (recv returns 0).
    let mut response = Vec::new();
    let mut buf = [0u8; RECV_BUFFER];
    loop {
        let n = s.recv(&mut buf)?;
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buf[..n]);
    }
    let described = http::describe_response(&response);
    tracer.note(&described)?;
    s.close()?;
    Ok(vec![format!("fetched http://{}{}: {described}", url.host_header(), url.path)])
}
