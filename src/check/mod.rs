//! `bptt check`: is a hand-derived formula the gradient? Random testing first (it refutes most wrong answers
//! fast, with a concrete counterexample); when the numbers agree, a proof by the rules (both sides expanded with
//! named rules to the same canonical sum of products); when they differ, a diagnosis from the catalogue of
//! typical mistakes.
pub mod canon;
pub mod chain;
pub mod difference;
pub mod input;
pub mod mistakes;

use crate::closed::instantiate;
use crate::derive::Derivation;
use crate::error::{Error, Result};
use crate::eval::{Numeric, Tensor};
use crate::lang::{Expr, normal_form, symbols};
use crate::params::{Params, Sizes};
use crate::session::Session;
use crate::stepper::{Limits, Stats, run};
use egg::{RecExpr, Symbol};
use mistakes::{Catalogue, correct_forms};

/// Two entries agree when they differ by at most this, relative to the larger of the two (both are computed in
/// f64 from the same numbers: their rounding differs by far less) …
pub const TOL: f64 = 1e-12;
/// … or by at most this, relative to the largest entry of the true gradient (an absolute floor for entries that
/// are zero or nearly so, where rounding of the other entries' size remains).
pub const FLOOR: f64 = 1e-13;

/// Do two entries agree (NaN and infinities never do)?
pub fn close(yours: f64, truth: f64, scale: f64) -> bool {
    yours.is_finite() && truth.is_finite() && (yours - truth).abs() <= TOL * yours.abs().max(truth.abs()) + FLOOR * scale
}
/// Random points tried by default.
pub const DEFAULT_POINTS: usize = 20;

/// The rules that expand both sides for a proof: Σ over time written out, ∂L/∂h and ∂L/∂s by their definitions.
/// Where the numbers of a point come from.
#[derive(Debug, Clone)]
pub struct Point {
    /// The seed of the random parameters (None: the params file).
    pub seed: Option<u64>,
    pub sizes: Sizes,
}

/// A concrete entry where the formula and the gradient differ.
#[derive(Debug, Clone)]
pub struct Counterexample {
    pub point: Point,
    /// The entry, 1-based, by index name.
    pub entry: Vec<(Symbol, usize)>,
    pub yours: f64,
    pub truth: f64,
    /// For a Σ over time: the first step whose term differs (at the same entry): step, yours, true.
    pub first_step: Option<(i64, f64, f64)>,
    /// When the whole values agree to f64 rounding but the exact difference of the two expansions does not
    /// vanish: yours − gradient computed from the products that differ, its rounding bound, and how many.
    pub difference: Option<(f64, f64, usize)>,
}

/// A proof by rewriting.
#[derive(Debug, Clone)]
pub struct Proof {
    /// The formula is, up to the order of + and ×, a form of the derivation: which one ("eq 12").
    pub exact: Option<String>,
    /// The form it is compared with.
    pub reference: RecExpr<Expr>,
    /// Rules applied to the formula and to the reference, with counts.
    pub yours_rules: Vec<(String, usize)>,
    pub reference_rules: Vec<(String, usize)>,
    /// The number of products both sides expand to.
    pub products: usize,
    /// For an exact match: the beats of the derivation from the goal up to that form, with their rules.
    pub chain: Vec<(String, Vec<(String, usize)>)>,
    /// Every expansion step (rule, form after it) on each side.
    pub yours_steps: Vec<(String, RecExpr<Expr>)>,
    pub reference_steps: Vec<(String, RecExpr<Expr>)>,
}

/// Why a formula is wrong.
#[derive(Debug, Clone)]
pub enum Why {
    /// It has a different value at a point.
    Value(Counterexample),
    /// A free index is used with another size than in the gradient.
    Shape { index: Symbol, used_in: String, size: Symbol, wanted: Symbol, counterexample: Option<Counterexample> },
    /// It reads a value that does not exist (x⁽⁰⁾, h⁽⁰⁾, W[4,1] …).
    Undefined(String),
}

/// The outcome of a check.
#[derive(Debug, Clone)]
pub enum Verdict {
    Proved(Proof),
    Agrees,
    Refuted { why: Why, diagnosis: Vec<mistakes::Mistake> },
}

/// A check at one T, with what was tried.
#[derive(Debug, Clone)]
pub struct Checked {
    pub formula: RecExpr<Expr>,
    pub steps: usize,
    pub points: usize,
    pub sizes: Sizes,
    pub verdict: Verdict,
}

