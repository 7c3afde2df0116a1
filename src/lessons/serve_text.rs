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
//! The calls, in order: lesson 1's set-up, lesson 3's `accept4` and `recvfrom(4096)`, then one `sendall` of the
//! whole response (head and body), `shutdown(SHUT_RDWR)`, and the two `close`s.
//!
//! Unlike the blog we frame the response the way HTTP/1.1 asks: `\r\n` line ends, `Content-Type`,
//! `Content-Length` (so the client knows where the body ends) and `Connection: close`.

use std::fs;
use std::net::{Shutdown, SocketAddr};
use std::path::Path;

use super::{bind, echo_request};
use crate::error::Error;
use crate::http;
use crate::trace::Tracer;

/// The blog's page.
pub const BLOG_BODY: &str = "<h1>Hello World</h1>";

/// Runs the lesson: serve `file`'s text (or the blog's page) to one client on `addr`.
pub fn run(tracer: &Tracer, addr: SocketAddr, file: Option<&Path>) -> Result<Vec<String>, Error> {
    // Read the page before we touch the network, so a bad file fails before a port is taken.
    let (body, content_type) = match file {
        Some(path) => (load_text(path)?, text_mime_type(path)),
        None => (BLOG_BODY.to_string(), "text/html; charset=utf-8".to_string()),
    };

    let (s, _) = bind::listen(tracer, addr, |url| format!("(open it in a browser, or: curl -v {url})"))?;
    let (client_connection, _raw_data) = echo_request::accept_request(tracer, &s)?;

    let header = http::response_head(200, "OK", &content_type, body.len() as u64);
    let response = [header, body.into_bytes()].concat();
    client_connection.sendall("response", &response)?;

    client_connection.shutdown(Shutdown::Both)?;
    client_connection.close()?;
    s.close()?;
    let served = file.map_or("the blog's page".to_string(), |p| format!("{:?}", p.display().to_string()));
    Ok(vec![format!("served {served} as {content_type}")])
}

/// Reads `path`, which must be a UTF-8 text file.
pub fn load_text(path: &Path) -> Result<String, Error> {
    if path.is_dir() {
        return Err(Error::Directory { path: path.to_path_buf() });
    }
    let bytes = fs::read(path).map_err(|source| Error::File { path: path.to_path_buf(), source })?;
    String::from_utf8(bytes).map_err(|err| {
        let offset = err.utf8_error().valid_up_to();
        let byte = err.as_bytes()[offset];
        Error::NotUtf8 { path: path.to_path_buf(), offset, byte }
    })
}

/// The `Content-Type` for a text file, from its extension, with the charset we checked it has.
fn text_mime_type(path: &Path) -> String {
    let mime = mime_guess::from_path(path).first_or_text_plain();
    format!("{}; charset=utf-8", mime.essence_str())
}
