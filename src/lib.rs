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
pub mod eval;
pub mod lang;
pub mod model;
pub mod params;
pub mod plot;
pub mod read;
pub mod plan;
pub mod render;
pub mod rules;
pub mod session;
pub mod soundness;
pub mod sexp;
pub mod stepper;
pub mod verify;
