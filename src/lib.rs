//! hhttpp: a workbook that shows an HTTP server talking over Berkeley sockets, one real system call at a time.
//!
//! It follows the blog series "HHTTPP: writing your own HTTP server", part 4, "implementing the networking
//! portion". Each lesson makes the blog's socket calls for real, prints every one of them with the kernel's answer,
//! and hex-dumps every byte that crosses the socket.
//!
//! # Layout
//!
//! - [`cli`]: the command line (clap); `main.rs` only parses it, calls [`run`] and turns errors into exit statuses.
//!   The lessons' subcommands are made from the list of lessons, and clap hands back the lesson itself.
//! - [`lesson`]: what a lesson is ([`lesson::Lesson`], one typed value) and what every lesson shares: its options,
//!   the blog's constants, the canonical request.
//! - [`lessons`]: one file per lesson, in the blog's order, each defining its `LESSON`, and the one list
//!   ([`lessons::LESSONS`]) of them. Adding a lesson is a new file there and one entry in the list.
//! - [`trace`]: the traced socket ([`trace::TracedSocket`]), the only code that makes the lessons' socket calls;
//!   the printer ([`trace::Transcript`]), which only prints; the record of what the calls did
//!   ([`trace::Record`]); the kernel's TCP table ([`trace::tcp`]); and the wire, `--packets`
//!   ([`trace::packets`]).
//! - [`blog`]: the blog's own Python (`lessons/blog-code.md`), to tell a `>>>` line of the blog's from one of ours.
//! - [`http`]: the little HTTP the lessons need: gather and judge a request head, build a response head, the one
//!   `Content-Type` policy.
//! - [`check`]: `hhttpp check`, the judge of a server the learner wrote. Its client is the one other piece of code
//!   that talks to the network, through std's `TcpStream`, untraced: it is a grader, not a lesson, and prints no
//!   calls of its own.
//! - [`judge`]: the verdicts on a reply's bytes (framing, meaning, bytes), pure, for `check` to print.
//! - [`program`] and [`strace`]: `hhttpp trace`, the learner's own program's socket calls. `strace` is the one
//!   reader of strace's text; `program` keeps the traced program's state and the notes drawn from it.
//! - [`client`]: `--client`, the built-in client (the fetch lesson, in a process of its own).
//! - [`escape`]: bytes shown to people, and back: every byte from a peer, a file or a program goes through it.
//! - [`errno`]: the kernel's error numbers: their names, and what they mean for a learner.
//! - [`color`]: the one place that decides whether to colour.
//! - [`interrupt`]: Ctrl-C, turned into an `EINTR` the transcript shows and a clean exit.
//! - [`stdout`]: the transcript's way out, which neither Ctrl-C nor a full disk can hang.
//! - [`error`]: what can go wrong, worded so a learner can act on it, and the exit statuses.
//! - [`assets`]: the picture and the example site, built into the binary and served when no file or folder is named.
//!
//! The lesson texts live in `lessons/*.md`, the pinned transcripts in `snapshots/*.snap`, and the tests that make
//! them in `tests/`.

pub mod assets;
pub mod blog;
pub mod check;
pub mod cli;
pub mod client;
pub mod color;
pub mod errno;
pub mod error;
pub mod escape;
pub mod http;
pub mod interrupt;
pub mod judge;
pub mod lesson;
pub mod lessons;
pub mod program;
pub mod stdout;
pub mod strace;
pub mod trace;

use std::io::{self, Write};
use std::net::SocketAddr;

use cli::{Command, LessonChoice};
pub use error::Error;
use lesson::{ClientRole, DEFAULT_PORT, Lesson, Options};
use lessons::LESSONS;
use trace::style::{Role, Style};
use trace::{Tracer, Transcript};

