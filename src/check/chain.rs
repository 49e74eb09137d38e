//! A whole hand derivation (`bptt check --steps-file`): one expression per line, a chain of equalities as in a
//! student's notes. Every line must equal the gradient; the first line that does not breaks the chain, and gets
//! the counterexample and the diagnosis. Lines after it are compared with the line before them.
use super::{Checked, check, random_test, read_formula};
use crate::closed::instantiate;
use crate::derive::Derivation;
use crate::error::Result;
use crate::lang::Expr;
use crate::session::Session;
use crate::stepper::Limits;
use egg::RecExpr;

/// One line of the file and what became of it.
pub struct Line {
    /// 1-based line number in the file.
    pub number: usize,
    pub formula: RecExpr<Expr>,
    pub status: Status,
}

pub enum Status {
    /// Checked against the gradient (every line up to and including the first broken one).
    Checked(Box<Checked>),
    /// After the break: equal (at the random points) to the line before, or not.
    FollowsPrevious(bool),
}

/// The lines of a derivation file that hold formulas: blank lines and `#` comments are skipped, and a leading
/// `=` (a continued chain) is dropped.
pub fn formula_lines(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let t = l.trim();
            if t.is_empty() || t.starts_with('#') || t.starts_with('%') {
                return None;
            }
            let t = t.strip_prefix('=').unwrap_or(t).trim();
            let t = t.strip_prefix('&').unwrap_or(t).trim_start_matches('=').trim();
            Some((i + 1, t.trim_end_matches("\\\\").trim().to_string()))
        })
        .collect()
}

/// Check every line of `text` (named `file` in errors).
#[allow(clippy::too_many_arguments)]
pub fn check_chain(s: &Session, d: &Derivation, cat: &super::mistakes::Catalogue, text: &str, file: &str, einstein: bool, n: usize, limits: Limits) -> Result<Vec<Line>> {
    let lines = formula_lines(text);
    if lines.is_empty() {
        return Err(crate::error::Error::Usage(format!("{file} holds no formula: write one expression per line (# starts a comment)")));
    }
    let mut read = vec![];
    for (number, t) in &lines {
        read.push((*number, read_formula(s, t, &format!("{file}:{number}"), einstein)?));
    }
    let mut out: Vec<Line> = vec![];
    let mut broken = false;
    for (number, formula) in read {
        let status = if broken {
            let prev = instantiate(&out.last().map(|l| l.formula.clone()).unwrap_or_default(), &s.model, s.sizes.steps);
            let this = instantiate(&formula, &s.model, s.sizes.steps);
            Status::FollowsPrevious(matches!(random_test(s, &this, &prev, &s.sizes, n), Ok(Ok(None))))
        } else {
            let c = check(s, d, cat, &formula, n, limits)?;
            broken = c.refuted();
            Status::Checked(Box::new(c))
        };
        out.push(Line { number, formula, status });
    }
    Ok(out)
}
