//! Runs a plan: each beat applies its rules with the stepper (to the whole expression, or to the focused part),
//! side equations are derived the same way. Produces the steps only; it never prints and never computes numbers.
use crate::error::{Error, Result};
use crate::lang::{Expr, copy_into, symbols};
use crate::plan::{Item, Plan, RuleUse, WhereSpec};
use crate::rules::RuleSet;
use crate::stepper::{Limits, Stats, Step, run};
use egg::{Id, Language, Pattern, RecExpr, Searcher, Symbol};

/// One micro step; the whole expression after it is [`TraceStep::whole`].
#[derive(Debug, Clone)]
pub struct TraceStep {
    pub rule: String,
    pub count: usize,
    /// The focused part after the step, when the beat works on a part.
    pub part: Option<RecExpr<Expr>>,
    whole: WholeOf,
}

/// How a micro step's whole expression is had: it is the step's term, or the step's part plugged into the
/// beat's context (shared by every step of the beat, so a long focused beat does not copy the whole each step),
/// or the unchanged whole of an aside.
#[derive(Debug, Clone)]
enum WholeOf {
    Term(RecExpr<Expr>),
    Plug(std::sync::Arc<RecExpr<Expr>>),
    Same(std::sync::Arc<RecExpr<Expr>>),
}

impl TraceStep {
    /// Was this step's term kept (`Limits::keep_every_step`, as for --trace)?
    pub fn kept(&self) -> bool {
        !matches!(&self.whole, WholeOf::Term(t) if t.as_ref().is_empty()) && !self.part.as_ref().is_some_and(|p| p.as_ref().is_empty())
    }

    /// The whole expression after this step.
    pub fn whole(&self) -> RecExpr<Expr> {
        match (&self.whole, &self.part) {
            (WholeOf::Term(t), _) => t.clone(),
            (WholeOf::Plug(ctx), Some(p)) => plug(ctx, p),
            (WholeOf::Plug(ctx), None) | (WholeOf::Same(ctx), _) => (**ctx).clone(),
        }
    }
}

/// A side equation `lhs = rhs` shown under a beat.
#[derive(Debug, Clone)]
pub struct Where {
    pub lhs: RecExpr<Expr>,
    pub rhs: RecExpr<Expr>,
    pub rules: Vec<(String, usize)>,
    pub k_range: Option<(Symbol, i64, i64)>,
}

/// One beat of the derivation, as shown to a student.
#[derive(Debug, Clone)]
pub struct Beat {
    pub eq: Option<u32>,
    pub title: String,
    /// The title in Korean, when the plan has one.
    pub title_ko: Option<String>,
    /// Rules that fired, in order of first use, with the number of steps each fired in.
    pub rules: Vec<(String, usize)>,
    /// The focused part as it was when the focus began (shown as its left-hand side).
    pub part_lhs: Option<RecExpr<Expr>>,
    /// The focused part after the beat.
    pub part: Option<RecExpr<Expr>>,
    /// The whole expression after the beat.
    pub whole: RecExpr<Expr>,
    pub wheres: Vec<Where>,
    pub trace: Vec<TraceStep>,
    /// A side derivation: `part_lhs = part` is shown and checked; the main expression is unchanged.
    pub aside: bool,
}

/// A whole derivation.
#[derive(Debug, Clone)]
pub struct Derivation {
    pub goal: RecExpr<Expr>,
    pub beats: Vec<Beat>,
    pub stats: Stats,
}

impl Derivation {
    /// The final form to show for the gradient: the last beat's expression, or — where that only names a
    /// quantity its side equation spells out (∂L/∂s⁽⁰⁾[j] for the parameter s0, shown as the goal itself) —
    /// what that side equation says it is.
    pub fn final_form(&self) -> &RecExpr<Expr> {
        let Some(last) = self.beats.last() else { return &self.goal };
        let nf = crate::lang::normal_form(&last.whole);
        match last.wheres.iter().find(|w| w.k_range.is_none() && crate::lang::normal_form(&w.lhs) == nf) {
            Some(w) => &w.rhs,
            None => &last.whole,
        }
    }
}

/// The part of the expression a beat works on, the rest of it (with a hole), and the part as it was first.
struct Focus {
    ctx: RecExpr<Expr>,
    part: RecExpr<Expr>,
    origin: RecExpr<Expr>,
}

const HOLE: &str = "__part__";

/// Rule names with how many steps each fired in, in order of first use.
pub fn summarize(steps: &[Step]) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = vec![];
    for s in steps {
        match out.iter_mut().find(|(n, _)| *n == s.rule) {
            Some(e) => e.1 += 1,
            None => out.push((s.rule.clone(), 1)),
        }
    }
    out
}

