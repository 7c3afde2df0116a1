//! Reading strace's output: one line at a time, as `strace -f -xx -yy` writes it.
//!
//! `hhttpp trace` runs a learner's program under strace and shows its socket calls the way our lessons show their
//! own. This module is the one reader of strace's text: it splits a line into the process, the call, its arguments
//! and its result, puts back together the calls strace reports in two halves (`<unfinished ...>`, `<... resumed>`),
//! and gives typed answers about a call: its descriptor and what `-yy` says it is, its errno, the socket address it
//! names, the bytes it carried. Nobody else splits strace's strings.

use std::net::{IpAddr, SocketAddr};

use crate::escape::{escape, unescape};

/// One line of strace's output, understood.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A finished system call.
    Call(Call),
    /// A process ended: `+++ exited with N +++`, or killed by a signal (`+++ killed by SIGINT +++`).
    Exit { pid: u32, status: Option<i32> },
    /// A process was killed by a signal: `+++ killed by SIGTERM +++` (`SIGSEGV (core dumped)` keeps its remark).
    Killed { pid: u32, signal: String },
    /// A signal was delivered: `--- SIGINT {si_signo=SIGINT, …} ---`.
    Signal { pid: u32, signal: String },
    /// Anything else (signals delivered, strace's own messages).
    Other,
}

/// A system call as strace printed it.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub pid: u32,
    pub name: String,
    /// The arguments, split at the top-level commas, as strace wrote them.
    pub args: Vec<String>,
    /// What the call returned, as strace wrote it: `3<TCP:[1234]>`, `0`, `-1 EAGAIN (Resource temporarily …)`.
    pub result: String,
    /// When the call returned, in seconds since the epoch, when strace was given `-ttt -T`.
    pub returned_at: Option<f64>,
    /// When the call began (seconds since the epoch), with `-ttt -T`: its return less the time it took.
    pub entered_at: Option<f64>,
}

impl Call {
    /// True when the call returned -1.
    pub fn failed(&self) -> bool {
        self.result.starts_with("-1 ")
    }

    /// The number the call returned (a descriptor, a byte count), when it is one.
    pub fn value(&self) -> Option<i64> {
        self.result.split(['<', ' ']).next()?.parse().ok()
    }

    /// The number of bytes the call moved: its value when it succeeded, else 0.
    pub fn moved(&self) -> u64 {
        if self.failed() { 0 } else { self.value().map_or(0, |n| n.max(0) as u64) }
    }

    /// The `i`th argument, as strace wrote it.
    pub fn arg(&self, i: usize) -> Option<&str> {
        self.args.get(i).map(String::as_str)
    }

    /// The descriptor the call was made on (its first argument), with what `-yy` says it is.
    pub fn fd(&self) -> Option<Descriptor> {
        descriptor(self.args.first()?)
    }

    /// The descriptor the call returned (`socket`, `accept4`), with what `-yy` says it is.
    pub fn returned_fd(&self) -> Option<Descriptor> {
        descriptor(&self.result)
    }

    /// The error's name when the call failed: `EAGAIN`.
    pub fn errno(&self) -> Option<&str> {
        self.result.strip_prefix("-1 ")?.split_whitespace().next()
    }

    /// The socket address in the call's second argument (`connect`, `bind`, `accept4`'s peer):
    /// `{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}`, or its IPv6 form.
    pub fn sockaddr(&self) -> Option<SocketAddr> {
        let arg = readable(self.arg(1)?);
        let port: u16 = arg.split_once("htons(")?.1.split(')').next()?.parse().ok()?;
        let ip: IpAddr = arg.split('"').nth(1)?.parse().ok()?;
        Some(SocketAddr::new(ip, port))
    }

    /// The bytes in the call's buffer: the string of `read`/`write`/`recvfrom`/`sendto`, or every `iov_base` of the
    /// vector calls, joined. strace shows at most `-s` bytes of each, so this may be fewer than [`moved`](Self::moved).
    pub fn data(&self) -> Vec<u8> {
        let Some(arg) = self.arg(1) else { return Vec::new() };
        if arg.starts_with('"') {
            return unescape(arg);
        }
        self.iovecs().concat()
    }

