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
#[derive(Debug, Default)]
pub struct Record {
    stats: Stats,
    events: Vec<Event>,
    pairs: Vec<(SocketAddr, SocketAddr)>,
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

    /// Keeps what a call did to a connection, for the diagram.
    pub fn event(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Remembers a connection (our address, the peer's), to show what the kernel keeps of it after the lesson.
    pub fn pair(&mut self, local: SocketAddr, remote: SocketAddr) {
        if !self.pairs.contains(&(local, remote)) {
            self.pairs.push((local, remote));
        }
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
