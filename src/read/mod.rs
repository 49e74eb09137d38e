//! Readers for formulas written by people: the text syntax bptt prints, Unicode or ASCII ([`text`]), and the LaTeX
//! subset of study notes ([`latex`]).
mod core;
pub mod latex;
pub mod text;

pub use core::NO_MODEL_SIZE;
pub(crate) use core::sizes_from_use;

use crate::lang::Expr;
use egg::{Id, RecExpr};

/// The two formula syntaxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// What `bptt` prints, Unicode or ASCII.
    Text,
    /// The LaTeX subset of study notes.
    Latex,
}

/// Read a formula in `syntax`, with σ standing for the activation `sigma` (the model's). `file` names the source
/// in error messages. With a model, each Σ ranges over the size its index is used with (W⁽ʸ⁾[m,a]: m over n_y).
pub fn read_with(syntax: Syntax, text: &str, file: &str, model: Option<&crate::model::Model>, sigma: crate::notation::Act) -> Result<RecExpr<Expr>, crate::diag::Diag> {
    match syntax {
        Syntax::Text => core::read(text, file, model, sigma, text::tokenize, "check for a missing operator or parenthesis"),
        Syntax::Latex => core::read(text, file, model, sigma, latex::tokenize, "check for a missing operator or an extra brace"),
    }
}

/// How deeply a formula may nest (parentheses, functions, ∂ prefixes): recursion over the tree stays shallow.
pub const MAX_DEPTH: usize = 200;

/// A reader's nesting depth, shared by both readers' recursive descent.
pub(crate) trait Nesting: Sized {
    fn depth(&mut self) -> &mut usize;
    /// The error at the current position.
    fn here(&self, msg: &str, hint: &str) -> crate::diag::Diag;
    /// Run `f` one level deeper; past [`MAX_DEPTH`] it is an error at the current position.
    fn deeper<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, crate::diag::Diag>) -> Result<T, crate::diag::Diag> {
        *self.depth() += 1;
        if *self.depth() > MAX_DEPTH {
            return Err(self.here("the formula nests too deeply", "split it into smaller parts"));
        }
        let r = f(self);
        *self.depth() -= 1;
        r
    }
}

/// A number literal as written: finite, and exactly the decimal written (no digits lost to the float), so that a
/// proof and the numbers reason about the same value.
pub fn number(text: &str) -> Result<f64, String> {
    let v: f64 = text.parse().map_err(|_| format!("`{text}` is not a number"))?;
    if !v.is_finite() {
        return Err(format!("`{text}` is not a finite number"));
    }
    if !crate::exact::literal_is_exact(text, v) {
        return Err(format!("`{text}` has more digits than a 64-bit number holds (about 17 significant digits)"));
    }
    Ok(v)
}

/// Every number in a Σ-over-time bound must be whole: Err(the number) otherwise.
pub fn whole_bound(e: &RecExpr<Expr>, id: Id) -> Result<(), f64> {
    let mut stack = vec![id];
    while let Some(n) = stack.pop() {
        match &e[n] {
            Expr::Num(v) if v.fract() != 0.0 => return Err(v.into_inner()),
            node => stack.extend(egg::Language::children(node).iter().copied()),
        }
    }
    Ok(())
}
