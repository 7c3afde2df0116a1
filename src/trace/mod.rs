//! The traced socket and the transcript it prints.
//!
//! - [`socket`]: [`TracedSocket`], the only code that makes socket calls; one method, one call, one printed line.
//! - [`transcript`]: [`Transcript`], which numbers the calls and dumps the bytes.
//! - [`format`]: addresses, errors and bytes written the way strace and people read them.
//! - [`diagram`]: the sequence diagram drawn from what the calls did.
//! - [`style`]: the colour roles.

pub mod diagram;
pub mod format;
pub mod sock_diag;
pub mod socket;
pub mod style;
pub mod tcp;
pub mod transcript;

use std::cell::RefCell;
use std::io::{self, BufRead, Write};
use std::rc::Rc;

pub use diagram::{Event, Side};
pub use socket::{Sendall, TracedSocket};
pub use transcript::{Direction, Stats, Transcript};

use crate::error::Error;

/// A handle on the lesson's one transcript, shared by the lesson and each of its sockets.
///
/// A socket keeps a handle so that even its `Drop` can print the `close` it makes. Everything runs on one thread,
/// so `Rc<RefCell<…>>` is all the sharing we need.
#[derive(Clone)]
pub struct Tracer {
    transcript: Rc<RefCell<Transcript>>,
    stepper: Option<Rc<RefCell<Stepper>>>,
}

/// `--step`: before each call, say what it will do and wait for a line on `input`.
struct Stepper {
    input: Box<dyn BufRead>,
    prompts: Box<dyn Write>,
}

impl Tracer {
    /// A handle on `transcript`.
    pub fn new(transcript: Transcript) -> Self {
        Tracer { transcript: Rc::new(RefCell::new(transcript)), stepper: None }
    }

    /// Pauses before every call: the prompt goes to `prompts` (stderr), so the transcript stays exactly what it is
    /// without `--step`, and one line is read from `input` (stdin): Enter goes on, `q` stops.
    pub fn with_steps(mut self, input: Box<dyn BufRead>, prompts: Box<dyn Write>) -> Self {
        self.stepper = Some(Rc::new(RefCell::new(Stepper { input, prompts })));
        self
    }

    /// Runs `f` with the transcript.
    pub fn with<R>(&self, f: impl FnOnce(&mut Transcript) -> R) -> R {
        f(&mut self.transcript.borrow_mut())
    }

    /// With `--step`, explains the call `name` is about to make and waits for the learner. Without it, nothing.
    ///
    /// Calls inside a summarised run (a long `sendall`) do not stop. The end of input counts as Enter, so a test
    /// can pipe fewer lines than there are calls.
    pub fn step(&self, name: &str) -> Result<(), Error> {
        let Some(stepper) = &self.stepper else { return Ok(()) };
        if self.with(|t| t.is_holding()) {
            return Ok(());
        }
        let mut stepper = stepper.borrow_mut();
        // getaddrinfo is a library function, not a numbered system call.
        let which = match name {
            "getaddrinfo" => "next, a library call".to_string(),
            _ => format!("next, call {}", self.with(|t| t.stats().calls) + 1),
        };
        write!(
            stepper.prompts,
            "     {which}: {name}: {}\n     press Enter to make it, or q and Enter to stop: ",
            socket::explain(name)
        )?;
        stepper.prompts.flush()?;
        let mut answer = String::new();
        stepper.input.read_line(&mut answer)?;
        if answer.trim().eq_ignore_ascii_case("q") {
            return Err(Error::Quit);
        }
        Ok(())
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

    /// See [`Transcript::call_in_state`].
    pub fn call_in_state(
        &self,
        name: &str,
        args: &str,
        result: Result<String, &io::Error>,
        state: Option<&str>,
    ) -> io::Result<()> {
        self.with(|t| t.call_in_state(name, args, result, state))
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

    /// See [`Transcript::event`].
    pub fn event(&self, event: Event) {
        self.with(|t| t.event(event))
    }

    fn count_connection(&self) {
        self.with(|t| t.count_connection())
    }
}
