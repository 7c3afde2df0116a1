//! Lesson 5, `serve-binary`: send a header, then a binary file (a JPEG), a chunk at a time.
//!
//! With no file named, it serves the blog's picture built into hhttpp ([`assets::PICTURE`]), copied into a memfd
//! so that it is read (or sent with `--sendfile`) as any file is.
//!
//! The blog's Python for this step (its comments left out):
//!
//! ```python
//! with open(filename, "rb") as response_file:
//!   data = response_file.read()
//!
//! first_line_of_response = f"HTTP/1.1 200 OK\nserver:hhttpp\n\n"
//! client_connection.send(first_line_of_response.encode())
//!
//! client_connection.sendall(data)
//!
//! client_connection.shutdown(socket.SHUT_RDWR)
//! ```
//!
//! The calls, in order: lesson 1's set-up, lesson 3's `accept4` and `recvfrom` calls, then one `send` of the
//! head, a `sendall` of the file's bytes, `shutdown(SHUT_RDWR)`, and the two `close`s.
//!
//! The blog reads the whole file into memory first; we read it in chunks of [`CHUNK`] bytes and send each one, so
//! memory stays the same for a 10 KiB picture and a 10 GiB video. It is still one Python `sendall`, and the
//! transcript says how many `sendto` calls it took. Our head is HTTP/1.1's (`Content-Type`, `Content-Length`,
//! `Connection: close`) where the blog's says `server:hhttpp`; one `send` may take only part of it, and then the
//! rest goes with a `sendall` of ours.

use std::fs::File;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use super::{bind, echo_request};
use crate::assets;
use crate::error::Error;
use crate::http::{self, Text};
use crate::lesson::{self, Check, Exchange, Lesson, Options, Run, Server, ServerArgs};
use crate::trace::format::{count, plural};
use crate::trace::{TracedSocket, Tracer};

/// The lesson, as `hhttpp lesson serve-binary` runs it.
pub static LESSON: Lesson = Lesson {
    name: "serve-binary",
    summary: "send a header, then a binary file (a JPEG) with sendall, a chunk at a time",
    blog_step: "exchange data: send a binary file",
    example: "hhttpp lesson serve-binary\n  then open http://127.0.0.1:8338/ in a browser (the picture is built in; or name a \
              file: hhttpp lesson serve-binary photo.png)",
    text: include_str!("../../lessons/05-serve-binary.md"),
    args: <Args as clap::Args>::augment_args,
    parse: lesson::parse::<Args>,
    server: Some(Server::BLOG),
    check: Some(Check {
        sends: "the canonical request, and expects the file (PATH, or the built-in picture) byte for byte",
        exchanges: |file| {
            let Some(file) = file else {
                let body = assets::PICTURE.bytes.to_vec();
                let content_type = http::content_type(Path::new(assets::PICTURE.name), Text::Unchecked);
                let head = http::response_head(200, &content_type, assets::PICTURE.size());
                return Ok(Exchange::canonical([head, body].concat()));
            };
            let (mut opened, size) = lesson::open_regular(file)?;
            let mut body = Vec::new();
            std::io::Read::read_to_end(&mut opened, &mut body)
                .map_err(|source| Error::File { path: file.to_path_buf(), source })?;
            if body.len() as u64 != size {
                let source = std::io::Error::other("the file changed while it was read");
                return Err(Error::File { path: file.to_path_buf(), source });
            }
            let head = http::response_head(200, &http::content_type(file, Text::Unchecked), size);
            Ok(Exchange::canonical([head, body].concat()))
        },
    }),
    steps: &echo_request::EXCHANGE_STEPS,
};

/// `hhttpp lesson serve-binary`'s arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file to serve, byte for byte (without one: the blog's picture, built into hhttpp)
    file: Option<PathBuf>,
    /// Send the file's bytes with sendfile(2): the kernel copies them from the file to the socket, and they never
    /// enter our memory (nor the transcript's dump)
    #[arg(long)]
    sendfile: bool,
    #[command(flatten)]
    server: ServerArgs,
}

impl Run for Args {
    fn server(&self) -> Option<&ServerArgs> {
        Some(&self.server)
    }
    fn run(&self, tracer: &Tracer, options: &Options) -> Result<Vec<String>, Error> {
        run(tracer, options, self.file.as_deref(), SendWith::chosen(self.sendfile))
    }
}

/// How the file's bytes reach the socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendWith {
    /// The blog's way: we `read` a chunk into our memory, then hand it to `sendto`, chunk after chunk.
    Sendall,
    /// `--sendfile`: the kernel copies from the file to the socket itself, with `sendfile(2)`.
    Sendfile,
}

impl SendWith {
    /// `--sendfile` given, or not.
    pub fn chosen(sendfile: bool) -> SendWith {
        if sendfile { SendWith::Sendfile } else { SendWith::Sendall }
    }
}

/// How much of the file we read, and hand to `sendto`, at a time: 512 KiB, chosen by measurement on this machine
/// (2 cores, Linux 6.18), not by a rule.
///
/// Why this size: every byte is copied twice through our memory (the page cache into `chunk` by `read`, `chunk`
/// into the socket by `sendto`), and each chunk costs two system calls: small chunks pay for more calls. On another
/// machine big chunks cost more instead (a buffer bigger than the CPU's caches, see FINDINGS); here they did not.
/// `bench/chunks` times read + send
/// of 256 MiB in chunks of 16 KiB to 1 MiB beside nginx, in the same run. In three runs here 512 KiB and 1 MiB
/// were the fastest (medians 0.090, 0.131, 0.101 s for 512 KiB, 0.59–0.73× nginx's time; 1 MiB ahead by 5 ms
/// once), 16–64 KiB the slowest (0.91–1.23×); we take 512 KiB, as fast within the noise with half the buffer.
/// The figures are in `bench/chunks.txt`. On another machine the best size may differ (an earlier one
/// found 64 KiB): run `bench/chunks` there. Memory stays the same whatever the file's size: one chunk.
pub const CHUNK: usize = 512 * 1024;

