//! The transcript's way out: stdout, written so that neither Ctrl-C nor a full disk can hang or kill a lesson.
//!
//! std's `Stdout` retries a write that a signal interrupted (`EINTR`), so a lesson whose stdout is a pipe nobody
//! reads would block in `write` for ever, Ctrl-C or not. [`Stdout`] writes fd 1 itself: after Ctrl-C, a write that
//! cannot go on without blocking is given up, and the rest of the transcript is dropped (said once on stderr), so
//! the lesson reaches its next socket call, sees Ctrl-C, and closes everything.
//!
//! A full disk (`ENOSPC`, `EDQUOT`, `EFBIG`) under the transcript: we say so once on stderr and go on without
//! the transcript. We chose to go on because the finished server, `serve-folder`, has clients that do not care
//! about its log: a web server whose log disk fills keeps serving (nginx does too). The stderr line says where the
//! transcript stopped, so nobody takes what was written for all of it.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once the transcript has stopped being written: the rest of it was dropped.
static LOST: AtomicBool = AtomicBool::new(false);

/// True once part of the transcript was dropped (Ctrl-C with nobody reading, or a full disk).
pub fn transcript_lost() -> bool {
    LOST.load(Ordering::SeqCst)
}

/// fd 1, written without retrying after Ctrl-C; see the module's text.
#[derive(Debug, Default)]
pub struct Stdout {
    /// Why nothing more is written, once something stopped it.
    lost: Option<&'static str>,
}

impl Stdout {
    /// The process's stdout.
    pub fn new() -> Stdout {
        Stdout::default()
    }

    /// Stops writing, and says why on stderr (once).
    fn give_up(&mut self, why: &'static str, buf: &[u8]) -> io::Result<usize> {
        if self.lost.is_none() {
            let _ = writeln!(io::stderr(), "hhttpp: {why}");
        }
        self.lost = Some(why);
        LOST.store(true, Ordering::SeqCst);
        Ok(buf.len())
    }
}

/// True when fd 1 takes bytes now (a `poll` that does not wait).
fn writable_now() -> bool {
    let stdout = rustix::stdio::stdout();
    let mut fds = [rustix::event::PollFd::new(&stdout, rustix::event::PollFlags::OUT)];
    let zero = rustix::event::Timespec { tv_sec: 0, tv_nsec: 0 };
    rustix::event::poll(&mut fds, Some(&zero)).is_ok_and(|n| n > 0)
}

const STUCK: &str = "Ctrl-C while the transcript waited for its reader (nobody reads stdout): the rest of it is \
                     dropped, and the sockets are closed";
const FULL: &str = "cannot write the transcript: no space left on the disk under stdout; the lesson goes on without \
                    it (a server keeps serving its clients), and the transcript ends there";

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.lost.is_some() || buf.is_empty() {
            return Ok(buf.len());
        }
        // After Ctrl-C, never block: the lesson must get on to closing its sockets.
        if crate::interrupt::interrupted() && !writable_now() {
            return self.give_up(STUCK, buf);
        }
        match rustix::io::write(rustix::stdio::stdout(), buf) {
            Ok(n) => Ok(n),
            Err(rustix::io::Errno::INTR) if crate::interrupt::interrupted() => self.give_up(STUCK, buf),
            Err(rustix::io::Errno::NOSPC | rustix::io::Errno::DQUOT | rustix::io::Errno::FBIG) => {
                self.give_up(FULL, buf)
            }
            Err(errno) => Err(errno.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
