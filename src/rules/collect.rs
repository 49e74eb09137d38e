//! `@sum-collect` without writing a whole chain out. The rule is tried at the outermost `+` of every chain above
//! a change, and a chain's terms carry everything below them (at T = 100 of an LSTM, writing chains out was most of
//! the derivation). So a quick look ([`may_collect`]) writes out only each sum's range and derivative, and in the
//! stepper's pool — where a class has one node and the term's constants are folded, so a class's term is its
//! part of any term written out above it — [`in_pool`] finds the pair to collect from the classes, writes out only
//! the two sums, and [`apply`] builds the new chain from the other terms' classes. Both give what
//! `regroup::collected` gives from the whole chain written out (the same keys, the same pairs in the same order,
//! the same `merged`); debug builds check the quick look against it, and the stepper test the pool's steps
//! against the reference steps, which write chains out.
use super::regroup::{collectable, folded, key, merged, pairs};
use super::apply::{rename, representative};
use super::rhs::{join, note_symbol};
use crate::lang::{EG, Expr, copy_into};
use egg::{Id, Language, RecExpr, Symbol};
use rustc_hash::FxHashSet as HashSet;

/// A hash of the tree at `root` of `x` that does not depend on how `x` lays the tree out (shared or not, in
/// which order).
fn tree_hash(x: &RecExpr<Expr>, root: Id) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut memo: Vec<Option<u64>> = vec![None; usize::from(root) + 1];
    fn go(x: &RecExpr<Expr>, id: Id, memo: &mut [Option<u64>]) -> u64 {
        if let Some(h) = memo[usize::from(id)] {
            return h;
        }
        let node = &x[id];
        let mut state = rustc_hash::FxHasher::default();
        node.clone().map_children(|_| Id::from(0usize)).hash(&mut state);
        for c in node.children() {
            go(x, *c, memo).hash(&mut state);
        }
        let h = state.finish();
        memo[usize::from(id)] = Some(h);
        h
    }
    go(x, root, &mut memo)
}

/// Could two sums of the chain at `eclass` be collected? A look at the chain's classes that writes out only each
/// sum's range and derivative — the keys `first_pair` groups by — rather than the whole chain with everything
/// below it (at T = 100 of an LSTM that was half of the derivation's time: the rule is tried above every change).
/// `false` only where [`super::regroup`]'s `first_pair` finds no pair: no two sums share a key. Where a class on the way has more
/// than one node (a fresh e-graph's folded constant beside it), the answer is `true` and the whole chain is read.
pub(super) fn may_collect(eg: &EG, eclass: Id) -> bool {
    let Ok((_, sums)) = chain_sums(eg, eclass) else { return true };
    let mut keys: HashSet<(u64, u64)> = HashSet::default();
    for s in sums {
        let (Some(n), Some(d)) = (representative(eg, s.n), representative(eg, s.d)) else { return true };
        let (n, d) = (folded(&n), folded(&d));
        let mut out = RecExpr::default();
        let Some(r) = rename(&d, d.root(), s.k, Symbol::from("·"), &mut out) else { continue };
        // (a hash of each tree rather than its text: two equal texts are equal trees, whose hashes are equal
        // however the trees are laid out; two trees with one hash only send the chain to the whole look)
        if !keys.insert((tree_hash(&n, n.root()), tree_hash(&out, r))) {
            return true;
        }
    }
    false
}

/// A sum of a chain that `collectable` would take: Σ_k g ∂… with its place among the chain's terms, its class,
/// bound index, range and derivative.
struct ChainSum {
    at: usize,
    term: Id,
    k: Symbol,
    n: Id,
    d: Id,
}