/// Replace the node `at` of `e` (and every node shared with it) by `with`.
fn replace(e: &RecExpr<Expr>, at: Id, with: &RecExpr<Expr>) -> RecExpr<Expr> {
    fn go(e: &RecExpr<Expr>, id: Id, at: Id, with: &RecExpr<Expr>, out: &mut RecExpr<Expr>) -> Id {
        if id == at {
            return copy_into(with, with.root(), out);
        }
        let n = e[id].clone().map_children(|c| go(e, c, at, with, out));
        out.add(n)
    }
    let mut out = RecExpr::default();
    go(e, e.root(), at, with, &mut out);
    out
}

fn hole() -> RecExpr<Expr> {
    let mut h = RecExpr::default();
    h.add(Expr::Symbol(HOLE.into()));
    h
}

fn plug(ctx: &RecExpr<Expr>, part: &RecExpr<Expr>) -> RecExpr<Expr> {
    match ctx.as_ref().iter().position(|n| matches!(n, Expr::Symbol(s) if s.as_str() == HOLE)) {
        Some(i) => replace(ctx, Id::from(i), part),
        None => ctx.clone(),
    }
}

/// The first sub-expression (pre-order) that `pat` matches.
fn find_part(e: &RecExpr<Expr>, pat: &Pattern<Expr>) -> Option<Id> {
    let mut eg = crate::lang::EG::default();
    let ids: Vec<Id> = e.as_ref().iter().cloned().fold(vec![], |mut ids, n| {
        let id = eg.add(n.map_children(|c| ids[usize::from(c)]));
        ids.push(id);
        ids
    });
    eg.rebuild();
    fn pre(e: &RecExpr<Expr>, id: Id, out: &mut Vec<Id>) {
        out.push(id);
        for c in e[id].children() {
            pre(e, *c, out);
        }
    }
    let mut order = vec![];
    pre(e, e.root(), &mut order);
    order.into_iter().find(|id| pat.search_eclass(&eg, eg.find(ids[usize::from(*id)])).is_some())
}

/// Derive one side equation with its rules.
pub fn derive_where(w: &WhereSpec, rules: &RuleSet, limits: Limits, stats: &mut Stats) -> Result<Where> {
    let steps = run(&w.lhs, &w.rules, rules, &Default::default(), limits, stats, "a side equation")?;
    let Some(last) = steps.last() else {
        return Err(Error::Stuck(format!(
            "the side equation for `{}` made no progress: none of its rules ({}) applies",
            crate::print::render(&w.lhs, crate::print::Style::Ascii, 200),
            w.rules.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
        )));
    };
    Ok(Where { lhs: w.lhs.clone(), rhs: last.term.clone(), rules: summarize(&steps), k_range: w.k_range })
}

/// Run the plan with the rules. Every expression in the result comes from rule applications.
pub fn derive(plan: &Plan, rules: &RuleSet, limits: Limits) -> Result<Derivation> {
    derive_with(plan, rules, limits, &mut |_| {})
}

/// [`derive`], calling `progress` with each beat's title before it runs.
pub fn derive_with(plan: &Plan, rules: &RuleSet, limits: Limits, progress: &mut dyn FnMut(&str)) -> Result<Derivation> {
    let mut stats = Stats::default();
    let mut whole = plan.goal.clone();
    let mut focus: Option<Focus> = None;
    let mut beats = vec![];
    // every name a step has shown so far: a fresh Σ index never takes a letter an earlier step used, so that a
    // letter names one sum throughout the derivation (the blog's a, b, c, d down the levels)
    let mut shown: std::collections::BTreeSet<egg::Symbol> = symbols(&plan.goal);
    for item in &plan.items {
        match item {
            Item::Focus(pat) => {
                let Some(at) = find_part(&whole, pat) else {
                    return Err(Error::Stuck(format!(
                        "the plan focuses on `{pat}`, but the expression has no such part:\n  {}",
                        crate::print::render(&whole, crate::print::Style::Ascii, 100)
                    )));
                };
                let part = crate::lang::sub_expr(&whole, at);
                focus = Some(Focus { ctx: replace(&whole, at, &hole()), origin: part.clone(), part });
            }
            Item::Unfocus => focus = None,
            Item::Final => {
                if whole.as_ref().iter().any(|n| matches!(n, Expr::D([x, _]) if !matches!(&whole[*x], Expr::Symbol(_)))) {
                    if let Some(n) = too_long_to_unroll(&whole) {
                        return Err(Error::Stuck(format!(
                            "the derivation ended with a derivative the rules could not resolve:\n  {}\nhint: a Σ over {n} time steps is left: `@time-unroll` writes out at most {} terms, and this plan writes that Σ out term by term; use --steps {} or fewer",
                            crate::print::render(&whole, crate::print::Style::Ascii, 100),
                            crate::rules::apply::UNROLL_MAX,
                            crate::rules::apply::UNROLL_MAX
                        )));
                    }
                    return Err(Error::Stuck(format!(
                        "the derivation ended with a derivative the rules could not resolve:\n  {}\nhint: a rule the plan needs is missing or was changed",
                        crate::print::render(&whole, crate::print::Style::Ascii, 100)
                    )));
                }
            }
            Item::Beat { eq, title, title_ko, rules: uses, wheres, aside: Some(start) } => {
                progress(title);
                let what = format!("aside ({}) {title}", eq.unwrap_or(0));
                let steps = run(start, uses, rules, &Default::default(), limits, &mut stats, &what)?;
                let Some(last) = steps.last() else { continue };
                let mut ws = vec![];
                for w in wheres {
                    ws.push(derive_where(w, rules, limits, &mut stats)?);
                }
                beats.push(Beat {
                    eq: *eq,
                    title: title.clone(),
                    title_ko: title_ko.clone(),
                    rules: summarize(&steps),
                    part_lhs: Some(start.clone()),
                    part: Some(last.term.clone()),
                    whole: whole.clone(),
                    wheres: ws,
                    trace: {
                        let same = std::sync::Arc::new(whole.clone());
                        steps.iter().map(|s| TraceStep { rule: s.rule.clone(), count: s.count, whole: WholeOf::Same(same.clone()), part: Some(s.term.clone()) }).collect()
                    },
                    aside: true,
                });
            }
            Item::Beat { eq, title, title_ko, rules: uses, wheres, aside: None } => {
                progress(title);
                let beat = run_beat(*eq, title, uses, wheres, &mut whole, &mut focus, rules, limits, &mut stats, &mut shown)?;
                if let Some(mut b) = beat {
                    b.title_ko = title_ko.clone();
                    beats.push(b);
                }
            }
        }
    }
    Ok(Derivation { goal: plan.goal.clone(), beats, stats })
}