impl Checked {
    pub fn refuted(&self) -> bool {
        matches!(self.verdict, Verdict::Refuted { .. })
    }
}

/// The gradient's free indices with the size each ranges over.
pub fn target_indices(s: &Session) -> Vec<(Symbol, Symbol)> {
    let free = input::free_of(&s.plan.goal, &s.model);
    let mut out: Vec<(Symbol, Symbol)> = vec![];
    for u in s.model.index_uses(&s.plan.goal) {
        if free.contains(&u.index) && !out.iter().any(|(y, _)| *y == u.index) {
            out.push((u.index, u.dim));
        }
    }
    out
}

/// The gradient's name as printed, e.g. ∂L/∂W⁽ʳ⁾[i,p].
pub fn gradient_name(s: &Session) -> String {
    crate::print::render(&s.plan.goal, crate::print::Style::Unicode, usize::MAX / 4)
}

/// Read a formula for this session's gradient (`file` names it in errors).
pub fn read_formula(s: &Session, text: &str, file: &str, einstein: bool) -> Result<RecExpr<Expr>> {
    let target: Vec<Symbol> = target_indices(s).into_iter().map(|t| t.0).collect();
    // σ is the blog's name for the activation: σ′ means tanh′ in a tanh model (write `sigmoid` to mean the sigmoid)
    let f = input::read(text, file, &s.model, einstein, &target, s.options.activation)?;
    input::check_names(&f, &s.model, text, file)?;
    input::check_free(&f, &s.model, &target, &gradient_name(s), file)?;
    Ok(f)
}

/// The form the derivation ends in at this T (the closed form with T replaced, else the last beat).
pub fn reference(s: &Session, d: &Derivation) -> RecExpr<Expr> {
    match &s.plan.closed {
        Some(c) => instantiate(c, &s.model, s.sizes.steps),
        None => d.beats.last().map(|b| b.whole.clone()).unwrap_or_else(|| d.goal.clone()),
    }
}

fn is_missing_value(e: &Error) -> bool {
    matches!(e, Error::Missing(_))
}

/// The numbers at one point: the true gradient and the formula over the gradient's indices.
fn values(s: &Session, sizes: &Sizes, params: &Params, f: &RecExpr<Expr>, against: &RecExpr<Expr>) -> Result<(Tensor, Result<Tensor>)> {
    let mut num = Numeric::new(&s.model, sizes, params);
    let goal = num.tensor(&s.plan.goal)?;
    let truth = if against == &s.plan.goal { goal } else { num.tensor_with(against, &goal.indices, &goal.dims, &[])? };
    let yours = num.tensor_with(f, &truth.indices, &truth.dims, &[]);
    Ok((truth, yours))
}

fn entry_of(t: &Tensor, flat: usize) -> Vec<(Symbol, usize)> {
    let mut rest = flat;
    let mut idx = vec![0; t.dims.len()];
    for k in (0..t.dims.len()).rev() {
        idx[k] = rest % t.dims[k].max(1);
        rest /= t.dims[k].max(1);
    }
    t.indices.iter().copied().zip(idx.into_iter().map(|i| i + 1)).collect()
}

/// The points a check tries: the session's own numbers first (unless the sizes changed), then seeds after it.
fn points(s: &Session, sizes: &Sizes, n: usize) -> Vec<(Point, Params)> {
    let own = sizes == &s.sizes;
    (0..n)
        .map(|j| {
            if j == 0 && own {
                let seed = s.options.params.is_none().then_some(s.options.seed);
                (Point { seed, sizes: sizes.clone() }, s.params.clone())
            } else {
                let seed = s.options.seed.wrapping_add(j as u64);
                (Point { seed: Some(seed), sizes: sizes.clone() }, Params::random(&s.model, sizes, seed))
            }
        })
        .collect()
}

