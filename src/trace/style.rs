//! The transcript's colour roles, in one place.
//!
//! Whether to colour at all is decided once, by [`crate::color::decide`], before a lesson makes its first call; the
//! printer only asks a [`Style`] to paint a role. With colour off, every role is the plain text.

use colored::{Color, Colorize};

/// What a piece of the transcript is, and so how it is painted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The lesson's heading.
    Heading,
    /// The call number in the left margin.
    Number,
    /// The system call's name: `bind`.
    CallName,
    /// A call that succeeded: `= 0`.
    Success,
    /// A call that failed: `= -1 EADDRINUSE (…)`.
    Failure,
    /// A Python line, the blog's (`>>> s.listen(1)`) or ours (`ours> s.getsockname()`).
    Python,
    /// Bytes the socket received: `◀ received 78 bytes`.
    Received,
    /// Bytes the socket sent: `▶ sent 153 bytes`.
    Sent,
    /// The hex dump's rows.
    Dump,
    /// A remark of the lesson's own, between calls.
    Note,
    /// The address to open in a browser.
    Url,
}

impl Role {
    fn paint(self, text: &str) -> String {
        let plain = text.normal();
        let painted = match self {
            Role::Heading => plain.bold(),
            Role::Number => plain.dimmed(),
            Role::CallName => plain.color(Color::Cyan).bold(),
            Role::Success => plain.color(Color::Green),
            Role::Failure => plain.color(Color::Red).bold(),
            Role::Python => plain.color(Color::Yellow),
            Role::Received => plain.color(Color::Magenta),
            Role::Sent => plain.color(Color::Blue),
            Role::Dump => plain.dimmed(),
            Role::Note => plain.italic(),
            Role::Url => plain.color(Color::Green).bold().underline(),
        };
        painted.to_string()
    }
}

/// Paints roles, or leaves text plain when colour is off.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    color: bool,
}

impl Style {
    /// A style that colours when `color` is true.
    pub fn new(color: bool) -> Self {
        Style { color }
    }

    /// `text` as `role` looks: coloured, or exactly `text`.
    pub fn paint(&self, role: Role, text: &str) -> String {
        if self.color { role.paint(text) } else { text.to_string() }
    }
}
