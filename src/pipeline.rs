//! The library's pipeline: what the commands run, as functions a program can call. Each composes the stages
//! (load → derive → verify → closed form) and returns typed values; printing is the caller's.
//!
//! ```
//! use bptt::pipeline::derive_checked;
//! let c = derive_checked(bptt::Options::default(), Default::default(), false, &mut |_| {}).unwrap();
//! assert!(c.ok());
//! ```
use crate::closed::AtT;
use crate::derive::Derivation;
use crate::error::{Error, Result};
use crate::eval::Tensor;
use crate::lang::Expr;
use crate::options::Options;
use crate::session::Session;
use crate::stepper::Limits;
use crate::verify::Verified;
use egg::RecExpr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A derivation with everything that checks it: every step's value, the side equations, finite differences,
/// the matrix form (in [`Verified`]), and the closed form for any T checked against T = 1..8.
pub struct Checked {
    pub session: Session,
    pub derivation: Derivation,
    pub numbers: Verified,
    pub closed: Option<(RecExpr<Expr>, Vec<AtT>)>,
    /// When loading, deriving and verifying ended, from the start (the any-T check runs beside them).
    pub times: [Duration; 3],
}

impl Checked {
    /// Every check passed.
    pub fn ok(&self) -> bool {
        self.numbers.ok() && self.closed.as_ref().is_none_or(|(_, c)| crate::closed::holds(c))
    }
}

/// Load, derive step by step (`progress` hears each beat's title), verify every step with numbers (`trace`:
/// every rule application too) and, beside it, check the plan's closed form for T = 1..8.
pub fn derive_checked(options: Options, limits: Limits, trace: bool, progress: &mut dyn FnMut(&str)) -> Result<Checked> {
    let started = Instant::now();
    // The any-T check (eight more derivations) needs only the options, not this run's session: it starts at once
    // and runs beside the load, the derivation and its numbers; it waits for the closed form (from this
    // session's plan) only to compare. When this run fails, `Release` tells it to stop.
    let base = options.clone();
    let form: OnceLock<Option<RecExpr<Expr>>> = OnceLock::new();
    let stop = AtomicBool::new(false);
    // With seeded parameters at a T the check covers, this run's session is the check's own session at that T:
    // its derivation counts for that T, and the check derives only the other seven.
    let own = options.params.is_none().then(|| options.steps.unwrap_or(crate::session::DEFAULT_STEPS));
    let any_t = &crate::closed::AnyT::new(&base, &form, limits, &stop, own);
    std::thread::scope(|scope| -> Result<Checked> {
        let helper = scope.spawn(move || any_t.help());
        let _release = Release { form: &form, stop: &stop };
        let session = Session::load(options)?;
        let loaded = started.elapsed();
        let _ = form.set(session.plan.closed.clone());
        // The finite differences of L need only the session: where they are much work, they run beside the
        // derivation (on the core the any-T check has finished with) until the numbers need them.
        let fd_stop = AtomicBool::new(false);
        let (derivation, derived, numbers) = std::thread::scope(|inner| -> Result<_> {
            // (dropped when this closure returns, before the scope waits for the thread)
            let _stop_fd = Stop(&fd_stop);
            // (a thread with a deep stack: evaluating L recurses through every step; none if it cannot be made)
            let mut beside = fd_is_much_work(&session).then(|| {
                std::thread::Builder::new().stack_size(crate::limits::deep_stack()).spawn_scoped(inner, || {
                    crate::verify::finite_differences(&session, &fd_stop)
                })
            }).and_then(|h| h.ok());
            let mut known: Option<Vec<f64>> = None;
            let mut fd = || -> Result<Vec<f64>> {
                if let Some(v) = &known {
                    return Ok(v.clone());
                }
                let v = match beside.take().map(|h| h.join()) {
                    Some(Ok(Ok(Some(v)))) => v,
                    Some(Ok(Err(e))) => return Err(e),
                    Some(Err(_)) => return Err(Error::Stuck("the finite differences stopped".into())),
                    Some(Ok(Ok(None))) | None => crate::verify::finite_differences(&session, &AtomicBool::new(false))?.unwrap_or_default(),
                };
                known = Some(v.clone());
                Ok(v)
            };
            // every rule application's term is kept only for --trace (memory: a long derivation has thousands of
            // steps, each a whole term); a step that changes the value is then found by deriving once more, keeping them
            let keep = limits.keep_every_step || trace;
            let mut derivation = crate::derive::derive_with(&session.plan, &session.rules, Limits { keep_every_step: keep, ..limits }, progress)?;
            let mut derived = started.elapsed();
            let mut numbers = crate::verify::verify_with(&session, &derivation, trace, &mut fd).map_err(numbers_hint)?;
            if numbers.broken.is_some() && !keep {
                derivation = crate::derive::derive_with(&session.plan, &session.rules, Limits { keep_every_step: true, ..limits }, &mut |_| {})?;
                derived = started.elapsed();
                numbers = crate::verify::verify_with(&session, &derivation, trace, &mut fd).map_err(numbers_hint)?;
            }
            Ok((derivation, derived, numbers))
        })?;
        let verified = started.elapsed();
        any_t.give(|| match &session.plan.closed {
            Some(closed) => {
                let mut num = crate::eval::Numeric::new(&session.model, &session.sizes, &session.params);
                crate::closed::outcome(&session, &derivation, &numbers.goal, closed, &mut num).map(Some)
            }
            None => Ok(None),
        });
        // this thread's own work is done: it helps with what is left of the any-T check
        any_t.help();
        helper.join().map_err(|_| Error::Stuck("the any-T check stopped".into()))?;
        let checks = any_t.finish()?;
        let closed = session.plan.closed.clone().zip(checks);
        Ok(Checked { session, derivation, numbers, closed, times: [loaded, derived, verified] })
    })
}