/// Random testing of `f` against `against` (the gradient, or another formula): the first point where they
/// differ, or None when they agree at every point; Err(reason) when `f` reads a value that does not exist.
pub fn random_test(s: &Session, f: &RecExpr<Expr>, against: &RecExpr<Expr>, sizes: &Sizes, n: usize) -> Result<std::result::Result<Option<Counterexample>, String>> {
    for (point, params) in points(s, sizes, n) {
        let (truth, yours) = values(s, sizes, &params, f, against)?;
        let yours = match yours {
            Ok(y) => y,
            Err(e) if is_missing_value(&e) => return Ok(Err(e.to_string())),
            Err(e) => return Err(e),
        };
        if let Some(at) = truth.data.iter().position(|v| !v.is_finite()) {
            let e = entry_of(&truth, at);
            let at = e.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
            return Err(Error::Eval(format!("the gradient itself is not finite ({}) at entry {at} of {}: the numbers overflow; try smaller weights or fewer steps", truth.data.iter().find(|v| !v.is_finite()).copied().unwrap_or(f64::NAN), point_name(&point))));
        }
        let scale = truth.data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        // the worst entry, NaN first: a formula that evaluates to NaN or ∞ anywhere is refuted
        let badness = |i: usize| {
            let (y, t) = (yours.data[i], truth.data[i]);
            if !y.is_finite() { f64::INFINITY } else { (y - t).abs() / (TOL * y.abs().max(t.abs()) + FLOOR * scale).max(f64::MIN_POSITIVE) }
        };
        let worst = (0..truth.data.len()).map(|i| (i, badness(i))).max_by(|a, b| a.1.total_cmp(&b.1)).map(|x| x.0);
        // an entry that differs by less than the rounding of the formula's own terms (their magnitudes, added
        // without cancelling) is not a difference: Σ_a W[i,a] W[a,p] − … may round to 1e-20 where the gradient is 0
        let rounding = |w: usize| -> Result<bool> {
            let m = Numeric::new(&s.model, sizes, &params).tensor_with(&magnitude(f), &truth.indices, &truth.dims, &[])?;
            Ok(m.data.get(w).is_some_and(|m| (yours.data[w] - truth.data[w]).abs() <= TOL * m))
        };
        if let Some(w) = worst
            && !close(yours.data[w], truth.data[w], scale)
            && !(yours.data[w].is_finite() && rounding(w)?)
        {
            let entry = entry_of(&truth, w);
            let first_step = if against == &s.plan.goal { first_step(s, sizes, &params, f, &entry).ok().flatten() } else { None };
            return Ok(Ok(Some(Counterexample { point, entry, yours: yours.data[w], truth: truth.data[w], first_step, difference: None })));
        }
    }
    Ok(Ok(None))
}

/// The formula with every sum of terms made a sum of their sizes: + and − both add, products multiply sizes,
/// and every other value is replaced by its absolute value (√(x²)). Its value bounds what the formula's
/// rounding can be relative to.
pub fn magnitude(f: &RecExpr<Expr>) -> RecExpr<Expr> {
    fn go(f: &RecExpr<Expr>, id: egg::Id, out: &mut RecExpr<Expr>) -> egg::Id {
        match &f[id] {
            Expr::Num(v) => out.add(crate::lang::num(v.into_inner().abs())),
            Expr::Add([a, b]) | Expr::Sub([a, b]) => {
                let (x, y) = (go(f, *a, out), go(f, *b, out));
                out.add(Expr::Add([x, y]))
            }
            Expr::Mul([a, b]) => {
                let (x, y) = (go(f, *a, out), go(f, *b, out));
                out.add(Expr::Mul([x, y]))
            }
            Expr::Neg(a) => go(f, *a, out),
            Expr::Sum([k, d, body]) => {
                let (k, d) = (crate::lang::copy_into(f, *k, out), crate::lang::copy_into(f, *d, out));
                let b = go(f, *body, out);
                out.add(Expr::Sum([k, d, b]))
            }
            Expr::TSum([k, lo, hi, body]) => {
                let (k, lo, hi) = (crate::lang::copy_into(f, *k, out), crate::lang::copy_into(f, *lo, out), crate::lang::copy_into(f, *hi, out));
                let b = go(f, *body, out);
                out.add(Expr::TSum([k, lo, hi, b]))
            }
            _ => {
                let x = crate::lang::copy_into(f, id, out);
                let two = out.add(crate::lang::num(2.0));
                let sq = out.add(Expr::Pow([x, two]));
                let half = out.add(crate::lang::num(0.5));
                out.add(Expr::Pow([sq, half]))
            }
        }
    }
    let mut out = RecExpr::default();
    go(f, f.root(), &mut out);
    out
}

fn point_name(p: &Point) -> String {
    match p.seed {
        Some(s) => format!("seed {s}"),
        None => "the params file".into(),
    }
}