#[allow(clippy::too_many_arguments)]
fn run_beat(
    eq: Option<u32>,
    title: &str,
    uses: &[RuleUse],
    wheres: &[WhereSpec],
    whole: &mut RecExpr<Expr>,
    focus: &mut Option<Focus>,
    rules: &RuleSet,
    limits: Limits,
    stats: &mut Stats,
    shown: &mut std::collections::BTreeSet<egg::Symbol>,
) -> Result<Option<Beat>> {
    let what = match eq {
        Some(n) => format!("beat ({n}) {title}"),
        None => format!("beat “{title}”"),
    };
    let (start, mut reserved) = match focus {
        Some(f) => (f.part.clone(), symbols(&f.ctx)),
        None => (whole.clone(), Default::default()),
    };
    reserved.extend(rules.reserved.iter().copied());
    let reserved = crate::lang::Reserved { names: std::mem::take(&mut reserved), shown: shown.clone() };
    let steps = run(&start, uses, rules, &reserved, limits, stats, &what)?;
    if let Some(s) = steps.last() {
        shown.extend(symbols(&s.term));
    }
    if steps.is_empty() && !uses.is_empty() {
        return Ok(None);
    }
    let ctx = focus.as_ref().map(|f| std::sync::Arc::new(f.ctx.clone()));
    let trace: Vec<TraceStep> = steps
        .iter()
        .map(|s| match &ctx {
            Some(c) => TraceStep { rule: s.rule.clone(), count: s.count, whole: WholeOf::Plug(c.clone()), part: Some(s.term.clone()) },
            None => TraceStep { rule: s.rule.clone(), count: s.count, whole: WholeOf::Term(s.term.clone()), part: None },
        })
        .collect();
    let part_lhs = focus.as_ref().map(|f| f.origin.clone());
    if let Some(last) = steps.last() {
        match focus {
            Some(f) => {
                f.part = last.term.clone();
                *whole = plug(&f.ctx, &f.part);
            }
            None => *whole = last.term.clone(),
        }
    }
    let mut ws = vec![];
    for w in wheres {
        if w.k_range.is_some_and(|(_, lo, hi)| hi < lo) {
            continue;
        }
        ws.push(derive_where(w, rules, limits, stats)?);
    }
    Ok(Some(Beat {
        eq,
        title: title.to_string(),
        title_ko: None,
        rules: summarize(&steps),
        part: focus.as_ref().map(|f| f.part.clone()),
        part_lhs,
        whole: whole.clone(),
        wheres: ws,
        trace,
        aside: false,
    }))
}

/// The length of the longest Σ over time in `e` with numeric bounds that is too long for `@time-unroll`.
fn too_long_to_unroll(e: &RecExpr<Expr>) -> Option<usize> {
    let num = |id: egg::Id| match &e[id] {
        Expr::Num(v) => Some(v.into_inner()),
        _ => None,
    };
    e.as_ref()
        .iter()
        .filter_map(|n| match n {
            Expr::TSum([_, lo, hi, _]) => Some(num(*hi)? - num(*lo)? + 1.0),
            _ => None,
        })
        .filter(|n| *n > crate::rules::apply::UNROLL_MAX as f64)
        .map(|n| n as usize)
        .max()
}
