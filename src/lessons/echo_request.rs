//! Lesson 3, `echo-request`: receive the client's request, and send its own bytes back as the reply.
//!
//! The blog's Python for this step (after lessons 1 and 2; its comments left out):
//!
//! ```python
//! raw_data = client_connection.recv(4096)
//! if raw_data:
//!     request = raw_data.decode()
//! else:
//!     raise ValueError("No raw data found")
//! ```
//!
//! The calls, in order: lesson 1's set-up, `accept4`, then `recvfrom(4096)` with the bytes it returned, again
//! until the blank line that ends the request's head has arrived; the reply (a `200 OK` whose `text/plain` body is
//! exactly the bytes received) with `sendall`, which is one `sendto` or more; `shutdown(SHUT_RDWR)`; `close` of the
//! connection and of the listening socket.
//!
//! The blog calls `recv(4096)` once. That is not enough: TCP is a stream of bytes, not of messages, so one `recv`
//! returns whatever has arrived, which may be half a request. And where the blog raises an error when `recv`
//! returns nothing, we close that connection and accept the next one: browsers open spare connections and
//! sometimes close them unused.

use std::net::Shutdown;
use std::time::{Duration, Instant};

use super::{accept, bind};
use crate::error::Error;
use crate::http::{self, BadRequest, HeadReader, HeadStatus, MAX_HEAD, Request};
use crate::lesson::{
    self, CANONICAL_REQUEST, Check, Exchange, Lesson, Options, RECV_BUFFER, Run, Server, ServerArgs, Step,
};
use crate::trace::format::plural;
use crate::trace::{TracedSocket, Tracer};

/// The lesson, as `hhttpp lesson echo-request` runs it.
pub static LESSON: Lesson = Lesson {
    name: "echo-request",
    summary: "receive a request with recv(4096) and send its own bytes back as the reply",
    blog_step: "exchange data: receive the request",
    example: "hhttpp lesson echo-request\n  then open http://127.0.0.1:8338/ in a browser: it shows its own request",
    text: include_str!("../../lessons/03-echo-request.md"),
    args: <Args as clap::Args>::augment_args,
    parse: lesson::parse::<Args>,
    server: Some(Server::BLOG),
    check: Some(Check {
        sends: "the canonical request, and expects its own bytes back as a text/plain body",
        exchanges: |_| {
            let head = http::response_head(200, "text/plain; charset=utf-8", CANONICAL_REQUEST.len() as u64);
            Ok(Exchange::canonical([head, CANONICAL_REQUEST.to_vec()].concat()))
        },
    }),
    steps: &EXCHANGE_STEPS,
};

/// A whole exchange's steps, which the lessons that answer a request make: lesson 1's set-up, `accept`, then
/// these.
pub static EXCHANGE_STEPS: [Step; 9] =
    [bind::SOCKET, bind::SETSOCKOPT, bind::BIND, bind::LISTEN, accept::ACCEPT, RECV, SEND, SHUTDOWN, accept::CLOSE];

/// `recv(4096)`, as `hhttpp trace --compare` looks for it.
pub const RECV: Step = Step {
    names: &["recvfrom", "read", "recvmsg"],
    shows: "recv(4096)",
    why: "the server reads the request",
    check: |call| {
        let size = call.arg(2).unwrap_or("?");
        (size != RECV_BUFFER.to_string()).then(|| format!("a buffer of {size} bytes; the lesson's is {RECV_BUFFER}"))
    },
};
/// Sending the response.
pub const SEND: Step = Step {
    names: &["sendto", "write", "sendmsg", "writev"],
    shows: "send the response",
    why: "the reply",
    check: Step::no_check,
};
/// `shutdown(SHUT_RDWR)`.
pub const SHUTDOWN: Step = Step {
    names: &["shutdown"],
    shows: "shutdown(SHUT_RDWR)",
    why: "it tells the client at once that nothing more is coming",
    check: |call| {
        let how = call.arg(1).unwrap_or("?");
        (how != "SHUT_RDWR").then(|| format!("{how} instead"))
    },
};

/// `hhttpp lesson echo-request`'s arguments: where to listen.
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