/// For a formula Σ_{k=lo}^{hi} f(k): the first step k whose term differs from the true one (the derived Σₖ form).
fn first_step(s: &Session, sizes: &Sizes, params: &Params, f: &RecExpr<Expr>, entry: &[(Symbol, usize)]) -> Result<Option<(i64, f64, f64)>> {
    let (sign, root) = match &f[f.root()] {
        Expr::Neg(a) => (-1.0, *a),
        _ => (1.0, f.root()),
    };
    let (Expr::TSum([k, lo, hi, body]), Some(closed)) = (&f[root], &s.plan.closed) else { return Ok(None) };
    let Expr::TSum([ck, _, _, cbody]) = &closed[closed.root()] else { return Ok(None) };
    let (Expr::Symbol(k), Expr::Symbol(ck)) = (&f[*k], &closed[*ck]) else { return Ok(None) };
    let mut num = Numeric::new(&s.model, sizes, params);
    let fixed: Vec<(Symbol, i64)> = entry.iter().map(|(x, v)| (*x, *v as i64)).collect();
    let scalar = |num: &mut Numeric, e: &RecExpr<Expr>, extra: (Symbol, i64)| -> Result<f64> {
        let mut fx = fixed.clone();
        fx.push(extra);
        Ok(num.tensor_with(e, &[], &[], &fx)?.data.first().copied().unwrap_or(0.0))
    };
    let bounds = crate::lang::sub_expr(f, *lo);
    let lo = scalar(&mut num, &bounds, (*k, 0))?.round() as i64;
    let hi = scalar(&mut num, &crate::lang::sub_expr(f, *hi), (*k, 0))?.round() as i64;
    let (body, cbody) = (crate::lang::sub_expr(f, *body), crate::lang::sub_expr(closed, *cbody));
    for t in 1..=sizes.steps as i64 {
        let yours = if (lo..=hi).contains(&t) { sign * scalar(&mut num, &body, (*k, t))? } else { 0.0 };
        let truth = scalar(&mut num, &cbody, (*ck, t))?;
        if !close(yours, truth, 0.0) && !(yours == 0.0 && truth == 0.0) {
            return Ok(Some((t, yours, truth)));
        }
    }
    Ok(None)
}


/// Expand with the rules the plan names (its `expand` line).
/// An expanded expression, the rules (with counts) that expanded it, and every step.
type Expanded = (RecExpr<Expr>, Vec<(String, usize)>, Vec<(String, RecExpr<Expr>)>);

fn expand(s: &Session, e: &RecExpr<Expr>, limits: Limits) -> Result<Expanded> {
    let steps = run(e, &s.plan.expand, &s.rules, &symbols(e).into(), limits, &mut Stats::default(), "check: expanding")?;
    let last = steps.last().map(|t| t.term.clone()).unwrap_or_else(|| e.clone());
    let summary = crate::derive::summarize(&steps);
    Ok((last, summary, steps.into_iter().map(|t| (t.rule, t.term)).collect()))
}

/// What the rules make of a formula whose numbers agree.
enum Attempt {
    Proved(Proof),
    /// Both sides expanded, to different sums of products: their exact difference.
    Differs(Vec<(crate::exact::Rational, canon::Product)>),
    /// Not comparable (too large, or nothing to compare).
    Unknown,
}

/// Try to prove `f` equal to the gradient by the rules.
fn prove(s: &Session, d: &Derivation, f: &RecExpr<Expr>, limits: Limits) -> Result<Attempt> {
    let reference = reference(s, d);
    let nf = normal_form(f);
    let is_result = normal_form(&reference) == nf;
    let at = d.beats.iter().rposition(|b| b.part.is_none() && normal_form(&b.whole) == nf);
    let beat = at.map(|i| &d.beats[i]);
    let upto = if is_result { Some(d.beats.len()) } else { at.map(|i| i + 1) };
    let chain = d.beats[..upto.unwrap_or(0)]
        .iter()
        .filter(|b| !b.rules.is_empty())
        .map(|b| (b.eq.map(|e| format!("({e})")).unwrap_or_else(|| "  · ".into()), b.rules.clone()))
        .collect();
    let exact = if is_result {
        Some(match &s.plan.closed {
            Some(_) => format!("the derived result{}", d.beats.last().and_then(|b| b.eq).map(|e| format!(", eq {e}")).unwrap_or_default()),
            None => "the derived result".into(),
        })
    } else {
        beat.map(|b| match b.eq {
            Some(e) => format!("eq {e} of the derivation"),
            None => format!("the step “{}” of the derivation", b.title),
        })
    };
    // the numbers are hidden from the rewriting (it folds constants in f64) and multiplied exactly by the canon
    let mut consts = std::collections::BTreeMap::new();
    let (hidden_f, hidden_ref) = (canon::hide_numbers(f, &mut consts), canon::hide_numbers(&reference, &mut consts));
    let shown = |steps: Vec<(String, RecExpr<Expr>)>| steps.into_iter().map(|(r, e)| (r, canon::show_numbers(&e, &consts))).collect::<Vec<_>>();
    let (mine, yours_rules, yours_steps) = expand(s, &hidden_f, limits)?;
    let (theirs, reference_rules, reference_steps) = expand(s, &hidden_ref, limits)?;
    let (yours_steps, reference_steps) = (shown(yours_steps), shown(reference_steps));
    let (ca, cb) = (canon::canon_with(&mine, &s.model, &s.sizes, &consts), canon::canon_with(&theirs, &s.model, &s.sizes, &consts));
    // a canonical form given up for a limit is that limit's error, not "not proved"
    crate::limits::check("the proof")?;
    crate::limits::deadline("the proof")?;
    let (Some(a), Some(b)) = (ca, cb) else { return Ok(Attempt::Unknown) };
    if !a.same(&b) {
        // the same as a form of the derivation up to the order of + and ×, and nothing partial cancelled
        if exact.is_some() && !a.dropped_partial {
            return Ok(Attempt::Proved(Proof { exact, reference, yours_rules, reference_rules, products: b.len(), chain, yours_steps, reference_steps }));
        }
        return Ok(if a.dropped_partial { Attempt::Unknown } else { Attempt::Differs(a.difference(&b)) });
    }
    Ok(Attempt::Proved(Proof { exact, reference, yours_rules, reference_rules, products: b.len(), chain, yours_steps, reference_steps }))
}

