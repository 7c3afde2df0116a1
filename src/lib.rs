//! hhttpp: a workbook that shows an HTTP server talking over Berkeley sockets, one real system call at a time.
//!
//! It follows the blog series "HHTTPP: writing your own HTTP server", part 4, "implementing the networking
//! portion". Each lesson makes the blog's socket calls for real, prints every one of them with the kernel's answer,
//! and hex-dumps every byte that crosses the socket.
//!
//! # Layout
//!
//! - [`cli`]: the command line (clap); `main.rs` only parses it, calls [`run`] and turns errors into exit statuses.
//! - [`lessons`]: one file per lesson, in the blog's order, and the one list ([`lessons::LESSONS`]) that names them.
//! - [`trace`]: the traced socket, the only code that makes socket calls, and the transcript it prints.
//! - [`http`]: the little HTTP the lessons need: gather and judge a request head, build a response head.
//! - [`check`]: `hhttpp check`, the judge of a server the learner wrote.
//! - [`judge`]: the verdicts on a reply's bytes (framing, meaning, bytes), pure, for `check` to print.
//! - [`program`] and [`strace`]: `hhttpp trace`, the learner's own program's socket calls, read from strace.
//! - [`client`]: `--client`, the built-in client started next to a server lesson.
//! - [`color`]: the one place that decides whether to colour.
//! - [`interrupt`]: Ctrl-C, turned into an `EINTR` the transcript shows and a clean exit.
//! - [`error`]: what can go wrong, worded so a learner can act on it, and the exit statuses.
//!
//! The lesson texts live in `lessons/*.md`, the pinned transcripts in `snapshots/*.snap`, and the tests that make
//! them in `tests/`.

pub mod check;
pub mod cli;
pub mod client;
pub mod color;
pub mod error;
pub mod http;
pub mod interrupt;
pub mod judge;
pub mod lessons;
pub mod program;
pub mod strace;
pub mod trace;

use std::io::{self, Write};
use std::net::SocketAddr;

use cli::RequestKind;
use cli::{Cli, Command, LessonCommand};
pub use error::Error;
use lessons::{LESSONS, Options, accept, bind, echo_request, fetch, serve_binary, serve_folder, serve_text};
use trace::{Tracer, Transcript};

/// Runs the command `cli` describes, printing to stdout; returns the exit status to end with.
pub fn run(cli: Cli) -> Result<u8, Error> {
    // Decided once, before any lesson makes a call.
    let color = color::decide(cli.color);
    match cli.command {
        Command::Lessons => list_lessons(&mut io::stdout().lock()).map(|()| 0),
        Command::Explain { lesson } => explain(&lesson, &mut io::stdout().lock(), color).map(|()| 0),
        Command::Check { lesson, against, file, timeout } => {
            if check::run(&lesson, &against, &file, timeout, color)? {
                Ok(0)
            } else {
                Err(Error::CheckFailed)
            }
        }
        Command::Trace { compare, file, full_dump, command } => {
            let options =
                program::Options { command: &command, compare: compare.as_deref(), file: &file, full_dump, color };
            // The program's own status (0 to 255), or 1 when --compare found differences.
            Ok(u8::try_from(program::run(&options)?).unwrap_or(1))
        }
        Command::Lesson(lesson) => run_lesson(&lesson, Box::new(io::stdout()), color).map(|()| 0),
    }
}

/// `hhttpp lessons`: one line per lesson, in order.
pub fn list_lessons(out: &mut dyn Write) -> Result<(), Error> {
    writeln!(out, "The lessons, in the blog's order. Run one with: hhttpp lesson NAME\n")?;
    let width = LESSONS.iter().map(|l| l.name.len()).max().unwrap_or(0);
    for lesson in &LESSONS {
        writeln!(out, "{:>3}  {:width$}  {}", lesson.number(), lesson.name, lesson.summary)?;
    }
    writeln!(out, "\nEach lesson's text is in lessons/, and its reference transcript in snapshots/.")?;
    Ok(())
}

