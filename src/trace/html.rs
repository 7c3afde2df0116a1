//! `--html FILE`: the lesson as one self-contained page, a timeline with two lanes (client, server), time going down.
//!
//! The page is drawn from the same record the transcript prints, never from a guess: [`Page`] keeps, as the
//! [`Tracer`](super::Tracer) prints them, the Python lines, the numbered calls with their TCP states, the dumps, the
//! notes and (with `--packets`) the segments. Every text in it is rendered by the transcript's own printer (colour
//! off), so a call's line on the page is its line in the transcript, byte for byte.
//!
//! We build the HTML with maud, which escapes every value it is given: the bytes a peer sent reach the page only as
//! text. The page has inline CSS and SVG and nothing else: no script, no fetch, no font from the network.

use std::io::{self, Write};
use std::path::Path;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::format::plural;
use super::packets::{Segment, waits_for_the_peer};
use super::record::Direction;
use super::transcript::{CallLine, Gap, Transcript};

/// One thing on the timeline, in the order the transcript printed it. `lane`: which of our lanes it is on.
#[derive(Debug)]
enum Item {
    /// A line of Python: the blog's own (`>>>`) or ours (`ours>`), as the transcript marks it.
    Python { lane: usize, blog: bool, text: String },
    /// A numbered call (or a library call, `number` `None`): its transcript line, and what it moved.
    Call { lane: usize, number: Option<u64>, text: String, failed: bool, state: Option<String>, dumps: Vec<Dump> },
    /// A remark; `lane` `None`: across all our lanes (a traced program's output, which any of its processes may
    /// have written).
    Note { lane: Option<usize>, text: String },
    /// A TCP segment on `lo`; `waited` is the waiting call (`accept4`, `recvfrom`, `read`…: number, name) whose
    /// line came after it, with only Python lines and such segments between: the segments above a waiting call's
    /// line crossed before it returned, the kernel's work (the handshake before `accept4` returns).
    Segment { segment: Segment, waited: Option<(u64, String)> },
}

impl Item {
    /// About how many bytes of the page it makes: what [`PAGE_TEXT`] counts.
    fn size(&self) -> usize {
        let markup = 200;
        markup
            + match self {
                Item::Python { text, .. } | Item::Note { text, .. } => text.len(),
                Item::Call { text, dumps, .. } => {
                    text.len() + dumps.iter().map(|d| d.label.len() + d.rows.len() + markup).sum::<usize>()
                }
                Item::Segment { segment, .. } => 2 * segment.line.len() + segment.label.len(),
            }
    }
}

/// The bytes one call moved: the transcript's preview line, and its hex dump.
#[derive(Debug)]
struct Dump {
    direction: Direction,
    label: String,
    rows: String,
}

/// Notes longer than this many characters are folded into a `<details>`.
const NOTE_FOLD: usize = 200;

/// The page keeps about this many bytes of text; past them it keeps nothing more and counts what it leaves out (a
/// server traced for hours makes a transcript of gigabytes: its page stays small enough for a browser).
const PAGE_TEXT: usize = 1 << 20;

/// `hhttpp trace`: a lane for each of the first this many processes; the calls of later ones share one more lane.
const LANES: usize = 4;

/// What the page left out once it had [`PAGE_TEXT`]: counted, and said at its end.
#[derive(Debug, Default)]
struct LeftOut {
    full: bool,
    calls: u64,
    segments: u64,
    other: u64,
}

/// The timeline of one lesson (or one traced program), kept while it runs and written out by
/// [`write`](Page::write).
pub struct Page {
    /// The file, made before the lesson's first call so that a path we cannot write fails at once.
    file: std::fs::File,
    title: String,
    /// The lesson's text, after the timeline (none for `hhttpp trace`).
    lesson_text: &'static str,
    /// True for `hhttpp trace`: the calls are a traced program's, not the lesson's.
    program: bool,
    /// The peer's lane: its heading, and whether it is on the left (the lesson is the server, or a traced
    /// program: its processes' lanes go to the right) or on the right (`fetch`: the lesson is the client).
    peer: String,
    peer_left: bool,
    /// Our lanes' headings: the lesson's one, or one per traced process.
    lanes: Vec<String>,
    /// Processes whose calls went to the last lane, once there were [`LANES`].
    crowded: u64,
    /// The lane new items go on.
    current: usize,
    items: Vec<Item>,
    /// While a long `sendall` is summarised, its last call (as the transcript holds it).
    held: Option<Vec<Item>>,
    kept: usize,
    left_out: LeftOut,
}

/// Renders with the transcript's own printer, colour off, without `--full-dump`: the text the transcript shows.
pub fn plain(f: impl FnOnce(&mut Transcript<Vec<u8>>) -> io::Result<()>) -> String {
    let mut t = Transcript::new(Vec::new(), false, false);
    // Writing into a Vec cannot fail.
    let _ = f(&mut t);
    String::from_utf8_lossy(&t.into_inner()).into_owned()
}

