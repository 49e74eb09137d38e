//! The numeric proof of a derivation: every shown step evaluated to the whole gradient tensor and compared with
//! the step before (relative change ≤ 1e-9), side equations checked, the final gradient compared with central
//! finite differences. A changed value is traced to the single rule application that changed it.
use crate::derive::{Derivation, TraceStep};
use crate::error::Result;
use crate::eval::{Numeric, Tensor};
use crate::lang::Expr;
use crate::session::Session;
use egg::{RecExpr, Symbol};

/// Largest relative change allowed between two steps.
pub const STEP_TOL: f64 = 1e-9;
/// Finite-difference step and tolerances (as torch.autograd.gradcheck: |g − fd| ≤ atol + rtol |fd|).
pub const FD_H: f64 = 1e-6;
pub const FD_ATOL: f64 = 1e-5;
pub const FD_RTOL: f64 = 1e-3;

/// A step whose value differs from the one before.
#[derive(Debug, Clone)]
pub struct Broken {
    /// Index of the beat in the derivation.
    pub beat: usize,
    /// The rule application that changed the value (when it could be found), and where the rule is written.
    pub rule: Option<String>,
    pub rel_change: f64,
}

/// Numbers for a whole derivation.
#[derive(Debug, Clone)]
pub struct Verified {
    pub goal: Tensor,
    pub beats: Vec<Tensor>,
    /// For each beat, the relative error of each side equation (largest over its k range).
    pub wheres: Vec<Vec<f64>>,
    /// For each beat that is worked out on the side, the relative difference of its two sides.
    pub aside_errors: Vec<Option<f64>>,
    /// With --trace: the value after every micro step of every beat.
    pub trace: Vec<Vec<Tensor>>,
    pub worst_step: f64,
    pub broken: Option<Broken>,
    pub bad_where: Option<(usize, usize, f64)>,
    pub non_finite: Option<(usize, Vec<usize>)>,
    pub loss: f64,
    pub gradient: Tensor,
    pub fd: Vec<f64>,
    pub fd_error: f64,
    pub fd_ok: bool,
    /// For a final Σ over time: each step's term.
    pub per_time: Vec<(i64, Tensor)>,
    /// The final result and its side equations in matrix form, each with the relative difference between its
    /// value and the index form's (None: it could not be evaluated).
    pub matrix: Vec<MatrixLine>,
}

impl Verified {
    /// Did every check pass?
    pub fn ok(&self) -> bool {
        self.broken.is_none()
            && self.bad_where.is_none()
            && self.fd_ok
            && self.non_finite.is_none()
            && self.matrix.iter().all(|m| m.error.is_some_and(|x| x <= STEP_TOL))
    }
}

fn tensor_over(num: &mut Numeric, e: &RecExpr<Expr>, like: &Tensor) -> Result<Tensor> {
    num.tensor_with(e, &like.indices, &like.dims, &[])
}

/// Evaluate and check every step of `d`.
pub fn verify(s: &Session, d: &Derivation, trace: bool) -> Result<Verified> {
    verify_with(s, d, trace, &mut || Ok(finite_differences(s, &std::sync::atomic::AtomicBool::new(false))?.unwrap_or_default()))
}

/// The central finite differences of the session's loss with respect to every entry of its parameter (step
/// `FD_H`); `None` when `stop` was set before they were done.
pub fn finite_differences(s: &Session, stop: &std::sync::atomic::AtomicBool) -> Result<Option<Vec<f64>>> {
    crate::eval::finite_differences_until(&s.model, &s.sizes, &s.params, s.model.loss(), s.wrt, FD_H, stop)
}

