//! The stepper: applies one rule at a time, forward only, to a term. The reference step ([`one_step`]) builds
//! an e-graph of the current term, lets egg's matcher find the first rule (in priority order) that applies,
//! applies it at every match (in term order), and extracts the rewritten term (old nodes of rewritten classes
//! are banned, so the new form is taken). [`run`] takes the same steps on a pool e-graph that keeps what did not
//! change from one step to the next ([`pool`]).
mod above;
mod candidates;
mod members;
mod pool;
mod reads;

use crate::error::{Error, Result};
use crate::lang::{EG, Expr, Meta, Reserved};
use crate::plan::RuleUse;
use crate::rules::RuleSet;
use egg::{Id, Language, RecExpr};
use rustc_hash::FxHashSet as HashSet;

/// One rule application.
#[derive(Debug, Clone)]
pub struct Step {
    pub rule: String,
    /// How many places the rule rewrote in this step.
    pub count: usize,
    pub term: RecExpr<Expr>,
}

/// Limits on one run of the stepper.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Steps in one beat.
    pub max_steps: usize,
    /// Nodes in one step's e-graph.
    pub max_nodes: usize,
    /// When to give up (a limit, never a way to choose what is printed: hitting it is an error).
    pub deadline: Option<(std::time::Instant, u64)>,
    /// Keep the term after every step (what a trace shows); when false only the last step of a run keeps its
    /// term, the others keep their rule and count (the any-T check needs no more, and keeps less memory).
    pub keep_every_step: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_steps: 20_000, max_nodes: 1_000_000, deadline: None, keep_every_step: true }
    }
}

/// Statistics of a run, for `--stats`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub steps: usize,
    pub largest_egraph: usize,
    /// Steps taken by the reference step (a fresh e-graph of the term) rather than on the pool.
    pub fresh_steps: usize,
}

/// Extract a term from `root`, preferring in each class a node that is not banned, then the smaller one.
/// A depth-first walk that skips nodes leading back into a class being extracted (unions such as a + 0 = a
/// make cycles), so it is linear in the e-graph's size (egg's fixpoint extractor is quadratic on deep terms).
fn extract(eg: &EG, root: Id, banned: &HashSet<Expr>) -> RecExpr<Expr> {
    type Cost = (u32, usize);
    /// Per canonical class: not visited, or the best (cost, node) found (None: only cycles).
    type Memo = Vec<Option<Option<(Cost, usize)>>>;
    fn best(eg: &EG, id: Id, banned: &HashSet<Expr>, memo: &mut Memo, active: &mut [bool]) -> Option<Cost> {
        let id = eg.find(id);
        let k = usize::from(id);
        if let Some(m) = memo[k] {
            return m.map(|x| x.0);
        }
        if active[k] {
            return None;
        }
        active[k] = true;
        let mut choice: Option<(Cost, usize)> = None;
        'nodes: for (i, n) in eg[id].nodes.iter().enumerate() {
            let mut cost: Cost = (u32::from(banned.contains(n)), 1);
            for c in n.children() {
                match best(eg, *c, banned, memo, active) {
                    Some(k) => cost = (cost.0.saturating_add(k.0), cost.1.saturating_add(k.1)),
                    None => continue 'nodes,
                }
            }
            if choice.is_none_or(|(b, _)| cost < b) {
                choice = Some((cost, i));
            }
        }
        active[k] = false;
        memo[k] = Some(choice);
        choice.map(|x| x.0)
    }
    fn build(eg: &EG, id: Id, memo: &Memo, out: &mut RecExpr<Expr>, done: &mut [Option<Id>]) -> Id {
        let id = eg.find(id);
        let k = usize::from(id);
        if let Some(d) = done[k] {
            return d;
        }
        let i = memo[k].flatten().map(|x| x.1).unwrap_or(0);
        let n = eg[id].nodes[i].clone().map_children(|c| build(eg, c, memo, out, done));
        let new = out.add(n);
        done[k] = Some(new);
        new
    }
    // canonical ids are below this bound (egg numbers classes by the node that created them)
    let size = eg.classes().map(|c| usize::from(c.id)).max().unwrap_or(0) + 1;
    let mut memo: Memo = vec![None; size];
    best(eg, root, banned, &mut memo, &mut vec![false; size]);
    let mut out = RecExpr::default();
    build(eg, root, &memo, &mut out, &mut vec![None; size]);
    out
}

fn build(term: &RecExpr<Expr>, reserved: &Reserved) -> (EG, Id) {
    let mut eg = EG::new(Meta { reserved: reserved.names.clone(), shown: reserved.shown.clone(), ..Default::default() });
    let root = eg.add_expr(term);
    eg.rebuild();
    (eg, root)
}