    /// Each `iov_base` string of a vector call (`writev`, `sendmsg`), as bytes.
    pub fn iovecs(&self) -> Vec<Vec<u8>> {
        let Some(arg) = self.arg(1) else { return Vec::new() };
        let mut found = Vec::new();
        let mut rest = arg;
        while let Some(at) = rest.find("iov_base=\"") {
            let after = &rest[at + "iov_base=\"".len()..];
            let end = string_end(after);
            found.push(unescape(&after[..end]));
            rest = after.get(end + 1..).unwrap_or("");
        }
        found
    }
}

/// A descriptor as `-yy` annotates it: `4<TCP:[127.0.0.1:8338->127.0.0.1:51234]>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Descriptor {
    pub fd: i32,
    /// What it is: `TCP:[…]`, `/dev/pts/0`, `pipe:[123]`.
    pub what: String,
}

/// What `-yy` says of a TCP socket, in one of its three shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketName {
    /// `TCP:[127.0.0.1:8338->127.0.0.1:51234]`: connected, our address and the peer's.
    Connected { local: SocketAddr, remote: SocketAddr },
    /// `TCP:[127.0.0.1:8338]`: bound or listening.
    Bound(SocketAddr),
    /// `TCP:[359921]`: not bound yet, named by its inode.
    Inode(u64),
}

impl Descriptor {
    /// True for a TCP socket, over IPv4 or IPv6.
    pub fn is_tcp(&self) -> bool {
        is_tcp(&self.what)
    }

    /// The TCP socket's name, when it is one.
    pub fn socket(&self) -> Option<SocketName> {
        if !self.is_tcp() {
            return None;
        }
        let inside = self.what.split_once('[')?.1.strip_suffix(']')?;
        if let Ok(inode) = inside.parse::<u64>() {
            return Some(SocketName::Inode(inode));
        }
        Some(match inside.split_once("->") {
            Some((local, remote)) => SocketName::Connected { local: local.parse().ok()?, remote: remote.parse().ok()? },
            None => SocketName::Bound(inside.parse().ok()?),
        })
    }

    /// Both ends of a connected socket.
    pub fn pair(&self) -> Option<(SocketAddr, SocketAddr)> {
        match self.socket()? {
            SocketName::Connected { local, remote } => Some((local, remote)),
            _ => None,
        }
    }
}

/// Puts calls back together across lines, for every process strace follows.
#[derive(Default)]
pub struct Reader {
    /// The first half of a call that another process's line interrupted, by process.
    unfinished: std::collections::HashMap<u32, String>,
}

impl Reader {
    /// Reads one line that starts with its process's number (`1234 listen(3, 1) = 0`, as `strace -o FILE` writes
    /// it); `None` while a call waits for its second half.
    pub fn line(&mut self, line: &str) -> Option<Event> {
        let (pid, rest) = split_pid(line);
        self.line_of(pid, rest)
    }