/// The chain at `eclass` read class by class: its number of terms, and its sums of the shape `collectable` takes.
/// `Err(())` where a class on the way has other than one node (a fresh e-graph's folded constant beside it).
fn chain_sums(eg: &EG, eclass: Id) -> Result<(usize, Vec<ChainSum>), ()> {
    let (mut terms, mut sums) = (0, vec![]);
    let mut todo = vec![eclass];
    while let Some(id) = todo.pop() {
        match one(eg, id).ok_or(())? {
            // (right first: the terms come off the list left to right)
            Expr::Add([l, r]) => {
                todo.extend([*r, *l]);
                continue;
            }
            Expr::Sum([k, n, body]) => {
                if let (Expr::Symbol(k), Expr::Mul([_, d])) = (one(eg, *k).ok_or(())?, one(eg, *body).ok_or(())?)
                    && matches!(one(eg, *d).ok_or(())?, Expr::D(_))
                {
                    sums.push(ChainSum { at: terms, term: id, k: *k, n: *n, d: *d });
                }
            }
            _ => {}
        }
        terms += 1;
    }
    Ok((terms, sums))
}

/// The chain's terms, left to right, and where they are: two of its sums merge (`merged` in the place of the
/// `i`-th term; the `j`-th leaves the chain).
pub(super) struct Plan {
    pub terms: usize,
    i: usize,
    j: usize,
    merged: RecExpr<Expr>,
}

/// The only node of `id`, if it has one.
fn one(eg: &EG, id: Id) -> Option<&Expr> {
    let c = &eg[id];
    (c.nodes.len() == 1).then(|| &c.nodes[0])
}

/// In the stepper's pool: the pair of sums of the chain at `eclass` to collect (`Ok(None)`: none), found from its
/// classes. `Err(())` outside the pool, or where a class on the way has other than one node: the caller writes
/// the chain out.
pub(super) fn in_pool(eg: &EG, eclass: Id) -> Result<Option<Plan>, ()> {
    if eg.analysis.record.is_none() {
        return Err(());
    }
    if !may_collect(eg, eclass) {
        return Ok(None);
    }
    // its sums (as `collectable` finds them in the chain written out), each written out alone, and their keys
    let (terms, found) = chain_sums(eg, eclass)?;
    let mut sums: Vec<(usize, RecExpr<Expr>)> = vec![];
    for s in found {
        sums.push((s.at, folded(&representative(eg, s.term).ok_or(())?)));
    }
    let keys: Vec<Option<String>> = sums
        .iter()
        .map(|(_, x)| collectable(x, x.root()).and_then(|(a, n, _, d)| key(x, a, n, d)))
        .collect();
    // the pairs in the order `first_pair` tries them, each on the two sums written out side by side
    for (p, q) in pairs(&keys) {
        let mut both = RecExpr::default();
        let tp = copy_into(&sums[p].1, sums[p].1.root(), &mut both);
        let tq = copy_into(&sums[q].1, sums[q].1.root(), &mut both);
        let (Some(sp), Some(sq)) = (collectable(&both, tp), collectable(&both, tq)) else { continue };
        if let Some(out) = merged(&both, &[tp, tq], sp, sq, 1) {
            return Ok(Some(Plan { terms, i: sums[p].0, j: sums[q].0, merged: out }));
        }
    }
    Ok(None)
}

/// Put the collected chain in the place of `eclass`: the chain's `+` nodes over the other terms' classes, the
/// merged sum in the place of the first, the second left out — added in the order the chain written out would
/// add them.
pub(super) fn apply(eg: &mut EG, eclass: Id, plan: &Plan) -> Vec<Id> {
    fn build(eg: &mut EG, id: Id, ord: &mut usize, plan: &Plan) -> Option<Id> {
        match eg[id].nodes.first().cloned() {
            Some(Expr::Add([l, r])) => match (build(eg, l, ord, plan), build(eg, r, ord, plan)) {
                (Some(a), Some(b)) => Some(eg.add(Expr::Add([a, b]))),
                (a, b) => a.or(b),
            },
            _ => {
                let o = *ord;
                *ord += 1;
                match o {
                    _ if o == plan.j => None,
                    _ if o == plan.i => {
                        let m = eg.add_expr(&plan.merged);
                        for n in plan.merged.as_ref() {
                            note_symbol(eg, n);
                        }
                        Some(m)
                    }
                    _ => Some(id),
                }
            }
        }
    }
    match build(eg, eclass, &mut 0, plan) {
        Some(id) => join(eg, eclass, id),
        None => vec![],
    }
}
