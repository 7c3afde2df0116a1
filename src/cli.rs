//! The command line, as clap derive types. The lessons' own subcommands are built from the one list of lessons,
//! [`LESSONS`]: each lesson brings its arguments, summary and example, so the help and `hhttpp lessons` never
//! disagree, and clap hands back the lesson itself, not its name.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::color::ColorChoice;
use crate::lesson::Lesson;
use crate::lessons::{self, LESSONS};

const EXAMPLES: &str = "\
Examples:
  hhttpp lessons                                        list the lessons
  hhttpp lesson serve-binary                            serve the built-in picture, then open the printed address
  hhttpp lesson serve-text --step --client              step through it, no browser needed
  hhttpp explain serve-text                             read the lesson's text
  hhttpp check serve-text --against 127.0.0.1:8000      judge a server you wrote";

/// hhttpp: watch an HTTP server talk over Berkeley sockets, one real system call at a time.
#[derive(Debug, Parser)]
#[command(name = "hhttpp", version)]
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
    #[command(subcommand, after_help = "Example:\n  hhttpp lesson serve-binary")]
    Lesson(LessonChoice),
    /// List the lessons, in order
    #[command(after_help = "Example:\n  hhttpp lessons")]
    Lessons,
    /// Print a lesson's text (it is built into hhttpp, so this works from any folder)
    #[command(after_help = "Example:\n  hhttpp explain serve-binary | less")]
    Explain {
        /// The lesson, as `hhttpp lessons` names or numbers it; without one, the list of lessons
        #[arg(value_parser = lesson_by_name)]
        lesson: Option<&'static Lesson>,
    },
    /// Run your own program under strace, and see its socket calls the way the lessons show theirs
    #[command(after_help = TRACE_HELP)]
    Trace {
        /// Also line its calls and its response up with this lesson's
        #[arg(long, value_parser = lesson_by_name, value_name = "LESSON")]
        compare: Option<&'static Lesson>,
        /// The file the lesson serves, for --compare serve-binary (without it: the built-in picture)
        #[arg(long)]
        file: Option<PathBuf>,
        /// Dump every byte of long payloads
        #[arg(long)]
        full_dump: bool,
        /// Also show the TCP segments on lo to and from the program, beside its calls (needs CAP_NET_RAW)
        #[arg(long)]
        packets: bool,
        /// Also write those segments to FILE as pcapng, for Wireshark or tcpdump -r (implies --packets)
        #[arg(long, value_name = "FILE")]
        pcap: Option<PathBuf>,
        /// Also draw the run as one self-contained HTML page in FILE: a lane per process, the calls, their bytes,
        /// the segments
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// The program and its arguments, after --
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// Judge your own server: send a lesson's request, and judge the reply's framing, meaning and bytes
    Check {
        /// The lesson your server imitates (see below for what each sends)
        #[arg(value_parser = lesson_by_name)]
        lesson: &'static Lesson,
        /// Where your server listens: HOST:PORT (every address HOST has is tried, in order)
        #[arg(long, value_name = "HOST:PORT")]
        against: String,
        /// The file your serve-binary server sends, or the folder your serve-folder server serves
        #[arg(value_name = "PATH")]
        path: Option<PathBuf>,
        /// The same as PATH (kept for scripts that name the file this way)
        #[arg(long, value_name = "PATH", conflicts_with = "path", hide = true)]
        file: Option<PathBuf>,
        /// How long to wait for each reply (at most 60 s)
        #[arg(long, value_name = "SECS", default_value = "3", value_parser = crate::check::parse_timeout)]
        timeout: Duration,
        /// Require the very bytes of the lesson's reply, not only the same meaning
        #[arg(long)]
        exact: bool,
    },
}

/// The `trace` command (added to [`Command`] below).
const TRACE_HELP: &str = "Examples:
  hhttpp trace -- python3 my_server.py
  hhttpp trace --compare serve-text -- python3 my_server.py
  sudo hhttpp trace --packets --html run.html -- python3 my_server.py   (the segments, and the run as a page)

Needs strace (apt-get install strace). Exit status: the program's own; 1 when --compare finds differences.";

/// A lesson, by its name or its number in the list.
fn lesson_by_name(text: &str) -> Result<&'static Lesson, String> {
    lessons::find(text).ok_or_else(|| {
        let names: Vec<_> = LESSONS.iter().map(|l| l.name).collect();
        format!("no lesson {text:?}; the lessons are {} (or their numbers, 1 to {})", names.join(", "), LESSONS.len())
    })
}

/// The lessons' numbers, as aliases of their names (clap takes an alias as a `&'static str`).
const NUMBERS: [&str; 9] = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// `hhttpp lesson NAME …`: the lesson clap matched, with the arguments it matched for it.
#[derive(Clone, Debug)]
pub struct LessonChoice {
    pub lesson: &'static Lesson,
    pub matches: ArgMatches,
}

