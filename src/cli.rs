//! The command line, as clap derive types. [`command`] adds each lesson's summary and example from the one list
//! of lessons, so the help and `hhttpp lessons` never disagree.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::color::ColorChoice;
use crate::http::Url;
use crate::lessons::{DEFAULT_PORT, LESSONS};

const AFTER_HELP: &str = "\
Examples:
  hhttpp lessons                                        list the lessons
  hhttpp lesson serve-binary assets/ice-caps.jpg        then open the printed address in a browser
  hhttpp lesson serve-text --step --client              step through it, no browser needed
  hhttpp explain serve-text                             read the lesson's text
  hhttpp check serve-text --against 127.0.0.1:8000      judge a server you wrote

Exit status: 0 done; 1 a socket call failed (the transcript shows which), or check found a difference;
2 a wrong command line; 3 the file to serve cannot be served; 130 interrupted by Ctrl-C.";

/// hhttpp: watch an HTTP server talk over Berkeley sockets, one real system call at a time.
#[derive(Debug, Parser)]
#[command(name = "hhttpp", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// When to colour the transcript (NO_COLOR is honoured by auto)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one lesson: a step of the blog, every socket call and every byte shown
    #[command(subcommand, after_help = "Example:\n  hhttpp lesson serve-binary assets/ice-caps.jpg")]
    Lesson(LessonCommand),
    /// List the lessons, in order
    #[command(after_help = "Example:\n  hhttpp lessons")]
    Lessons,
    /// Print a lesson's text (it is built into hhttpp, so this works from any folder)
    #[command(after_help = "Example:\n  hhttpp explain serve-binary | less")]
    Explain {
        /// The lesson, as `hhttpp lessons` names it
        #[arg(value_parser = lesson_name)]
        lesson: String,
    },
    /// Run your own program under strace, and see its socket calls the way the lessons show theirs
    #[command(after_help = TRACE_HELP)]
    Trace {
        /// Also line its calls and its response up with this lesson's
        #[arg(long, value_parser = lesson_name, value_name = "LESSON")]
        compare: Option<String>,
        /// The file the lesson serves, for --compare serve-binary
        #[arg(long, default_value = "assets/ice-caps.jpg")]
        file: PathBuf,
        /// Dump every byte of long payloads
        #[arg(long)]
        full_dump: bool,
        /// The program and its arguments, after --
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// Judge your own server: send a lesson's request, and compare the reply with the lesson's, byte for byte
    #[command(after_help = "Examples:\n  \
        python3 my_server.py &   # your server, listening on 127.0.0.1:8338\n  \
        hhttpp check serve-text --against 127.0.0.1:8338\n\n\
        Exit status: 0 the reply matches; 1 it does not (each problem is named, with a hint)")]
    Check {
        /// The lesson your server imitates: bind, accept, echo-request, serve-text or serve-binary
        #[arg(value_parser = lesson_name)]
        lesson: String,
        /// Where your server listens: HOST:PORT
        #[arg(long, value_name = "HOST:PORT")]
        against: String,
        /// The file your serve-binary server sends
        #[arg(long, default_value = "assets/ice-caps.jpg")]
        file: PathBuf,
        /// How long to wait for the reply to end
        #[arg(long, value_name = "SECS", default_value = "3", value_parser = parse_timeout)]
        timeout: Duration,
    },
}

/// The `trace` command (added to [`Command`] below).
const TRACE_HELP: &str = "Examples:
  hhttpp trace -- python3 my_server.py
  hhttpp trace --compare serve-text -- python3 my_server.py

Needs strace (apt-get install strace). Exit status: the program's own; 1 when --compare finds differences.";

/// A lesson's name, checked against the list.
fn lesson_name(text: &str) -> Result<String, String> {
    match crate::lessons::find(text) {
        Some(lesson) => Ok(lesson.name.to_string()),
        None => {
            let names: Vec<_> = LESSONS.iter().map(|l| l.name).collect();
            Err(format!("no lesson {text:?}; the lessons are {}", names.join(", ")))
        }
    }
}

/// The lessons. Their summaries and examples come from [`LESSONS`], added by [`command`].
#[derive(Debug, Subcommand)]
pub enum LessonCommand {
    Bind(ServerOptions),
    Accept(ServerOptions),
    EchoRequest(ServerOptions),
    ServeText {
        /// A UTF-8 text file to serve instead of the blog's <h1>Hello World</h1>
        file: Option<PathBuf>,
        #[command(flatten)]
        server: ServerOptions,
    },
    ServeBinary {
        /// The file to serve, byte for byte
        #[arg(default_value = "assets/ice-caps.jpg")]
        file: PathBuf,
        #[command(flatten)]
        server: ServerOptions,
    },
    ServeFolder {
        /// The folder to serve; nothing outside it is ever read
        #[arg(default_value = "assets/site")]
        dir: PathBuf,
        /// One line per request instead of every call (for load tests)
        #[arg(long)]
        quiet: bool,
        #[command(flatten)]
        server: ServerOptions,
    },
    Fetch {
        /// The page to fetch: http://HOST[:PORT][/PATH]
        #[arg(default_value = "http://127.0.0.1:8338/", value_parser = Url::parse)]
        url: Url,
        /// What to send: a request for URL, the snapshots' canonical request, or nothing (connect and wait)
        #[arg(long, value_enum, default_value_t = RequestKind::Url)]
        request: RequestKind,
        #[command(flatten)]
        common: CommonOptions,
    },
}

