//! The result for any number of steps: a plan states its final form with a symbolic T (`closed …`); this module
//! checks it against the unrolled derivations for T = 1..8 — symbolically (the rules produce exactly that form)
//! and numerically (its value equals the gradient computed from the goal).
use crate::derive::derive;
use crate::error::Result;
use crate::eval::Numeric;
use crate::lang::{Expr, num};
use crate::session::{Options, Session};
use crate::stepper::Limits;
use egg::RecExpr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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

/// The closed form with the model's step-count symbol (`T`) replaced by a number.
pub fn instantiate(closed: &RecExpr<Expr>, model: &crate::model::Model, steps: usize) -> RecExpr<Expr> {
    RecExpr::from(
        closed
            .as_ref()
            .iter()
            .map(|n| match n {
                Expr::Symbol(s) if Some(*s) == model.steps => num(steps as f64),
                n => n.clone(),
            })
            .collect::<Vec<_>>(),
    )
}

/// Check `closed` for T = 1..8 with the same model, activation and sizes as `base` (seeded parameters). The eight
/// derivations are independent and run on two threads; the result is in order of T either way.
pub fn check(base: &Options, closed: &RecExpr<Expr>, limits: Limits) -> Result<Vec<AtT>> {
    let known = OnceLock::from(Some(closed.clone()));
    let out = check_when(base, &known, limits, &AtomicBool::new(false))?;
    out.ok_or_else(|| crate::error::Error::Stuck("the plan at some T has no closed form".into()))
}

/// [`check`] for a closed form not known yet: the derivations start at once (they need only the options) and
/// wait for `closed` before they compare. `None` when `closed` is set to `None` (the plan has no closed form, or
/// the caller failed) or a session at some T has none; `stop` ends the check after the derivation under way.
/// The calling thread works on it too, beside one more thread where there are two cores.
pub fn check_when(base: &Options, closed: &OnceLock<Option<RecExpr<Expr>>>, limits: Limits, stop: &AtomicBool) -> Result<Option<Vec<AtT>>> {
    let work = AnyT::new(base, closed, limits, stop, None);
    let two = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) > 1;
    std::thread::scope(|scope| {
        let helper = two.then(|| scope.spawn(|| work.help()));
        work.help();
        // (a helper that panicked leaves its derivation unfinished: `finish` says so)
        let _ = helper.map(|h| h.join());
    });
    work.finish()
}

/// The any-T check's derivations, T = 8 down to 1, taken one at a time from a shared counter by every thread
/// that helps (largest first: the threads finish together). `derive` starts a thread on it before its own
/// session is loaded, and its own thread helps when its derivation and numbers are done — two threads on two
/// cores, rather than a third one beside them. A T the caller derives anyway (`derive --steps 3` with seeded
/// parameters is the check's own session at T = 3) is left to it: it hands its outcome in with [`AnyT::give`].
pub struct AnyT<'a> {
    base: &'a Options,
    closed: &'a OnceLock<Option<RecExpr<Expr>>>,
    limits: Limits,
    stop: &'a AtomicBool,
    steps: Vec<usize>,
    /// The T whose outcome the caller gives rather than the helpers derive.
    own: Option<usize>,
    next: AtomicUsize,
    results: std::sync::Mutex<Vec<Option<Result<Option<AtT>>>>>,
}

