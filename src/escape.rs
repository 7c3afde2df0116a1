//! Bytes shown to people, and back: [`escape`] and its inverse [`unescape`], side by side.
//!
//! Every byte that came from a peer, a file or a traced program reaches the terminal through [`escape`] (or
//! [`preview`], its shortened form): nothing it prints can move the cursor, clear the screen, set a window title or
//! reorder the line. Nothing is lost either, so two different byte strings never look the same, and
//! [`unescape`] gives the bytes back. `unescape` also reads the strings strace prints (`-xx`, octal escapes), which
//! use the same backslash escapes.

use std::fmt::Write as _;

/// Bytes as one line of text in which nothing is hidden: `"GET /\xFF HTTP/1.1\r\n"`.
///
/// Valid UTF-8 is shown as text; `\r`, `\n`, `\t`, `\\` and `"` are escaped as in Rust and C; other control
/// characters (C0, DEL and the C1 controls U+0080 to U+009F) and every byte that is not part of valid UTF-8 are
/// shown as `\xNN`, one escape per byte; characters that reorder text (bidirectional controls such as U+202E) as
/// `\u{202E}`.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    for_each_piece(bytes, |piece| {
        out.push_str(piece);
        true
    });
    out
}

/// `escape`, in double quotes: `"sub dir/caf\xE9.html"`, for a name in a sentence.
pub fn quoted(bytes: &[u8]) -> String {
    format!("\"{}\"", escape(bytes))
}

/// `escape`, cut to at most `max_chars` characters with `…` when longer, and quoted. An escape such as `\r` or
/// `\xFF` is never cut in half.
pub fn preview(bytes: &[u8], max_chars: usize) -> String {
    let mut out = String::new();
    let mut chars = 0;
    let mut cut = false;
    // Each byte gives at least one character, so the first few bytes are all a preview can need.
    let head = &bytes[..bytes.len().min(max_chars.saturating_mul(4).saturating_add(4))];
    for_each_piece(head, |piece| {
        let n = piece.chars().count();
        if chars + n > max_chars {
            cut = true;
            return false;
        }
        chars += n;
        out.push_str(piece);
        true
    });
    if cut || head.len() < bytes.len() { format!("\"{out}\"…") } else { format!("\"{out}\"") }
}

/// True for the characters that reorder the text around them (Unicode's bidirectional controls).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Calls `f` with each piece of `escape`'s output (a character, or one escape) until `f` returns false.
fn for_each_piece(bytes: &[u8], mut f: impl FnMut(&str) -> bool) {
    let mut buf = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            buf.clear();
            match c {
                '\r' => buf.push_str("\\r"),
                '\n' => buf.push_str("\\n"),
                '\t' => buf.push_str("\\t"),
                '\\' => buf.push_str("\\\\"),
                '"' => buf.push_str("\\\""),
                c if is_bidi_control(c) => {
                    let _ = write!(buf, "\\u{{{:04X}}}", u32::from(c));
                }
                // A control character: one byte when ASCII, two for U+0080..U+009F; each byte shown as \xNN.
                c if c.is_control() => {
                    let mut utf8 = [0u8; 4];
                    for b in c.encode_utf8(&mut utf8).bytes() {
                        let _ = write!(buf, "\\x{b:02X}");
                    }
                }
                c => buf.push(c),
            }
            if !f(&buf) {
                return;
            }
        }
        for b in chunk.invalid() {
            buf.clear();
            let _ = write!(buf, "\\x{b:02X}");
            if !f(&buf) {
                return;
            }
        }
    }
}

/// The bytes behind an escaped string: the inverse of [`escape`], and the reader of strace's strings.
///
/// Takes `"\x47\x45\x54"` with or without its quotes, and with strace's `...` when strace cut the string short.
/// Understands `\xNN`, `\r`, `\n`, `\t`, `\v`, `\f`, `\\`, `\"`, octal (`\0`, `\377`) and `\u{202E}`; an escape it
/// cannot read stands for itself.
pub fn unescape(quoted: &str) -> Vec<u8> {
    let text = quoted.strip_suffix("...").unwrap_or(quoted);
    let text = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
    let b = text.as_bytes();
    let mut bytes = Vec::with_capacity(text.len() / 4 + 16);
    let mut i = 0;
    // Bytes, not characters: with `-xx -s 65536` strace writes a quarter of a megabyte of `\xNN` per call, and
    // this reads every one. A character that is not an escape is copied as its UTF-8 bytes.
    while i < b.len() {
        // The common case: `\xNN`, four characters a byte.
        if let [b'\\', b'x', high, low, ..] = b[i..]
            && let (high, low) = (HEX[usize::from(high)], HEX[usize::from(low)])
            && high < 16
            && low < 16
        {
            bytes.push(high << 4 | low);
            i += 4;
            continue;
        }
        if b[i] != b'\\' {
            let end = memchr::memchr(b'\\', &b[i..]).map_or(b.len(), |n| i + n);
            bytes.extend_from_slice(&b[i..end]);
            i = end;
            continue;
        }
        i += 1 + other_escape(&text[i + 1..], &mut bytes);
    }
    bytes
}

/// Each byte's value as a hex digit, or 255 when it is not one.
const HEX: [u8; 256] = {
    let mut table = [255u8; 256];
    let mut c = 0;
    while c < 256 {
        table[c] = match c as u8 {
            d @ b'0'..=b'9' => d - b'0',
            d @ b'a'..=b'f' => d - b'a' + 10,
            d @ b'A'..=b'F' => d - b'A' + 10,
            _ => 255,
        };
        c += 1;
    }
    table
};