/// [`verify`], with the finite differences of L by `fd` (the pipeline computes them beside the derivation).
pub fn verify_with(s: &Session, d: &Derivation, trace: bool, fd: &mut dyn FnMut() -> Result<Vec<f64>>) -> Result<Verified> {
    let mut num = Numeric::new(&s.model, &s.sizes, &s.params);
    let goal = num.tensor(&d.goal)?;
    let mut beats = vec![];
    let mut trace_vals = vec![];
    let mut wheres = vec![];
    let mut aside_errors = vec![];
    let mut worst = 0.0f64;
    let mut broken = None;
    let mut bad_where = None;
    let mut non_finite = None;
    let mut prev = goal.clone();
    for (bi, b) in d.beats.iter().enumerate() {
        let v = tensor_over(&mut num, &b.whole, &goal)?;
        if non_finite.is_none()
            && let Some(at) = v.first_non_finite() {
                non_finite = Some((bi, at));
            }
        let finite = v.first_non_finite().is_none() && prev.first_non_finite().is_none();
        // Non-finite numbers are reported as such (below), not as a changed step.
        let rel = if finite { v.rel_diff(&prev) } else { 0.0 };
        let mut tv = vec![];
        if trace || (rel > STEP_TOL && broken.is_none()) {
            let (vals, culprit) = walk_trace(&mut num, &b.trace, &prev, &goal)?;
            tv = vals;
            if rel > STEP_TOL && broken.is_none() {
                broken = Some(Broken { beat: bi, rule: culprit, rel_change: rel });
            }
        }
        worst = worst.max(if rel.is_finite() { rel } else { f64::INFINITY });
        trace_vals.push(if trace { tv } else { vec![] });
        let mut werr = vec![];
        let mut aside_err = None;
        if b.aside
            && let (Some(l), Some(r)) = (&b.part_lhs, &b.part) {
                let e = where_error(&mut num, l, r, None)?;
                if e > STEP_TOL && e.is_finite() && bad_where.is_none() {
                    bad_where = Some((bi, usize::MAX, e));
                }
                aside_err = Some(e);
            }
        aside_errors.push(aside_err);
        for (wi, w) in b.wheres.iter().enumerate() {
            let e = where_error(&mut num, &w.lhs, &w.rhs, w.k_range)?;
            if e > STEP_TOL && e.is_finite() && bad_where.is_none() {
                bad_where = Some((bi, wi, e));
            }
            werr.push(e);
        }
        wheres.push(werr);
        prev = v.clone();
        beats.push(v);
    }
    let gradient = beats.last().cloned().unwrap_or_else(|| goal.clone());
    let loss = num.quantity(&crate::eval::QKey { name: s.model.loss(), time: None, idx: Default::default() }, 0)?.0;
    let fd = fd()?;
    let fd_error = gradient.data.iter().zip(&fd).fold(0.0f64, |m, (g, f)| if (g - f).is_nan() { f64::INFINITY } else { m.max((g - f).abs()) });
    let fd_ok = gradient.data.len() == fd.len() && gradient.data.iter().zip(&fd).all(|(g, f)| (g - f).abs() <= FD_ATOL + FD_RTOL * f.abs());
    let per_time = match d.beats.last().map(|b| &b.whole) {
        Some(e) => per_time(&mut num, e, &goal)?,
        None => vec![],
    };
    let matrix = match d.beats.last() {
        Some(b) => matrix_forms(&mut num, &d.goal, b, &gradient),
        None => vec![],
    };
    Ok(Verified { goal, beats, wheres, aside_errors, matrix, trace: trace_vals, worst_step: worst, broken, bad_where, non_finite, loss, gradient, fd, fd_error, fd_ok, per_time })
}

/// Values after each micro step, and the first rule whose step changed the value.
fn walk_trace(num: &mut Numeric, steps: &[TraceStep], start: &Tensor, like: &Tensor) -> Result<(Vec<Tensor>, Option<String>)> {
    // the steps' terms were not kept (no --trace): no culprit here; the pipeline derives again, keeping them
    if !steps.iter().all(TraceStep::kept) {
        return Ok((vec![], None));
    }
    let mut prev = start.clone();
    let mut culprit = None;
    let mut out = vec![];
    for st in steps {
        let v = tensor_over(num, &st.whole(), like)?;
        if culprit.is_none() && v.rel_diff(&prev) > STEP_TOL {
            culprit = Some(st.rule.clone());
        }
        prev = v.clone();
        out.push(v);
    }
    Ok((out, culprit))
}