/// Runs the lesson: accept a connection, read its request, send the request back.
pub fn run(tracer: &Tracer, options: &Options) -> Result<Vec<String>, Error> {
    let (s, _) =
        bind::listen(tracer, options, |url| format!("(open it in a browser to see its request, or: curl -v {url})"))?;
    let Received { client_connection, raw_data, request } = accept_request(tracer, &s, options)?;

    let response = match &request {
        Ok(_) => {
            let header = http::response_head(200, "text/plain; charset=utf-8", raw_data.len() as u64);
            [header, raw_data].concat()
        }
        Err(bad) => http::error_response(bad),
    };
    let sent = client_connection.sendall("response", &response);

    let outcome = shutdown_and_close(tracer, client_connection, sent, http::status_of(&request))?;
    s.close()?;
    Ok(vec![outcome.summary])
}

/// A client's request: its connection, every byte we received, and what HTTP makes of them.
pub struct Received<'t> {
    pub client_connection: TracedSocket<'t>,
    pub raw_data: Vec<u8>,
    pub request: Result<Request, BadRequest>,
}

/// Accepts connections on `s` until one sends something, and reads its request head.
///
/// A connection that sends nothing (`recvfrom` returns 0), breaks off (`ECONNRESET`) or has not sent its whole head
/// within `--timeout` (`EAGAIN`) is reported, closed, and followed by the next `accept4`: one misbehaving client
/// does not end the lesson. With `--send-timeout`, each connection also gets its `SO_SNDTIMEO` here.
pub fn accept_request<'t>(tracer: &'t Tracer, s: &TracedSocket<'t>, options: &Options) -> Result<Received<'t>, Error> {
    loop {
        let (client_connection, _client_address) = s.accept()?;
        // The deadline is for the whole head, from now: a client that sends a byte now and then (slowloris)
        // cannot stretch it, as it could a timeout per recvfrom.
        let deadline = options.timeout.map(|timeout| (Instant::now() + timeout, timeout));
        if let Some(timeout) = options.timeout {
            client_connection.set_read_timeout(timeout)?;
        }
        if let Some(timeout) = options.send_timeout {
            client_connection.set_write_timeout(timeout)?;
        }
        let Some(reader) = read_head(tracer, &client_connection, deadline)? else {
            client_connection.close()?;
            continue;
        };
        let request = http::parse_request(&reader);
        tracer.note(&http::describe(&request))?;
        return Ok(Received { client_connection, raw_data: reader.bytes().to_vec(), request });
    }
}

/// Calls `recv(4096)` until the blank line that ends the request head, the head grows past [`MAX_HEAD`], or the
/// client stops sending. Returns `None` (and says why) when there is no request to answer.
///
/// With a `deadline` (when, and the `--timeout` it came from), each `recvfrom` after the first waits only what is
/// left of it: we set `SO_RCVTIMEO` again to that before the call, and the transcript shows it.
fn read_head(
    tracer: &Tracer,
    client_connection: &TracedSocket,
    deadline: Option<(Instant, Duration)>,
) -> Result<Option<HeadReader>, Error> {
    let mut reader = HeadReader::new(MAX_HEAD);
    let mut buf = [0u8; RECV_BUFFER];
    let mut calls = 0u64;
    let peer = client_connection.peer().map_or_else(|| "the client".to_string(), |addr| addr.to_string());
    loop {
        if let Some((until, timeout)) = deadline
            && calls > 0
        {
            let left = until.saturating_duration_since(Instant::now());
            // SO_RCVTIMEO of 0 would mean "wait for ever": below a millisecond, the deadline has passed.
            if left < Duration::from_millis(1) {
                say_gave_up(tracer, &gave_up_on_head(&peer, timeout))?;
                return Ok(None);
            }
            client_connection.set_read_timeout(Duration::from_micros(left.as_micros() as u64))?;
        }
        calls += 1;
        let n = match client_connection.recv(&mut buf) {
            Ok(n) => n,
            Err(err) if err.errno() == Some(libc::ECONNRESET) => {
                tracer.note("ECONNRESET: the client broke the connection off. We close it and accept the next one.")?;
                return Ok(None);
            }
            Err(err) if err.errno() == Some(libc::EAGAIN) => {
                let timeout = deadline.map_or(Duration::ZERO, |(_, timeout)| timeout);
                if reader.bytes().is_empty() {
                    say_gave_up(
                        tracer,
                        &format!(
                            "EAGAIN: gave up on {peer}: it sent nothing for {} s (--timeout, the SO_RCVTIMEO we set). We \
                         close this quiet connection and accept the next one.",
                            lesson::seconds(timeout)
                        ),
                    )?;
                } else {
                    say_gave_up(tracer, &format!("EAGAIN: {}", gave_up_on_head(&peer, timeout)))?;
                }
                return Ok(None);
            }
            Err(err) => return Err(err),
        };
        if n == 0 {
            if reader.bytes().is_empty() {
                tracer.note(
                    "recvfrom returned 0: the client closed the connection without sending a request (browsers \
                     open spare connections). We close it and accept the next one.",
                )?;
                return Ok(None);
            }
            tracer.note("recvfrom returned 0: the client stopped sending before its request head was complete.")?;
            return Ok(Some(reader));
        }
        match reader.push(&buf[..n]) {
            HeadStatus::Incomplete => continue,
            HeadStatus::Complete { .. } if calls > 1 => {
                tracer.note(&format!(
                    "the request arrived in pieces: {} until its blank line",
                    plural(calls, "recvfrom call", "recvfrom calls")
                ))?;
            }
            HeadStatus::Complete { .. } => {}
            HeadStatus::TooLarge => {
                tracer.note(&format!(
                    "{} and still no blank line: we stop reading here",
                    plural(reader.bytes().len() as u64, "byte", "bytes")
                ))?;
            }
        }
        return Ok(Some(reader));
    }
}