/// Runs the command `cli` describes, printing to stdout; returns the exit status to end with.
pub fn run(cli: cli::Cli) -> Result<u8, Error> {
    // Decided once, before any lesson makes a call.
    let color = color::decide(cli.color);
    match cli.command {
        Command::Lessons => list_lessons(&mut io::stdout().lock()).map(|()| 0),
        Command::Explain { lesson: None } => list_lessons(&mut io::stdout().lock()).map(|()| 0),
        Command::Explain { lesson: Some(lesson) } => explain(lesson, &mut io::stdout().lock(), color).map(|()| 0),
        Command::Check { lesson, against, path, file, timeout, exact } => {
            let path = path.or(file);
            let options = check::Options { lesson, against: &against, path: path.as_deref(), timeout, exact, color };
            if check::run(&options)? { Ok(0) } else { Err(Error::CheckFailed) }
        }
        Command::Trace { compare, file, full_dump, packets, pcap, html, command } => {
            let (file, pcap, html) = (file.as_deref(), pcap.as_deref(), html.as_deref());
            let options = program::Options { command: &command, compare, file, full_dump, color, packets, pcap, html };
            // The program's own status (0 to 255), or 1 when --compare found differences.
            Ok(u8::try_from(program::run(&options)?).unwrap_or(1))
        }
        Command::Lesson(choice) => {
            let out = io::LineWriter::new(stdout::Stdout::new());
            run_lesson(&choice, Box::new(out), color).map(|()| 0)
        }
    }
}

/// `hhttpp lessons`: one line per lesson, in order.
pub fn list_lessons(out: &mut dyn Write) -> Result<(), Error> {
    let mut text = String::from("The lessons, in the blog's order. Run one with: hhttpp lesson NAME\n\n");
    let width = LESSONS.iter().map(|l| l.name.len()).max().unwrap_or(0);
    for (i, lesson) in LESSONS.iter().enumerate() {
        text.push_str(&format!("{:>3}  {:width$}  {}\n", i + 1, lesson.name, lesson.summary));
    }
    text.push_str(
        "\nRead a lesson's text with: hhttpp explain NAME (reference transcripts: the repository's snapshots/)\n",
    );
    out.write_all(text.as_bytes()).map_err(Error::Output)
}

/// `hhttpp explain NAME`: the lesson's text, with headings in bold on a terminal.
pub fn explain(lesson: &Lesson, out: &mut dyn Write, color: bool) -> Result<(), Error> {
    let style = Style::new(color);
    let mut in_code = false;
    let mut text = String::new();
    for line in lesson.text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        }
        if line.starts_with('#') {
            text.push_str(&style.paint(Role::Heading, line));
        } else if in_code || line.starts_with("```") {
            text.push_str(&style.paint(Role::Python, line));
        } else {
            text.push_str(line);
        }
        text.push('\n');
    }
    out.write_all(text.as_bytes()).map_err(Error::Output)
}

/// Runs one lesson, writing its transcript to `out`, then the summary and what comes next.
pub fn run_lesson(choice: &LessonChoice, out: Box<dyn Write>, color: bool) -> Result<(), Error> {
    let lesson = choice.lesson;
    let args = (lesson.parse)(&choice.matches).map_err(|err| Error::Usage(err.to_string()))?;
    let common = args.common();
    let client = built_in_client(lesson, args.server().is_some_and(|s| s.client));
    let options = options(lesson, args.as_ref(), client.as_ref());
    interrupt::install()?;
    let mut tracer = Tracer::new(Transcript::new(out, color, common.full_dump).quiet(args.quiet()));
    if common.step {
        // Our own reader of fd 0: a Ctrl-C at a prompt ends the lesson, as it does anywhere else.
        let input = io::BufReader::new(interrupt::Stdin);
        tracer = tracer.with_steps(Box::new(input), Box::new(io::stderr()));
    }
    let number = lessons::number(lesson);
    let title = format!(
        "hhttpp lesson {number} of {}, {}: {}\nthe blog's step: {}",
        LESSONS.len(),
        lesson.name,
        lesson.summary,
        lesson.blog_step
    );
    if let Some(path) = &common.html {
        let page = trace::html::Page::create(path, &title, lesson.text, lesson.server.is_some())
            .map_err(|err| Error::io(format!("create the --html page {:?}", path.display().to_string()), err))?;
        tracer = tracer.with_page(page);
    }
    // Made before the heading and the lesson's first call, so that it sees the first segment.
    let capture = capture(lesson, common)?;
    let (capture, note) = capture;
    let captured = capture.is_ok();
    if let Ok(capture) = capture {
        tracer = tracer.with_capture(capture);
    }
    tracer.heading(&title)?;
    match note {
        // What --packets needs is said even with --quiet: the run shows no segments.
        Some(note) if !captured && args.quiet() => tracer.line(&note)?,
        Some(note) => tracer.note(&note)?,
        None => {}
    }

    let result = args.run(&tracer, &options);
    if let Some(client) = &client {
        client.wait();
    }

    // A lesson stopped by Ctrl-C still gets its picture and summary: its sockets are closed, its transcript whole.
    let extra = match &result {
        Ok(extra) => extra.clone(),
        Err(Error::Interrupted) => vec!["stopped by Ctrl-C".to_string()],
        Err(err) => {
            tracer.page_after_failure(&err.to_string())?;
            return result.map(drop);
        }
    };
    tracer.finish(&extra)?;
    // The text is built in: `hhttpp explain` prints it from any folder, where lessons/*.md may not be.
    tracer.line(&format!("read about it: hhttpp explain {}", lesson.name))?;
    // After Ctrl-C the learner stopped this lesson; pointing on to the next would be a step they did not take.
    match lessons::next(lesson) {
        Some(_) if matches!(result, Err(Error::Interrupted)) => {}
        Some(next) => {
            let text = format!("next: hhttpp lesson {}  ({})", next.name, next.summary);
            if text.chars().count() <= trace::format::PROSE_WIDTH {
                tracer.line(&text)?;
            } else {
                tracer.line(&format!("next: hhttpp lesson {}", next.name))?;
                tracer.line(&format!("      ({})", next.summary))?;
            }
        }
        None => tracer.line("that was the last lesson: the series' finished server, done right")?,
    }
    tracer.flush()?;
    result.map(drop)
}

