//! What can go wrong, said the way a learner can act on it.
//!
//! Messages follow ripgrep's habits: lowercase, no final period, the input quoted, and what to try in parentheses.
//! `main` prints them after `hhttpp: ` and exits with [`Error::exit_code`].

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Exit status when a socket call failed (the transcript shows which, and what the kernel said).
pub const EXIT_SOCKET: u8 = 1;
/// Exit status when the command line was wrong (clap's own choice, kept for our checks too).
pub const EXIT_USAGE: u8 = 2;
/// Exit status when the file a lesson was asked to serve cannot be served.
pub const EXIT_INPUT: u8 = 3;
/// Exit status when a program hhttpp needs (strace, for `hhttpp trace`) is not installed.
pub const EXIT_MISSING_TOOL: u8 = 4;
/// Exit status after Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// The exit statuses, in words, for `--help`: the one place they are listed.
pub fn exit_statuses() -> String {
    format!(
        "Exit status: 0 done; {EXIT_SOCKET} a socket call failed (the transcript shows which), or check found a \
         difference; {EXIT_USAGE} a wrong command line; {EXIT_INPUT} the file to serve cannot be served; \
         {EXIT_MISSING_TOOL} a program hhttpp needs is not installed; {EXIT_INTERRUPTED} interrupted by Ctrl-C."
    )
}

/// Every way a lesson can fail.
#[derive(Debug)]
pub enum Error {
    /// A socket call returned -1. The transcript has already printed the call with its errno.
    Call {
        /// The system call's name, as printed: `bind`.
        call: &'static str,
        /// What we were doing, for the message: `bind 127.0.0.1:8338`.
        what: String,
        source: io::Error,
    },
    /// The transcript could not be written (stdout closed, for example by `| head`).
    Output(io::Error),
    /// Something else hhttpp was doing failed: `doing` says what (`create the strace pipe in /tmp/…`).
    Io { doing: String, source: io::Error },
    /// A program hhttpp needs is not installed.
    MissingTool { tool: &'static str, why: &'static str, install: &'static str },
    /// The file named on the command line cannot be opened or read.
    File { path: PathBuf, source: io::Error },
    /// The folder `serve-folder` was given cannot be served.
    Folder { path: PathBuf, problem: String },
    /// The file named on the command line is a directory.
    Directory { path: PathBuf },
    /// The file named on the command line is a FIFO, a device or a socket: `what` says which.
    NotRegular { path: PathBuf, what: &'static str },
    /// The text file is larger than a lesson reads.
    TooLarge { path: PathBuf, size: u64, limit: u64 },
    /// `serve-text` was given a file that is not UTF-8 text.
    NotUtf8 { path: PathBuf, offset: usize, byte: u8 },
    /// The client read nothing of our reply for `waited` (our `SO_SNDTIMEO`): we give up on it.
    Stalled { peer: String, waited: std::time::Duration },
    /// The file got shorter while we sent it: `sent` of the `size` bytes the header promised went out.
    Shrank { path: PathBuf, sent: u64, size: u64 },
    /// Ctrl-C was pressed; the sockets were closed on the way out.
    Interrupted,
    /// `hhttpp check` found problems; it has printed them.
    CheckFailed,
    /// The command line asked for something that cannot be done (clap checks the rest).
    Usage(String),
    /// `getaddrinfo` found no address for the host.
    Resolve { host: String, message: String },
    /// The learner answered `q` at a `--step` prompt; the sockets were closed on the way out.
    Quit,
}

impl Error {
    /// Doing `doing` failed with `source`.
    pub fn io(doing: impl Into<String>, source: io::Error) -> Self {
        Error::Io { doing: doing.into(), source }
    }

    /// A failed socket call.
    pub fn call(call: &'static str, what: String, source: io::Error) -> Self {
        Error::Call { call, what, source }
    }

    /// The kernel's error number, when a socket call failed.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Call { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    /// True when the peer is gone: it hung up (`EPIPE`), broke the connection off (`ECONNRESET`), or the
    /// connection is already down (`ENOTCONN`, from a `shutdown` after a reset).
    pub fn is_peer_gone(&self) -> bool {
        matches!(self.errno(), Some(libc::EPIPE | libc::ECONNRESET | libc::ENOTCONN))
    }

    /// True when the learner asked to stop (`q` at a `--step` prompt): not a failure.
    pub fn is_quit(&self) -> bool {
        matches!(self, Error::Quit)
    }

    /// True when the transcript's reader went away (`hhttpp … | head`): we then stop quietly, with status 0.
    pub fn is_broken_stdout(&self) -> bool {
        matches!(self, Error::Output(err) if err.kind() == io::ErrorKind::BrokenPipe)
    }

    /// The process's exit status for this error; see the `EXIT_*` constants.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Call { .. } | Error::Output(_) | Error::Io { .. } | Error::Resolve { .. } => EXIT_SOCKET,
            Error::MissingTool { .. } => EXIT_MISSING_TOOL,
            Error::File { .. }
            | Error::Directory { .. }
            | Error::NotRegular { .. }
            | Error::TooLarge { .. }
            | Error::NotUtf8 { .. }
            | Error::Shrank { .. }
            | Error::Folder { .. } => EXIT_INPUT,
            Error::Stalled { .. } => EXIT_SOCKET,
            Error::Interrupted => EXIT_INTERRUPTED,
            Error::Usage(_) => EXIT_USAGE,
            Error::CheckFailed => EXIT_SOCKET,
            Error::Quit => 0,
        }
    }

