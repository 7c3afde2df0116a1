//! Lesson 4, `serve-text`: answer with a page of HTML.
//!
//! The blog's Python for this step:
//!
//! ```python
//! response = "HTTP/1.1 200 OK\n\n<h1>Hello World</h1>"
//! client_connection.sendall(response.encode())
//! client_connection.shutdown(socket.SHUT_RDWR)
//! ```
//!
//! The calls, in order: lesson 1's set-up, lesson 3's `accept4` and `recvfrom` calls, then one `sendall` of the
//! whole response (head and body), `shutdown(SHUT_RDWR)`, and the two `close`s.
//!
//! Unlike the blog we frame the response the way HTTP/1.1 asks: `\r\n` line ends, `Content-Type`,
//! `Content-Length` (so the client knows where the body ends) and `Connection: close`.

use std::fs;
use std::path::{Path, PathBuf};

use super::{bind, echo_request};
use crate::error::Error;
use crate::http::{self, Text};
use crate::lesson::{self, CANONICAL_REQUEST, Expected, Lesson, Options, Run, Server, ServerArgs};
use crate::trace::Tracer;

/// The blog's page.
pub const BLOG_BODY: &str = "<h1>Hello World</h1>";

/// The lesson, as `hhttpp lesson serve-text` runs it.
pub static LESSON: Lesson = Lesson {
    name: "serve-text",
    summary: "answer with a page of HTML, framed the way HTTP/1.1 wants it",
    blog_step: "exchange data: send a text response",
    example: "hhttpp lesson serve-text\n  hhttpp lesson serve-text assets/index.html",
    text: include_str!("../../lessons/04-serve-text.md"),
    args: <Args as clap::Args>::augment_args,
    parse: lesson::parse::<Args>,
    server: Some(Server::BLOG),
    reply: Some(|_| {
        let body = BLOG_BODY.as_bytes();
        let head = http::response_head(200, "text/html; charset=utf-8", body.len() as u64);
        Ok(Expected { request: Some(CANONICAL_REQUEST), reply: Some([head, body.to_vec()].concat()) })
    }),
    steps: &echo_request::EXCHANGE_STEPS,
};

/// `hhttpp lesson serve-text`'s arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A UTF-8 text file to serve instead of the blog's <h1>Hello World</h1>
    file: Option<PathBuf>,
    #[command(flatten)]
    server: ServerArgs,
}

impl Run for Args {
    fn server(&self) -> Option<&ServerArgs> {
        Some(&self.server)
    }
    fn run(&self, tracer: &Tracer, options: &Options) -> Result<Vec<String>, Error> {
        run(tracer, options, self.file.as_deref())
    }
}

/// Runs the lesson: serve `file`'s text (or the blog's page) to one client.
pub fn run(tracer: &Tracer, options: &Options, file: Option<&Path>) -> Result<Vec<String>, Error> {
    // Read the page before we touch the network, so a bad file fails before a port is taken.
    let (body, content_type) = match file {
        Some(path) => (load_text(path)?, http::content_type(path, Text::Checked)),
        None => (BLOG_BODY.to_string(), "text/html; charset=utf-8".to_string()),
    };

    let (s, _) = bind::listen(tracer, options, |url| format!("(open it in a browser, or: curl -v {url})"))?;
    let echo_request::Received { client_connection, request, .. } = echo_request::accept_request(tracer, &s, options)?;

    let response = match &request {
        Ok(_) => [http::response_head(200, &content_type, body.len() as u64), body.into_bytes()].concat(),
        Err(bad) => http::error_response(bad),
    };
    let sent = client_connection.sendall("response", &response);

    let outcome = echo_request::shutdown_and_close(tracer, client_connection, sent, http::status_of(&request))?;
    s.close()?;
    if request.is_err() {
        return Ok(vec![outcome]);
    }
    let page = file.map_or(format!("the blog's {BLOG_BODY}"), |p| format!("{:?}", p.display().to_string()));
    Ok(vec![format!("{outcome} with {page} ({content_type})")])
}

/// Reads `path`, which must be a UTF-8 text file.
pub fn load_text(path: &Path) -> Result<String, Error> {
    if path.is_dir() {
        return Err(Error::Directory { path: path.to_path_buf() });
    }
    let bytes = fs::read(path).map_err(|source| Error::File { path: path.to_path_buf(), source })?;
    String::from_utf8(bytes).map_err(|err| {
        let offset = err.utf8_error().valid_up_to();
        // `valid_up_to` is the index of the first byte that is not UTF-8, so it is inside the bytes.
        let byte = err.as_bytes().get(offset).copied().unwrap_or_default();
        Error::NotUtf8 { path: path.to_path_buf(), offset, byte }
    })
}