/// Reads the escape after a backslash (`rest` starts after it), other than `\xNN`; returns how many bytes of `rest`
/// it took.
fn other_escape(rest: &str, bytes: &mut Vec<u8>) -> usize {
    let mut utf8 = [0u8; 4];
    let mut chars = rest.chars();
    let Some(c) = chars.next() else {
        bytes.push(b'\\');
        return 0;
    };
    match c {
        'x' => {
            let hex: String = rest[1..].chars().take(2).collect();
            match u8::from_str_radix(&hex, 16) {
                Ok(b) => bytes.push(b),
                Err(_) => bytes.extend_from_slice(format!("\\x{hex}").as_bytes()),
            }
            1 + hex.len()
        }
        'u' if rest[1..].starts_with('{') => {
            let inside: String = rest[2..].chars().take_while(|&c| c != '}').collect();
            match u32::from_str_radix(&inside, 16).ok().and_then(char::from_u32) {
                Some(c) => bytes.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes()),
                None => bytes.extend_from_slice(format!("\\u{{{inside}}}").as_bytes()),
            }
            // `u{`, the digits, and the `}` when there was one.
            (2 + inside.len() + usize::from(rest[2 + inside.len()..].starts_with('}'))).min(rest.len())
        }
        'n' | 'r' | 't' | 'v' | 'f' => {
            bytes.push(match c {
                'n' => b'\n',
                'r' => b'\r',
                't' => b'\t',
                'v' => 0x0b,
                _ => 0x0c,
            });
            1
        }
        d if d.is_digit(8) => {
            let digits = rest.bytes().take(3).take_while(|c| (b'0'..=b'7').contains(c)).count();
            let value = rest[..digits].bytes().fold(0u32, |v, c| v * 8 + u32::from(c - b'0'));
            // Three octal digits reach at most 0o777; strace writes at most \377, one byte.
            bytes.push(value as u8);
            digits
        }
        other => {
            bytes.extend_from_slice(other.encode_utf8(&mut utf8).as_bytes());
            other.len_utf8()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_shows_line_ends_and_invalid_bytes() {
        assert_eq!(escape(b"GET /\xFF HTTP/1.1\r\n"), r"GET /\xFF HTTP/1.1\r\n");
        assert_eq!(escape("caf\u{e9} \"q\" \\ \t\0".as_bytes()), r#"café \"q\" \\ \t\x00"#);
        assert_eq!(escape(b"\xC3"), r"\xC3", "a lone lead byte is not valid UTF-8");
        assert_eq!(escape("a\u{202e}b".as_bytes()), r"a\u{202E}b", "a right-to-left override cannot reorder the line");
        assert_eq!(escape(b"\xc2\x9b2J\x7f\x1b"), r"\xC2\x9B2J\x7F\x1B", "C1 controls, DEL and ESC");
        assert_eq!(preview(b"abc", usize::MAX), "\"abc\"");
    }

    #[test]
    fn preview_cuts_long_text_without_splitting_an_escape() {
        assert_eq!(preview(b"abc", 10), "\"abc\"");
        assert_eq!(preview(b"abcdefgh\r\n", 9), "\"abcdefgh\"…");
        assert_eq!(preview(b"abcdefgh\xFF", 10), "\"abcdefgh\"…");
        assert_eq!(preview(b"abcdefgh\\\\", 11), "\"abcdefgh\\\\\"…", "an escaped backslash stays whole");
        assert_eq!(preview(&[b'a'; 10_000], 3), "\"aaa\"…");
    }

    #[test]
    fn unescape_gives_back_what_escape_was_given() {
        let samples: [&[u8]; 6] = [
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            b"\x00\x01\x1b[2J\x7f\xff\xfe",
            "caf\u{e9} \"q\" \\ \u{202e}\u{2066} \u{9b}".as_bytes(),
            b"\xc2\x9d0;title\xc2\x9c",
            b"back\\slash \\x41 is not an escape here",
            b"",
        ];
        for bytes in samples {
            assert_eq!(unescape(&escape(bytes)), bytes, "{}", escape(bytes));
        }
        let every_byte: Vec<u8> = (0..=255).collect();
        assert_eq!(unescape(&escape(&every_byte)), every_byte);
    }

    #[test]
    fn unescape_reads_straces_strings() {
        assert_eq!(unescape(r#""\x47\x45\x54\x20\x0d\x0a""#), b"GET \r\n");
        assert_eq!(unescape(r#""a\"b\\c\n\0\377"..."#), b"a\"b\\c\n\0\xff");
    }

    #[test]
    fn unescape_reads_rare_escapes_and_lets_broken_ones_stand_for_themselves() {
        assert_eq!(unescape(r"\u{202E}é\t\v\f\12x"), "\u{202e}é\t\x0b\x0c\nx".as_bytes());
        assert_eq!(unescape(r"\x4"), b"\x04", "one hex digit at the end");
        assert_eq!(unescape(r"\xzz!"), b"\\xzz!");
        assert_eq!(unescape(r"\u{zz}a\q"), b"\\u{zz}aq");
        assert_eq!(unescape("ends with \\"), b"ends with \\");
        assert_eq!(unescape(r"\u{41"), b"A", "an unclosed brace takes the rest");
    }
}
