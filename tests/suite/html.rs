//! `--html FILE`: the page drawn from the run, loaded in headless Chromium.
//!
//! The page must hold what the transcript holds (every numbered call, in order; with `--packets`, one arrow per
//! segment line), show both lanes (checked in a screenshot's pixels), turn a hostile peer's bytes into text only,
//! and load nothing from the network (no tag that could, and no request in Chromium's net log; a last test shows that
//! the log does catch a page that loads). Each test starts Chromium once at most.
//!
//! `HHTTPP_UPDATE_ASSETS=1 cargo test html_page_shows` writes the screenshot the README shows,
//! `assets/html-timeline.png`.

use std::fs;
use std::io::Cursor;
use std::path::Path;

use crate::browser::{Browser, Scratch, browser};
use crate::common::{self, Need, Running};
use crate::packets::may_capture;

/// Runs `hhttpp ARGS --html PAGE` to its end and returns its transcript and the page.
fn run_with_page(args: &[&str], page: &Path) -> (String, String) {
    let mut all = args.to_vec();
    let page_arg = page.to_str().expect("a UTF-8 temp path");
    all.extend_from_slice(&["--html", page_arg]);
    let done = Running::start(&all).finish();
    assert!(done.status.success(), "{:?}\n{}{}", done.status, done.stdout, done.stderr);
    let html = fs::read_to_string(page).unwrap_or_else(|err| panic!("no page at {}: {err}", page.display()));
    (done.stdout, html)
}

/// The DOM Chromium made of the page at `page`. Chromium's net log of the load is left in `scratch`'s `net.json`.
fn dom_of(browser: &Browser, scratch: &Scratch, page: &Path, extra: &[&str]) -> String {
    let url = format!("file://{}", page.display());
    let log = format!("--log-net-log={}", scratch.path("net.json").display());
    let mut args = vec!["--dump-dom", &log];
    args.extend_from_slice(extra);
    args.push(&url);
    let shown = browser.run(scratch, &args);
    assert!(shown.status.success(), "{:?}\n{}", shown.status, shown.stderr);
    // Chromium exits 0 even when the page failed: the DOM must be ours.
    assert!(shown.stdout.contains("class=\"timeline"), "not the page's DOM:\n{}\n{}", shown.stdout, shown.stderr);
    shown.stdout
}

/// Text as Chromium writes it between tags.
fn as_dom_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('\u{a0}', "&nbsp;")
}

/// The transcript's numbered call lines (`  7  recvfrom(…) = 68`, or a traced thread's `12  [pid 9] read(…)`),
/// trimmed.
fn call_lines(transcript: &str) -> Vec<&str> {
    transcript
        .lines()
        .filter(|line| {
            let mut words = line.split_whitespace().peekable();
            if words.next().is_none_or(|n| n.parse::<u64>().is_err()) {
                return false;
            }
            if words.peek() == Some(&"[pid") {
                words.nth(1);
            }
            words.next().is_some_and(|w| w.contains('('))
        })
        .map(str::trim)
        .collect()
}

/// Each of `lines` is in `dom`, in this order.
fn assert_in_order(dom: &str, lines: &[&str]) {
    let mut from = 0;
    for line in lines {
        let text = as_dom_text(line);
        match dom[from..].find(&text) {
            Some(at) => from += at + text.len(),
            None => panic!("the DOM has not {line:?} (after byte {from}):\n{dom}"),
        }
    }
}

/// The page has one arrow per segment line of the transcript (of a handshake, a request, a reply and two FINs at
/// least), each carrying its line, in order.
fn assert_an_arrow_per_segment(transcript: &str, dom: &str) {
    let segments: Vec<&str> =
        transcript.lines().map(str::trim).filter(|l| l.starts_with("wire: ") && l.contains(" → ")).collect();
    assert!(segments.len() >= 9, "a handshake, a request, a reply and two FINs:\n{transcript}");
    assert_eq!(dom.matches("data-segment=\"\"").count(), segments.len(), "{dom}");
    assert_in_order(dom, &segments);
}

/// The elements the page is made of: nothing that runs or loads (no script, img, link, iframe, object…).
const ELEMENTS: &[&str] = &[
    "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "svg", "defs", "marker", "path", "line", "header",
    "h1", "h2", "p", "code", "main", "div", "span", "strong", "details", "summary", "pre", "section",
];