    /// What to try, for the errors a learner meets most.
    fn hint(&self) -> Option<&'static str> {
        let Error::Call { call, source, .. } = self else {
            return None;
        };
        crate::errno::advice(call, source.raw_os_error()?)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Call { what, source, .. } => {
                write!(f, "cannot {what}: {}", reason(source))?;
                if let Some(hint) = self.hint() {
                    write!(f, " ({hint})")?;
                }
                Ok(())
            }
            Error::Output(err) => write!(f, "cannot write the transcript: {}", reason(err)),
            Error::Io { doing, source } => write!(f, "cannot {doing}: {}", reason(source)),
            Error::MissingTool { why, install, .. } => write!(f, "{why}, which is not installed ({install})"),
            Error::File { path, source } => {
                write!(f, "cannot read {:?}: {}", path.display().to_string(), reason(source))?;
                match source.kind() {
                    io::ErrorKind::NotFound => {
                        write!(f, " (check the path; name no file and the lesson serves its built-in one)")
                    }
                    io::ErrorKind::PermissionDenied => {
                        write!(f, " (it is there, but this user may not read it: see its permissions, ls -l)")
                    }
                    _ => Ok(()),
                }
            }
            Error::Folder { path, problem } => write!(
                f,
                "cannot serve the folder {:?}: {problem} (name a folder, or none for the built-in example site)",
                path.display().to_string()
            ),
            Error::NotRegular { path, what } => write!(
                f,
                "cannot serve {:?}: it is {what}, not a regular file (the lessons serve files: name one)",
                path.display().to_string()
            ),
            Error::TooLarge { path, size, limit } => write!(
                f,
                "cannot serve {:?} as text: it has {} bytes, and serve-text reads at most {} (for a big file use: \
                 hhttpp lesson serve-binary {})",
                path.display().to_string(),
                crate::trace::format::count(*size),
                crate::trace::format::count(*limit),
                path.display()
            ),
            Error::Directory { path } => write!(
                f,
                "cannot serve {:?}: it is a directory (name one file in it, or serve the whole folder with: hhttpp \
                 lesson serve-folder {})",
                path.display().to_string(),
                path.display()
            ),
            Error::NotUtf8 { path, offset, byte } => write!(
                f,
                "cannot serve {:?} as text: byte {offset} (0x{byte:02X}) is not UTF-8 \
                 (for pictures and other binary files use: hhttpp lesson serve-binary {})",
                path.display().to_string(),
                path.display()
            ),
            Error::Stalled { peer, waited } => write!(
                f,
                "gave up on {peer}: it read nothing for {} s (the --send-timeout, SO_SNDTIMEO)",
                crate::lesson::seconds(*waited)
            ),
            Error::Shrank { path, sent, size } => write!(
                f,
                "cut short at {} of {} bytes: {} shrank while we sent it",
                crate::trace::format::count(*sent),
                crate::trace::format::count(*size),
                crate::escape::quoted(path.as_os_str().as_encoded_bytes())
            ),
            Error::Interrupted if crate::stdout::transcript_lost() => {
                write!(f, "interrupted by Ctrl-C (the sockets were closed; the transcript stopped where stderr says)")
            }
            Error::Interrupted => write!(f, "interrupted by Ctrl-C (the transcript shows the sockets closed)"),
            Error::Usage(message) => write!(f, "{message}"),
            Error::CheckFailed => write!(f, "the server does not answer as the lesson does (see the problems above)"),
            Error::Resolve { host, message } => {
                write!(f, "cannot find the address of {host:?}: {message} (check the name, or use an IP address)")
            }
            Error::Quit => write!(f, "stopped at your request (the transcript shows the sockets closed)"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Call { source, .. }
            | Error::Output(source)
            | Error::Io { source, .. }
            | Error::File { source, .. } => Some(source),
            Error::Directory { .. }
            | Error::NotRegular { .. }
            | Error::TooLarge { .. }
            | Error::MissingTool { .. }
            | Error::Folder { .. }
            | Error::NotUtf8 { .. }
            | Error::Interrupted
            | Error::Stalled { .. }
            | Error::Shrank { .. }
            | Error::Quit
            | Error::Usage(_)
            | Error::CheckFailed
            | Error::Resolve { .. } => None,
        }
    }
}

/// The C library's wording for an OS error, lowercased, without std's " (os error N)".
pub fn reason(err: &io::Error) -> String {
    crate::errno::reason(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_in_use_says_what_to_try() {
        let err = Error::call("bind", "bind 127.0.0.1:8338".into(), io::Error::from_raw_os_error(libc::EADDRINUSE));
        assert_eq!(
            err.to_string(),
            "cannot bind 127.0.0.1:8338: address already in use (another program has the port; try --port 0)"
        );
        assert_eq!(err.exit_code(), EXIT_SOCKET);
    }

    #[test]
    fn a_file_that_is_not_text_points_to_serve_binary() {
        let err = Error::NotUtf8 { path: "assets/ice-caps.jpg".into(), offset: 0, byte: 0xFF };
        assert_eq!(
            err.to_string(),
            "cannot serve \"assets/ice-caps.jpg\" as text: byte 0 (0xFF) is not UTF-8 \
             (for pictures and other binary files use: hhttpp lesson serve-binary assets/ice-caps.jpg)"
        );
        assert_eq!(err.exit_code(), EXIT_INPUT);
    }

    #[test]
    fn a_closed_stdout_is_quiet() {
        assert!(Error::Output(io::Error::from(io::ErrorKind::BrokenPipe)).is_broken_stdout());
        assert!(!Error::Output(io::Error::from(io::ErrorKind::Other)).is_broken_stdout());
    }
}