/// A limit met while checking every step with numbers: that check evaluates each step entry by entry, and the
/// unrolled sums make it grow as the sizes to the power of their nesting — the way to numbers at large sizes
/// is `bptt grad`, which the message says.
fn numbers_hint(e: Error) -> Error {
    match e {
        Error::Limit(m) => Error::Limit(format!("{m}; every step is checked entry by entry, which grows with the sizes to the power of the nested sums — for the gradient at these sizes use `bptt grad` (the derived closed form and recursion, no step-by-step check)")),
        e => e,
    }
}

/// Are the finite differences enough work to run beside the derivation (a thread costs more than a few
/// evaluations of L at a handful of steps)? Each evaluation of L runs the model over every step, two per entry
/// of the parameter.
fn fd_is_much_work(s: &Session) -> bool {
    let entries = s.params.values.get(&s.wrt).map_or(0, |a| a.data.len());
    entries.saturating_mul(s.sizes.steps) >= 2000
}

/// Sets its flag when dropped: a computation running beside stops when the work it serves has ended (or failed).
struct Stop<'a>(&'a AtomicBool);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Ends the any-T check's wait when `derive_checked` returns early (an error): no closed form, and stop.
struct Release<'a> {
    form: &'a OnceLock<Option<RecExpr<Expr>>>,
    stop: &'a AtomicBool,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        // after a normal return the check has been joined already, and both do nothing
        let _ = self.form.set(None);
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The plan's closed form for any T, for numbers at any size. `check`: first derive it for T = 1..8 and fail
/// unless the rules give exactly it and its value is the gradient's (the built-in plans are checked by every
/// `derive` and the tests; a rules folder of one's own should be).
pub fn closed_form(options: Options, limits: Limits, check: bool) -> Result<(Session, RecExpr<Expr>)> {
    let s = Session::load(options)?;
    let form = s.plan.closed.clone().ok_or_else(|| Error::Usage(format!("the derivation of ∂L/∂{} has no closed form for any T (the plan has no `closed` line)", s.wrt)))?;
    if check {
        let checks = crate::closed::check(&Options { steps: None, ..s.options.clone() }, &form, limits)?;
        if let Some(bad) = checks.iter().find(|c| !crate::closed::holds(std::slice::from_ref(c))) {
            return Err(Error::Stuck(format!("the closed form does not match the derivation at T = {}", bad.steps)));
        }
    }
    Ok((s, form))
}

/// The gradient at any size: the closed form with the backward recursion the rules derive at this T, computed
/// array by array.
pub fn gradient(options: Options, limits: Limits, check: bool) -> Result<(Session, Tensor)> {
    let (s, _) = closed_form(options, limits, check)?;
    let g = crate::dense::closed_gradient(&s, limits)?;
    Ok((s, g))
}

/// Check a hand-derived formula (text or LaTeX) against the derivation of the gradient it claims to be:
/// proved, refuted with a counterexample and a diagnosis, or agreeing at `points` random points. The outer
/// error is the formula's or the rules' (nothing to check); the inner one arose while checking, at this session.
pub fn check_formula(options: Options, text: &str, file: &str, einstein: bool, points: usize, limits: Limits) -> Result<(Session, Result<crate::check::Checked>)> {
    let s = Session::load(options)?;
    let f = crate::check::read_formula(&s, text, file, einstein)?;
    let d = crate::derive::derive(&s.plan, &s.rules, limits)?;
    let cat = crate::check::mistakes::Catalogue::load(&s)?;
    let c = crate::check::check(&s, &d, &cat, &f, points, limits);
    Ok((s, c))
}