/// The page refers to nothing on the network and has no script: every tag in the file (a `<` starts one, since
/// every text is escaped) is one of [`ELEMENTS`], with no `src`, `href` or URL in it, and the style sheet loads
/// nothing.
fn assert_self_contained(html: &str) {
    for tag in html.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap_or_default();
        let name = tag.trim_start_matches('/').split([' ', '/']).next().unwrap_or_default();
        assert!(ELEMENTS.contains(&name), "an element the page should not have: <{tag}>");
        for bad in ["src=", "href=", "http:", "https:", "//"] {
            assert!(!tag.contains(bad), "a reference in <{tag}>");
        }
    }
    let style = html.split("<style>").nth(1).and_then(|s| s.split("</style>").next()).expect("a style sheet");
    assert!(!style.contains("url(") && !style.contains("@import"), "the style sheet loads something");
}

/// The requests the page made, from Chromium's net log: each request's initiator. The browser's own requests
/// (updates, time; the flags turn most off) have the initiator `not an origin`; a file:// page's have `null`.
fn page_requests(scratch: &Scratch) -> Vec<String> {
    let log = fs::read_to_string(scratch.path("net.json")).expect("Chromium's net log");
    log.match_indices("\"initiator\":\"")
        .map(|(at, key)| log[at + key.len()..].split('"').next().unwrap_or_default().to_string())
        .filter(|initiator| initiator != "not an origin")
        .collect()
}

#[test]
fn html_page_turns_a_hostile_request_into_text() {
    let Some(browser) = browser() else { return };
    let scratch = Scratch::new();
    let page = scratch.path("page.html");
    let page_arg = page.to_str().expect("a UTF-8 temp path").to_string();
    let mut lesson = Running::start(&["lesson", "serve-text", "--port", "0", "--html", &page_arg]);
    let addr = lesson.address();
    let request = b"GET /<script>alert(1)</script> HTTP/1.1\r\nHost: localhost\r\n\
                    X-Evil: \"><img src=x onerror=alert(1)>\r\n\r\n";
    let reply = common::exchange(addr, request);
    assert!(!reply.is_empty(), "the lesson answered");
    let done = lesson.finish();
    assert!(done.status.success(), "{:?}\n{}{}", done.status, done.stdout, done.stderr);
    let html = fs::read_to_string(&page).expect("the page");
    assert_self_contained(&html);
    let dom = dom_of(&browser, &scratch, &page, &[]);
    assert!(!dom.contains("<script"), "an element from the peer's bytes:\n{dom}");
    assert!(!dom.contains("<img"), "an element from the peer's bytes:\n{dom}");
    // The bytes are shown, as text.
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{dom}");
    assert!(dom.contains("\"&gt;&lt;img s"), "the header's start in the dump's text column:\n{dom}");
}

/// The share of a screenshot's pixels of each lane's background (client `#f3f6fb`, server `#f6f3fb`), in its left
/// and right halves.
fn lane_shares(path: &Path) -> (f64, f64) {
    let data = fs::read(path).unwrap_or_else(|err| panic!("no screenshot at {}: {err}", path.display()));
    let mut decoder = png::Decoder::new(Cursor::new(data));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a PNG small enough")];
    let info = reader.next_frame(&mut buf).expect("a whole PNG");
    let samples = info.color_type.samples();
    let (width, height) = (info.width as usize, info.height as usize);
    let (mut client, mut server) = (0usize, 0usize);
    for (i, pixel) in buf[..info.buffer_size()].chunks_exact(samples).enumerate() {
        let left = i % width < width / 2;
        match (pixel[0], pixel[1], pixel[2]) {
            (0xf3, 0xf6, 0xfb) if left => client += 1,
            (0xf6, 0xf3, 0xfb) if !left => server += 1,
            _ => {}
        }
    }
    let half = (width * height / 2) as f64;
    (client as f64 / half, server as f64 / half)
}

