//! Lesson 1, `bind`: set up a socket, bind it to an address, and listen.
//!
//! The blog's Python for this step:
//!
//! ```python
//! with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
//!     s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
//!     s.bind(("127.0.0.1", 8338))
//!     s.listen(1)
//! ```
//!
//! The calls, in order: `socket`, `setsockopt(SO_REUSEADDR)`, `bind`, `listen(1)`, `getsockname` (to learn the
//! port when we asked for port 0). Then a second socket `s2` tries to bind the same address and port, and the
//! kernel refuses with `EADDRINUSE`: the port is now ours. Both sockets are closed.

use std::net::SocketAddr;

use super::{Options, url};
use crate::error::Error;
use crate::trace::{TracedSocket, Tracer};

/// Runs the lesson: listen on `options.addr`, show that a second bind fails, close both sockets.
pub fn run(tracer: &Tracer, options: &Options) -> Result<Vec<String>, Error> {
    let (s, bound) = listen(tracer, options, |_| "(this lesson accepts no one: it ends after the next bind)".into())?;

    tracer.note("Is the port really ours now? A second socket, s2, tries to bind the very same address:")?;
    let mut s2 = TracedSocket::new(tracer, "s2", &bound)?;
    s2.set_reuse_address()?;
    match s2.bind(&bound) {
        Err(err) if err.errno() == Some(libc::EADDRINUSE) => tracer.note(
            "EADDRINUSE, as expected: s is listening on that port, and SO_REUSEADDR does not let a second socket \
             bind a port that a socket listens on.",
        )?,
        // On Linux this does not happen; if it ever does, the transcript above shows what the kernel said.
        Ok(()) => tracer.note("The second bind succeeded: this kernel let two sockets share the port.")?,
        Err(err) => return Err(err),
    }
    s2.close()?;
    s.close()?;
    Ok(vec![format!("the port was reserved from bind until close: {}", url(&bound))])
}

/// The blog's set-up steps, which every server lesson begins with: socket, setsockopt(SO_REUSEADDR), bind, listen.
///
/// Then `getsockname` asks the kernel for the address it really bound (the port it chose when we asked for 0), and
/// the `listening on http://…/` line is printed and flushed, followed by `hint(url)`, and with `--client` the
/// built-in client is started. Returns the listening socket and that address.
pub fn listen(
    tracer: &Tracer,
    options: &Options,
    hint: impl FnOnce(&str) -> String,
) -> Result<(TracedSocket, SocketAddr), Error> {
    let mut s = TracedSocket::new(tracer, "s", &options.addr)?;
    s.set_reuse_address()?;
    s.bind(&options.addr)?;
    s.listen(options.backlog)?;
    let bound = s.local_addr()?;
    let url = url(&bound);
    tracer.listening(&url, &hint(&url))?;
    if let Some(request) = options.client {
        crate::client::start(bound, request);
    }
    if bound.ip().is_unspecified() {
        let local = if bound.is_ipv4() { "127.0.0.1".to_string() } else { "[::1]".to_string() };
        tracer.note(&format!(
            "{} means every interface: other machines on your network can connect too. To browse from this machine, \
             open http://{local}:{}/",
            bound.ip(),
            bound.port()
        ))?;
    }
    Ok((s, bound))
}
