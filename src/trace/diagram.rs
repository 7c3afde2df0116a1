//! The picture at the end of a lesson: a sequence diagram of each connection, drawn from what really happened.
//!
//! The traced socket records an [`Event`] after each call that changed a connection; [`render`] draws them, the
//! client on the left and the server on the right, whichever side we are. Consecutive receives (or sends) on one
//! connection are drawn as one arrow that says how many calls it took. We draw only what a call tells us: a `FIN`
//! where a `shutdown` sent one or a `recvfrom` returned 0, never packets we cannot see.

use std::net::SocketAddr;
use std::os::fd::RawFd;

use super::format::plural;
use crate::escape::escape;

/// Which end of a connection this program is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// Something a call did to a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// `accept4` returned the connection (we are the server) or `connect` made it (we are the client).
    Opened { fd: RawFd, peer: SocketAddr, we_are: Side },
    /// One `call` (`recvfrom`, or in `hhttpp trace` `read`, `recvmsg`…) returned `bytes`; `first_line` is the
    /// start of them, escaped.
    Received { fd: RawFd, call: &'static str, bytes: u64, first_line: String },
    /// One `call` (`sendto`, `writev`…) sent `bytes`.
    Sent { fd: RawFd, call: &'static str, bytes: u64, first_line: String },
    /// One `sendfile` sent `bytes` from a file (we never saw them, so there is no first line to show).
    SentFile { fd: RawFd, bytes: u64 },
    /// A read (`call`: `recvfrom`, `read`…) returned 0: the peer sent FIN, it will send nothing more.
    PeerClosed { fd: RawFd, call: &'static str },
    /// We called `shutdown(how)`; `SHUT_WR` and `SHUT_RDWR` send a FIN.
    Shutdown { fd: RawFd, how: &'static str },
    /// A call on the connection failed.
    Failed { fd: RawFd, call: &'static str, errno: String },
    /// We closed the connection's descriptor.
    Closed { fd: RawFd },
}

impl Event {
    fn fd(&self) -> RawFd {
        match self {
            Event::Opened { fd, .. }
            | Event::Received { fd, .. }
            | Event::Sent { fd, .. }
            | Event::SentFile { fd, .. }
            | Event::PeerClosed { fd, .. }
            | Event::Shutdown { fd, .. }
            | Event::Failed { fd, .. }
            | Event::Closed { fd } => *fd,
        }
    }
}

/// The first line of some bytes, escaped, as an arrow's label: `GET / HTTP/1.1`.
pub fn first_line(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == b'\n').unwrap_or(bytes.len()).min(64);
    let line = bytes[..end].strip_suffix(b"\r").unwrap_or(&bytes[..end]);
    escape(line)
}

/// The width of the arrows, between the two lifelines.
pub(crate) const WIDTH: usize = 56;

/// One connection's story: who we are, who the peer is, and the rows to draw.
struct Connection {
    fd: RawFd,
    peer: SocketAddr,
    we_are: Side,
    rows: Vec<Row>,
    open: bool,
}

/// One arrow (or a mark on our lifeline), with what our call was.
enum Row {
    /// Bytes or a FIN from the client to the server (`to_server`) or back, with a label and our call(s).
    /// `calls` counts the calls of the arrow's last kind, `call`; `earlier` names those of other kinds before them
    /// (`1 × sendto + `: a head sent with `sendto`, then a file with `sendfile`).
    Arrow {
        to_server: bool,
        label: String,
        ours: String,
        call: &'static str,
        earlier: String,
        calls: u64,
        bytes: u64,
        data: bool,
    },
    /// Something on our side only (a close, a failed call).
    Mark { text: String },
}

/// The diagram's lines, one block per connection, for the last `max` connections; empty when the lesson made no
/// connection.
pub fn render(events: &[Event], max: usize, forgotten: u64, me: &str) -> Vec<String> {
    let mut connections: Vec<Connection> = Vec::new();
    for event in events {
        if let Event::Opened { fd, peer, we_are } = event {
            let ours = match we_are {
                Side::Server => format!("accept4 = {fd}"),
                Side::Client => "connect".to_string(),
            };
            let opened = Row::Arrow {
                to_server: true,
                label: "connect".into(),
                ours,
                call: "",
                earlier: String::new(),
                calls: 1,
                bytes: 0,
                data: false,
            };
            connections.push(Connection { fd: *fd, peer: *peer, we_are: *we_are, rows: vec![opened], open: true });
            continue;
        }
        // The newest open connection on this fd (a closed fd number can be given to the next connection).
        let Some(conn) = connections.iter_mut().rev().find(|c| c.open && c.fd == event.fd()) else { continue };
        let we_send_to_server = conn.we_are == Side::Client;
        match event {
            Event::Opened { .. } => {}
            Event::Received { call, bytes, first_line, .. } => {
                push_data(&mut conn.rows, !we_send_to_server, *bytes, first_line, call);
            }
            Event::Sent { call, bytes, first_line, .. } => {
                push_data(&mut conn.rows, we_send_to_server, *bytes, first_line, call);
            }
            Event::SentFile { bytes, .. } => {
                push_data(&mut conn.rows, we_send_to_server, *bytes, "", "sendfile");
            }
            Event::PeerClosed { call, .. } => conn.rows.push(Row::Arrow {
                to_server: !we_send_to_server,
                label: "FIN: nothing more to send".into(),
                ours: format!("{call} = 0"),
                call: "",
                earlier: String::new(),
                calls: 1,
                bytes: 0,
                data: false,
            }),
            Event::Shutdown { how, .. } => {
                if *how == "SHUT_RD" {
                    conn.rows.push(Row::Mark { text: format!("shutdown({how})") });
                } else {
                    conn.rows.push(Row::Arrow {
                        to_server: we_send_to_server,
                        label: "FIN: nothing more to send".into(),
                        ours: format!("shutdown({how})"),
                        call: "",
                        earlier: String::new(),
                        calls: 1,
                        bytes: 0,
                        data: false,
                    });
                }
            }
            Event::Failed { call, errno, .. } => conn.rows.push(Row::Mark { text: format!("{call} = -1 {errno}") }),
            Event::Closed { fd } => {
                conn.rows.push(Row::Mark { text: format!("close({fd})") });
                conn.open = false;
            }
        }
    }
    let mut lines = Vec::new();
    let skip = connections.len().saturating_sub(max);
    if skip > 0 || forgotten > 0 {
        let shown = connections.len() - skip;
        lines.push(format!("(the last {shown} of {} connections)", connections.len() as u64 + forgotten));
        lines.push(String::new());
    }
    for (i, conn) in connections.iter().skip(skip).enumerate() {
        if i > 0 {
            lines.push(String::new());
        }
        lines.extend(draw(conn, me));
    }
    lines
}

/// Adds bytes to the last arrow when it carries data the same way, or starts a new one.
fn push_data(rows: &mut Vec<Row>, to_server: bool, n: u64, first_line: &str, call: &'static str) {
    if let Some(Row::Arrow { to_server: way, call: last, earlier, calls, bytes, data: true, ours, .. }) =
        rows.last_mut()
        && *way == to_server
    {
        if *last == call {
            *calls += 1;
        } else {
            *earlier = format!("{earlier}{calls} × {last} + ");
            *last = call;
            *calls = 1;
        }
        *bytes += n;
        *ours = format!("{earlier}{calls} × {call}");
        return;
    }
    rows.push(Row::Arrow {
        to_server,
        label: first_line.to_string(),
        ours: call.to_string(),
        call,
        earlier: String::new(),
        calls: 1,
        bytes: n,
        data: true,
    });
}

fn draw(conn: &Connection, me: &str) -> Vec<String> {
    // The names line up with the lifelines; the peer's address (its port varies) goes last, on a line of its own.
    let (left, right, peer) = match conn.we_are {
        Side::Server => ("client".to_string(), format!("server ({me}, fd {})", conn.fd), "client"),
        Side::Client => (format!("client ({me}, fd {})", conn.fd), "server".to_string(), "server"),
    };
    let mut lines = vec![format!("{left:<w$}{right}", w = WIDTH + 1), format!("│{:w$}│", "", w = WIDTH)];
    for row in &conn.rows {
        lines.push(match row {
            Row::Arrow { to_server, label, ours, bytes, data, .. } => {
                let label = if *data { format!("{}  {label}", plural(*bytes, "byte", "bytes")) } else { label.clone() };
                format!("│{}│  {ours}", arrow(*to_server, &label))
            }
            Row::Mark { text } => format!("│{:w$}│  {text}", "", w = WIDTH),
        });
    }
    lines.push(format!("(the {peer}: {})", conn.peer));
    lines
}

/// `─── label ──────▶` or `◀── label ───────`, exactly `WIDTH` characters; a long label is cut with `…`.
pub(crate) fn arrow(to_server: bool, label: &str) -> String {
    // Four characters before the label, a space after it, and at least one `─` and the head: 7 in all.
    let room = WIDTH - 7;
    let label = if label.chars().count() > room {
        format!("{}…", label.chars().take(room - 1).collect::<String>())
    } else {
        label.to_string()
    };
    let fill = "─".repeat(WIDTH - 6 - label.chars().count());
    if to_server { format!("─── {label} {fill}▶") } else { format!("◀── {label} {fill}─") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        "127.0.0.1:51234".parse().unwrap()
    }

    #[test]
    fn a_served_request_is_drawn_client_left_server_right() {
        let events = [
            Event::Opened { fd: 4, peer: peer(), we_are: Side::Server },
            Event::Received { fd: 4, call: "recvfrom", bytes: 10, first_line: "GET / HTTP/1.1".into() },
            Event::Received { fd: 4, call: "recvfrom", bytes: 63, first_line: "Host: x".into() },
            Event::Sent { fd: 4, call: "sendto", bytes: 118, first_line: "HTTP/1.1 200 OK".into() },
            Event::Shutdown { fd: 4, how: "SHUT_RDWR" },
            Event::Closed { fd: 4 },
        ];
        let lines = render(&events, 10, 0, "us");
        assert_eq!(lines[0], format!("{:<57}server (us, fd 4)", "client"));
        assert_eq!(lines[7], "(the client: 127.0.0.1:51234)");
        assert!(lines[2].starts_with("│─── connect ─") && lines[2].ends_with("▶│  accept4 = 4"), "{}", lines[2]);
        assert!(lines[3].contains("─── 73 bytes  GET / HTTP/1.1 ─") && lines[3].ends_with("▶│  2 × recvfrom"));
        assert!(lines[4].starts_with("│◀── 118 bytes  HTTP/1.1 200 OK ─") && lines[4].ends_with("│  sendto"));
        assert!(lines[5].starts_with("│◀── FIN: nothing more to send") && lines[5].ends_with("│  shutdown(SHUT_RDWR)"));
        assert!(lines[6].ends_with("│  close(4)"));
        let widths: Vec<_> = lines[1..7].iter().map(|l| l.split('│').nth(1).map_or(0, |a| a.chars().count())).collect();
        assert!(widths.iter().all(|w| *w == WIDTH), "every arrow spans the gap: {widths:?}");
    }

    #[test]
    fn a_reused_fd_starts_a_new_connection() {
        let events = [
            Event::Opened { fd: 4, peer: peer(), we_are: Side::Server },
            Event::PeerClosed { fd: 4, call: "read" },
            Event::Closed { fd: 4 },
            Event::Opened { fd: 4, peer: peer(), we_are: Side::Server },
            Event::Failed { fd: 4, call: "sendto", errno: "EPIPE".into() },
            Event::Closed { fd: 4 },
        ];
        let lines = render(&events, 10, 0, "us");
        assert_eq!(lines.iter().filter(|l| l.starts_with("client ")).count(), 2);
        assert_eq!(lines.iter().filter(|l| l.starts_with("(the client: ")).count(), 2);
        assert!(
            lines.iter().any(|l| l.ends_with("│  read = 0") && l.starts_with("│─── FIN")),
            "the read's own name: {lines:?}"
        );
        assert!(lines.iter().any(|l| l.ends_with("│  sendto = -1 EPIPE")));
    }

    #[test]
    fn only_the_last_connections_are_drawn() {
        let events: Vec<_> = (0..5)
            .flat_map(|_| [Event::Opened { fd: 4, peer: peer(), we_are: Side::Server }, Event::Closed { fd: 4 }])
            .collect();
        let lines = render(&events, 2, 0, "us");
        assert_eq!(lines[0], "(the last 2 of 5 connections)");
        assert_eq!(lines.iter().filter(|l| l.starts_with("client ")).count(), 2);
    }

    #[test]
    fn a_long_label_is_cut_to_fit() {
        let a = arrow(true, &"x".repeat(200));
        assert_eq!(a.chars().count(), WIDTH);
        assert!(a.contains('…'));
    }
}