impl Page {
    /// A page to be written to `path` (created now), for the lesson titled `title` whose text is `lesson_text`.
    pub fn create(path: &Path, title: &str, lesson_text: &'static str, we_are_server: bool) -> io::Result<Page> {
        let (us, peer) = if we_are_server {
            ("server (us: the lesson's calls)", "client (the peer: another process, its calls are not traced here)")
        } else {
            ("client (us: the lesson's calls)", "server (the peer: its calls are not traced here)")
        };
        let mut page = Page::open(path, title, peer, we_are_server)?;
        page.lesson_text = lesson_text;
        page.lanes.push(us.to_string());
        Ok(page)
    }

    /// A page for `hhttpp trace`: the peers' lane on the left, and a lane per process of the program's, added by
    /// [`lane`](Self::lane) as each makes its first call.
    pub fn for_program(path: &Path, title: &str) -> io::Result<Page> {
        let peers = "the peers: the other ends of its connections (not traced)";
        let mut page = Page::open(path, title, peers, true)?;
        page.program = true;
        Ok(page)
    }

    fn open(path: &Path, title: &str, peer: &str, peer_left: bool) -> io::Result<Page> {
        Ok(Page {
            // Out of the lesson's way, as the capture and the pcapng file are: the lesson's sockets keep their
            // numbers (3 for the listener, 4 for the connection).
            file: super::files::create(path, 102)?,
            title: title.to_string(),
            lesson_text: "",
            program: false,
            peer: peer.to_string(),
            peer_left,
            lanes: Vec::new(),
            crowded: 0,
            current: 0,
            items: Vec::new(),
            held: None,
            kept: 0,
            left_out: LeftOut::default(),
        })
    }

    /// A lane for one more process, headed `heading`; past [`LANES`] of them, the one lane they all share.
    pub fn lane(&mut self, heading: String) -> usize {
        if self.lanes.len() < LANES {
            self.lanes.push(heading);
        } else {
            if self.lanes.len() == LANES {
                self.lanes.push(String::new());
            }
            self.crowded += 1;
        }
        self.lanes.len() - 1
    }

    /// What comes next goes on `lane`.
    pub fn on(&mut self, lane: usize) {
        self.current = lane;
    }

    fn push(&mut self, item: Item) {
        match &mut self.held {
            // A summarised run: each call replaces everything held before it, as in the transcript.
            Some(held) => {
                if matches!(item, Item::Call { .. }) {
                    held.clear();
                }
                held.push(item);
            }
            None => self.keep(item),
        }
    }

    /// Keeps `item`, unless the page has its [`PAGE_TEXT`]: from then on, every item is only counted.
    fn keep(&mut self, item: Item) {
        let size = item.size();
        if self.left_out.full || self.kept + size > PAGE_TEXT {
            self.left_out.full = true;
            match item {
                Item::Call { .. } => self.left_out.calls += 1,
                Item::Segment { .. } => self.left_out.segments += 1,
                _ => self.left_out.other += 1,
            }
            return;
        }
        self.kept += size;
        self.items.push(item);
    }

    /// A line of Python, marked as the transcript marks it.
    pub fn python(&mut self, line: &str) {
        let text = plain(|t| t.python(line)).trim().to_string();
        self.push(Item::Python { lane: self.current, blog: text.starts_with(">>>"), text });
    }

    /// A numbered call, its line as the transcript prints it.
    pub fn call(&mut self, call: &CallLine) {
        let text = plain(|t| t.call(call)).trim().to_string();
        let (failed, state) = (call.failed, call.state.map(str::to_string));
        if waits_for_the_peer(call.name) {
            // Back to the last call, over the Python lines: what the kernel did on its own (a handshake, an ACK, the
            // peer's bytes), not what a call of ours sent (bytes, a FIN), which stops the run.
            let items = self.held.as_mut().unwrap_or(&mut self.items);
            for item in items.iter_mut().rev() {
                match item {
                    Item::Python { .. } => {}
                    Item::Segment { segment, .. }
                        if segment.from_us && segment.label != "SYN-ACK" && segment.label != "ACK" =>
                    {
                        break;
                    }
                    Item::Segment { waited, .. } => *waited = Some((call.number, call.name.to_string())),
                    _ => break,
                }
            }
        }
        let lane = self.current;
        self.push(Item::Call { lane, number: Some(call.number), text, failed, state, dumps: Vec::new() });
    }

    /// A C library function (`getaddrinfo`), shown but not numbered.
    pub fn library_call(&mut self, name: &str, args: &str, result: &str) {
        let text = plain(|t| t.library_call(name, args, result)).trim().to_string();
        let lane = self.current;
        self.push(Item::Call { lane, number: None, text, failed: false, state: None, dumps: Vec::new() });
    }

    /// The bytes a `sendfile` moved, as the transcript says it.
    pub fn sent_from_file(&mut self, file_fd: i32, total: u64) {
        let text = plain(|t| t.sent_from_file(file_fd, total));
        if !text.trim().is_empty() {
            self.note(text.trim());
        }
    }

