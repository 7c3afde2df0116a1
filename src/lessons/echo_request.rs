//! Lesson 3, `echo-request`: receive the client's request, and send its own bytes back as the reply.
//!
//! The blog's Python for this step (after lessons 1 and 2):
//!
//! ```python
//! raw_data = client_connection.recv(4096)
//! if not raw_data:
//!     raise ValueError("no raw data")
//! ```
//!
//! The calls, in order: lesson 1's set-up, `accept4`, then `recvfrom(4096)` with the bytes it returned; the reply
//! (a `200 OK` whose `text/plain` body is exactly the bytes received) with `sendall`, which is one `sendto` or more;
//! `shutdown(SHUT_RDWR)`; `close` of the connection and of the listening socket.
//!
//! Where the blog raises an error when `recv` returns nothing, we close that connection and accept the next one:
//! browsers open spare connections and sometimes close them unused.

use std::net::{Shutdown, SocketAddr};

use super::{RECV_BUFFER, bind};
use crate::error::Error;
use crate::http;
use crate::trace::{TracedSocket, Tracer};

/// Runs the lesson: accept a connection on `addr`, read its request, send the request back.
pub fn run(tracer: &Tracer, addr: SocketAddr) -> Result<Vec<String>, Error> {
    let (s, _) =
        bind::listen(tracer, addr, |url| format!("(open it in a browser to see its request, or: curl -v {url})"))?;
    let (client_connection, raw_data) = accept_request(tracer, &s)?;

    let header = http::response_head(200, "OK", "text/plain; charset=utf-8", raw_data.len() as u64);
    let response = [header, raw_data].concat();
    client_connection.sendall("response", &response)?;

    client_connection.shutdown(Shutdown::Both)?;
    client_connection.close()?;
    s.close()?;
    Ok(vec![])
}

/// Accepts connections on `s` until one sends something; returns it with the bytes one `recv(4096)` returned.
///
/// A connection that closes without sending (`recvfrom` returns 0) or breaks off (`ECONNRESET`) is reported,
/// closed, and followed by the next `accept4`: one misbehaving client does not end the lesson.
pub fn accept_request(tracer: &Tracer, s: &TracedSocket) -> Result<(TracedSocket, Vec<u8>), Error> {
    loop {
        let (client_connection, _client_address) = s.accept()?;
        let mut buf = vec![0u8; RECV_BUFFER];
        match client_connection.recv(&mut buf) {
            Ok(0) => tracer.note(
                "recvfrom returned 0: the client closed the connection without sending a request (browsers open \
                 spare connections). We close it and accept the next one.",
            )?,
            Ok(n) => {
                buf.truncate(n);
                tracer.note(&http::describe_request(&buf))?;
                return Ok((client_connection, buf));
            }
            Err(err) if err.errno() == Some(libc::ECONNRESET) => tracer.note(
                "ECONNRESET: the client broke the connection off before sending a request. We close it and \
                 accept the next one.",
            )?,
            Err(err) => return Err(err),
        }
        client_connection.close()?;
    }
}
