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

use super::bind;
use crate::error::Error;
use crate::lesson::{self, Check, ClientRole, Exchange, Lesson, Options, Run, Server, ServerArgs, Step, url};
use crate::trace::Tracer;

/// The lesson, as `hhttpp lesson accept` runs it.
pub static LESSON: Lesson = Lesson {
    name: "accept",
    summary: "accept one connection, show the new socket and the client's address, close it unread",
    blog_step: "accept a connection",
    example: "hhttpp lesson accept\n  then, in a second terminal: hhttpp lesson fetch --request none",
    text: include_str!("../../lessons/02-accept.md"),
    args: <Args as clap::Args>::augment_args,
    parse: lesson::parse::<Args>,
    // The client only connects: closing a connection with unread bytes would reset it.
    server: Some(Server { client: ClientRole::Connects, ..Server::BLOG }),
    // A client that sends nothing gets nothing back: the connection is closed unread.
    check: Some(Check {
        sends: "nothing: it connects, and expects the server to close the connection without a word",
        exchanges: |_| {
            let asks = "a connection, sending nothing".into();
            Ok(vec![Exchange { asks, request: None, reply: Some(Vec::new()), head_only: false }])
        },
    }),
    steps: &[bind::SOCKET, bind::SETSOCKOPT, bind::BIND, bind::LISTEN, ACCEPT, CLOSE],
};

/// `hhttpp lesson accept`'s arguments: where to listen.
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

/// `accept`, as `hhttpp trace --compare` looks for it.
pub const ACCEPT: Step = Step {
    names: &["accept", "accept4"],
    shows: "accept",
    why: "the server takes the connection",
    check: Step::no_check,
};
/// The close of the accepted connection.
pub const CLOSE: Step = Step {
    names: &["close"],
    shows: "close the connection",
    why: "every socket must be closed",
    check: Step::no_check,
};

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