/// Runs the lesson: serve `path`'s bytes (or, with no path, the built-in picture's) to one client.
pub fn run(tracer: &Tracer, options: &Options, path: Option<&Path>, with: SendWith) -> Result<Vec<String>, Error> {
    // Open the file before we touch the network, so a bad file fails before a port is taken.
    let (file, size, shown) = match path {
        Some(path) => {
            let (file, size) = lesson::open_regular(path)?;
            (file, size, format!("{:?}", path.display().to_string()))
        }
        None => {
            let file = assets::PICTURE
                .memfd()
                .map_err(|err| Error::io("copy the built-in picture into a memfd (memfd_create)", err))?;
            (file, assets::PICTURE.size(), format!("the built-in {}", assets::PICTURE.name))
        }
    };
    // The name says the type (the built-in picture's is `ice-caps.jpg`), and names the file in an error.
    let named = path.unwrap_or(Path::new("the built-in ice-caps.jpg"));
    let content_type = http::content_type(path.unwrap_or(Path::new(assets::PICTURE.name)), Text::Unchecked);
    let file_fd = file.as_raw_fd();
    let size_text = plural(size, "byte", "bytes");
    match path {
        Some(_) => tracer.note(&format!(
            "opened {shown}: {size_text}, {content_type}, as fd {file_fd} (a file, not a socket: its reads are not \
             in this transcript)"
        ))?,
        None => {
            let name = assets::PICTURE.name;
            tracer.note(&format!("no file named: serving the blog's picture, {name}, built into hhttpp's binary"))?;
            tracer.note(&format!(
                "copied into a memfd, a file in memory (memfd_create), as fd {file_fd}: {size_text}, {content_type}"
            ))?;
        }
    }

    let (s, _) = bind::listen(tracer, options, |url| format!("(open it in a browser, or: curl -v {url} -o picture)"))?;
    let echo_request::Received { client_connection, request, .. } = echo_request::accept_request(tracer, &s, options)?;

    let sent = match &request {
        Ok(_) => {
            let header = http::response_head(200, &content_type, size);
            send_file(&client_connection, &file, named, size, &header, false, with)
        }
        Err(bad) => client_connection.sendall("response", &http::error_response(bad)),
    };
    drop(file);
    tracer.note(&format!("closed the file, fd {file_fd}"))?;

    let outcome = echo_request::shutdown_and_close(tracer, client_connection, sent, http::status_of(&request))?;
    s.close()?;
    if request.is_err() || outcome.cut.is_some() {
        return Ok(vec![outcome.summary]);
    }
    let how = match with {
        SendWith::Sendall => format!("read in chunks of at most {} bytes", count(CHUNK as u64)),
        SendWith::Sendfile if path.is_none() => "sent by the kernel from the memfd with sendfile".to_string(),
        SendWith::Sendfile => "sent by the kernel with sendfile, never read into our memory".to_string(),
    };
    Ok(vec![format!("{} with {shown} ({size_text}, {content_type}), {how}", outcome.summary)])
}

/// Sends `header` (a `200 OK` head that promises `size` bytes) with one `sendall`, then (unless `head_only`, for a
/// HEAD request) the file's `size` bytes `with` another `sendall`, a chunk at a time, or with `sendfile`. `path`
/// names the file in errors.
///
/// The head promised `size` bytes: a file that shrinks while we send it cannot keep that promise, and we say so
/// with [`Error::Shrank`] (the caller resets the connection) rather than let the client take a short body for the
/// whole one.
pub fn send_file(
    client_connection: &TracedSocket,
    file: &File,
    path: &Path,
    size: u64,
    header: &[u8],
    head_only: bool,
    with: SendWith,
) -> Result<(), Error> {
    // The blog sends its head with one `send`, which may take less than all of it; the rest, if any, is ours.
    let taken = client_connection.send("first_line_of_response.encode()", header)?;
    if taken < header.len() {
        client_connection.sendall(&format!("first_line_of_response.encode()[{taken}:]"), &header[taken..])?;
    }
    if head_only {
        return Ok(());
    }

    let sent = match with {
        SendWith::Sendall => {
            // Exactly `size` bytes, the length the header promised.
            let mut data = file.take(size);
            let mut chunk = vec![0u8; CHUNK.min(size.max(1) as usize)];
            let mut sendall = client_connection.begin_sendall("data", size)?;
            loop {
                let n = data.read(&mut chunk).map_err(|source| Error::File { path: path.to_path_buf(), source })?;
                if n == 0 {
                    break;
                }
                sendall.send(&chunk[..n])?;
            }
            let sent = sendall.bytes_sent();
            sendall.finish()?;
            sent
        }
        SendWith::Sendfile => {
            // not the blog's line: ours. `response_file` is the open file; the kernel reads it from offset 0 and
            // sends until the `size` bytes are gone, or the file ends first (a call that returns 0).
            let mut sendfile = client_connection.begin_sendfile("response_file", size)?;
            sendfile.send_rest(file)?;
            let sent = sendfile.bytes_sent();
            sendfile.finish()?;
            sent
        }
    };
    if sent < size {
        // The file got shorter while we sent it: the client waits for bytes that will never come.
        return Err(Error::Shrank { path: path.to_path_buf(), sent, size });
    }
    Ok(())
}
