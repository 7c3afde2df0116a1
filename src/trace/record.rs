//! What the calls did, kept beside the transcript: the counts for the summary, the diagram's events, and the
//! connections' address pairs (to look them up in the kernel's table after the last close).
//!
//! The transcript prints; this records. A lesson's `Tracer` and `hhttpp trace` both keep one.

use std::net::SocketAddr;

use super::diagram::Event;

/// Which way bytes crossed the socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `recvfrom` brought them in.
    Received,
    /// `sendto` sent them out.
    Sent,
}

/// What has been counted so far, for the closing summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Every numbered call, failed or not.
    pub calls: u64,
    /// Calls that returned -1.
    pub failed: u64,
    /// `accept4` calls that returned a connection.
    pub connections: u64,
    /// `recvfrom` calls, and the bytes they returned.
    pub recv_calls: u64,
    pub bytes_received: u64,
    /// `sendto` calls, and the bytes the kernel took.
    pub send_calls: u64,
    pub bytes_sent: u64,
    /// `sendfile` calls, and the bytes the kernel took from the file (they never passed through our memory).
    pub sendfile_calls: u64,
    pub bytes_sendfile: u64,
}

/// The counts, the events and the address pairs of one run.
///
/// A lesson's record keeps the events and pairs of its last few connections only ([`Record::keeping`]), since the
/// diagram and the aftermath show no more: a server that answers for hours keeps the same few hundred bytes.
#[derive(Debug, Default)]
pub struct Record {
    stats: Stats,
    events: Vec<Event>,
    pairs: Vec<(SocketAddr, SocketAddr)>,
    /// Keep the events and pairs of at most this many connections, the newest; `None`: all of them.
    keep: Option<usize>,
    /// Connections whose events were let go, to count them in the diagram's title.
    forgotten_connections: u64,
    /// Pairs let go, to count them in the aftermath.
    forgotten_pairs: u64,
}

impl Record {
    /// Counts one call; returns its number in the transcript (1 for the first).
    pub fn call(&mut self, failed: bool) -> u64 {
        self.stats.calls += 1;
        if failed {
            self.stats.failed += 1;
        }
        self.stats.calls
    }

    /// Counts the `total` bytes one call moved.
    pub fn data(&mut self, direction: Direction, total: u64) {
        match direction {
            Direction::Received => {
                self.stats.recv_calls += 1;
                self.stats.bytes_received += total;
            }
            Direction::Sent => {
                self.stats.send_calls += 1;
                self.stats.bytes_sent += total;
            }
        }
    }

    /// Counts one `sendfile` call that moved `total` bytes.
    pub fn sendfile(&mut self, total: u64) {
        self.stats.sendfile_calls += 1;
        self.stats.bytes_sendfile += total;
    }

    /// Counts a connection that `accept4` returned.
    pub fn connection(&mut self) {
        self.stats.connections += 1;
    }

    /// A record that keeps the events and pairs of the newest `connections` connections only (at least one).
    pub fn keeping(connections: usize) -> Record {
        Record { keep: Some(connections), ..Record::default() }
    }

    /// Keeps what a call did to a connection, for the diagram.
    pub fn event(&mut self, event: Event) {
        if let (Some(keep), Event::Opened { .. }) = (self.keep, &event) {
            let opened = |e: &&Event| matches!(e, Event::Opened { .. });
            if self.events.iter().filter(opened).count() >= keep.max(1) {
                // The oldest connection's events go: everything before the second `Opened`.
                let second = self.events.iter().enumerate().filter(|(_, e)| opened(e)).nth(1);
                let end = second.map_or(self.events.len(), |(i, _)| i);
                self.events.drain(..end);
                self.forgotten_connections += 1;
            }
        }
        self.events.push(event);
    }

    /// Remembers a connection (our address, the peer's), to show what the kernel keeps of it after the lesson.
    pub fn pair(&mut self, local: SocketAddr, remote: SocketAddr) {
        // A connection is looked up after each of its calls: it is most often the newest one.
        if self.pairs.iter().rev().any(|p| *p == (local, remote)) {
            return;
        }
        self.pairs.push((local, remote));
        if let Some(keep) = self.keep
            && self.pairs.len() > keep
        {
            let gone = self.pairs.len() - keep;
            self.pairs.drain(..gone);
            self.forgotten_pairs += gone as u64;
        }
    }

    /// How many connections' events were let go (see [`Record::keeping`]).
    pub fn forgotten_connections(&self) -> u64 {
        self.forgotten_connections
    }

    /// How many connections' pairs were let go (see [`Record::keeping`]).
    pub fn forgotten_pairs(&self) -> u64 {
        self.forgotten_pairs
    }

    /// The counts so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The events so far, in the order the calls made them.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The connections seen so far, each once.
    pub fn pairs(&self) -> &[(SocketAddr, SocketAddr)] {
        &self.pairs
    }
}
