//! Lesson 2, `accept`: take one connection from the queue, and look at what the kernel gives us.
//!
//! The blog's Python for this step (after lesson 1's set-up):
//!
//! ```python
//! client_connection, client_address = s.accept()
//! ```
//!
//! The calls, in order: lesson 1's `socket`, `setsockopt`, `bind`, `listen`, `getsockname`; then `accept4`, which
//! waits for a client and returns a *new* socket for that one connection, with the client's address. We close it
//! without reading anything, then close the listening socket.

use super::{Options, bind, url};
use crate::error::Error;
use crate::trace::Tracer;

/// Runs the lesson: accept one connection on `options.addr`, show it, close it unread.
pub fn run(tracer: &Tracer, options: &Options) -> Result<Vec<String>, Error> {
    let (s, bound) = bind::listen(tracer, options, |url| {
        format!("(waiting for one client: hhttpp lesson fetch {url} --request none)")
    })?;

    let (client_connection, client_address) = s.accept()?;
    tracer.note(&format!(
        "A client connected from {client_address}. The kernel made a new socket, fd {}, for this one connection; \
         fd {} goes on listening.",
        client_connection.fd(),
        s.fd()
    ))?;

    // We read nothing. A client that sent nothing sees a clean close (its recv returns 0). One that already sent a
    // request, as curl does at once, may see a reset instead: closing a socket with unread bytes sends RST.
    client_connection.close()?;
    s.close()?;
    Ok(vec![format!("one connection accepted on {} and closed unread", url(&bound))])
}
