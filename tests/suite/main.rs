//! hhttpp's integration tests, in one test binary so that they run at the same time: each module tests the real
//! `hhttpp` binary as a user would, over real sockets on loopback, and some against strace, `ss`, Chromium, python's
//! `http.server` and nginx.

mod common;

mod browser;
mod check;
mod folder;
mod hostile;
mod html;
mod inputs;
mod installed;
mod lessons;
mod packets;
mod robustness;
mod sendfile;
mod strace;
mod tcp_states;
mod teaching;
mod trace;