/// serve-text `--client` (with `--packets` where we may capture): one Chromium start makes the DOM and a 1280 px
/// screenshot of the page.
#[test]
fn html_page_shows_every_call_in_order_every_segment_and_both_lanes() {
    let Some(browser) = browser() else { return };
    let scratch = Scratch::new();
    let page = scratch.path("page.html");
    let capture = may_capture();
    let mut args = vec!["lesson", "serve-text", "--port", "0", "--client"];
    if capture {
        args.push("--packets");
    }
    let (transcript, html) = run_with_page(&args, &page);
    assert_self_contained(&html);

    let shot = scratch.path("shot.png");
    let flag = format!("--screenshot={}", shot.display());
    let dom = dom_of(&browser, &scratch, &page, &[&flag, "--window-size=1280,1100", "--hide-scrollbars"]);
    assert_eq!(page_requests(&scratch), Vec::<String>::new(), "the page made requests");

    // Every numbered call, in order, one box each, with its dumps behind <details>.
    let calls = call_lines(&transcript);
    assert!(calls.len() >= 10, "{transcript}");
    assert_in_order(&dom, &calls);
    assert_eq!(dom.matches("data-call=\"").count(), calls.len(), "one box per numbered call");
    assert!(dom.contains("◀ received 68 bytes"), "{dom}");
    assert!(dom.contains("0000:   47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a"), "{dom}");

    // The state bands: a state read is a chip with its name; the band under it, to the socket's next reading, has
    // the name too. The listener's first, then the connection's.
    let mut from = 0;
    for attr in
        ["data-state=\"LISTEN\"", "data-band=\"LISTEN\"", "data-state=\"ESTABLISHED\"", "data-band=\"ESTABLISHED\""]
    {
        let at = dom[from..].find(attr).unwrap_or_else(|| panic!("no {attr} after byte {from}:\n{dom}"));
        from += at + attr.len();
    }
    let read = transcript.matches('⟨').count();
    assert!(dom.matches("data-state=\"").count() >= read, "a chip for each state read: {transcript}");

    // Both lanes, in the pixels. Measured: the client's lane fills about a quarter of the left half, the server's
    // more than half of the right half; a page without lanes has none of either colour.
    let (client, server) = lane_shares(&shot);
    assert!(client > 0.10, "the client's lane: {client:.3} of the left half");
    assert!(server > 0.20, "the server's lane: {server:.3} of the right half");
    if std::env::var_os("HHTTPP_UPDATE_ASSETS").is_some() {
        let asset = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/html-timeline.png");
        fs::copy(&shot, &asset).expect("write assets/html-timeline.png");
    }

    // One arrow per segment line of the transcript, each carrying its line, in order.
    if !capture {
        return;
    }
    assert_an_arrow_per_segment(&transcript, &dom);
}

#[test]
fn every_lessons_default_page_is_self_contained_and_under_2_mb() {
    let dir = common::temp_dir();
    let mut server = Running::start(&["lesson", "serve-text", "--port", "0"]);
    let url = format!("http://{}/", server.address());
    let runs: Vec<(&str, Vec<String>)> = vec![
        ("bind", vec!["lesson".into(), "bind".into(), "--port".into(), "0".into()]),
        ("accept", ["lesson", "accept", "--port", "0", "--client"].map(String::from).to_vec()),
        ("echo-request", ["lesson", "echo-request", "--port", "0", "--client"].map(String::from).to_vec()),
        ("serve-text", ["lesson", "serve-text", "--port", "0", "--client"].map(String::from).to_vec()),
        ("serve-binary", ["lesson", "serve-binary", "--port", "0", "--client"].map(String::from).to_vec()),
        ("fetch", vec!["lesson".into(), "fetch".into(), url]),
    ];
    std::thread::scope(|scope| {
        for (name, args) in &runs {
            let page = dir.path().join(format!("{name}.html"));
            scope.spawn(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let (_, html) = run_with_page(&args, &page);
                assert_self_contained(&html);
                assert!(html.len() < 2_000_000, "{name}: {} bytes", html.len());
                assert!(html.contains("data-call=\"1\""), "{name}: no first call");
            });
        }
        // serve-folder serves until Ctrl-C: one request from its client, then the interrupt.
        scope.spawn(|| {
            let page = dir.path().join("serve-folder.html");
            let page_arg = page.to_str().expect("a UTF-8 temp path");
            let mut lesson = Running::start(&["lesson", "serve-folder", "--port", "0", "--client", "--html", page_arg]);
            lesson.wait_for("answered 200 OK");
            lesson.interrupt();
            let done = lesson.finish();
            assert_eq!(done.status.code(), Some(130), "{}{}", done.stdout, done.stderr);
            let html = fs::read_to_string(&page).expect("serve-folder's page");
            assert_self_contained(&html);
            assert!(html.len() < 2_000_000, "serve-folder: {} bytes", html.len());
        });
    });
    let done = server.finish();
    assert!(done.status.success(), "{}", done.stderr);
}

#[test]
fn a_lesson_that_fails_still_writes_its_page_up_to_the_failed_call() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port to take");
    let port = taken.local_addr().expect("its address").port().to_string();
    let dir = common::temp_dir();
    let page = dir.path().join("bind.html");
    let page_arg = page.to_str().expect("a UTF-8 temp path");
    let done = Running::start(&["lesson", "bind", "--port", &port, "--html", page_arg]).finish();
    assert_eq!(done.status.code(), Some(1), "{}{}", done.stdout, done.stderr);
    let html = fs::read_to_string(&page).expect("the page of the failed run");
    assert_self_contained(&html);
    let failed = call_lines(&done.stdout).into_iter().find(|l| l.contains("EADDRINUSE")).expect("the failed bind");
    assert!(html.contains("class=\"call failed\""), "{html}");
    // maud escapes quotes in text too.
    assert!(html.contains(&as_dom_text(failed).replace('"', "&quot;")), "{html}");
    assert!(html.contains("the lesson stopped: cannot bind"), "{html}");
}