/// Which mistakes of the catalogue turn the true gradient into `f` (numerically at the given points, or, when
/// `f` cannot be evaluated, symbolically).
fn diagnose(s: &Session, d: &Derivation, cat: &Catalogue, f: &RecExpr<Expr>, sizes: &Sizes, n: usize, limits: Limits) -> Result<Vec<mistakes::Mistake>> {
    // the result and the result expanded by the plan's rules, each also with its `diagnose` rules applied (a gated
    // cell's gate gradients written out, where its typical mistakes live: the forget gate, tanh′(c), the output
    // gate, c for s)
    let result = reference(s, d);
    // every form on the way (a mistake may sit in ∂L/∂c⁽ᵏ⁾'s share before ∂L/∂c⁽ᵏ⁾ is written out)
    let diagnosed = |e: &RecExpr<Expr>| -> Vec<RecExpr<Expr>> {
        match run(e, &s.plan.diagnose, &s.rules, &symbols(e).into(), limits, &mut Stats::default(), "check: diagnosing") {
            Ok(steps) => steps.into_iter().map(|t| t.term).collect(),
            Err(_) => vec![],
        }
    };
    let mut more = vec![result.clone()];
    more.extend(diagnosed(&result));
    if let Ok((expanded, _, _)) = expand(s, &result, limits) {
        more.extend(diagnosed(&expanded));
        more.push(expanded);
    }
    let correct = correct_forms(d, &more);
    let wrong = cat.wrong_forms(&correct, limits);
    let pts = points(s, sizes, n.clamp(1, 5));
    let mut yours = vec![];
    for (_, params) in &pts {
        let mut num = Numeric::new(&s.model, sizes, params);
        let goal = num.tensor(&s.plan.goal)?;
        yours.push(num.tensor_with(f, &goal.indices, &goal.dims, &[]).ok().map(|t| (goal, t)));
    }
    let symbolic = yours.iter().any(Option::is_none);
    let canon_f = if symbolic { canon::canon(&expand(s, f, limits)?.0, &s.model, sizes) } else { None };
    let mut found: Vec<usize> = vec![];
    for w in &wrong {
        if found.contains(&w.mistake) {
            continue;
        }
        let same = if symbolic {
            let (theirs, _, _) = match expand(s, &w.form, limits) {
                Ok(x) => x,
                Err(_) => continue,
            };
            matches!((&canon_f, canon::canon(&theirs, &s.model, sizes)), (Some(a), Some(b)) if a.same(&b))
        } else {
            let mut all = true;
            for ((_, params), y) in pts.iter().zip(&yours) {
                let Some((goal, y)) = y else { break };
                let mut num = Numeric::new(&s.model, sizes, params);
                match num.tensor_with(&w.form, &goal.indices, &goal.dims, &[]) {
                    Ok(v) if {
                        let scale = goal.data.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                        v.data.iter().zip(&y.data).all(|(a, b)| close(*a, *b, scale))
                    } => {}
                    _ => {
                        all = false;
                        break;
                    }
                }
            }
            all
        };
        if same {
            found.push(w.mistake);
        }
    }
    found.sort();
    Ok(found.into_iter().map(|m| cat.mistakes[m].clone()).collect())
}

