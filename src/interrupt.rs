//! Ctrl-C: end the lesson cleanly, closing (and printing the close of) every socket it has open.
//!
//! We install a SIGINT handler without `SA_RESTART`, so a blocking `accept4` or `recvfrom` returns `-1 EINTR` and
//! the transcript shows it, like any other answer from the kernel. The lesson then returns an error, its sockets
//! are dropped on the way out (each `close` printed), and the process exits with 130, the shell's code for a
//! process ended by SIGINT.
//!
//! We keep this small handler of our own rather than the `ctrlc` or `signal-hook` crates: both install their
//! handlers with `SA_RESTART`, so the kernel would quietly restart the blocked `accept4` or `recvfrom` after
//! Ctrl-C instead of returning `EINTR`, and the lesson could not show what a signal does to a blocking call.
//!
//! One race remains, as in any program that checks a flag before a blocking call: a Ctrl-C that lands after the
//! check but before the call enters the kernel sets the flag without interrupting anything. The next Ctrl-C then
//! interrupts the call. Closing that window needs `ppoll`-style calls that the blog's program does not make.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_signal: libc::c_int) {
    // Only an atomic store: it is async-signal-safe.
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Installs the handler. Until then, Ctrl-C kills the process at once (the default).
pub fn install() -> Result<(), crate::Error> {
    // SAFETY: a zeroed `sigaction` is a valid "no flags, empty mask" value; `on_sigint` only touches an atomic,
    // which is async-signal-safe. libc, because rustix offers no safe way to install a handler.
    let rc = unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigint as *const () as libc::sighandler_t;
        action.sa_flags = 0; // no SA_RESTART: let blocking calls return EINTR
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut())
    };
    if rc != 0 {
        return Err(crate::Error::io("install the Ctrl-C handler (sigaction)", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// True once Ctrl-C has been pressed.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// fd 0 read without retrying after Ctrl-C: `--step` waits here for Enter, and std's `Stdin` would go on waiting
/// through a Ctrl-C (it retries a read the signal interrupted).
#[derive(Debug, Default)]
pub struct Stdin;

impl std::io::Read for Stdin {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if interrupted() {
                return Err(std::io::Error::other("interrupted by Ctrl-C"));
            }
            match rustix::io::read(rustix::stdio::stdin(), &mut *buf) {
                Ok(n) => return Ok(n),
                Err(rustix::io::Errno::INTR) => continue,
                Err(errno) => return Err(errno.into()),
            }
        }
    }
}
