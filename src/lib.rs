//! `bptt` derives the gradients of a recurrent neural network symbolically, step by step, in the index notation
//! of the blog post it follows, and proves every step with numbers.
//!
//! ```
//! use bptt::session::{Options, Session};
//! let s = Session::load(Options::default()).unwrap();
//! let d = bptt::derive::derive(&s.plan, &s.rules, Default::default()).unwrap();
//! let n = bptt::verify::verify(&s, &d, false).unwrap();
//! assert!(n.ok());
//! let last = d.beats.last().unwrap();
//! assert_eq!(bptt::render::text::render(&last.whole, bptt::render::text::Style::Ascii, 100),
//!            "sum_{k=1}^{3} dL/dh^(k)[i] * s^(k-1)[p]");
//! ```
pub mod check;
pub mod cli;
pub mod closed;
pub mod dense;
pub mod derive;
pub mod diag;
pub mod error;
pub mod exact;
pub mod eval;
pub mod lang;
pub mod limits;
pub mod matrix;
pub mod model;
pub mod notation;
pub mod options;
pub mod params;
pub mod plot;
pub mod read;
pub mod plan;
pub mod print;
pub mod render;
pub mod rules;
pub mod session;
pub mod soundness;
pub mod sexp;
pub mod stepper;
pub mod verify;

/// Run `f` with egg's timer stopped on this thread. egg times every e-graph rebuild with `quanta`, and the first
/// reading in a process calibrates the CPU's time-stamp counter against the OS clock in a busy loop — several
/// milliseconds of CPU (a tenth of a whole `bptt derive`, measured with `perf`), on the path of the first
/// derivation. Those timings only feed egg's logs, so a mock clock (which never calibrates) serves.
pub fn without_egg_timing<R>(f: impl FnOnce() -> R) -> R {
    let (clock, _) = quanta::Clock::mock();
    quanta::with_clock(&clock, f)
}