    /// The transcript's note of what a summarised run left out, rendered by the transcript.
    pub fn gap_note(gap: Option<Gap>) -> String {
        plain(|t| {
            t.hold();
            t.release(gap)
        })
    }

    /// A note between calls, on the current lane.
    pub fn note(&mut self, text: &str) {
        self.push(Item::Note { lane: Some(self.current), text: text.to_string() });
    }

    /// A line the traced program printed (already escaped), across its lanes: any of its processes may have
    /// written it.
    pub fn output(&mut self, text: &str) {
        self.push(Item::Note { lane: None, text: text.to_string() });
    }

    /// A segment the capture printed.
    pub fn segment(&mut self, segment: Segment) {
        self.push(Item::Segment { segment, waited: None });
    }

    /// The bytes the last call moved (`bytes`: those seen of its `total`), rendered as the transcript renders them
    /// (payloads over 1 KiB lose their middle, so the page stays small whatever a peer sends).
    pub fn data(&mut self, direction: Direction, bytes: &[u8], total: u64) {
        let text = plain(|t| t.data(direction, bytes, total));
        let mut lines = text.lines();
        let Some(label) = lines.next() else { return };
        let rows: Vec<&str> = lines.map(str::trim).collect();
        let dump = Dump { direction, label: label.trim().to_string(), rows: rows.join("\n") };
        let size = dump.label.len() + dump.rows.len();
        let note = Item::Note { lane: Some(self.current), text: format!("{}\n{}", dump.label, dump.rows) };
        // In a summarised run: with the call it holds.
        if let Some(held) = &mut self.held {
            match held.last_mut() {
                Some(Item::Call { dumps, .. }) => dumps.push(dump),
                _ => held.push(note),
            }
            return;
        }
        let fits = !self.left_out.full && self.kept + size <= PAGE_TEXT;
        match self.items.last_mut() {
            Some(Item::Call { dumps, .. }) if fits => {
                self.kept += size;
                dumps.push(dump);
            }
            // The page is full: its call was left out, or this dump is too much.
            Some(Item::Call { .. }) => {
                self.left_out.full = true;
                self.left_out.other += 1;
            }
            // Bytes with no call before them: a note of their own.
            _ => self.keep(note),
        }
    }

    /// A summarised run begins.
    pub fn hold(&mut self) {
        self.held.get_or_insert_with(Vec::new);
    }

    /// A summarised run ends: the transcript's note of what it left out, then its last call.
    pub fn release(&mut self, gap_note: String) {
        let Some(held) = self.held.take() else { return };
        if !gap_note.trim().is_empty() {
            self.keep(Item::Note { lane: Some(self.current), text: gap_note.trim().to_string() });
        }
        held.into_iter().for_each(|item| self.keep(item));
    }

    /// Writes the page, with `closing` (the account of the wire, the aftermath, the diagram and the summary, as the
    /// transcript printed them) and the lesson's text after the timeline.
    pub fn write(&self, closing: &str) -> io::Result<()> {
        let page = self.render(closing).into_string();
        let mut file = &self.file;
        file.write_all(page.as_bytes())?;
        file.flush()
    }

    /// The page's columns, left to right.
    fn columns(&self) -> Vec<Column> {
        let ours = (0..self.lanes.len().max(1)).flat_map(|i| [Column::Lane(i), Column::States(i)]);
        if self.peer_left {
            [Column::Peer, Column::Wire].into_iter().chain(ours).collect()
        } else {
            // The lesson as the client: its states on the far left, beside its lane.
            let mut ours: Vec<Column> = ours.collect();
            ours.reverse();
            ours.extend([Column::Wire, Column::Peer]);
            ours
        }
    }

    /// The grid of every row, for the screen and for A4: the lanes share the width, the state columns and the
    /// wire have their own.
    fn grid(&self) -> String {
        let many = self.lanes.len() > 1;
        let template = |wire: &str, states: &str, print: bool| -> String {
            let columns: Vec<String> = self
                .columns()
                .into_iter()
                .map(|column| match column {
                    Column::Peer if many => "minmax(6rem, 0.4fr)".to_string(),
                    Column::Peer if print => "minmax(0, 0.5fr)".to_string(),
                    Column::Peer => "minmax(0, 0.55fr)".to_string(),
                    Column::Wire => wire.to_string(),
                    Column::Lane(_) if many => "minmax(0, 1fr)".to_string(),
                    Column::Lane(_) if print => "minmax(0, 1.5fr)".to_string(),
                    Column::Lane(_) => "minmax(0, 1.45fr)".to_string(),
                    Column::States(_) => states.to_string(),
                })
                .collect();
            columns.join(" ")
        };
        let (wire, states) = if many { ("10rem", "7rem") } else { ("13rem", "12rem") };
        let (print_wire, print_states) = if many { ("6rem", "5rem") } else { ("8rem", "8rem") };
        format!(
            ".row {{ grid-template-columns: {}; }}\n.row > .across {{ grid-column: 3 / -1; }}\n\
             @media print {{ .row {{ grid-template-columns: {}; }} }}\n",
            template(wire, states, false),
            template(print_wire, print_states, true)
        )
    }

