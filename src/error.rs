//! The library's error type: every failure a user can cause, with a message that says what to do.
use crate::diag::Diags;

/// Everything that can go wrong before a result exists. Exit code 2 at the command line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Problems in a source text (rule, model, plan or params file, or a formula), each with its position.
    #[error("{0}")]
    Source(Diags),
    /// A file could not be read.
    #[error("cannot read {path}: {reason}")]
    Io { path: String, reason: String },
    /// A result could not be written (a full disk, a file that cannot be created).
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
    /// Options that do not fit together or are out of range.
    #[error("{0}")]
    Usage(String),
    /// The rewriting stopped at a limit before the beat was done.
    #[error("{0}")]
    Limit(String),
    /// The rules ran but did not reach the form the plan expects.
    #[error("{0}")]
    Stuck(String),
    /// An expression reads a value that does not exist (h⁽⁰⁾, x⁽ᵀ⁺¹⁾, W⁽ʳ⁾[4,1] at hidden size 3): `check`
    /// refutes such a formula; elsewhere it is an error.
    #[error("{0}")]
    Missing(String),
    /// A number could not be computed (e.g. an index out of range in a hand-written rule).
    #[error("{0}")]
    Eval(String),
}

impl From<crate::diag::Diag> for Error {
    fn from(d: crate::diag::Diag) -> Self {
        Error::Source(Diags(vec![d]))
    }
}

pub type Result<T> = std::result::Result<T, Error>;
