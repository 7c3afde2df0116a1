//! The files a run writes besides its transcript (`--html`, `--pcap`).

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Creates (or empties) the file at `path` for writing, as descriptor `at_least` or higher, close-on-exec: out of
/// the way of the lesson's sockets (which keep 3 and 4) and of a traced program (which does not inherit it).
///
/// A FIFO that nobody reads yet fails at once, with words that say so, instead of holding the run before its first
/// call: the file is opened non-blocking, then set blocking for the writes.
pub fn create(path: &Path, at_least: i32) -> io::Result<File> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|err| match err.raw_os_error() {
            Some(libc::ENXIO) => io::Error::other("it is a FIFO that no program reads yet (start its reader first)"),
            _ => err,
        })?;
    let moved = File::from(rustix::io::fcntl_dupfd_cloexec(file.as_fd(), at_least)?);
    let flags = rustix::fs::fcntl_getfl(&moved)?;
    rustix::fs::fcntl_setfl(&moved, flags - rustix::fs::OFlags::NONBLOCK)?;
    Ok(moved)
}