#[test]
fn the_net_log_check_sees_a_page_that_loads_from_the_network() {
    let Some(browser) = browser() else { return };
    let scratch = Scratch::new();
    let page = scratch.path("page.html");
    // Port 9 (discard) on loopback: nothing answers, but the request is made, and logged.
    fs::write(&page, "<main class=\"timeline\"><img src=\"http://127.0.0.1:9/x.png\"></main>").expect("a page");
    dom_of(&browser, &scratch, &page, &[]);
    assert_eq!(page_requests(&scratch), vec!["null".to_string()]);
}

/// `hhttpp trace --html` of a forking server (with `--packets` where we may capture), sent a hostile request: a
/// lane per process, each call on its process's lane and in order, one arrow per segment line, the peer's bytes as
/// text only, and nothing loaded from the network.
#[test]
fn a_trace_page_has_a_lane_per_process_every_call_on_its_own_and_the_peers_bytes_as_text() {
    use std::io::{Read, Write};
    if !(common::have(Need::Strace, "strace", "-V") && common::have(Need::Python3, "python3", "--version")) {
        return;
    }
    let Some(browser) = browser() else { return };
    let scratch = Scratch::new();
    let page = scratch.path("trace.html");
    let page_arg = page.to_str().expect("a UTF-8 temp path");
    let capture = may_capture();
    let mut args = vec!["trace", "--html", page_arg];
    if capture {
        args.push("--packets");
    }
    args.extend_from_slice(&["--", "python3", "tests/programs/forking_server.py"]);
    let mut traced = Running::start(&args);
    let mut client = std::net::TcpStream::connect(traced.address()).expect("connect");
    client.set_read_timeout(Some(common::PATIENCE)).expect("timeout");
    let request = b"GET /<script>alert(1)</script> HTTP/1.1\r\nHost: localhost\r\n\
                    X-Evil: \"><img src=x onerror=alert(1)>\r\n\r\n";
    client.write_all(request).expect("the request");
    // The child answers 84 bytes, then reads until the client closes.
    let mut reply = [0u8; 84];
    client.read_exact(&mut reply).expect("the reply");
    drop(client);
    let done = traced.finish();
    assert_eq!(done.status.code(), Some(0), "{}{}", done.stdout, done.stderr);
    let transcript = done.stdout;
    let html = fs::read_to_string(&page).expect("the page");
    assert_self_contained(&html);
    assert!(html.len() < 2_000_000, "{} bytes", html.len());
    let dom = dom_of(&browser, &scratch, &page, &[]);
    assert_eq!(page_requests(&scratch), Vec::<String>::new(), "the page made requests");

    // Two lanes of the program's: its first process, and the child it forked.
    assert!(dom.contains("data-lane=\"0\"><strong>the program (pid "), "{dom}");
    assert!(dom.contains("data-lane=\"1\"><strong>pid "), "{dom}");
    assert!(!dom.contains("data-lane=\"2\""), "two processes, two lanes:\n{dom}");
    // Every numbered call in order, each on its process's lane: the child's are the lines marked [pid N].
    let calls = call_lines(&transcript);
    assert!(calls.len() >= 12, "{transcript}");
    assert_in_order(&dom, &calls);
    assert_eq!(dom.matches("data-call=\"").count(), calls.len(), "one box per numbered call");
    for line in &calls {
        let number = line.split_whitespace().next().expect("a number");
        let lane = if line.contains("[pid ") { 1 } else { 0 };
        let tag = format!("data-call=\"{number}\" data-lane=\"{lane}\"");
        assert!(dom.contains(&tag), "call {number} is not on lane {lane}: {line}\n{dom}");
    }
    assert!(calls.iter().any(|l| l.contains("[pid ") && l.contains("sendmsg(4, msg, 0) = 84")), "{transcript}");

    // The peer's bytes, as text only.
    assert!(!dom.contains("<script"), "an element from the peer's bytes:\n{dom}");
    assert!(!dom.contains("<img"), "an element from the peer's bytes:\n{dom}");
    assert!(dom.contains("GET /&lt;script&gt;alert(1)&lt;/script&gt;"), "{dom}");

    if !capture {
        return;
    }
    assert_an_arrow_per_segment(&transcript, &dom);
    // The handshake crossed before the accept4 returned: the kernel's work, said so.
    assert!(dom.contains("the kernel's work: it crossed before call "), "{dom}");
}