/// `--packets` (or `--pcap`): the capture on `lo`, or why there is none, and the note that says so.
fn capture(
    lesson: &Lesson,
    common: &lesson::CommonArgs,
) -> Result<(Result<trace::packets::Capture, ()>, Option<String>), Error> {
    if !common.packets && common.pcap.is_none() {
        return Ok((Err(()), None));
    }
    let title = format!("hhttpp lesson {}, captured on lo", lesson.name);
    let Some(capture) = trace::packets::Capture::for_run(common.pcap.as_deref(), &title)? else {
        let note = format!("{}; this run shows no segments", trace::packets::NEEDS);
        return Ok((Err(()), Some(note)));
    };
    let note = format!(
        "--packets: the lines marked wire: are TCP segments on lo, caught by hhttpp's own capture socket, not the \
         lesson's: socket(AF_PACKET, SOCK_RAW|SOCK_CLOEXEC|SOCK_NONBLOCK, htons(ETH_P_ALL)) moved to fd {}, bound \
         to lo, read with recvmsg (strace shows those calls; the numbers here count only the lesson's). Segments \
         print in the order they crossed lo: above a >>> line, before that call began; under a call's line, while \
         it ran or after; for accept4 and recvfrom, which wait for the other side, what came before they returned \
         is between their >>> line and their own. seq and ack count from each side's first sequence number.",
        capture.fd()
    );
    Ok((Ok(capture), Some(note)))
}

/// The built-in client for `--client`, when the lesson has one to start.
fn built_in_client(lesson: &Lesson, asked: bool) -> Option<client::Client> {
    let role = lesson.server.map(|s| s.client)?;
    let request = match role {
        _ if !asked => return None,
        ClientRole::None => {
            let _ = writeln!(
                io::stderr(),
                "     (--client: the {} lesson accepts no one, so it starts no client)",
                lesson.name
            );
            return None;
        }
        ClientRole::Connects => client::RequestKind::None,
        ClientRole::Requests => client::RequestKind::Canonical,
    };
    Some(client::Client::new(lessons::fetch::LESSON.name, request))
}

/// Where a lesson listens, and how, from the lesson's definition and its command line.
fn options<'a>(lesson: &Lesson, args: &dyn lesson::Run, client: Option<&'a client::Client>) -> Options<'a> {
    let common = args.common();
    match (lesson.server, args.server()) {
        (Some(server), Some(listen)) => Options {
            addr: SocketAddr::new(listen.host, listen.port),
            timeout: common.timeout.or(server.default_timeout),
            send_timeout: listen.send_timeout.or(server.default_send_timeout),
            backlog: server.backlog,
            client,
        },
        // The client's lesson listens nowhere.
        _ => Options {
            addr: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            timeout: common.timeout,
            send_timeout: None,
            backlog: lesson::BACKLOG,
            client: None,
        },
    }
}
