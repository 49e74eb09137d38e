//! The result for any number of steps: a plan states its final form with a symbolic T (`closed …`); this module
//! checks it against the unrolled derivations for T = 1..8 — symbolically (the rules produce exactly that form)
//! and numerically (its value equals the gradient computed from the goal).
use crate::derive::derive;
use crate::error::Result;
use crate::eval::Numeric;
use crate::lang::{Expr, num};
use crate::render::text::{Style, render};
use crate::session::{Options, Session};
use crate::stepper::Limits;
use egg::RecExpr;

/// The steps for which the closed form is checked.
pub const CHECK_STEPS: std::ops::RangeInclusive<usize> = 1..=8;

/// The outcome for one T.
#[derive(Debug, Clone)]
pub struct AtT {
    pub steps: usize,
    /// The derivation at this T ends in exactly the closed form with T replaced.
    pub same_form: bool,
    /// Relative difference between the closed form's value and the gradient, at seeded parameters.
    pub rel_error: f64,
}

/// The closed form with the symbol `T` replaced by a number.
pub fn instantiate(closed: &RecExpr<Expr>, steps: usize) -> RecExpr<Expr> {
    RecExpr::from(
        closed
            .as_ref()
            .iter()
            .map(|n| match n {
                Expr::Symbol(s) if s.as_str() == "T" => num(steps as f64),
                n => n.clone(),
            })
            .collect::<Vec<_>>(),
    )
}

/// Check `closed` for T = 1..8 with the same model, activation and sizes as `base` (seeded parameters).
pub fn check(base: &Options, closed: &RecExpr<Expr>, limits: Limits) -> Result<Vec<AtT>> {
    let mut out = vec![];
    for steps in CHECK_STEPS {
        let o = Options { steps: Some(steps), params: None, ..base.clone() };
        let s = Session::load(o)?;
        let d = derive(&s.plan, &s.rules, limits)?;
        let last = d.beats.last().map(|b| b.whole.clone()).unwrap_or_else(|| d.goal.clone());
        let inst = instantiate(closed, steps);
        let same_form = render(&last, Style::Ascii, usize::MAX / 4) == render(&inst, Style::Ascii, usize::MAX / 4);
        let mut num = Numeric::new(&s.model, &s.sizes, &s.params);
        let goal = num.tensor(&d.goal)?;
        let value = num.tensor_with(&inst, &goal.indices, &goal.dims, &[])?;
        out.push(AtT { steps, same_form, rel_error: value.rel_diff(&goal) });
    }
    Ok(out)
}
