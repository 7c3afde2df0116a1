//! The lessons that serve a page, opened by a real browser: Debian's headless Chromium loads the lesson's URL.
//!
//! These tests prove that what the lessons send is real HTTP that a browser accepts and shows: serve-text's DOM
//! holds the heading, serve-binary's JPEG is drawn (checked in the pixels of a screenshot), and each lesson's
//! transcript shows Chromium's own request arriving in a `recvfrom` and the answer going out. A last test shows that
//! the pixel check can fail: it rejects a page that did not load and a page without the picture.
//!
//! Without a browser (`chromium`, then `chromium-browser`, on PATH) each test fails and says what to install,
//! unless `HHTTPP_SKIP=chromium` asks to skip them knowingly.
//!
//! Every browser run is bounded: Chromium's `--timeout` stops a page load that hangs, and the browser's process group
//! is killed once [`PATIENCE`] has passed. Each run gets a fresh profile folder, removed afterwards.

use std::fs::{self, File};
use std::io::Cursor;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::{PATIENCE, Running, dumped_bytes};

/// The flags of every browser run: headless, no sandbox (we may run as root), and nothing that talks to the
/// internet or pops up on a first run. `--user-data-dir` and the run's own flags follow them.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// How long Chromium itself waits for a page before it stops loading and shows what it has: well inside
/// [`PATIENCE`], so that a hanging page ends the browser before the test has to kill it.
const PAGE_TIMEOUT: Duration = Duration::from_secs(10);

/// The lesson's `--timeout`: should Chromium park a spare connection in the lesson's queue before the one that
/// carries its request, the lesson closes the quiet one after this many seconds and accepts the next.
const QUIET_SECS: &str = "5";

/// The picture the serve-binary lesson sends.
const PICTURE: &str = "assets/ice-caps.jpg";

/// The browser window of a screenshot: larger than the 320x200 picture, which Chromium draws centred.
const WINDOW: &str = "--window-size=400,300";

// The shares of its pixels a screenshot of the picture must show. Measured on the real screenshot (400x300, 120,000
// pixels, the picture drawn centred on Chromium's dark background), the same on every run: ocean 10,317 (8.6%),
// ice 652 (0.54%), dark 97,249 (81%). On serve-text's page (black text on white): ocean 0, ice 118,475 (98.7%),
// dark 1,139 (0.9%). A page that fails to load leaves no screenshot at all. Each bound leaves the picture a wide
// margin on its side and the white page far on the other.

/// At least this share of the pixels is clearly blue ocean (measured 8.6%, a white page 0%).
const MIN_OCEAN: f64 = 0.03;

/// At least this share is pale ice (measured 0.54%, about 650 pixels: the caps, the stars, glints on the sea).
const MIN_ICE: f64 = 0.001;

/// At most this share is pale (measured 0.54%): a blank or white page is nearly all pale (98.7%).
const MAX_ICE: f64 = 0.10;

/// At least this share is near-black space (measured 81%, a white page 0.9%; the picture alone is 64% dark, so
/// even on a white background the window would be 34% dark).
const MIN_DARK: f64 = 0.15;

/// Headless Chromium, found on PATH.
pub(crate) struct Browser {
    program: PathBuf,
}

/// The browser, or `None` when there is none and `HHTTPP_SKIP` asks to skip the test; fails the test otherwise.
pub(crate) fn browser() -> Option<Browser> {
    if let Some(program) = find_browser() {
        return Some(Browser { program });
    }
    crate::common::unavailable(crate::common::Need::Chromium);
    None
}

/// The first of `chromium` (Debian's name) and `chromium-browser` that is an executable file on PATH.
fn find_browser() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser"].into_iter().find_map(|name| {
        std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| is_executable(candidate))
    })
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// A fresh folder for one browser run (its profile, its output, its screenshot), removed when dropped.
pub(crate) struct Scratch(tempfile::TempDir);

