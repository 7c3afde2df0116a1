//! The traced socket and the transcript it prints.
//!
//! - [`socket`]: [`TracedSocket`], the only code that makes socket calls; one method, one call, one printed line.
//! - [`transcript`]: [`Transcript`], which numbers the calls and dumps the bytes.
//! - [`format`]: addresses, errors and bytes written the way strace and people read them.
//! - [`style`]: the colour roles.

pub mod format;
pub mod socket;
pub mod style;
pub mod transcript;

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

pub use socket::{Sendall, TracedSocket};
pub use transcript::{Direction, Stats, Transcript};

/// A handle on the lesson's one transcript, shared by the lesson and each of its sockets.
///
/// A socket keeps a handle so that even its `Drop` can print the `close` it makes. Everything runs on one thread,
/// so `Rc<RefCell<…>>` is all the sharing we need.
#[derive(Clone)]
pub struct Tracer(Rc<RefCell<Transcript>>);

impl Tracer {
    /// A handle on `transcript`.
    pub fn new(transcript: Transcript) -> Self {
        Tracer(Rc::new(RefCell::new(transcript)))
    }

    /// Runs `f` with the transcript.
    pub fn with<R>(&self, f: impl FnOnce(&mut Transcript) -> R) -> R {
        f(&mut self.0.borrow_mut())
    }

    /// See [`Transcript::heading`].
    pub fn heading(&self, text: &str) -> io::Result<()> {
        self.with(|t| t.heading(text))
    }

    /// See [`Transcript::python`].
    pub fn python(&self, line: &str) -> io::Result<()> {
        self.with(|t| t.python(line))
    }

    /// See [`Transcript::call`].
    pub fn call(&self, name: &str, args: &str, result: Result<String, &io::Error>) -> io::Result<()> {
        self.with(|t| t.call(name, args, result))
    }

    /// See [`Transcript::note`].
    pub fn note(&self, text: &str) -> io::Result<()> {
        self.with(|t| t.note(text))
    }

    /// See [`Transcript::listening`].
    pub fn listening(&self, url: &str, hint: &str) -> io::Result<()> {
        self.with(|t| t.listening(url, hint))
    }

    /// See [`Transcript::data`].
    pub fn data(&self, direction: Direction, bytes: &[u8]) -> io::Result<()> {
        self.with(|t| t.data(direction, bytes))
    }

    fn count_connection(&self) {
        self.with(|t| t.count_connection())
    }
}
