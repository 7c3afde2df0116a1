//! The calibration behind `serve_binary::CHUNK`: how fast one file goes out with read + send in chunks of a given
//! size, and with `sendfile(2)`, on this machine. `bench/chunks` runs it beside nginx.
//!
//! `cargo run --release --example chunk_size -- FILE` listens on 127.0.0.1 (a free port, printed as
//! `listening on http://127.0.0.1:PORT/`) and answers each connection with FILE's bytes, sent the way the request's
//! path says: `GET /65536` reads and sends 65,536 bytes at a time, as serve-binary does (one `read`, then `send`
//! until the kernel took the chunk), and `GET /sendfile` hands the whole file to `sendfile(2)`. It serves until
//! killed.
//!
//! No transcript, no tracing: this measures the copy alone, so that the choice of a chunk size does not depend on
//! the transcript's own cost (which `bench/run binary` measures with hhttpp itself).

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;

fn main() -> std::io::Result<()> {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: chunk_size FILE");
        std::process::exit(2);
    };
    let listener = TcpListener::bind("127.0.0.1:0")?;
    println!("listening on http://{}/", listener.local_addr()?);
    for stream in listener.incoming() {
        let mut stream = stream?;
        if let Err(err) = serve(&mut stream, &path) {
            eprintln!("chunk_size: {err}");
        }
    }
    Ok(())
}

fn serve(stream: &mut TcpStream, path: &str) -> std::io::Result<()> {
    let mut request = [0u8; 4096];
    let n = stream.read(&mut request)?;
    let line = String::from_utf8_lossy(&request[..n]);
    let target = line.split(' ').nth(1).unwrap_or("/").trim_start_matches('/').to_string();
    let mut file = File::open(path)?;
    let size = file.metadata()?.len();
    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes())?;
    if target == "sendfile" {
        let mut left = size;
        while left > 0 {
            let n = rustix::fs::sendfile(stream.as_fd(), file.as_fd(), None, left as usize)?;
            if n == 0 {
                break;
            }
            left -= n as u64;
        }
    } else {
        let chunk: usize = target.parse().map_err(|_| std::io::Error::other(format!("bad chunk size {target:?}")))?;
        let mut buf = vec![0u8; chunk];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            stream.write_all(&buf[..n])?;
        }
    }
    stream.shutdown(std::net::Shutdown::Both)
}