    fn render(&self, closing: &str) -> Markup {
        let segments = self.items.iter().filter(|i| matches!(i, Item::Segment { .. })).count();
        let lanes = self.lanes.len().max(1);
        let bands: Vec<Vec<Vec<Option<Band>>>> = (0..lanes).map(|lane| bands(&self.items, lane)).collect();
        let program = self.program;
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (self.title.lines().next().unwrap_or("hhttpp")) }
                    style { (PreEscaped(CSS)) (PreEscaped(self.grid())) }
                }
                body {
                    // The arrowhead every segment's arrow ends in.
                    svg class="defs" width="0" height="0" aria-hidden="true" {
                        defs {
                            marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8"
                                orient="auto" {
                                path d="M0,0 L10,5 L0,10 z" {}
                            }
                        }
                    }
                    header {
                        h1 { (self.title.lines().next().unwrap_or("")) }
                        @for line in self.title.lines().skip(1) { p.sub { (line) } }
                        p.how {
                            @if program {
                                "Time goes down. Each box is one system call the program made on a TCP socket, as \
                                 strace reported it, with the kernel's answer; each process has its lane (its \
                                 threads' calls too, marked with their ids). The program's output, which any of \
                                 its processes may have written, runs across their lanes."
                            } @else {
                                "Time goes down. Each box is one system call the lesson really made, with the \
                                 kernel's answer, and the Python line above it (" code { ">>>" } ": the blog's own; "
                                code { "ours>" } ": ours)."
                            }
                            " Open a call to see its bytes (a payload over 1 KiB shows its start and its end, as the \
                             transcript does without --full-dump). A coloured chip beside a call is its socket's TCP \
                             state, as the kernel's table reported it after the call; the band below it, in the \
                             same colour and with the same name, runs until that socket's state was read again on \
                             the lane (it may have changed between two readings: a peer's FIN does that unseen), \
                             and ends at the socket's close, or at a shutdown after which its state was not read."
                            @if segments > 0 {
                                " Each arrow is a TCP segment captured on lo (--packets), drawn where it was seen"
                                @if program {
                                    ", between the peers' lane and the program's: a segment goes between two \
                                     sockets, whichever process holds them. Its line says at which call it was seen"
                                }
                                "."
                            } @else {
                                " No segments were captured in this run (--packets, as root, draws them)."
                            }
                        }
                    }
                    main class={ "timeline " @if self.peer_left { "peer-left" } @else { "peer-right" } } {
                        div.row.lanes {
                            @for column in self.columns() {
                                @match column {
                                    Column::Peer => div class={ "lane peer " (self.side(true)) } {
                                        strong { (self.peer) }
                                    },
                                    Column::Lane(i) => div class={ "lane ours " (self.side(false)) } data-lane=(i) {
                                        strong { (self.heading(i)) }
                                    },
                                    _ => div {},
                                }
                            }
                        }
                        @for (row, item) in self.items.iter().enumerate() {
                            (self.row(item, &bands.iter().map(|lane| lane[row].as_slice()).collect::<Vec<_>>()))
                        }
                        @if self.left_out.full {
                            div.row { div.whole.note.left-out { (self.left_out_note()) } }
                        }
                    }
                    section.closing {
                        h2 { "How it ended" }
                        pre { (closing.trim_end()) }
                    }
                    @if !self.lesson_text.is_empty() {
                        section.lesson {
                            h2 { "The lesson" }
                            pre { (self.lesson_text) }
                        }
                    }
                }
            }
        }
    }

    /// The class of a lane's side: the left lanes' colour, or the right ones'.
    fn side(&self, peer: bool) -> &'static str {
        if peer == self.peer_left { "left" } else { "right" }
    }

    /// Lane `i`'s heading.
    fn heading(&self, i: usize) -> String {
        match self.lanes.get(i) {
            Some(heading) if !heading.is_empty() => heading.clone(),
            Some(_) => format!(
                "{} more processes: each call names its pid (the page has a lane for the first {LANES})",
                self.crowded
            ),
            None => String::new(),
        }
    }

    fn left_out_note(&self) -> String {
        let LeftOut { calls, segments, other, .. } = self.left_out;
        format!(
            "The page ends here: it keeps about {} MiB of text, and the transcript has the rest ({}, {} and {} \
             more).",
            PAGE_TEXT >> 20,
            plural(calls, "call", "calls"),
            plural(segments, "segment", "segments"),
            plural(other, "note or dump", "notes and dumps")
        )
    }

    /// One timeline row: a cell per column; an item goes on its lane, the states of each lane beside it.
    fn row(&self, item: &Item, bands: &[&[Option<Band>]]) -> Markup {
        let lane_of = |item: &Item| match item {
            Item::Python { lane, .. } | Item::Call { lane, .. } => Some(*lane),
            Item::Note { lane, .. } => lane.or((self.lanes.len() <= 1).then_some(0)),
            Item::Segment { .. } => None,
        };
        let across = matches!(item, Item::Note { .. }) && lane_of(item).is_none();
        let content = match item {
            Item::Segment { segment, waited } => return self.segment_row(segment, waited.as_ref(), bands),
            Item::Python { blog, text, .. } => {
                html! { div class={ "py" @if *blog { " blog" } } { (text) } }
            }
            // A long note (what --packets is) folds away, its first words showing, so the calls stay together.
            Item::Note { text, .. } if text.chars().count() > NOTE_FOLD => html! {
                details.note {
                    summary { (text.chars().take(NOTE_FOLD / 2).collect::<String>()) "…" }
                    (text)
                }
            },
            Item::Note { text, .. } => html! { div.note { (text) } },
            Item::Call { lane, number, text, failed, dumps, .. } => html! {
                div class={ "call" @if *failed { " failed" } @if number.is_none() { " library" } }
                    id=[number.map(|n| format!("call-{n}"))] data-call=[number] data-lane=(lane) {
                    code.line { (text) }
                    @for dump in dumps {
                        details class={ "dump " (direction_class(dump.direction)) } {
                            summary { (dump.label) }
                            pre { (dump.rows) }
                        }
                    }
                }
            },
        };
        if across {
            return html! { div.row { div.lane.peer {} div.wire {} div.across.output { (content) } } };
        }
        let lane = lane_of(item);
        html! {
            div.row {
                @for column in self.columns() {
                    @match column {
                        Column::Peer => div class={ "lane peer " (self.side(true)) } {},
                        Column::Wire => div.wire {},
                        Column::Lane(i) => div class={ "lane ours " (self.side(false)) } {
                            @if lane == Some(i) { (content) }
                        },
                        Column::States(i) => div.st { (band_cell(bands.get(i).copied().unwrap_or_default())) },
                    }
                }
            }
        }
    }

    /// A segment: an arrow from its sender's lane to its receiver's, slanting down, labelled with flags and length.
    ///
    /// A segment printed just before a waiting call's line is labelled as the kernel's work, done before that call
    /// returned.
    fn segment_row(&self, segment: &Segment, waited: Option<&(u64, String)>, bands: &[&[Option<Band>]]) -> Markup {
        // Rightwards when the left side sent it.
        let rightwards = segment.from_us != self.peer_left;
        let (x1, x2) = if rightwards { ("2", "98%") } else { ("98%", "2") };
        html! {
            div.row.segment {
                @for column in self.columns() {
                    @match column {
                        Column::Peer => div class={ "lane peer " (self.side(true)) } {},
                        Column::Lane(_) => div class={ "lane ours " (self.side(false)) } {},
                        Column::States(i) => div.st { (band_cell(bands.get(i).copied().unwrap_or_default())) },
                        Column::Wire => div.wire title=(segment.line) {
                            div class={ "seg-label " @if rightwards { "right" } @else { "left" } } { (segment.label) }
                            @if let Some((number, name)) = waited {
                                div.kernel data-kernel=(number) {
                                    "the kernel's work: it crossed before call " (number) " (" (name) ") returned"
                                }
                            }
                            svg.arrow data-segment="" width="100%" height="22" aria-label=(segment.line) {
                                line x1=(x1) y1="3" x2=(x2) y2="19" marker-end="url(#head)" {}
                            }
                        },
                    }
                }
            }
        }
    }
}