/// `hhttpp explain NAME`: the lesson's text, with headings in bold on a terminal.
pub fn explain(name: &str, out: &mut dyn Write, color: bool) -> Result<(), Error> {
    let lesson = lessons::find(name).ok_or_else(|| Error::Usage(format!("no lesson {name:?}")))?;
    let style = trace::style::Style::new(color);
    let mut in_code = false;
    for line in lesson.text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        }
        let role = if line.starts_with('#') {
            trace::style::Role::Heading
        } else if in_code || line.starts_with("```") {
            trace::style::Role::Python
        } else {
            writeln!(out, "{line}")?;
            continue;
        };
        writeln!(out, "{}", style.paint(role, line))?;
    }
    Ok(())
}

/// Runs one lesson, writing its transcript to `out`, then the summary and what comes next.
pub fn run_lesson(command: &LessonCommand, out: Box<dyn Write>, color: bool) -> Result<(), Error> {
    let common = command.common();
    let options = lesson_options(command);
    interrupt::install();
    let quiet = matches!(command, LessonCommand::ServeFolder { quiet: true, .. });
    let mut tracer = Tracer::new(Transcript::new(out, color, common.full_dump).quiet(quiet));
    if common.step {
        tracer = tracer.with_steps(Box::new(io::stdin().lock()), Box::new(io::stderr()));
    }
    // The CLI and LESSONS name the same lessons; a unit test in `cli` keeps them in step.
    let lesson = lessons::find(command.name()).unwrap_or(&LESSONS[0]);
    tracer.heading(&format!(
        "hhttpp lesson {} of {}, {}: {}\nthe blog's step: {}",
        lesson.number(),
        LESSONS.len(),
        lesson.name,
        lesson.summary,
        lesson.blog_step
    ))?;

    let result = match command {
        LessonCommand::Bind(_) => bind::run(&tracer, &options),
        LessonCommand::Accept(_) => accept::run(&tracer, &options),
        LessonCommand::EchoRequest(_) => echo_request::run(&tracer, &options),
        LessonCommand::ServeText { file, .. } => serve_text::run(&tracer, &options, file.as_deref()),
        LessonCommand::ServeBinary { file, .. } => serve_binary::run(&tracer, &options, file),
        LessonCommand::Fetch { url, request, common } => fetch::run(&tracer, url, *request, common.timeout),
        LessonCommand::ServeFolder { dir, .. } => serve_folder::run(&tracer, &options, dir),
    };
    client::wait();

    // A lesson stopped by Ctrl-C still gets its picture and summary: its sockets are closed, its transcript whole.
    let extra = match &result {
        Ok(extra) => extra.clone(),
        Err(Error::Interrupted) => vec!["stopped by Ctrl-C".to_string()],
        Err(_) => return result.map(drop),
    };
    tracer.with(|t| {
        t.aftermath()?;
        t.diagram()?;
        t.summary(&extra)?;
        t.line(&format!("read about it: {}", lesson.text_path()))?;
        match lesson.next() {
            Some(next) => t.line(&format!("next: hhttpp lesson {}  ({})", next.name, next.summary))?,
            None => t.line("that was the last lesson: the series' finished server, done right")?,
        }
        t.flush()
    })?;
    result.map(drop)
}

/// Where a lesson listens, and how, from its command line.
fn lesson_options(command: &LessonCommand) -> Options {
    let common = command.common();
    let Some(server) = command.server() else {
        let addr = SocketAddr::from(([127, 0, 0, 1], lessons::DEFAULT_PORT));
        return Options { addr, timeout: common.timeout, client: None, backlog: lessons::BACKLOG };
    };
    let client = match command {
        _ if !server.client => None,
        LessonCommand::Bind(_) => {
            let _ = writeln!(io::stderr(), "     (--client: the bind lesson accepts no one, so it starts no client)");
            None
        }
        // The accept lesson's client only connects: closing a connection with unread bytes would reset it.
        LessonCommand::Accept(_) => Some(RequestKind::None),
        _ => Some(RequestKind::Canonical),
    };
    let backlog = match command {
        LessonCommand::ServeFolder { .. } => serve_folder::BACKLOG,
        _ => lessons::BACKLOG,
    };
    let timeout = match command {
        LessonCommand::ServeFolder { .. } => common.timeout.or(Some(serve_folder::DEFAULT_TIMEOUT)),
        _ => common.timeout,
    };
    Options { addr: SocketAddr::new(server.host, server.port), timeout, client, backlog }
}
