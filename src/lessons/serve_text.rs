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
use std::path::Path;

use super::{Options, bind, echo_request};
use crate::error::Error;
use crate::http;
use crate::trace::Tracer;

/// The blog's page.
pub const BLOG_BODY: &str = "<h1>Hello World</h1>";

/// Runs the lesson: serve `file`'s text (or the blog's page) to one client.
pub fn run(tracer: &Tracer, options: &Options, file: Option<&Path>) -> Result<Vec<String>, Error> {
    // Read the page before we touch the network, so a bad file fails before a port is taken.
    let (body, content_type) = match file {
        Some(path) => (load_text(path)?, text_mime_type(path)),
        None => (BLOG_BODY.to_string(), "text/html; charset=utf-8".to_string()),
    };

    let (s, _) = bind::listen(tracer, options, |url| format!("(open it in a browser, or: curl -v {url})"))?;
    let echo_request::Received { client_connection, request, .. } = echo_request::accept_request(tracer, &s, options)?;

    let response = match &request {
        Ok(_) => [http::response_head(200, &content_type, body.len() as u64), body.into_bytes()].concat(),
        Err(bad) => http::error_response(bad),
    };
    let sent = client_connection.sendall("response", &response);

    let outcome = echo_request::hang_up(tracer, client_connection, sent, http::status_of(&request))?;
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

/// The `Content-Type` for a text file, from its extension, with the charset we checked it has.
fn text_mime_type(path: &Path) -> String {
    let mime = mime_guess::from_path(path).first_or_text_plain();
    format!("{}; charset=utf-8", mime.essence_str())
}
