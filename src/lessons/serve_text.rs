//! Lesson 4, `serve-text`: answer with a page of HTML.
//!
//! The blog's Python for this step (its comments left out):
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

use std::path::{Path, PathBuf};

use super::{bind, echo_request};
use crate::error::Error;
use crate::http::{self, Text};
use crate::lesson::{self, Check, Exchange, Lesson, Options, Run, Server, ServerArgs};
use crate::trace::Tracer;

/// The blog's page.
pub const BLOG_BODY: &str = "<h1>Hello World</h1>";

/// The lesson, as `hhttpp lesson serve-text` runs it.
pub static LESSON: Lesson = Lesson {
    name: "serve-text",
    summary: "answer with a page of HTML, framed the way HTTP/1.1 wants it",
    blog_step: "exchange data: send a text response",
    example: "hhttpp lesson serve-text\n  hhttpp lesson serve-text page.html   (a UTF-8 file of yours; the repository has \
              assets/index.html)",
    text: include_str!("../../lessons/04-serve-text.md"),
    args: <Args as clap::Args>::augment_args,
    parse: lesson::parse::<Args>,
    server: Some(Server::BLOG),
    check: Some(Check {
        sends: "the canonical request, and expects the blog's <h1>Hello World</h1> as text/html",
        exchanges: |_| {
            let body = BLOG_BODY.as_bytes();
            let head = http::response_head(200, "text/html; charset=utf-8", body.len() as u64);
            Ok(Exchange::canonical([head, body.to_vec()].concat()))
        },
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
    let sent = client_connection.sendall("response.encode()", &response);

    let outcome = echo_request::shutdown_and_close(tracer, client_connection, sent, http::status_of(&request))?;
    s.close()?;
    if request.is_err() {
        return Ok(vec![outcome.summary]);
    }
    let page = file.map_or(format!("the blog's {BLOG_BODY}"), |p| format!("{:?}", p.display().to_string()));
    Ok(vec![format!("{} with {page} ({content_type})", outcome.summary)])
}

/// The largest text file serve-text reads: the lesson holds the page in memory, as the blog does.
pub const MAX_TEXT: u64 = 16 * 1024 * 1024;

/// Reads `path`, which must be a UTF-8 text file of at most [`MAX_TEXT`] bytes.
pub fn load_text(path: &Path) -> Result<String, Error> {
    let (file, size) = lesson::open_regular(path)?;
    if size > MAX_TEXT {
        return Err(Error::TooLarge { path: path.to_path_buf(), size, limit: MAX_TEXT });
    }
    let mut bytes = Vec::new();
    // At most one byte past the limit: a file that grew since we looked is still refused, not read for ever.
    std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_TEXT + 1), &mut bytes)
        .map_err(|source| Error::File { path: path.to_path_buf(), source })?;
    if bytes.len() as u64 > MAX_TEXT {
        return Err(Error::TooLarge { path: path.to_path_buf(), size: bytes.len() as u64, limit: MAX_TEXT });
    }
    String::from_utf8(bytes).map_err(|err| {
        let offset = err.utf8_error().valid_up_to();
        // `valid_up_to` is the index of the first byte that is not UTF-8, so it is inside the bytes.
        let byte = err.as_bytes().get(offset).copied().unwrap_or_default();
        Error::NotUtf8 { path: path.to_path_buf(), offset, byte }
    })
}