/// A column of the timeline: the peer's lane, the wire between, one of our lanes, or its states.
#[derive(Clone, Copy)]
enum Column {
    Peer,
    Wire,
    Lane(usize),
    States(usize),
}

/// One socket's TCP state on one row of the timeline: the state last read, whether it was read on this row (the
/// call's own chip), and the socket's descriptor.
#[derive(Clone, Debug, PartialEq)]
struct Band {
    fd: i32,
    state: String,
    read_here: bool,
    /// The call after which it was read.
    read_after: u64,
}

/// The state bands of `lane` on every row: for each item, one slot per socket track (the same slots on every row,
/// so that a socket's band stays in its column), `None` where no socket's state is known.
///
/// Only states the transcript printed on the lane's calls are used: a band begins where a call's state was read
/// and runs to the next reading of the same socket; it ends after the socket's close, and after a shutdown that
/// read no state (the state changes there, and we did not see to what). (A descriptor names a socket in one
/// process: a lane's bands are its process's.)
fn bands(items: &[Item], lane: usize) -> Vec<Vec<Option<Band>>> {
    let mut slots: Vec<Option<Band>> = Vec::new();
    let mut rows = Vec::with_capacity(items.len());
    for item in items {
        let mut ended = Vec::new();
        for band in slots.iter_mut().flatten() {
            band.read_here = false;
        }
        if let Item::Call { lane: on, number: Some(number), text, failed, state, .. } = item
            && *on == lane
        {
            let (name, fd) = name_and_fd(text);
            // `LISTEN; fd 4: ESTABLISHED` (accept4): the listener's, then the new connection's.
            for part in state.iter().flat_map(|s| s.split("; ")).filter(|p| !p.is_empty()) {
                let (fd, state) = match part.strip_prefix("fd ").and_then(|p| p.split_once(": ")) {
                    Some((n, state)) => (n.parse().ok(), state),
                    None => (fd, part),
                };
                let Some(fd) = fd else { continue };
                let band = Some(Band { fd, state: state.to_string(), read_here: true, read_after: *number });
                let same = slots.iter().position(|s| s.as_ref().is_some_and(|b| b.fd == fd));
                match same.or_else(|| slots.iter().position(Option::is_none)) {
                    Some(i) => slots[i] = band,
                    None => slots.push(band),
                }
            }
            let read = state.as_deref().is_some_and(|s| !s.is_empty());
            if let Some(fd) = fd.filter(|_| !failed && (name == "close" || (name == "shutdown" && !read))) {
                ended.push(fd);
            }
        }
        rows.push(slots.clone());
        for fd in ended {
            if let Some(slot) = slots.iter_mut().find(|s| s.as_ref().is_some_and(|b| b.fd == fd)) {
                *slot = None;
            }
        }
    }
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    for row in &mut rows {
        row.resize(width, None);
    }
    rows
}