/// A deadline that fired: a note in the transcript, or with `--quiet` a line of the log, since it ends a connection.
fn say_gave_up(tracer: &Tracer, text: &str) -> Result<(), Error> {
    if tracer.is_quiet() { tracer.line(text) } else { tracer.note(text) }
}

/// The note for a client whose head was not complete by the deadline.
fn gave_up_on_head(peer: &str, timeout: Duration) -> String {
    format!(
        "gave up on {peer}: its request head was not complete {} s after it connected (--timeout, a deadline for \
         the whole head, however it trickles in). We close the connection and accept the next one.",
        lesson::seconds(timeout)
    )
}

/// How a connection ended, for the summary and the log.
#[derive(Debug)]
pub struct Ended {
    /// A line for the summary: `answered 200 OK`, or how the reply was cut short.
    pub summary: String,
    /// Why the reply did not go out whole (`the client hung up`); `None` when it did.
    pub cut: Option<String>,
}

/// Ends a connection after its reply: `shutdown(SHUT_RDWR)` and `close` when the reply went out whole, or only
/// `close` when the client hung up during it (or before our `shutdown`).
///
/// A reply we cannot finish ourselves (the file shrank, or the client read nothing for `--send-timeout`) ends with
/// a reset: `SO_LINGER` of 0, then `close`, so the kernel sends RST instead of FIN. With a FIN the client would
/// see a clean end, and could take the bytes it has for the whole reply.
pub fn shutdown_and_close(
    tracer: &Tracer,
    client_connection: TracedSocket,
    sent: Result<(), Error>,
    status: u16,
) -> Result<Ended, Error> {
    let answered = format!("{status} {}", http::status_phrase(status));
    match sent.and_then(|()| client_connection.shutdown(Shutdown::Both)) {
        Ok(()) => {
            client_connection.close()?;
            Ok(Ended { summary: format!("answered {answered}"), cut: None })
        }
        Err(err) if err.is_peer_gone() => {
            tracer.note("The client hung up before the whole reply was sent: the reply was cut short.")?;
            client_connection.close()?;
            let cut = "the client hung up".to_string();
            Ok(Ended { summary: format!("the reply was cut short: {cut}"), cut: Some(cut) })
        }
        // A file we could not read to its end (an I/O error) leaves the reply as short as a shrunk one.
        Err(err @ (Error::Shrank { .. } | Error::Stalled { .. } | Error::File { .. })) => {
            tracer.note(&format!(
                "{err}. We reset the connection (SO_LINGER of 0, then close: the kernel sends RST), so that the \
                 client cannot take what it got for the whole reply."
            ))?;
            client_connection.set_linger_zero()?;
            client_connection.close()?;
            let cut = match &err {
                Error::Stalled { waited, .. } => format!("it read nothing for {} s", lesson::seconds(*waited)),
                Error::File { source, .. } => format!("the file could not be read: {}", crate::error::reason(source)),
                _ => "the file shrank while we sent it".to_string(),
            };
            Ok(Ended { summary: format!("{err}; the connection was reset"), cut: Some(format!("{cut}; reset")) })
        }
        Err(err) => Err(err),
    }
}
