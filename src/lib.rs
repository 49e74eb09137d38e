//! `bptt` derives the gradients of a recurrent neural network symbolically, step by step, in the index notation
//! of the blog post it follows, and proves every step with numbers.
//!
//! ```
//! // ∂L/∂W⁽ʳ⁾ of the blog's RNN at T = 3, every step checked by numbers, the closed form checked for T = 1..8
//! let c = bptt::derive_checked(bptt::Options::default(), Default::default(), false, &mut |_| {}).unwrap();
//! assert!(c.ok());
//! let last = c.derivation.beats.last().unwrap();
//! assert_eq!(bptt::render(&last.whole, bptt::Style::Ascii, 100), "sum_{k=1}^{3} dL/dh^(k)[i] * s^(k-1)[p]");
//!
//! // a hand derivation, refuted: the time index is off by one
//! let (_, verdict) = bptt::check_formula(bptt::Options::default(), "sum_{k=1}^{T} dL/dh^(k)[i] * s^(k)[p]", "mine", false, 8, Default::default()).unwrap();
//! assert!(verdict.unwrap().refuted());
//!
//! // a fifth activation is a row of the table: softplus
//! let o = bptt::Options { activation: bptt::Act::named("softplus").unwrap(), ..Default::default() };
//! let (_, g) = bptt::gradient(o, Default::default(), false).unwrap();
//! assert_eq!(g.dims, [3, 3]);
//! ```
// The facade: what a program needs to derive, check and evaluate (the commands are these, printed).
pub use error::{Error, Result};
pub use notation::{ACTIVATIONS, Act};
pub use options::{Loss, Options};
pub use pipeline::{Checked, check_formula, closed_form, derive_checked, gradient};
pub use print::{Style, render};
pub use read::{Syntax, read_with as read_formula};
pub use session::Session;

// The modules (ARCHITECTURE.md draws their layers; tests/architecture.rs checks them). They stay public for the
// tests and the benchmarks; the hidden ones are documented in the code but are not a stable interface.
#[doc(hidden)]
pub mod check;
#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod closed;
#[doc(hidden)]
pub mod dense;
#[doc(hidden)]
pub mod derive;
#[doc(hidden)]
pub mod diag;
pub mod error;
#[doc(hidden)]
pub mod exact;
#[doc(hidden)]
pub mod eval;
#[doc(hidden)]
pub mod lang;
#[doc(hidden)]
pub mod limits;
#[doc(hidden)]
pub mod matrix;
#[doc(hidden)]
pub mod model;
pub mod notation;
pub mod options;
#[doc(hidden)]
pub mod params;
pub mod pipeline;
#[doc(hidden)]
pub mod plan;
pub mod print;
#[doc(hidden)]
pub mod plot;
pub mod read;
#[doc(hidden)]
pub mod render;
#[doc(hidden)]
pub mod rules;
pub mod session;
#[doc(hidden)]
pub mod soundness;
#[doc(hidden)]
pub mod sexp;
#[doc(hidden)]
pub mod stepper;
#[doc(hidden)]
pub mod verify;

/// Run `f` with egg's timer stopped on this thread. egg times every e-graph rebuild with `quanta`, and the first
/// reading in a process calibrates the CPU's time-stamp counter against the OS clock in a busy loop — several
/// milliseconds of CPU (a tenth of a whole `bptt derive`, measured with `perf`), on the path of the first
/// derivation. Those timings only feed egg's logs, so a mock clock (which never calibrates) serves.
pub fn without_egg_timing<R>(f: impl FnOnce() -> R) -> R {
    let (clock, _) = quanta::Clock::mock();
    quanta::with_clock(&clock, f)
}