impl<'a> AnyT<'a> {
    /// `own`: a T of [`CHECK_STEPS`] the caller derives with exactly the session the check would load there
    /// (same options, seeded parameters) and gives with [`AnyT::give`]; the helpers skip it.
    pub fn new(base: &'a Options, closed: &'a OnceLock<Option<RecExpr<Expr>>>, limits: Limits, stop: &'a AtomicBool, own: Option<usize>) -> AnyT<'a> {
        let steps: Vec<usize> = CHECK_STEPS.rev().collect();
        let results = std::sync::Mutex::new((0..steps.len()).map(|_| None).collect());
        let own = own.filter(|t| CHECK_STEPS.contains(t));
        AnyT { base, closed, limits, stop, steps, own, next: AtomicUsize::new(0), results }
    }

    /// The outcome at the caller's own T (see [`AnyT::new`]), [`outcome`] of its session and derivation: `at`
    /// works it out, only when the check has left that T to the caller.
    pub fn give(&self, at: impl FnOnce() -> Result<Option<AtT>>) {
        let Some(i) = self.own.and_then(|t| self.steps.iter().position(|s| *s == t)) else { return };
        let r = at();
        if let Some(slot) = self.results.lock().unwrap_or_else(|e| e.into_inner()).get_mut(i) {
            *slot = Some(r);
        }
    }

    /// Take derivations and run them until none is left, the check is stopped, or one ends it (an error, or no
    /// closed form at that T: the later ones are not needed).
    pub fn help(&self) {
        while !self.stop.load(Ordering::Relaxed) {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(t) = self.steps.get(i) else { break };
            if Some(*t) == self.own {
                continue;
            }
            let r = crate::without_egg_timing(|| at(self.base, self.closed, *t, self.limits));
            let end = !matches!(r, Ok(Some(_)));
            if let Some(slot) = self.results.lock().unwrap_or_else(|e| e.into_inner()).get_mut(i) {
                *slot = Some(r);
            }
            if end {
                break;
            }
        }
    }

    /// The outcome, in order of T, once every helper has returned (taken: a second call finds nothing done).
    pub fn finish(&self) -> Result<Option<Vec<AtT>>> {
        let results = std::mem::take(&mut *self.results.lock().unwrap_or_else(|e| e.into_inner()));
        if results.is_empty() {
            return Err(crate::error::Error::Stuck("the any-T check did not finish".into()));
        }
        let mut out = vec![];
        for r in results {
            match r {
                Some(Ok(Some(a))) => out.push(a),
                Some(Ok(None)) => return Ok(None),
                Some(Err(e)) => return Err(e),
                None if self.stop.load(Ordering::Relaxed) => return Ok(None),
                None => return Err(crate::error::Error::Stuck("the any-T check did not finish".into())),
            }
        }
        out.sort_by_key(|a| a.steps);
        Ok(Some(out))
    }
}

fn at(base: &Options, closed: &OnceLock<Option<RecExpr<Expr>>>, steps: usize, limits: Limits) -> Result<Option<AtT>> {
    let o = Options { steps: Some(steps), params: None, ..base.clone() };
    let s = Session::load(o)?;
    // the plan file at this T has no closed line (then neither has the caller's, the same file): nothing to
    // derive unless the caller has one after all
    if s.plan.closed.is_none() && closed.wait().is_none() {
        return Ok(None);
    }
    // only the final form matters here: the side equations (shown and checked in the main run) are skipped
    let mut plan = s.plan.clone();
    for item in &mut plan.items {
        if let crate::plan::Item::Beat { wheres, .. } = item {
            wheres.clear();
        }
    }
    let d = derive(&plan, &s.rules, Limits { keep_every_step: false, ..limits })?;
    let Some(closed) = closed.wait() else { return Ok(None) };
    let mut num = Numeric::new(&s.model, &s.sizes, &s.params);
    let goal = num.tensor(&d.goal)?;
    outcome(&s, &d, &goal, closed, &mut num).map(Some)
}

/// The check at one T from its session, its derivation (side equations or not: they leave the chain alone),
/// the goal's value at the session's parameters and a [`Numeric`] of that session: the last form against
/// `closed` with T replaced, as trees, and the closed form's value against the goal's.
pub fn outcome(s: &Session, d: &crate::derive::Derivation, goal: &crate::eval::Tensor, closed: &RecExpr<Expr>, num: &mut Numeric) -> Result<AtT> {
    let steps = s.sizes.steps;
    let last = d.beats.last().map(|b| &b.whole).unwrap_or(&d.goal);
    let inst = instantiate(closed, &s.model, steps);
    // the same expression up to the order of + and ×, compared as trees (never as printed text)
    let same_form = crate::lang::normal_form(last) == crate::lang::normal_form(&inst);
    let value = num.tensor_with(&inst, &goal.indices, &goal.dims, &[])?;
    Ok(AtT { steps, same_form, rel_error: value.rel_diff(goal) })
}

/// The closed form holds: the rules derive exactly it at every checked T, and its value is the gradient's.
pub fn holds(checks: &[AtT]) -> bool {
    checks.iter().all(|c| c.same_form && c.rel_error <= crate::verify::STEP_TOL)
}