/// Check one formula (already read) at this session's T against the derivation `d`.
pub fn check(s: &Session, d: &Derivation, cat: &Catalogue, formula: &RecExpr<Expr>, n: usize, limits: Limits) -> Result<Checked> {
    let f = instantiate(formula, &s.model, s.sizes.steps);
    let target = target_indices(s);
    let conflicts = input::shape_conflicts(&f, &s.model, &target);
    let done = |verdict, sizes: Sizes| Checked { formula: f.clone(), steps: s.sizes.steps, points: n, sizes, verdict };
    if let Some((index, used_in, size)) = conflicts.first().cloned() {
        // compare at square sizes, where the formula can be evaluated, to say what it computes
        let m = s.sizes.dims.values().copied().max().unwrap_or(1);
        let sizes = Sizes { steps: s.sizes.steps, dims: s.sizes.dims.keys().map(|k| (*k, m)).collect() };
        let counterexample = random_test(s, &f, &s.plan.goal, &sizes, n).ok().and_then(|r| r.ok()).flatten();
        let diagnosis = diagnose(s, d, cat, &f, &sizes, n, limits)?;
        let wanted = target.iter().find(|t| t.0 == index).map(|t| t.1).unwrap_or(size);
        return Ok(done(Verdict::Refuted { why: Why::Shape { index, used_in, size, wanted, counterexample }, diagnosis }, sizes));
    }
    let sizes = s.sizes.clone();
    match random_test(s, &f, &s.plan.goal, &sizes, n)? {
        Err(missing) => {
            let diagnosis = diagnose(s, d, cat, &f, &sizes, n, limits)?;
            Ok(done(Verdict::Refuted { why: Why::Undefined(missing), diagnosis }, sizes))
        }
        Ok(Some(c)) => {
            let diagnosis = diagnose(s, d, cat, &f, &sizes, n, limits)?;
            Ok(done(Verdict::Refuted { why: Why::Value(c), diagnosis }, sizes))
        }
        Ok(None) => match prove(s, d, &f, limits)? {
            Attempt::Proved(p) => Ok(done(Verdict::Proved(p), sizes)),
            Attempt::Unknown => Ok(done(Verdict::Agrees, sizes)),
            Attempt::Differs(diff) => match differs_at(s, &f, &diff, &sizes, n)? {
                Some(c) => {
                    let diagnosis = diagnose(s, d, cat, &f, &sizes, n, limits)?;
                    Ok(done(Verdict::Refuted { why: Why::Value(c), diagnosis }, sizes))
                }
                None => Ok(done(Verdict::Agrees, sizes)),
            },
        },
    }
}

/// The numbers of the exact difference of the two expansions, at the check's points: the first entry where it
/// is not zero beyond its rounding bound (then the formula is not the gradient, though the whole values agree
/// to f64 rounding: the difference is far smaller than the gradient).
fn differs_at(s: &Session, f: &RecExpr<Expr>, diff: &[(crate::exact::Rational, canon::Product)], sizes: &Sizes, n: usize) -> Result<Option<Counterexample>> {
    let target: Vec<(Symbol, usize)> = target_indices(s).into_iter().map(|(k, d)| (k, sizes.dims.get(&d).copied().unwrap_or(0))).collect();
    for (point, params) in points(s, sizes, n.min(5)) {
        let mut num = Numeric::new(&s.model, sizes, &params);
        let Some((value, bound)) = difference::evaluate(&mut num, diff, &target, sizes)? else { return Ok(None) };
        let ratio = |k: usize| if value[k].is_finite() { value[k].abs() / bound[k].max(f64::MIN_POSITIVE) } else { f64::INFINITY };
        let worst = (0..value.len()).filter(|k| !(value[*k].abs() <= bound[*k])).max_by(|a, b| ratio(*a).total_cmp(&ratio(*b)));
        if let Some(w) = worst {
            let (truth, yours) = values(s, sizes, &params, f, &s.plan.goal)?;
            let yours = yours?;
            let entry = entry_of(&truth, w);
            let first_step = first_step(s, sizes, &params, f, &entry).ok().flatten();
            return Ok(Some(Counterexample { point, entry, yours: yours.data[w], truth: truth.data[w], first_step, difference: Some((value[w], bound[w], diff.len())) }));
        }
    }
    Ok(None)
}
