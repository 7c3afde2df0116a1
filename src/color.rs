//! The one place that decides whether the transcript is coloured.

use std::io::IsTerminal;

use clap::ValueEnum;

/// `--color`: when to colour the transcript.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    /// Always colour, even into a pipe or a file.
    Always,
    /// Never colour.
    Never,
}

/// Decides once, before the lesson's first call, and tells the `colored` crate too.
///
/// Deciding up front also keeps the terminal check (an `ioctl(1, TCGETS)`) from landing between two socket calls
/// under `strace`. `NO_COLOR` (any non-empty value, <https://no-color.org>) turns `auto` off; `--color always` wins
/// over it, because the user asked for colour on this very command.
pub fn decide(choice: ColorChoice) -> bool {
    let color = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            !no_color && std::io::stdout().is_terminal()
        }
    };
    colored::control::set_override(color);
    color
}
