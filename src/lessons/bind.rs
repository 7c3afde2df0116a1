//! Lesson 1, `bind`: set up a socket, bind it to an address, and listen.
//!
//! The blog's Python for this step (its first block, comments left out; `lessons/blog-code.md` has it whole):
//!
//! ```python
//! ip = "127.0.0.1"
//! port = 8338
//!
//! with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
//!
//!     s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
//!
//!     s.bind((ip, port))
//!     s.listen(1)
//! ```
//!
//! The calls, in order: `socket`, `setsockopt(SO_REUSEADDR)`, `bind`, `listen(1)`, `getsockname` (to learn the
//! port when we asked for port 0). Then a second socket `s2` tries to bind the same address and port, and the
//! kernel refuses with `EADDRINUSE`: the port is now ours. Both sockets are closed.

use std::io::Write;
use std::net::SocketAddr;

use crate::error::Error;
use crate::lesson::{self, BACKLOG, Check, ClientRole, Exchange, Lesson, Options, Run, Server, ServerArgs, Step, url};
use crate::strace::Call;
use crate::trace::{TracedSocket, Tracer};

/// The lesson, as `hhttpp lesson bind` runs it.
pub static LESSON: Lesson = Lesson {
    name: "bind",
    summary: "create a socket, set SO_REUSEADDR, bind an address, listen; then watch a second bind fail",
    blog_step: "set up, bind and listen",
    example: "hhttpp lesson bind\n  hhttpp lesson bind --port 0",
    text: include_str!("../../lessons/01-bind.md"),
    args: <Args as clap::Args>::augment_args,
    parse: lesson::parse::<Args>,
    // It accepts no one, so `--client` has nothing to talk to.
    server: Some(Server { client: ClientRole::None, ..Server::BLOG }),
    check: Some(Check {
        sends: "nothing: it connects, and asks no more than that something listens",
        exchanges: |_| Ok(vec![Exchange { asks: "a connection".into(), request: None, reply: None, head_only: false }]),
    }),
    steps: &[SOCKET, SETSOCKOPT, BIND, LISTEN],
};

/// `hhttpp lesson bind`'s arguments: where to listen.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    server: ServerArgs,
}

impl Run for Args {
    fn server(&self) -> Option<&ServerArgs> {
        Some(&self.server)
    }
    fn run(&self, tracer: &Tracer, options: &Options) -> Result<Vec<String>, Error> {
        run(tracer, options)
    }
}

/// The set-up's steps, which every server lesson begins with, as `hhttpp trace --compare` looks for them.
pub const SOCKET: Step = Step {
    names: &["socket"],
    shows: "socket(AF_INET, SOCK_STREAM)",
    why: "a server starts with a socket",
    check: |call| (!call.arg(1).is_some_and(|t| t.starts_with("SOCK_STREAM"))).then(|| "not SOCK_STREAM (TCP)".into()),
};
pub const SETSOCKOPT: Step = Step {
    names: &["setsockopt"],
    shows: "setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)",
    why: "without it a restarted server cannot bind its port while old connections wait in TIME_WAIT",
    check: |call| {
        let option = call.arg(2).unwrap_or("?");
        (option != "SO_REUSEADDR").then(|| format!("sets {option} instead"))
    },
};
pub const BIND: Step =
    Step { names: &["bind"], shows: "bind", why: "the server's address and port", check: Step::no_check };
pub const LISTEN: Step =
    Step { names: &["listen"], shows: "listen(1)", why: "without listen nobody can connect", check: listen_backlog };

/// `listen(1)`, the blog's backlog, or what the program asked for instead.
fn listen_backlog(call: &Call) -> Option<String> {
    let backlog = call.arg(1).unwrap_or("?");
    (backlog != BACKLOG.to_string()).then(|| format!("a backlog of {backlog}; the lesson's is {BACKLOG}"))
}

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
pub fn listen<'t>(
    tracer: &'t Tracer,
    options: &Options,
    hint: impl FnOnce(&str) -> String,
) -> Result<(TracedSocket<'t>, SocketAddr), Error> {
    let mut s = TracedSocket::new_listener(tracer, &options.addr)?;
    s.set_reuse_address()?;
    s.bind(&options.addr)?;
    s.listen(options.backlog)?;
    let bound = s.local_addr()?;
    let url = url(&bound);
    tracer.listening(&url, &hint(&url))?;
    if let Some(client) = options.client {
        client.start(bound);
    }
    if bound.ip().is_unspecified() {
        // On stderr too, so that --quiet (and a transcript sent to a file) still warns whoever started it.
        let _ = writeln!(
            std::io::stderr(),
            "hhttpp: warning: listening on {} means every interface: other machines on your network can connect",
            url
        );
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
