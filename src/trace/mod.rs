//! The traced socket, the transcript it prints, and the record of what it did.
//!
//! - [`socket`]: [`TracedSocket`], the only code that makes the lessons' socket calls; one method, one call, one
//!   printed line.
//! - [`transcript`]: [`Transcript`], the printer: numbered calls, the blog's Python, hex dumps, notes.
//! - [`record`]: [`Record`], what the calls did: the counts, the diagram's events, the connections.
//! - [`tracer`]: [`Tracer`], a lesson's transcript and record, lent to its sockets.
//! - [`tcp`]: the kernel's TCP table, read to show each socket's state, with [`sock_diag`]'s exact lookups.
//! - [`format`]: addresses and counts written the way strace and people read them.
//! - [`packets`]: `--packets` and `--pcap`: the lesson's TCP segments captured on `lo`, beside the calls.
//! - [`html`]: `--html FILE`: the same record drawn as a page, two lanes and time going down.
//! - [`diagram`]: the sequence diagram drawn from the record.
//! - [`files`]: the files a run writes (`--html`, `--pcap`), made out of the lesson's way.
//! - [`style`]: the colour roles.
//!
//! This file only names the parts; none of them reaches back into it.

pub mod diagram;
pub mod files;
pub mod format;
pub mod html;
pub mod packets;
pub mod record;
pub mod sock_diag;
pub mod socket;
pub mod style;
pub mod tcp;
pub mod tracer;
pub mod transcript;

pub use diagram::{Event, Side};
pub use record::{Direction, Record, Stats};
pub use socket::{Sendall, Sendfile, TracedSocket};
pub use tracer::Tracer;
pub use transcript::{CallLine, Ending, Fate, Gap, Transcript};