fn where_error(num: &mut Numeric, lhs: &RecExpr<Expr>, rhs: &RecExpr<Expr>, k: Option<(Symbol, i64, i64)>) -> Result<f64> {
    let mut worst = 0.0f64;
    let ks: Vec<Option<(Symbol, i64)>> = match k {
        Some((s, lo, hi)) => (lo..=hi).map(|v| Some((s, v))).collect(),
        None => vec![None],
    };
    for kv in ks {
        let fixed: Vec<(Symbol, i64)> = kv.into_iter().collect();
        let mut idx = num.free_of(lhs);
        idx.retain(|s| !fixed.iter().any(|(f, _)| f == s));
        let dims = num.index_dims(lhs, &idx)?;
        let a = num.tensor_with(lhs, &idx, &dims, &fixed)?;
        let b = num.tensor_with(rhs, &idx, &dims, &fixed)?;
        if a.first_non_finite().is_some() || b.first_non_finite().is_some() {
            continue; // reported as non-finite numbers, not as a wrong equation
        }
        worst = worst.max(b.rel_diff(&a));
    }
    Ok(worst)
}

fn per_time(num: &mut Numeric, e: &RecExpr<Expr>, like: &Tensor) -> Result<Vec<(i64, Tensor)>> {
    let Expr::TSum([k, lo, hi, body]) = &e[e.root()] else { return Ok(vec![]) };
    let (Expr::Symbol(k), Expr::Num(lo), Expr::Num(hi)) = (&e[*k], &e[*lo], &e[*hi]) else { return Ok(vec![]) };
    let body = crate::lang::sub_expr(e, *body);
    let mut out = vec![];
    for v in lo.into_inner() as i64..=hi.into_inner() as i64 {
        out.push((v, num.tensor_with(&body, &like.indices, &like.dims, &[(*k, v)])?));
    }
    Ok(out)
}

/// One line of the matrix form: the equation (column vectors), the time steps a recursion holds for, and the
/// relative difference between its two sides evaluated (None: it could not be evaluated).
#[derive(Debug, Clone)]
pub struct MatrixLine {
    pub text: String,
    pub range: Option<(Symbol, i64, i64)>,
    pub error: Option<f64>,
}

/// The matrix form of the final result and of the final beat's side equations, checked numerically.
fn matrix_forms(num: &mut Numeric, goal: &RecExpr<Expr>, last: &crate::derive::Beat, gradient: &Tensor) -> Vec<MatrixLine> {
    use crate::matrix::{check, matrix, show, vector};
    use crate::print::{Style, render};
    let mut out = vec![];
    let lhs_name = |e: &RecExpr<Expr>| {
        let s = render(e, Style::Unicode, 1000);
        match s.rfind('[') {
            Some(i) if s.ends_with(']') => s[..i].to_string(),
            _ => s,
        }
    };
    let e = &last.whole;
    let form = match gradient.indices.as_slice() {
        [i] => vector(e, e.root(), *i, Style::Unicode),
        [i, p] => matrix(e, e.root(), *i, *p, Style::Unicode),
        _ => None,
    };
    if let Some(m) = form {
        out.push(MatrixLine { text: format!("{} = {}", lhs_name(goal), show(&m, Style::Unicode)), range: None, error: check(num, &m, &[], &gradient.data) });
    }
    for w in &last.wheres {
        let free = num.free_of(&w.lhs);
        let free: Vec<Symbol> = free.into_iter().filter(|s| w.k_range.is_none_or(|(k, _, _)| k != *s)).collect();
        let [i] = free.as_slice() else { continue };
        let (Some(l), Some(r)) = (vector(&w.lhs, w.lhs.root(), *i, Style::Unicode), vector(&w.rhs, w.rhs.root(), *i, Style::Unicode)) else { continue };
        let ks: Vec<Vec<(Symbol, i64)>> = match w.k_range {
            Some((k, lo, hi)) => (lo..=hi).map(|v| vec![(k, v)]).collect(),
            None => vec![vec![]],
        };
        let mut worst: Option<f64> = Some(0.0);
        for fixed in ks {
            let Ok(dims) = num.index_dims(&w.lhs, &[*i]) else { worst = None; break };
            let Ok(expect) = num.tensor_with(&w.lhs, &[*i], &dims, &fixed) else { worst = None; break };
            worst = match (worst, check(num, &r, &fixed, &expect.data)) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
        }
        out.push(MatrixLine { text: format!("{} = {}", show(&l, Style::Unicode), show(&r, Style::Unicode)), range: w.k_range, error: worst });
    }
    out
}