/// `fetch --request`: what the client sends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum RequestKind {
    /// `GET PATH HTTP/1.1` with the URL's `Host`
    #[default]
    Url,
    /// The request the snapshots were made with (Host: localhost, one write)
    Canonical,
    /// Nothing: connect, then wait for the server to close
    None,
}

impl LessonCommand {
    /// The lesson's name, as `hhttpp lesson NAME` spells it.
    pub fn name(&self) -> &'static str {
        match self {
            LessonCommand::Bind(_) => "bind",
            LessonCommand::Accept(_) => "accept",
            LessonCommand::EchoRequest(_) => "echo-request",
            LessonCommand::ServeText { .. } => "serve-text",
            LessonCommand::ServeBinary { .. } => "serve-binary",
            LessonCommand::Fetch { .. } => "fetch",
            LessonCommand::ServeFolder { .. } => "serve-folder",
        }
    }

    /// Where a server lesson listens; `None` for the client's lesson.
    pub fn server(&self) -> Option<&ServerOptions> {
        match self {
            LessonCommand::Bind(server) | LessonCommand::Accept(server) | LessonCommand::EchoRequest(server) => {
                Some(server)
            }
            LessonCommand::ServeText { server, .. }
            | LessonCommand::ServeBinary { server, .. }
            | LessonCommand::ServeFolder { server, .. } => Some(server),
            LessonCommand::Fetch { .. } => None,
        }
    }

    /// The options every lesson has.
    pub fn common(&self) -> &CommonOptions {
        match self {
            LessonCommand::Fetch { common, .. } => common,
            _ => self.server().map_or(&DEFAULT_COMMON, |server| &server.common),
        }
    }
}

static DEFAULT_COMMON: CommonOptions = CommonOptions { full_dump: false, timeout: None, step: false };

/// Where a server lesson listens, and whether to start the built-in client.
#[derive(Debug, Args)]
pub struct ServerOptions {
    /// The address to listen on (127.0.0.1: only this machine can connect)
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// The port to listen on (0: let the OS choose a free one)
    #[arg(long, default_value_t = DEFAULT_PORT)]
    pub port: u16,

    /// Also start the built-in client (a separate process) with the snapshots' request: no browser needed
    #[arg(long)]
    pub client: bool,

    #[command(flatten)]
    pub common: CommonOptions,
}

/// Options every lesson has, server or client.
#[derive(Debug, Args, Default)]
pub struct CommonOptions {
    /// Dump every byte of long payloads, and print every sendto of a long sendall
    #[arg(long)]
    pub full_dump: bool,

    /// Give up on a client that sends nothing for SECS seconds (sets SO_RCVTIMEO on each connection)
    #[arg(long, value_name = "SECS", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,

    /// Before each call, say what it will do and wait for Enter (q and Enter stops)
    #[arg(long)]
    pub step: bool,
}

/// `--timeout`: a number of seconds, fractions allowed, from one microsecond (`SO_RCVTIMEO`'s unit) to a day.
fn parse_timeout(text: &str) -> Result<Duration, String> {
    let secs: f64 = text.parse().map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(0.000_001..=86_400.0).contains(&secs) {
        return Err("a timeout is between 0.000001 and 86400 seconds".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// The full command, with each lesson's summary and example taken from [`LESSONS`].
pub fn command() -> clap::Command {
    Cli::command().mut_subcommand("lesson", |mut lesson_cmd| {
        for lesson in &LESSONS {
            lesson_cmd = lesson_cmd.mut_subcommand(lesson.name, |c| {
                c.about(lesson.summary).after_help(format!(
                    "Read: hhttpp explain {} (or {})\n\nExample:\n  {}",
                    lesson.name,
                    lesson.text_path(),
                    lesson.example
                ))
            });
        }
        lesson_cmd
    })
}

/// Parses the process's arguments; on a mistake, prints clap's message and exits with status 2.
pub fn parse() -> Cli {
    let matches = command().get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_is_well_formed() {
        command().debug_assert();
    }

    #[test]
    fn the_cli_has_exactly_the_listed_lessons() {
        let cmd = command();
        let lesson_cmd = cmd.find_subcommand("lesson").unwrap();
        let names: Vec<_> = lesson_cmd.get_subcommands().map(|c| c.get_name().to_string()).collect();
        let listed: Vec<_> = LESSONS.iter().map(|l| l.name.to_string()).collect();
        assert_eq!(names, listed);
        for sub in lesson_cmd.get_subcommands() {
            assert!(sub.get_about().is_some(), "{} has no summary", sub.get_name());
        }
    }

    #[test]
    fn serve_binary_defaults_to_the_picture_on_the_blogs_port() {
        let cli = Cli::from_arg_matches(&command().get_matches_from(["hhttpp", "lesson", "serve-binary"])).unwrap();
        let Command::Lesson(lesson) = cli.command else { panic!("not a lesson") };
        assert_eq!(lesson.name(), "serve-binary");
        let server = lesson.server().expect("a server lesson");
        assert_eq!(server.port, 8338);
        assert_eq!(server.host.to_string(), "127.0.0.1");
        let LessonCommand::ServeBinary { file, .. } = lesson else { panic!("not serve-binary") };
        assert_eq!(file, PathBuf::from("assets/ice-caps.jpg"));
    }

    #[test]
    fn timeouts_are_positive_seconds() {
        assert_eq!(parse_timeout("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_timeout("2"), Ok(Duration::from_secs(2)));
        for bad in ["0", "-1", "NaN", "inf", "1e9", "soon"] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }
}