/// Apply the first rule of `uses` (in order) that changes `term`; `None` when no rule applies.
pub(crate) fn one_step(
    term: &RecExpr<Expr>,
    uses: &[RuleUse],
    fired: &[usize],
    rules: &RuleSet,
    reserved: &Reserved,
    stats: &mut Stats,
) -> Option<(usize, Step)> {
    let (mut eg, mut root) = build(term, reserved);
    for (i, u) in uses.iter().enumerate() {
        if u.limit.is_some_and(|l| fired[i] >= l) {
            continue;
        }
        let Some(rule) = rules.get(&u.name) else { continue };
        let mut matches = rule.rewrite.search(&eg);
        // in term order (a fresh e-graph numbers classes as the term lists its nodes), not the matcher's hash order
        matches.sort_by_key(|m| m.eclass);
        if matches.is_empty() {
            continue;
        }
        let before = eg.total_number_of_nodes();
        let old: Vec<Expr> = matches.iter().flat_map(|m| eg[m.eclass].nodes.clone()).collect();
        let changed = rule.rewrite.apply(&mut eg, &matches);
        eg.rebuild();
        stats.largest_egraph = stats.largest_egraph.max(eg.total_number_of_nodes());
        if !changed.is_empty() {
            let banned: HashSet<Expr> = old.into_iter().map(|n| n.map_children(|c| eg.find(c))).collect();
            let best = extract(&eg, root, &banned);
            if best != *term {
                return Some((i, Step { rule: u.name.clone(), count: changed.len(), term: best }));
            }
        }
        if eg.total_number_of_nodes() != before {
            (eg, root) = build(term, reserved);
        }
    }
    None
}

thread_local! {
    static REFERENCE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f` with every stepper run on this thread taking the reference steps (a fresh e-graph per step), to
/// compare the pool's steps against.
pub fn with_reference_steps<R>(f: impl FnOnce() -> R) -> R {
    let before = REFERENCE.replace(true);
    let out = f();
    REFERENCE.set(before);
    out
}

/// Run the rules of one beat on `term` until none applies. `reserved` holds symbols that fresh names must
/// avoid (the rest of the expression when `term` is only a part of it).
pub fn run(
    term: &RecExpr<Expr>,
    uses: &[RuleUse],
    rules: &RuleSet,
    reserved: &Reserved,
    limits: Limits,
    stats: &mut Stats,
    what: &str,
) -> Result<Vec<Step>> {
    let mut steps: Vec<Step> = vec![];
    let mut fired = vec![0usize; uses.len()];
    let mut pool = if REFERENCE.get() { None } else { pool::Pool::new(term, reserved) };
    let found: Vec<Option<&crate::rules::Rule>> = uses.iter().map(|u| rules.get(&u.name)).collect();
    loop {
        // the current term: the pool's, or the last step's (the reference steps keep every term), or the start
        let size = match &pool {
            Some(p) => p.len(),
            None => steps.last().map_or(term, |s| &s.term).as_ref().len(),
        };
        if size > limits.max_nodes {
            return Err(Error::Limit(format!(
                "{what}: the expression grew past {} nodes (--max-nodes); raise the limit, or use a smaller --steps",
                limits.max_nodes
            )));
        }
        crate::limits::check(what)?;
        if let Some((at, secs)) = limits.deadline
            && std::time::Instant::now() > at {
                return Err(Error::Limit(format!("{what}: stopped by --timeout {secs} (seconds) after {} steps of this beat; raise --timeout, or use a smaller --steps", steps.len())));
            }
        let next = match &mut pool {
            Some(p) => p.step(uses, &found, &fired, rules, reserved, stats, limits.keep_every_step),
            None => {
                let next = one_step(steps.last().map_or(term, |s| &s.term), uses, &fired, rules, reserved, stats);
                stats.fresh_steps += usize::from(next.is_some());
                next
            }
        };
        let Some((i, step)) = next else { break };
        fired[i] += 1;
        stats.steps += 1;
        if !limits.keep_every_step
            && let Some(last) = steps.last_mut()
        {
            last.term = RecExpr::default();
        }
        steps.push(step);
        if steps.len() >= limits.max_steps {
            return Err(Error::Limit(format!(
                "{what}: still rewriting after {} steps (--max-steps); raise the limit, or check the rules for a loop \
                 (the last rule applied was `{}`)",
                limits.max_steps,
                steps.last().map(|s| s.rule.as_str()).unwrap_or("?")
            )));
        }
    }
    // the last step always has its term (the pool kept only the current one)
    if let (Some(p), Some(last)) = (&pool, steps.last_mut())
        && last.term.as_ref().is_empty()
    {
        last.term = p.term();
    }
    Ok(steps)
}
