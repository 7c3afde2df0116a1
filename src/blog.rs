//! The blog's own Python, to tell its lines from ours.
//!
//! `lessons/blog-code.md` holds the code blocks of the blog's part 4, byte for byte. A lesson prints a `>>>` line
//! only where it quotes one of them exactly: the whole line, or its code without the trailing comment (the blog
//! writes `s.listen(1) # Listen for incoming connections`; we quote `s.listen(1)`). Any other Python a lesson shows
//! is ours, and printed with the `ours>` marker instead (see [`crate::trace::Transcript::python`]).

/// The blog's code blocks, as the post writes them.
pub const CODE: &str = include_str!("../lessons/blog-code.md");

/// True when `line` is one of the blog's lines of code, exactly (leading indentation and a trailing `# comment`
/// aside).
pub fn quotes(line: &str) -> bool {
    let line = line.trim();
    !line.is_empty() && code_lines().any(|code| code == line)
}

/// Each line of code in the blog's Python blocks: trimmed, and again without its trailing comment.
fn code_lines() -> impl Iterator<Item = &'static str> {
    let mut in_python = false;
    CODE.lines()
        .filter(move |line| {
            if line.starts_with("```") {
                in_python = line.trim() == "```python";
                return false;
            }
            in_python
        })
        .flat_map(|line| {
            let line = line.trim();
            let code = line.split_once(" # ").map_or(line, |(code, _)| code.trim_end());
            [line, code]
        })
}

#[cfg(test)]
mod tests {
    use super::quotes;

    #[test]
    fn the_blogs_lines_are_known_with_or_without_their_comments() {
        assert!(quotes("s.listen(1)"));
        assert!(quotes("s.listen(1) # Listen for incoming connections"));
        assert!(quotes("with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:"));
        assert!(quotes("client_connection.sendall(response.encode())"));
        assert!(quotes("client_connection.send(first_line_of_response.encode())"));
        assert!(quotes("raw_data = client_connection.recv(4096)"));
        assert!(quotes("port = 8338"));
    }

    #[test]
    fn lines_of_ours_are_not() {
        for ours in [
            "s.listen(128)",
            "s.getsockname()",
            "client_connection.sendall(response)",
            "s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
            "s.bind((\"127.0.0.1\", 0))",
            "port = 0",
            "s.close()",
            "",
            "import",
        ] {
            assert!(!quotes(ours), "{ours}");
        }
    }
}
