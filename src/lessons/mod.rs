//! The lessons, one file each, in the blog's order, and the one list that names them.
//!
//! Each file defines its lesson whole, as a [`Lesson`] called `LESSON`: its texts, its arguments, how it listens,
//! what `hhttpp check` expects of a server that imitates it, and the steps `hhttpp trace --compare` looks for.
//! Adding a lesson is one new file here plus one entry in [`LESSONS`].
//!
//! Each lesson is a straight-line function that reads like the blog's Python: a student can put
//! `src/lessons/serve_binary.rs` next to the blog's snippet and follow both top to bottom. A lesson reaches the
//! network only through [`TracedSocket`](crate::trace::TracedSocket), so every call it makes is printed.
//!
//! Later lessons reuse the steps earlier ones taught, by calling them: [`bind::listen`] (lesson 1's calls) and
//! [`echo_request::accept_request`] (lessons 2 and 3's calls).

pub mod accept;
pub mod bind;
pub mod echo_request;
pub mod fetch;
pub mod serve_binary;
pub mod serve_folder;
pub mod serve_text;

use crate::lesson::Lesson;

/// Every lesson, in order. The CLI, `hhttpp lessons`, the texts and the snapshot tests all follow this list, and
/// a test fails if a lesson lacks its text, its code or its snapshot.
pub static LESSONS: [&Lesson; 7] = [
    &bind::LESSON,
    &accept::LESSON,
    &echo_request::LESSON,
    &serve_text::LESSON,
    &serve_binary::LESSON,
    &fetch::LESSON,
    &serve_folder::LESSON,
];

/// The lesson called `name`, or numbered `name` (`4` for the fourth).
pub fn find(name: &str) -> Option<&'static Lesson> {
    if let Ok(number) = name.parse::<usize>() {
        return number.checked_sub(1).and_then(|i| LESSONS.get(i)).copied();
    }
    LESSONS.iter().find(|l| l.name == name).copied()
}

/// A lesson's place in the list: 1 for the first.
pub fn number(lesson: &Lesson) -> usize {
    LESSONS.iter().position(|l| std::ptr::eq(*l, lesson)).map_or(0, |i| i + 1)
}

/// The lesson after `lesson`.
pub fn next(lesson: &Lesson) -> Option<&'static Lesson> {
    LESSONS.get(number(lesson)).copied()
}

/// The lesson's text file, relative to the repository: `lessons/05-serve-binary.md`.
pub fn text_path(lesson: &Lesson) -> String {
    format!("lessons/{:02}-{}.md", number(lesson), lesson.name)
}

/// The lesson's snapshot name: `serve_binary` (→ `snapshots/serve_binary.snap`), and its code file's
/// (`src/lessons/serve_binary.rs`).
pub fn file_stem(lesson: &Lesson) -> String {
    lesson.name.replace('-', "_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::path::Path;

    #[test]
    fn lesson_names_are_unique_and_numbered_in_order() {
        let names: HashSet<_> = LESSONS.iter().map(|l| l.name).collect();
        assert_eq!(names.len(), LESSONS.len(), "lesson names must all be unique");
        for (i, lesson) in LESSONS.iter().enumerate() {
            assert_eq!(number(lesson), i + 1);
            assert!(std::ptr::eq(find(&(i + 1).to_string()).unwrap(), *lesson), "lesson {} by number", i + 1);
        }
        assert_eq!(text_path(&serve_binary::LESSON), "lessons/05-serve-binary.md");
        assert!(std::ptr::eq(find(serve_binary::LESSON.name).unwrap(), &serve_binary::LESSON));
        assert!(next(LESSONS[LESSONS.len() - 1]).is_none());
        assert!(find("0").is_none() && find("8").is_none());
    }

    #[test]
    fn every_lesson_has_its_text_code_and_snapshot() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for lesson in LESSONS {
            let text = root.join(text_path(lesson));
            assert!(text.is_file(), "{} has no text at {}", lesson.name, text.display());
            assert!(!lesson.text.trim().is_empty(), "{}'s text is empty", lesson.name);
            let code = root.join(format!("src/lessons/{}.rs", file_stem(lesson)));
            assert!(code.is_file(), "{} has no code at {}", lesson.name, code.display());
            let snap = root.join(format!("snapshots/{}.snap", file_stem(lesson)));
            assert!(snap.is_file(), "{} has no snapshot at {}", lesson.name, snap.display());
        }
    }
}