/// `6  accept4(3, {…}) = 4  ⟨…⟩` → (`accept4`, Some(3)): the call's name and the descriptor it was made on.
fn name_and_fd(text: &str) -> (&str, Option<i32>) {
    let call = text.trim_start().trim_start_matches(|c: char| c.is_ascii_digit()).trim_start();
    let Some((name, rest)) = call.split_once('(') else { return ("", None) };
    let first = rest.split([',', ')']).next().unwrap_or("");
    (name, first.trim().parse().ok())
}

/// The state cell of one row: a column per socket track; on the row where a state was read, its chip with its
/// name (and its descriptor); below it, a band of the same colour, with the name again, to the next reading.
fn band_cell(bands: &[Option<Band>]) -> Markup {
    html! {
        @if bands.iter().any(Option::is_some) {
            div.tracks {
                @for band in bands {
                    @match band {
                        Some(b) if b.read_here => {
                            div class={ "track chip " (state_class(&b.state)) } data-state=(b.state) data-fd=(b.fd)
                                title={ "fd " (b.fd) ": " (b.state) ", as the kernel's table reported it right \
                                         after this call" } {
                                span.fd { "fd " (b.fd) } " " (b.state)
                            }
                        }
                        Some(b) => {
                            div class={ "track band " (state_class(&b.state)) } data-band=(b.state) data-fd=(b.fd)
                                title={ "fd " (b.fd) ": " (b.state) " as read after call " (b.read_after) "; it may \
                                         have changed since" } {
                                span { (b.state) }
                            }
                        }
                        None => { div.track {} }
                    }
                }
            }
        }
    }
}

fn direction_class(direction: Direction) -> &'static str {
    match direction {
        Direction::Received => "received",
        Direction::Sent => "sent",
    }
}

/// The CSS class of a TCP state's colour (the names are always written too: colour is never the only cue).
fn state_class(state: &str) -> &'static str {
    match state {
        "LISTEN" => "s-listen",
        "SYN_SENT" | "SYN_RECV" => "s-syn",
        "ESTABLISHED" => "s-established",
        "CLOSE_WAIT" | "LAST_ACK" => "s-close-wait",
        "FIN_WAIT1" | "FIN_WAIT2" | "CLOSING" => "s-fin-wait",
        "TIME_WAIT" => "s-time-wait",
        _ => "s-other",
    }
}