impl Scratch {
    pub(crate) fn new() -> Scratch {
        Scratch(crate::common::temp_dir())
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

/// What one browser run left: its exit status and what it printed.
pub(crate) struct Shown {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Browser {
    /// Runs the browser with [`FLAGS`], a fresh profile in `scratch`, and `args`; waits at most [`PATIENCE`], then
    /// kills the browser and all its helpers (they share its process group) and fails.
    pub(crate) fn run(&self, scratch: &Scratch, args: &[&str]) -> Shown {
        let (out, err) = (scratch.path("stdout"), scratch.path("stderr"));
        let mut child = Command::new(&self.program)
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", scratch.path("profile").display()))
            .arg(format!("--timeout={}", PAGE_TIMEOUT.as_millis()))
            .args(args)
            .stdin(Stdio::null())
            // Files, not pipes: reading a pipe to its end would also wait for every helper that inherited it.
            .stdout(File::create(&out).expect("create the browser's stdout file"))
            .stderr(File::create(&err).expect("create the browser's stderr file"))
            .process_group(0)
            .spawn()
            .unwrap_or_else(|err| panic!("start {}: {err}", self.program.display()));
        let group = rustix::process::Pid::from_raw(child.id() as i32).expect("a process id is positive");
        let (send, done) = mpsc::channel();
        std::thread::spawn(move || send.send(child.wait()));
        let status = done.recv_timeout(PATIENCE).unwrap_or_else(|_| {
            // The browser's process group only: the browser has not ended (we would have heard), so its group id is
            // still its own.
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            // Let the waiting thread reap it before the profile folder goes.
            let _ = done.recv_timeout(PATIENCE);
            let stderr = fs::read_to_string(&err).unwrap_or_default();
            panic!("the browser did not finish within {PATIENCE:?} ({args:?}); killed it. Its stderr:\n{stderr}")
        });
        Shown {
            status: status.expect("wait for the browser"),
            stdout: fs::read_to_string(&out).expect("read the browser's stdout"),
            stderr: fs::read_to_string(&err).expect("read the browser's stderr"),
        }
    }

    /// A screenshot of `url` in a 400x300 window, in `scratch`. Chromium exits 0 whether or not the page loaded (and
    /// may write no file when it did not), so only the picture's pixels tell.
    fn screenshot(&self, scratch: &Scratch, url: &str) -> (PathBuf, Shown) {
        let shot = scratch.path("shot.png");
        let flag = format!("--screenshot={}", shot.display());
        let shown = self.run(scratch, &[&flag, WINDOW, url]);
        assert!(shown.status.success(), "the screenshot run failed: {:?}\n{}", shown.status, shown.stderr);
        (shot, shown)
    }
}

/// Starts `hhttpp lesson ARGS --port 0 --full-dump --timeout 5` and returns it with its URL.
fn start_lesson(args: &[&str]) -> (Running, String) {
    let mut all = vec!["lesson"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--port", "0", "--full-dump", "--timeout", QUIET_SECS]);
    let mut lesson = Running::start(&all);
    let url = format!("http://{}/", lesson.address());
    (lesson, url)
}

/// Waits (at most PATIENCE) for the lesson's answer, lets it end, and checks that it ended well; returns the
/// transcript.
fn finish_lesson(mut lesson: Running) -> String {
    lesson.wait_for("answered 200 OK");
    let done = lesson.finish();
    assert!(done.status.success(), "the lesson failed: {:?}\n{}\n{}", done.status, done.stderr, done.stdout);
    assert_eq!(done.stderr, "", "a lesson that succeeds prints nothing on stderr");
    done.stdout
}

/// The transcript shows a `recvfrom` whose dump is Chromium's request for `/`.
fn assert_chromiums_request(transcript: &str) {
    // Each numbered line is a socket call (`  8  recvfrom(5, buf, …) = 645`); the dumps under it are its bytes.
    let mut call = "";
    let received = transcript.lines().any(|line| {
        let mut words = line.split_whitespace();
        if words.next().is_some_and(|n| n.parse::<u32>().is_ok()) && words.next().is_some_and(|w| w.contains('(')) {
            call = line;
        }
        call.contains("recvfrom(") && line.contains("◀ received") && line.contains("\"GET / HTTP/1.1\\r\\n")
    });
    assert!(received, "no recvfrom with a GET / HTTP/1.1 in the transcript:\n{transcript}");
    let request = String::from_utf8_lossy(&dumped_bytes(transcript, "◀")).into_owned();
    assert!(request.starts_with("GET / HTTP/1.1\r\n"), "the dumped request: {request:?}");
    let agent = request.lines().find(|line| line.to_ascii_lowercase().starts_with("user-agent:"));
    assert!(agent.is_some_and(|agent| agent.contains("Chrome/")), "not Chromium's request: {request:?}");
}

/// How a screenshot's pixels fall into the colours of the picture.
#[derive(Debug)]
struct Census {
    pixels: usize,
    /// Clearly blue: the oceans.
    ocean: usize,
    /// Bright and nearly grey: the ice caps (and the stars, and the glints on the sea).
    ice: usize,
    /// Near black: space, and Chromium's dark background around an image.
    dark: usize,
}

impl Census {
    fn share(&self, count: usize) -> f64 {
        count as f64 / self.pixels.max(1) as f64
    }
}

/// Decodes the PNG at `path` and counts its ocean, ice and dark pixels.
fn census(path: &Path) -> Result<Census, String> {
    let data = fs::read(path).map_err(|err| format!("no screenshot at {}: {err}", path.display()))?;
    let mut decoder = png::Decoder::new(Cursor::new(data));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|err| format!("not a PNG: {err}"))?;
    let mut buf = vec![0; reader.output_buffer_size().ok_or("a PNG too large to decode")?];
    let info = reader.next_frame(&mut buf).map_err(|err| format!("a broken PNG: {err}"))?;
    let samples = info.color_type.samples();
    let mut census = Census { pixels: 0, ocean: 0, ice: 0, dark: 0 };
    for pixel in buf[..info.buffer_size()].chunks_exact(samples) {
        let (r, g, b) = match pixel {
            [grey] | [grey, _] => (*grey, *grey, *grey),
            [r, g, b, ..] => (*r, *g, *b),
            [] => continue,
        };
        let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
        census.pixels += 1;
        let (darkest, brightest) = (r.min(g).min(b), r.max(g).max(b));
        if b >= 80 && b >= r + 40 && b >= g + 25 {
            census.ocean += 1;
        } else if darkest >= 150 && brightest - darkest <= 70 {
            // The caps are a pale, slightly blue white, none brighter than 208 in all three channels: bright and
            // nearly grey, not pure white.
            census.ice += 1;
        } else if brightest <= 40 {
            census.dark += 1;
        }
    }
    Ok(census)
}

/// Whether the screenshot at `path` shows the picture: a good share of ocean, some ice but not a white page, and
/// space around them.
fn shows_the_picture(path: &Path) -> Result<Census, String> {
    let census = census(path)?;
    let (ocean, ice, dark) = (census.share(census.ocean), census.share(census.ice), census.share(census.dark));
    if ocean < MIN_OCEAN {
        return Err(format!("too little ocean: {ocean:.4} < {MIN_OCEAN} in {census:?}"));
    }
    if !(MIN_ICE..=MAX_ICE).contains(&ice) {
        return Err(format!("ice outside {MIN_ICE}..={MAX_ICE}: {ice:.4} in {census:?}"));
    }
    if dark < MIN_DARK {
        return Err(format!("too little dark space: {dark:.4} < {MIN_DARK} in {census:?}"));
    }
    Ok(census)
}

#[test]
fn serve_text_shows_the_heading_in_a_real_browser() {
    let Some(browser) = browser() else { return };
    let (lesson, url) = start_lesson(&["serve-text"]);
    let scratch = Scratch::new();
    let shown = browser.run(&scratch, &["--dump-dom", &url]);
    assert!(shown.status.success(), "the browser failed: {:?}\n{}", shown.status, shown.stderr);
    assert!(shown.stdout.contains("<h1>Hello World</h1>"), "the DOM:\n{}\nstderr:\n{}", shown.stdout, shown.stderr);
    let transcript = finish_lesson(lesson);
    assert_chromiums_request(&transcript);
    assert!(transcript.contains("answered 200 OK"), "{transcript}");
}

#[test]
fn serve_binary_picture_renders_in_a_real_browser() {
    let Some(browser) = browser() else { return };
    let picture = fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(PICTURE)).expect("the picture");
    let (lesson, url) = start_lesson(&["serve-binary", PICTURE]);
    let scratch = Scratch::new();
    let (shot, shown) = browser.screenshot(&scratch, &url);
    let census = shows_the_picture(&shot).unwrap_or_else(|why| panic!("no picture: {why}\n{}", shown.stderr));
    eprintln!("the picture in Chromium: {census:?}");
    let transcript = finish_lesson(lesson);
    assert_chromiums_request(&transcript);
    let sent = format!("sendall: {} bytes in", hhttpp::trace::format::count(picture.len() as u64));
    assert!(transcript.contains(&sent), "no {sent:?} in the transcript:\n{transcript}");
    assert!(dumped_bytes(&transcript, "▶").ends_with(&picture), "the ▶ dumps end with the JPEG, byte for byte");
}

#[test]
fn the_picture_check_rejects_a_failed_page() {
    let Some(browser) = browser() else { return };
    // A port where nothing listens: bound by the OS for us, then let go, so the browser's connect is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let scratch = Scratch::new();
    let (shot, shown) = browser.screenshot(&scratch, &format!("http://127.0.0.1:{port}/"));
    let verdict = shows_the_picture(&shot);
    eprintln!("a refused page in Chromium: {verdict:?}");
    assert!(verdict.is_err(), "a refused page passed the picture check: {verdict:?}\n{}", shown.stderr);
}

#[test]
fn the_picture_check_rejects_a_page_without_the_picture() {
    let Some(browser) = browser() else { return };
    let (lesson, url) = start_lesson(&["serve-text"]);
    let scratch = Scratch::new();
    let (shot, shown) = browser.screenshot(&scratch, &url);
    let census = census(&shot).unwrap_or_else(|why| panic!("the page loaded, so there is a screenshot: {why}"));
    let verdict = shows_the_picture(&shot);
    eprintln!("a page of text in Chromium: {verdict:?}");
    assert!(verdict.is_err(), "a page of text passed the picture check: {census:?}\n{}", shown.stderr);
    finish_lesson(lesson);
}

#[test]
fn serve_folder_loads_the_page_its_style_sheet_and_picture_in_a_real_browser() {
    let Some(browser) = browser() else { return };
    let mut lesson = Running::start(&["lesson", "serve-folder", "assets/site", "--port", "0", "--quiet"]);
    let url = format!("http://{}/", lesson.address());
    let scratch = Scratch::new();
    let shot = scratch.path("site.png");
    let started = std::time::Instant::now();
    let shown = browser.run(&scratch, &[&format!("--screenshot={}", shot.display()), "--window-size=800,600", &url]);
    let took = started.elapsed();
    assert!(shown.status.success(), "the browser failed: {:?}\n{}", shown.status, shown.stderr);
    lesson.interrupt();
    let done = lesson.finish();
    for resource in ["GET / → 200 OK", "GET /style.css → 200 OK", "GET /ice-caps.jpg → 200 OK"] {
        assert!(done.stdout.contains(resource), "no {resource:?}:\n{}", done.stdout);
    }
    for line in done.stdout.lines().filter(|line| line.contains(" → ") && !line.contains(" → 200 OK")) {
        assert!(line.starts_with("GET /favicon.ico "), "a resource of the page was not served: {line}");
    }
    // The style sheet makes the page dark; the picture brings its oceans.
    let census = census(&shot).unwrap_or_else(|why| panic!("no screenshot: {why}"));
    assert!(census.share(census.dark) > 0.5, "the style sheet was not applied: {census:?}");
    assert!(census.ocean > 2_000, "the picture is not on the page: {census:?}");
    // Shown, not asserted: on a loaded machine the browser's own start-up takes seconds (speed is bench/'s job).
    eprintln!("Chromium loaded the page, its style sheet and its picture in {took:?} (browser start-up included)");
}