impl FromArgMatches for LessonChoice {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let missing = || clap::Error::new(clap::error::ErrorKind::MissingSubcommand);
        let (name, sub) = matches.subcommand().ok_or_else(missing)?;
        // clap matched one of the subcommands `augment_subcommands` made from the list: the name is one of ours.
        let lesson = lessons::find(name).ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidSubcommand))?;
        Ok(LessonChoice { lesson, matches: sub.clone() })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Subcommand for LessonChoice {
    /// One subcommand per lesson, in the list's order, each with its own arguments, summary and example, and its
    /// number as an alias (`hhttpp lesson 4`).
    fn augment_subcommands(mut cmd: clap::Command) -> clap::Command {
        for (i, lesson) in LESSONS.iter().enumerate() {
            let sub = (lesson.args)(clap::Command::new(lesson.name))
                .about(lesson.summary)
                .visible_aliases(NUMBERS.get(i).copied())
                .after_help(format!("Read: hhttpp explain {}\n\nExample:\n  {}", lesson.name, lesson.example));
            cmd = cmd.subcommand(sub);
        }
        cmd.subcommand_required(true)
    }

    fn augment_subcommands_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_subcommands(cmd)
    }

    fn has_subcommand(name: &str) -> bool {
        lessons::find(name).is_some()
    }
}

/// The full command.
pub fn command() -> clap::Command {
    Cli::command()
        .after_help(format!("{EXAMPLES}\n\n{}", crate::error::exit_statuses()))
        .mut_subcommand("check", |check| check.after_help(check_help()))
}

/// `hhttpp check --help`'s end: the lessons it checks, and what it sends each.
fn check_help() -> String {
    let mut text = String::from("The lessons check judges, and what it sends:\n");
    for lesson in LESSONS {
        if let Some(check) = lesson.check {
            text.push_str(&format!("  {:13} {}\n", lesson.name, check.sends));
        }
    }
    text.push_str(
        "\nVerdicts: framing (valid HTTP/1.1, RFC 9112), meaning (the lesson's status, media type and body), bytes \
         (the lesson's very bytes: information unless --exact).\n\n\
         Examples:\n  \
         python3 my_server.py &   # your server, listening on 127.0.0.1:8338\n  \
         hhttpp check serve-text --against 127.0.0.1:8338\n  \
         hhttpp check serve-folder --against 127.0.0.1:8338            # the built-in site\n  \
         hhttpp check serve-folder --against 127.0.0.1:8338 my-site    # a folder of yours\n\n\
         Exit status: 0 framing and meaning hold; 1 they do not (each problem is named, with a hint)",
    );
    text
}

/// Parses the process's arguments; on a mistake, prints clap's message and exits with status 2.
pub fn parse() -> Cli {
    let matches = command().get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit())
}

/// Parses `args` as the command line (the first is the program's name), for tests.
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    Cli::from_arg_matches(&command().try_get_matches_from(args)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_is_well_formed() {
        command().debug_assert();
    }

    #[test]
    fn the_cli_has_exactly_the_listed_lessons_in_order() {
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
    fn a_lesson_comes_back_as_itself_by_name_or_number() {
        let name = lessons::serve_binary::LESSON.name;
        assert!(LESSONS.len() <= NUMBERS.len(), "every lesson has its number as an alias");
        for args in [["hhttpp", "lesson", name], ["hhttpp", "lesson", "5"]] {
            let cli = parse_from(args).unwrap();
            let Command::Lesson(choice) = cli.command else { panic!("not a lesson") };
            assert!(std::ptr::eq(choice.lesson, &lessons::serve_binary::LESSON));
        }
        let cli = parse_from(["hhttpp", "check", "4", "--against", "127.0.0.1:1"]).unwrap();
        let Command::Check { lesson, .. } = cli.command else { panic!("not check") };
        assert!(std::ptr::eq(lesson, &lessons::serve_text::LESSON));
        assert!(parse_from(["hhttpp", "lesson", "nine"]).is_err());
        assert!(parse_from(["hhttpp", "explain", "8"]).is_err());
    }

    #[test]
    fn serve_binary_defaults_to_the_built_in_picture_on_the_blogs_port() {
        let cli = parse_from(["hhttpp", "lesson", lessons::serve_binary::LESSON.name]).unwrap();
        let Command::Lesson(choice) = cli.command else { panic!("not a lesson") };
        let args = (choice.lesson.parse)(&choice.matches).unwrap();
        let server = args.server().expect("a server lesson");
        assert_eq!(server.port, 8338);
        assert_eq!(server.host.to_string(), "127.0.0.1");
        assert_eq!(choice.matches.get_one::<PathBuf>("file"), None, "no file: the built-in picture");
    }
}