    /// Reads the rest of a line whose process is `pid` (see [`prefix`] for the lines strace writes to stderr).
    pub fn line_of(&mut self, pid: u32, rest: &str) -> Option<Event> {
        // With -ttt, a timestamp: the call's start, or for a resumed call's second half, its end.
        let (stamp, rest) = match rest.split_once(' ') {
            Some((time, after)) if time.contains('.') && time.chars().all(|c| c.is_ascii_digit() || c == '.') => {
                (time.parse::<f64>().ok(), after)
            }
            _ => (None, rest),
        };
        if let Some(status) = rest.strip_prefix("+++ exited with ").and_then(|r| r.strip_suffix(" +++")) {
            return Some(Event::Exit { pid, status: status.trim().parse().ok() });
        }
        if let Some(signal) = rest.strip_prefix("+++ killed by ").and_then(|r| r.strip_suffix(" +++")) {
            return Some(Event::Killed { pid, signal: signal.trim().to_string() });
        }
        if let Some(signal) = rest.strip_prefix("--- ").and_then(|r| r.split([' ', '{']).next()) {
            return Some(Event::Signal { pid, signal: signal.to_string() });
        }
        if let Some(head) = rest.strip_suffix(" <unfinished ...>") {
            self.unfinished.insert(pid, head.to_string());
            return None;
        }
        let resumed = rest.starts_with("<... ");
        let whole = match rest.strip_prefix("<... ") {
            Some(resumed) => {
                // "<... accept4 resumed>{sa_family=…}, [16], SOCK_CLOEXEC) = 4"
                let tail = resumed.split_once(" resumed>").map_or("", |(_, tail)| tail);
                let head = self.unfinished.remove(&pid).unwrap_or_default();
                let head = head.trim_end();
                // strace cuts after an argument's comma, or right after the opening parenthesis.
                let joiner = if head.ends_with(',') { " " } else { "" };
                format!("{head}{joiner}{tail}")
            }
            None => rest.to_string(),
        };
        // With -T, how long the call took, at the end: `<0.000048>`.
        let (whole, took) = match whole.rsplit_once(" <") {
            Some((call, took)) if took.ends_with('>') => {
                (call.to_string(), took.trim_end_matches('>').parse::<f64>().ok())
            }
            _ => (whole, None),
        };
        let returned_at = match (stamp, took) {
            (Some(stamp), _) if resumed => Some(stamp),
            (Some(stamp), Some(took)) => Some(stamp + took),
            _ => None,
        };
        let entered_at = returned_at.zip(took).map(|(r, t)| r - t);
        Some(parse_call(pid, &whole).map_or(Event::Other, |call| Event::Call(Call { returned_at, entered_at, ..call })))
    }
}

/// The process a line of strace's stderr names: `[pid 1234] listen(3, 1) = 0` → (Some(1234), `listen(3, 1) = 0`).
///
/// Writing to stderr, `strace -f` names the process only while it traces more than one; a line without a name
/// (`None`) belongs to the one process it traces then.
pub fn prefix(line: &str) -> (Option<u32>, &str) {
    if let Some(rest) = line.strip_prefix("[pid ")
        && let Some((pid, rest)) = rest.split_once(']')
        && let Ok(pid) = pid.trim().parse()
    {
        return (Some(pid), rest.trim_start());
    }
    (None, line)
}

/// `12345 listen(3, 1) = 0` → (12345, `listen(3, 1) = 0`); a line without a pid belongs to process 0.
fn split_pid(line: &str) -> (u32, &str) {
    match line.split_once(' ') {
        Some((pid, rest)) if pid.chars().all(|c| c.is_ascii_digit()) && !pid.is_empty() => {
            (pid.parse().unwrap_or(0), rest.trim_start())
        }
        _ => (0, line),
    }
}

/// `name(args) = result`, or `None` when the line is not a call.
fn parse_call(pid: u32, text: &str) -> Option<Call> {
    let open = text.find('(')?;
    let name = &text[..open];
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let close = matching_paren(text, open)?;
    let result = text[close + 1..].trim_start().strip_prefix('=')?.trim();
    // An injected delay (`-e inject=…:delay_exit=…`) is marked after the result; it is not part of it.
    let result = result.strip_suffix(" (DELAYED)").unwrap_or(result).to_string();
    Some(Call {
        pid,
        name: name.to_string(),
        args: split_args(&text[open + 1..close]),
        result,
        returned_at: None,
        entered_at: None,
    })
}

/// Where we are with respect to strace's quoted strings, one character at a time.
#[derive(Default)]
struct Quotes {
    in_string: bool,
    escaped: bool,
}

impl Quotes {
    /// Takes the next character; true when it belongs to a string (its quotes included).
    fn inside(&mut self, c: char) -> bool {
        if !self.in_string {
            self.in_string = c == '"';
            return self.in_string;
        }
        match (self.escaped, c) {
            (true, _) => self.escaped = false,
            (false, '\\') => self.escaped = true,
            (false, '"') => self.in_string = false,
            _ => {}
        }
        true
    }
}