/// The page's style: the Okabe–Ito palette (told apart by colour-blind readers), the terminal's roles where they
/// overlap (Python yellow, received magenta, sent blue, failures red), and A4 for print.
const CSS: &str = r#"
:root { --lane: #444; --py: #8a6d00; --recv: #a0307a; --sent: #0050a0; --fail: #b00020; --ok: #1b7a3a; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, sans-serif; color: #1a1a1a; background: #fff; max-width: 1280px; margin: 0 auto;
  padding: 16px 20px; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
.sub { margin: 0; color: #555; }
.how { color: #333; max-width: 90ch; }
code, pre, .line { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.defs { position: absolute; }
.row { display: grid; }
.lane { padding: 2px 8px; min-height: 6px; }
.lane.left { border-right: 4px solid var(--lane); background: #f3f6fb; }
.lane.right { border-left: 4px solid var(--lane); background: #f6f3fb; }
.lanes .lane { padding: 8px; font-size: 15px; }
.lanes .lane.left { text-align: right; }
.across.output { border-left: 4px solid var(--lane); border-top: 1px dashed #bbb; border-bottom: 1px dashed #bbb;
  padding: 2px 8px; }
.left-out { padding: 8px; }
.row > .whole { grid-column: 1 / -1; }
.py { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; color: var(--py); margin-top: 6px;
  white-space: pre-wrap; overflow-wrap: anywhere; }
.py.blog { font-weight: 600; }
.note { font-style: italic; color: #444; font-size: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
.call { background: #fff; border: 1px solid #8aa; border-left: 5px solid var(--ok); border-radius: 4px;
  padding: 3px 6px; margin: 2px 0; }
.call.failed { border-left-color: var(--fail); }
.call.failed .line { color: var(--fail); }
.call.library { border-left-color: #888; border-style: dashed; }
.line { display: block; white-space: pre-wrap; overflow-wrap: anywhere; }
details summary { cursor: pointer; font-family: ui-monospace, monospace; font-size: 12px; overflow-wrap: anywhere; }
details.received summary { color: var(--recv); }
details.sent summary { color: var(--sent); }
details pre { margin: 4px 0; padding: 4px; background: #f4f4f4; overflow-x: auto; font-size: 11px; }
.st { padding: 0 4px; display: flex; }
.tracks { display: flex; gap: 2px; flex: 1; }
.track { flex: 1 1 0; min-width: 0; }
.track.chip { align-self: flex-start; margin: 3px 0; padding: 3px 1px; }
.track.chip .fd { display: block; font-weight: 400; font-size: 9px; }
.track.band { opacity: .55; font: 9px/1 ui-monospace, monospace; overflow: hidden; white-space: nowrap;
  padding: 2px 1px; border-left: 1px solid #0006; border-right: 1px solid #0006; }
.track.band span { display: block; overflow: hidden; text-overflow: ellipsis; }
.chip { font: 600 11px/1.2 ui-monospace, monospace; padding: 3px 4px; margin-top: 4px; border-radius: 3px;
  text-align: center; overflow-wrap: anywhere; border: 1px solid #0006; }
.s-listen { background: #0072b2; color: #fff; }
.s-syn { background: #56b4e9; color: #000; }
.s-established { background: #009e73; color: #fff; }
.s-close-wait { background: #e69f00; color: #000; }
.s-fin-wait { background: #d55e00; color: #fff; }
.s-time-wait { background: #cc79a7; color: #000; }
.s-other { background: #ddd; color: #000; }
.wire { position: relative; padding: 0 2px; }
.segment .wire { min-height: 30px; }
.seg-label { font: 11px/1.2 ui-monospace, monospace; color: #333; }
.seg-label.right { text-align: left; padding-left: 6px; }
.seg-label.left { text-align: right; padding-right: 6px; }
.kernel { font: italic 10px/1.2 system-ui, sans-serif; color: #555; text-align: center; }
.arrow { display: block; overflow: visible; }
.arrow line { stroke: #333; stroke-width: 1.6; }
#head path { fill: #333; }
.closing pre, .lesson pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #fafafa; padding: 8px;
  border: 1px solid #ddd; }
@media print {
  @page { size: A4; margin: 10mm; }
  body { font-size: 9pt; padding: 0; max-width: none; }
  .row { break-inside: avoid; }
  .lane { background: none; }
  .chip, .call { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  code, pre, .line, .py { font-size: 7.5pt; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn call(number: u64, text: &str, state: Option<&str>) -> Item {
        Item::Call {
            lane: 0,
            number: Some(number),
            text: text.into(),
            failed: false,
            state: state.map(String::from),
            dumps: vec![],
        }
    }

    #[test]
    fn bands_run_from_each_reading_to_the_next_and_end_at_close_and_at_an_unread_shutdown() {
        let items = [
            call(4, "4  listen(3, 1) = 0  ⟨LISTEN⟩", Some("LISTEN")),
            Item::Python { lane: 0, blog: true, text: ">>> s.accept()".into() },
            call(6, "6  accept4(3, …) = 4  ⟨LISTEN; fd 4: ESTABLISHED⟩", Some("LISTEN; fd 4: ESTABLISHED")),
            call(7, "7  recvfrom(4, buf, 4096, 0, NULL, NULL) = 68", None),
            call(8, "8  shutdown(4, SHUT_RDWR) = 0", None),
            call(9, "9  close(4) = 0  ⟨TIME_WAIT⟩", Some("TIME_WAIT")),
            call(10, "10  close(3) = 0", None),
            Item::Note { lane: Some(0), text: "after".into() },
        ];
        let rows = bands(&items, 0);
        let shown = |row: &Vec<Option<Band>>| -> Vec<String> {
            row.iter()
                .map(|b| {
                    b.as_ref()
                        .map_or("-".into(), |b| format!("{}{}{}", b.fd, if b.read_here { "!" } else { ":" }, b.state))
                })
                .collect()
        };
        let all: Vec<Vec<String>> = rows.iter().map(shown).collect();
        assert_eq!(all[0], ["3!LISTEN", "-"]);
        assert_eq!(all[1], ["3:LISTEN", "-"]);
        assert_eq!(all[2], ["3!LISTEN", "4!ESTABLISHED"]);
        assert_eq!(all[3], ["3:LISTEN", "4:ESTABLISHED"]);
        // The shutdown's row still has the band; after it, the state changed unread: no band.
        assert_eq!(all[4], ["3:LISTEN", "4:ESTABLISHED"]);
        assert_eq!(all[5], ["3:LISTEN", "4!TIME_WAIT"]);
        assert_eq!(all[6], ["3:LISTEN", "-"]);
        assert_eq!(all[7], ["-", "-"], "closed: no band after");
    }

    #[test]
    fn a_peers_bytes_reach_the_page_only_as_text() {
        let dir = tempfile::tempdir().expect("a temp folder");
        let path = dir.path().join("page.html");
        let mut page = Page::create(&path, "a <b>title</b>", "text with <script>", true).expect("the page");
        let hostile = b"GET /<script>alert(1)</script> HTTP/1.1\r\nX: \"><img src=x onerror=alert(1)>\r\n\r\n";
        page.python("raw_data = client_connection.recv(4096)");
        let line =
            CallLine { number: 7, who: "", name: "recvfrom", args: "4, buf", result: "78", failed: false, state: None };
        page.call(&line);
        page.data(Direction::Received, hostile, hostile.len() as u64);
        page.note("the request: GET /<script>alert(1)</script>");
        page.output("┆ stdout: <img src=x onerror=alert(1)>");
        page.write("summary with <img src=x>").expect("write the page");
        let html = std::fs::read_to_string(&path).expect("read the page");
        for tag in ["<script", "<img", "<b>"] {
            assert!(!html.contains(tag), "{tag} in the page");
        }
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
        assert!(html.contains("data-call=\"7\""), "{html}");
        assert!(html.contains("◀ received 78 bytes"), "{html}");
    }

    fn segment(label: &str) -> Segment {
        Segment { from_us: false, label: label.into(), line: format!("wire: client → us  {label}") }
    }

    #[test]
    fn segments_printed_just_before_accept4_are_the_kernels_work_and_our_bytes_are_not() {
        let dir = tempfile::tempdir().expect("a temp folder");
        let path = dir.path().join("page.html");
        let mut page = Page::create(&path, "t", "", true).expect("the page");
        let call =
            |number, name| CallLine { number, who: "", name, args: "3", result: "0", failed: false, state: None };
        page.segment(segment("FIN"));
        page.call(&call(4, "listen"));
        page.python("s.accept()");
        page.segment(segment("SYN"));
        page.segment(segment("ACK"));
        page.call(&call(5, "accept4"));
        // Bytes of ours, a call's work: not the kernel's, even before a waiting call.
        page.segment(Segment { from_us: true, ..segment("PSH-ACK, 5 bytes") });
        page.python("client_connection.recv(4096)");
        page.call(&call(6, "recvfrom"));
        page.write("").expect("write the page");
        let html = std::fs::read_to_string(&path).expect("read the page");
        // Only the two segments right before accept4's line, not the one before listen.
        assert_eq!(html.matches("data-kernel=\"5\"").count(), 2, "{html}");
        assert_eq!(html.matches("data-kernel=").count(), 2, "{html}");
        assert!(html.contains("before call 5 (accept4) returned"), "{html}");
    }
    #[test]
    fn a_long_run_keeps_the_page_small_and_says_what_it_left_out() {
        let dir = tempfile::tempdir().expect("a temp folder");
        let path = dir.path().join("page.html");
        let mut page = Page::for_program(&path, "hhttpp trace: a server traced for long").expect("the page");
        // Six processes: four lanes of their own, and one the last two share.
        let lanes: Vec<usize> = (0..6).map(|pid| page.lane(format!("pid {pid}"))).collect();
        assert_eq!(lanes, [0, 1, 2, 3, 4, 4]);
        let bytes = vec![b'x'; 4096];
        for number in 1..=2000 {
            page.on(lanes[number as usize % 6]);
            let line = CallLine {
                number,
                who: "",
                name: "sendto",
                args: "4, buf",
                result: "4096",
                failed: false,
                state: None,
            };
            page.call(&line);
            page.data(Direction::Sent, &bytes, bytes.len() as u64);
            page.segment(segment("PSH-ACK, 4096 bytes"));
        }
        page.write("").expect("write the page");
        let html = std::fs::read_to_string(&path).expect("read the page");
        assert!(html.len() < 2_000_000, "{} bytes", html.len());
        let kept = html.matches("data-call=").count() as u64;
        assert!(kept > 100, "{kept} calls kept");
        let segments = html.matches("data-segment=").count() as u64;
        let said = format!(
            "the transcript has the rest ({}, {}",
            plural(2000 - kept, "call", "calls"),
            plural(2000 - segments, "segment", "segments")
        );
        assert!(html.contains(&said), "{said}: {}", &html[html.len() - 3000..]);
        assert!(html.contains("2 more processes: each call names its pid"), "the shared lane's heading");
    }
}
