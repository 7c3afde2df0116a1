//! The TCP states a lesson prints are the kernel's: at each pause of `--step`, `ss -tan` (which asks the kernel
//! over netlink, not through /proc) must show the same state for the same socket.
//!
//! Needs `ss` (Debian's iproute2); without it the test fails and says so, unless `HHTTPP_SKIP=ss` asks to skip it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;

use crate::common::{PATIENCE, REQUEST, Running};

/// The state `ss -tan` reports for the connection from `local` to `remote` (`None` for a listening socket's
/// wildcard peer), in the kernel's spelling (`ESTAB` becomes `ESTABLISHED`).
fn ss_state(local: SocketAddr, remote: Option<SocketAddr>) -> String {
    let out = Command::new("ss").args(["-tanH"]).output().expect("run ss");
    let text = String::from_utf8_lossy(&out.stdout);
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(state), Some(l), Some(r)) = (fields.first(), fields.get(3), fields.get(4)) else { continue };
        let peer_matches = match remote {
            Some(remote) => *r == remote.to_string(),
            None => r.ends_with(":*"),
        };
        if *l == local.to_string() && peer_matches {
            return match *state {
                "ESTAB" => "ESTABLISHED".to_string(),
                other => other.replace('-', "_").replace("WAIT_", "WAIT"),
            };
        }
    }
    "absent".to_string()
}

/// The state the transcript printed at the end of `line`: `… = 0  ⟨LISTEN⟩` → `LISTEN`.
fn printed_state(line: &str) -> String {
    line.rsplit_once('⟨').and_then(|(_, s)| s.strip_suffix('⟩')).unwrap_or("none").to_string()
}

#[test]
fn the_states_a_lesson_prints_are_the_ones_ss_sees_at_the_same_moment() {
    if !crate::common::have(crate::common::Need::Ss, "ss", "-V") {
        return;
    }
    let (mut lesson, mut enter) = Running::start_with_stdin(&["lesson", "echo-request", "--port", "0", "--step"]);
    let mut press = |times: usize| enter.write_all(&b"\n".repeat(times)).expect("press Enter");
    // socket, setsockopt, bind, listen: then paused before getsockname.
    press(4);
    let listen = lesson.wait_for("  listen(3, 1) = 0");
    // getsockname: then paused before accept4, the port now known.
    press(1);
    let server = lesson.address();
    assert_eq!(printed_state(&listen), "LISTEN");
    assert_eq!(ss_state(server, None), "LISTEN", "paused after listen");

    let mut client = TcpStream::connect(server).expect("connect");
    client.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let me = client.local_addr().expect("the client's address");
    press(1);
    let accept = lesson.wait_for("  accept4(3, ");
    assert_eq!(printed_state(&accept), "LISTEN; fd 4: ESTABLISHED");
    assert_eq!(ss_state(server, Some(me)), "ESTABLISHED", "paused after accept4");

    client.write_all(REQUEST).expect("send the request");
    press(1);
    let recv = lesson.wait_for("  recvfrom(4, ");
    assert_eq!(printed_state(&recv), "ESTABLISHED");
    assert_eq!(ss_state(server, Some(me)), "ESTABLISHED", "paused after recvfrom");
    press(1);
    let send = lesson.wait_for("  sendto(4, ");
    assert_eq!(printed_state(&send), "ESTABLISHED");
    assert_eq!(ss_state(server, Some(me)), "ESTABLISHED", "paused after sendto");

    // shutdown, close, close; the client reads to the end and closes too.
    press(3);
    let mut reply = Vec::new();
    client.read_to_end(&mut reply).expect("the reply");
    drop(client);
    let done = lesson.finish();
    assert!(done.status.success(), "{}", done.stderr);
    let after = done.stdout.split(&format!("{server} ↔ {me}\n")).nth(1).expect("the kernel's table after the lesson");
    let now = after.lines().find(|l| l.trim_start().starts_with("now: ")).expect("what the table says now");
    assert_eq!(now.trim(), "now: ours TIME_WAIT, the client's no entry", "{after}");
    assert_eq!(ss_state(server, Some(me)), "TIME_WAIT", "after the lesson");
}
