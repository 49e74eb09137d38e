//! The stepper: applies one rule at a time, forward only, to a term. Each step builds an e-graph of the current
//! term, lets egg's matcher find the first rule (in priority order) that applies, applies it at every match,
//! and extracts the rewritten term (old nodes of rewritten classes are banned, so the new form is taken).
use crate::error::{Error, Result};
use crate::lang::{EG, Expr, Meta};
use crate::plan::RuleUse;
use crate::rules::RuleSet;
use egg::{CostFunction, Extractor, Id, Language, RecExpr, Symbol};
use std::collections::{BTreeSet, HashSet};

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
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_steps: 20_000, max_nodes: 1_000_000 }
    }
}

/// Statistics of a run, for `--stats`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub steps: usize,
    pub largest_egraph: usize,
}

struct Ban(HashSet<Expr>);

impl CostFunction<Expr> for Ban {
    type Cost = (u32, usize);
    fn cost<C: FnMut(Id) -> (u32, usize)>(&mut self, n: &Expr, mut costs: C) -> (u32, usize) {
        let own = (u32::from(self.0.contains(n)), 1);
        n.fold(own, |acc, c| {
            let k = costs(c);
            (acc.0.saturating_add(k.0), acc.1.saturating_add(k.1))
        })
    }
}

fn build(term: &RecExpr<Expr>, reserved: &BTreeSet<Symbol>) -> (EG, Id) {
    let mut eg = EG::new(Meta { reserved: reserved.clone() });
    let root = eg.add_expr(term);
    eg.rebuild();
    (eg, root)
}

/// Apply the first rule of `uses` (in order) that changes `term`; `None` when no rule applies.
fn one_step(
    term: &RecExpr<Expr>,
    uses: &[RuleUse],
    fired: &[usize],
    rules: &RuleSet,
    reserved: &BTreeSet<Symbol>,
    stats: &mut Stats,
) -> Option<(usize, Step)> {
    let (mut eg, mut root) = build(term, reserved);
    for (i, u) in uses.iter().enumerate() {
        if u.limit.is_some_and(|l| fired[i] >= l) {
            continue;
        }
        let Some(rule) = rules.get(&u.name) else { continue };
        let matches = rule.rewrite.search(&eg);
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
            let (_, best) = Extractor::new(&eg, Ban(banned)).find_best(eg.find(root));
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

/// Run the rules of one beat on `term` until none applies. `reserved` holds symbols that fresh names must
/// avoid (the rest of the expression when `term` is only a part of it).
pub fn run(
    term: &RecExpr<Expr>,
    uses: &[RuleUse],
    rules: &RuleSet,
    reserved: &BTreeSet<Symbol>,
    limits: Limits,
    stats: &mut Stats,
    what: &str,
) -> Result<Vec<Step>> {
    let mut steps: Vec<Step> = vec![];
    let mut fired = vec![0usize; uses.len()];
    let mut cur = term.clone();
    loop {
        if cur.as_ref().len() > limits.max_nodes {
            return Err(Error::Limit(format!(
                "{what}: the expression grew past {} nodes (--max-nodes); raise the limit, or use a smaller --steps",
                limits.max_nodes
            )));
        }
        let Some((i, step)) = one_step(&cur, uses, &fired, rules, reserved, stats) else { break };
        fired[i] += 1;
        stats.steps += 1;
        cur = step.term.clone();
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
    Ok(steps)
}
