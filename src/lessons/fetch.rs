//! Lesson 6, `fetch`: the client's side. Resolve the name, connect, send the request, wait for the reply.
//!
//! The blog describes a client's four steps; in Python they are:
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

use super::CANONICAL_REQUEST;
use crate::cli::RequestKind;
use crate::error::Error;
use crate::http::{self, Url};
use crate::trace::socket::getaddrinfo;
use crate::trace::{TracedSocket, Tracer};

/// How much one `recv` asks for, as the server lessons do.
const RECV_BUFFER: usize = super::RECV_BUFFER;

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