/// The index of the `)` that closes the `(` at `open`, skipping strings and nested brackets.
///
/// Bytes, not characters: a line of `-xx -s 65536` is a quarter of a megabyte of hex, and this runs on every one.
fn matching_paren(text: &str, open: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i = past_string(b, i);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 && b[i] == b')' {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index just past the closing quote of the string whose opening quote is at `open`.
///
/// A quote ends the string unless an odd number of backslashes comes right before it. Found with `memchr`: a call's
/// data is one string of a quarter of a megabyte (`-xx` escapes every byte, so it holds no quote of its own).
fn past_string(b: &[u8], open: usize) -> usize {
    let mut from = open + 1;
    while let Some(at) = memchr::memchr(b'"', &b[from.min(b.len())..]).map(|n| from + n) {
        let backslashes = b[..at].iter().rev().take_while(|&&c| c == b'\\').count();
        if backslashes % 2 == 0 {
            return at + 1;
        }
        from = at + 1;
    }
    b.len()
}

/// Splits at the commas that are not inside a string, brackets or a descriptor's `<…>` annotation.
pub fn split_args(args: &str) -> Vec<String> {
    let b = args.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut depth = 0i32;
    // Inside `4<TCP:[127.0.0.1:80->127.0.0.1:5]>`: the brackets opened since the `<` (the `->` is not an end).
    let mut annotation: Option<i32> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if let Some(inner) = annotation.as_mut() {
            match c {
                b'[' => *inner += 1,
                b']' => *inner -= 1,
                b'>' if *inner == 0 && !(i > 0 && b[i - 1] == b'-') => annotation = None,
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => {
                i = past_string(b, i);
                continue;
            }
            b'<' => {
                let current = args[start..i].trim();
                if !current.is_empty() && current.bytes().all(|d| d.is_ascii_digit()) {
                    annotation = Some(0);
                }
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 => {
                out.push(args[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let last = args[start..].trim();
    if !last.is_empty() {
        out.push(last.to_string());
    }
    out
}

/// Every string in `text` made readable: `inet_addr("\x31\x32\x37…")` → `inet_addr("127…")`, escaped as the
/// transcript escapes bytes.
pub fn readable(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('"') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = string_end(after);
        out.push('"');
        out.push_str(&escape(&unescape(&after[..end])));
        out.push('"');
        rest = after.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// The index of the closing quote of a string whose opening quote came just before `text`.
fn string_end(text: &str) -> usize {
    let mut quotes = Quotes { in_string: true, escaped: false };
    for (i, c) in text.char_indices() {
        quotes.inside(c);
        if !quotes.in_string {
            return i;
        }
    }
    text.len()
}

/// A descriptor argument as `-yy` writes it: `4<TCP:[127.0.0.1:8338->127.0.0.1:51234]>` → (4, `TCP:[…]`).
pub fn descriptor(arg: &str) -> Option<Descriptor> {
    let (fd, rest) = arg.split_once('<')?;
    let fd = fd.trim().parse().ok()?;
    let what = rest.strip_suffix('>')?;
    Some(Descriptor { fd, what: String::from_utf8_lossy(&unescape(what)).into_owned() })
}

/// True for a descriptor that `-yy` names as a TCP socket, over IPv4 or IPv6.
pub fn is_tcp(annotation: &str) -> bool {
    annotation.starts_with("TCP:") || annotation.starts_with("TCPv6:")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(line: &str) -> Call {
        match Reader::default().line(line) {
            Some(Event::Call(call)) => call,
            other => panic!("not a call: {other:?}"),
        }
    }

    #[test]
    fn a_line_splits_into_pid_name_args_and_result() {
        let c = call(
            r#"12083 bind(3<TCP:[327318]>, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("\x31\x32")}, 16) = 0"#,
        );
        assert_eq!((c.pid, c.name.as_str(), c.result.as_str()), (12083, "bind", "0"));
        assert_eq!(c.args.len(), 3);
        assert_eq!(c.args[2], "16");
        assert_eq!(c.fd(), Some(Descriptor { fd: 3, what: "TCP:[327318]".to_string() }));
        assert_eq!(c.fd().and_then(|d| d.socket()), Some(SocketName::Inode(327318)));
        let failed = call("7 bind(3<TCP:[1]>, {sa_family=AF_INET}, 16) = -1 EADDRINUSE (Address already in use)");
        assert!(failed.failed());
        assert_eq!(failed.result, "-1 EADDRINUSE (Address already in use)");
        assert_eq!(failed.errno(), Some("EADDRINUSE"));
    }

    #[test]
    fn an_annotation_with_an_arrow_stays_one_argument() {
        let args = split_args("4<TCP:[127.0.0.1:44941->127.0.0.1:33754]>, {sa_family=AF_INET}, [128 => 16]");
        assert_eq!(args, vec!["4<TCP:[127.0.0.1:44941->127.0.0.1:33754]>", "{sa_family=AF_INET}", "[128 => 16]"]);
    }

    #[test]
    fn timestamps_and_durations_give_the_time_the_call_returned() {
        let c = call("7 1795606910.962413 bind(3<TCP:[1]>, {sa_family=AF_INET}, 16) = 0 (DELAYED) <0.000044>");
        assert_eq!(c.result, "0");
        assert!((c.returned_at.unwrap() - 1_795_606_910.962_457).abs() < 1e-6);
    }

    #[test]
    fn annotations_come_back_as_socket_names() {
        let annotated = r"4<TCP:[\x31\x32\x37\x2e\x30\x2e\x30\x2e\x31:80]>";
        let d = descriptor(annotated).unwrap();
        assert_eq!((d.fd, d.what.as_str()), (4, "TCP:[127.0.0.1:80]"));
        assert_eq!(d.socket(), Some(SocketName::Bound("127.0.0.1:80".parse().unwrap())));
        let connected = descriptor("5<TCPv6:[[::1]:8338->[::1]:40000]>").unwrap();
        assert_eq!(connected.pair(), Some(("[::1]:8338".parse().unwrap(), "[::1]:40000".parse().unwrap())));
        assert!(descriptor("1</dev/pts/0>").unwrap().socket().is_none());
    }

    #[test]
    fn a_calls_address_and_bytes_are_read_from_its_arguments() {
        let c = call(
            r#"7 connect(3<TCP:[9]>, {sa_family=AF_INET, sin_port=htons(8338), sin_addr=inet_addr("\x31\x32\x37\x2e\x30\x2e\x30\x2e\x31")}, 16) = 0"#,
        );
        assert_eq!(c.sockaddr(), Some("127.0.0.1:8338".parse().unwrap()));
        let w =
            call(r#"7 writev(4<TCP:[1]>, [{iov_base="\x48\x49", iov_len=2}, {iov_base="\x21", iov_len=1}], 2) = 3"#);
        assert_eq!(w.iovecs(), vec![b"HI".to_vec(), b"!".to_vec()]);
        assert_eq!((w.data(), w.moved()), (b"HI!".to_vec(), 3));
        let r = call(r#"7 read(4<TCP:[1]>, "\x61\"\x62", 4096) = 3"#);
        assert_eq!(r.data(), b"a\"b");
    }

    #[test]
    fn a_call_in_two_halves_is_put_back_together() {
        let mut reader = Reader::default();
        assert_eq!(reader.line("5 accept4(3<TCP:[1]>,  <unfinished ...>"), None);
        assert_eq!(
            reader.line("6 write(1</dev/pts/0>, \"hi\", 2) = 2").map(|e| matches!(e, Event::Call(_))),
            Some(true)
        );
        let Some(Event::Call(c)) =
            reader.line("5 <... accept4 resumed>{sa_family=AF_INET}, [16], SOCK_CLOEXEC) = 4<TCP:[2]>")
        else {
            panic!("no call")
        };
        assert_eq!(c.name, "accept4");
        assert_eq!(c.args.len(), 4, "{:?}", c.args);
        assert_eq!(c.value(), Some(4));
        assert_eq!(reader.line("5 +++ exited with 3 +++"), Some(Event::Exit { pid: 5, status: Some(3) }));
    }
}
