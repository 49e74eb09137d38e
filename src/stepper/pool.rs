//! The stepper's pool: one e-graph for a whole run of the stepper that is only ever added to, never united, so
//! every class holds exactly one node and the current term is the part reachable from its root. A step searches
//! the rules on that part, lets the appliers record each (matched class, right-hand side) instead of uniting
//! them, and builds the next term by putting every right-hand side in place of its class (numbers for constant
//! results, as the fresh e-graph's constant folding does). Only the nodes a step changes are added, so a step
//! costs a walk over the term instead of building an e-graph of it.
//!
//! The result equals the reference step ([`super::one_step`]: a fresh e-graph of the term, rules united, the new
//! form extracted); the cases where uniting could pick differently (a right-hand side that is itself rewritten,
//! two right-hand sides for one class, a cycle) are handed to the reference step. `tests/stepper.rs` checks
//! that both give the same derivation for every plan and variant.
use super::{Stats, Step, one_step};
use crate::lang::{EG, Expr, Meta, Reserved};
use crate::plan::RuleUse;
use crate::rules::RuleSet;
use egg::{Id, Language, RecExpr, SearchMatches};
use rustc_hash::FxHashMap as HashMap;

const NOT_LIVE: u32 = u32::MAX;

pub struct Pool {
    eg: EG,
    root: Id,
    /// The current term (the part of the pool reachable from `root`), in the order a fresh e-graph numbers it
    /// (post-order, a shared node where it first occurs).
    order: Vec<Id>,
    /// For every pool class, its position in `order` (NOT_LIVE: not part of the term).
    pos: Vec<u32>,
    /// The classes of the current term by operator ([`crate::lang::op_index`]), in term order.
    by_op: Vec<Vec<Id>>,
    /// For the rule at each position of the run's list, the classes it is known not to match (a bit per class):
    /// a pool class never changes, so a class that a pattern did not match once never matches it.
    misses: Vec<Vec<u64>>,
    /// The symbols of the current term (what a fresh name must avoid), kept up to date by the walk.
    symbols: std::collections::BTreeSet<egg::Symbol>,
    /// The number of pool classes when the current step began: the classes made since then that are not part of
    /// the new term are dropped from the hash-cons table when the step ends (see [`Pool::walk_from`]).
    since: usize,
}

impl Pool {
    /// A pool holding `term`; `None` when `term` has an unfolded constant (then the fresh e-graph would see a
    /// number beside it, which the pool does not model).
    pub fn new(term: &RecExpr<Expr>, reserved: &Reserved) -> Option<Pool> {
        let mut eg = EG::new(Meta { reserved: reserved.names.clone(), shown: reserved.shown.clone(), no_fold: true, ..Default::default() });
        let root = eg.add_expr(term);
        let mut pool = Pool { eg, root, order: vec![], pos: vec![], by_op: vec![vec![]; crate::lang::OPS], misses: vec![], symbols: Default::default(), since: 0 };
        pool.walk();
        let folded = pool.order.iter().all(|id| matches!(pool.eg.id_to_node(*id), Expr::Num(_)) || pool.eg[*id].data.konst.is_none());
        folded.then_some(pool)
    }

    /// The current term, written out (a step works on `order` and the pool's nodes; only a step that is kept
    /// needs the term itself).
    pub fn term(&self) -> RecExpr<Expr> {
        self.order.iter().map(|id| self.eg.id_to_node(*id).clone().map_children(|c| Id::from(self.pos[usize::from(c)] as usize))).collect()
    }

    /// The current term's size in nodes.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Size of the pool (every node it ever held).
    pub fn size(&self) -> usize {
        self.eg.number_of_classes()
    }

    /// Recompute `order`, `pos` and `by_op` for `root`, keeping the first `keep` positions: the caller knows
    /// that the new term's post-order begins with them (the walk output them before it reached any replaced
    /// class, see [`Pool::begins`], so it outputs them again in the same order).
    fn walk_from(&mut self, keep: usize) {
        let keep = keep.min(self.order.len());
        // the symbols listed after `keep`: each is listed again below, or has left the term
        let mut left = vec![];
        let gone: Vec<Id> = self.order[keep..].to_vec();
        for id in &self.order[keep..] {
            self.pos[usize::from(*id)] = NOT_LIVE;
            if let Expr::Symbol(s) = self.eg.id_to_node(*id) {
                left.push((*id, *s));
            }
        }
        self.order.truncate(keep);
        self.pos.resize(self.eg.number_of_classes(), NOT_LIVE);
        fn go(eg: &EG, id: Id, pos: &mut [u32], order: &mut Vec<Id>) {
            if pos[usize::from(id)] != NOT_LIVE {
                return;
            }
            for c in eg.id_to_node(id).children() {
                go(eg, *c, pos, order);
            }
            pos[usize::from(id)] = order.len() as u32;
            order.push(id);
        }
        go(&self.eg, self.root, &mut self.pos, &mut self.order);
        // the lists by operator are in term order: the kept prefix's entries stay, the rest is listed again
        for ids in &mut self.by_op {
            let cut = ids.partition_point(|id| (self.pos[usize::from(*id)] as usize) < keep && self.pos[usize::from(*id)] != NOT_LIVE);
            ids.truncate(cut);
        }
        for id in &self.order[keep..] {
            let node = self.eg.id_to_node(*id);
            self.by_op[crate::lang::op_index(node)].push(*id);
            if let Expr::Symbol(s) = node {
                self.symbols.insert(*s);
            }
        }
        for (id, s) in left {
            if self.pos[usize::from(id)] == NOT_LIVE {
                self.symbols.remove(&s);
            }
        }
        // The hash-cons table keeps only the term's classes: a class that left the term, or was made during this
        // step and is not part of it, is forgotten, so that no later `add` finds it again. (A class is edited in
        // place when a subterm below it is replaced; one outside the term would keep analysis data and a
        // meaning from before such an edit.)
        for id in gone {
            if self.pos[usize::from(id)] == NOT_LIVE {
                self.eg.forget(id);
            }
        }
        for k in self.since..self.eg.number_of_classes() {
            if self.pos[k] == NOT_LIVE {
                self.eg.forget(Id::from(k));
            }
        }
        self.since = self.eg.number_of_classes();
    }

    fn walk(&mut self) {
        self.walk_from(0);
    }

    /// The matches of `rule` (at position `at` of the run's list) in the current term, in term order (the order
    /// the reference step sorts them in).
    fn search(&mut self, rule: &crate::rules::Rule, at: usize) -> Vec<SearchMatches<'static, Expr>> {
        // egg refuses to search an e-graph with additions not yet rebuilt; a pool is never united, so it is
        // congruence-closed as it stands (only egg's per-operator index, which is not used here, lags)
        self.eg.clean = true;
        let pat = rule.lhs.as_ref();
        let Some(top) = pat.len().checked_sub(1) else { return vec![] };
        let candidates = match &pat[top] {
            egg::ENodeOrVar::ENode(n) => &self.by_op[crate::lang::op_index(n)],
            egg::ENodeOrVar::Var(_) => &self.order,
        };
        if self.misses.len() <= at {
            self.misses.resize(at + 1, vec![]);
        }
        let misses = &mut self.misses[at];
        misses.resize(self.eg.number_of_classes().div_ceil(64), 0);
        let mut out = vec![];
        for id in candidates {
            let (word, bit) = (usize::from(*id) / 64, 1u64 << (usize::from(*id) % 64));
            if misses[word] & bit != 0 {
                continue;
            }
            let found = if shape_fits(pat, top, &self.eg, *id, 2) { rule.rewrite.searcher.search_eclass_with_limit(&self.eg, *id, usize::MAX) } else { None };
            match found {
                Some(m) => out.push(SearchMatches { eclass: m.eclass, substs: m.substs, ast: None }),
                None => misses[word] |= bit,
            }
        }
        out
    }

    /// Apply the first rule of `uses` that changes the term (as [`one_step`] does).
    /// The step's term is left empty unless `keep` ([`Pool::term`] has it until the next step).
    /// `found`: each use's rule, looked up once per run.
    #[allow(clippy::too_many_arguments)]
    pub fn step(&mut self, uses: &[RuleUse], found: &[Option<&crate::rules::Rule>], fired: &[usize], rules: &RuleSet, reserved: &Reserved, stats: &mut Stats, keep: bool) -> Option<(usize, Step)> {
        for (i, u) in uses.iter().enumerate() {
            if u.limit.is_some_and(|l| fired[i] >= l) {
                continue;
            }
            let Some(rule) = found.get(i).copied().flatten() else { continue };
            let matches = self.search(rule, i);
            if matches.is_empty() {
                continue;
            }
            self.eg.analysis.record = Some(vec![]);
            self.eg.analysis.live = Some(self.symbols());
            rule.rewrite.apply(&mut self.eg, &matches);
            let pairs = self.eg.analysis.record.take().unwrap_or_default();
            self.eg.analysis.live = None;
            stats.largest_egraph = stats.largest_egraph.max(self.size());
            // the places rewritten: distinct (class, new form) pairs, as uniting counts the unions that did something
            let mut changed: Vec<(Id, Id)> = pairs.iter().copied().filter(|(c, r)| c != r).collect();
            changed.sort_unstable();
            changed.dedup();
            self.remember_no_ops(i, &matches, &changed);
            if changed.is_empty() {
                continue;
            }
            let Some((root, first, edited)) = self.replace(&changed) else {
                // a case the pool does not model: the reference step, from the same term
                let next = one_step(&self.term(), uses, fired, rules, reserved, stats);
                if let Some((_, step)) = &next {
                    stats.fresh_steps += 1;
                    self.root = self.eg.add_expr(&step.term);
                    self.walk();
                }
                return next;
            };
            if root == self.root && !edited {
                continue;
            }
            self.root = root;
            self.walk_from(first);
            self.compact(reserved);
            let term = if keep { self.term() } else { RecExpr::default() };
            return Some((i, Step { rule: u.name.clone(), count: changed.len(), term }));
        }
        None
    }

    /// A match whose application changed nothing (a condition failed, or an applier such as `@delta-contract`
    /// found nothing to do) never will: the class and the run's rules are fixed. It is remembered with the
    /// classes the rule does not match, so that a later step does not apply the rule there again (otherwise every
    /// step that reaches `delta-contract` would try it at every Σ of the term).
    fn remember_no_ops(&mut self, at: usize, matches: &[SearchMatches<'static, Expr>], changed: &[(Id, Id)]) {
        let Some(misses) = self.misses.get_mut(at) else { return };
        for m in matches {
            if changed.binary_search_by_key(&m.eclass, |(c, _)| *c).is_err()
                && let Some(word) = misses.get_mut(usize::from(m.eclass) / 64)
            {
                *word |= 1u64 << (usize::from(m.eclass) % 64);
            }
        }
    }

    /// Start afresh from the current term when the pool has grown to several times its size: what earlier steps
    /// added and no longer use is dropped, so the pool stays proportional to the term (memory linear in the
    /// term's size, not in the number of steps times it). The term, and so every later step, is the same.
    fn compact(&mut self, reserved: &Reserved) {
        if self.size() > 4 * self.len() + 4096
            && let Some(fresh) = Pool::new(&self.term(), reserved)
        {
            *self = fresh;
        }
    }

    /// Put every matched class's right-hand side in its place (`pairs`: distinct (class, right-hand side) pairs,
    /// the two different): the new root, the first term position that changed, and whether a class of the term was
    /// edited in place. `None` when uniting could choose differently (see the module comment); the pool is then
    /// as it was.
    ///
    /// A term class above a replaced one is edited in place rather than made anew (one node per class, so its
    /// node gets the new child and the hash-cons table its new node; its analysis data is recomputed), so a step
    /// adds only what is new, not a copy of every ancestor up to the root. Where the edited node is a class the
    /// pool holds already (two parts became the same), or a constant (the fresh e-graph folds it), that class
    /// takes its place instead, as a rebuilt copy would have found it.
    fn replace(&mut self, pairs: &[(Id, Id)]) -> Option<(Id, usize, bool)> {
        let mut with: HashMap<Id, Id> = HashMap::default();
        for (c, r) in pairs {
            if with.insert(*c, *r).is_some_and(|old| old != *r) {
                return None;
            }
        }
        if with.values().any(|r| with.contains_key(r)) {
            return None;
        }
        // the term positions whose subterm holds a replaced class (children come before parents in `term`, so
        // none before the first replaced class's subterm begins)
        let first = with.keys().map(|c| self.begins(*c)).min().unwrap_or(0);
        let mut dirty = vec![false; self.order.len()];
        for at in first..self.order.len() {
            let id = self.order[at];
            dirty[at] = with.contains_key(&id) || self.eg.id_to_node(id).children().iter().any(|c| dirty[self.pos[usize::from(*c)] as usize]);
        }
        let mut memo: HashMap<Id, (Id, bool)> = HashMap::default();
        let mut stack = vec![];
        let mut undo = vec![];
        let Some((root, _)) = self.rebuild(self.root, &with, &dirty, &mut memo, &mut stack, &mut undo) else {
            // back to the term as it was (the reference step starts from it)
            for (id, node, data) in undo.into_iter().rev() {
                self.eg.set_node(id, node, data);
            }
            return None;
        };
        // a class whose subterm changed may now match where it did not: its misses are forgotten
        for (at, d) in dirty.iter().enumerate().skip(first) {
            if *d {
                let k = usize::from(self.order[at]);
                for misses in &mut self.misses {
                    if let Some(word) = misses.get_mut(k / 64) {
                        *word &= !(1u64 << (k % 64));
                    }
                }
            }
        }
        Some((root, first, !undo.is_empty()))
    }

    /// A term position at or before the first position of the subterm of the live class `c` (its leftmost
    /// descendant's: the walk enters a node's first child first). Every position before it is output before the
    /// walk reaches `c`, so replacing `c` leaves those positions as they are.
    fn begins(&self, c: Id) -> usize {
        let mut at = self.pos.get(usize::from(c)).copied().unwrap_or(NOT_LIVE);
        if at == NOT_LIVE {
            return 0;
        }
        while let Some(first) = self.eg.id_to_node(self.order[at as usize]).children().first() {
            at = self.pos[usize::from(*first)];
        }
        at as usize
    }

    /// The class that takes the place of `id` in the new term, and whether its analysis data changed in place.
    /// `undo` records every class edited in place (its node and data before), to restore on `None`.
    fn rebuild(&mut self, id: Id, with: &HashMap<Id, Id>, dirty: &[bool], memo: &mut HashMap<Id, (Id, bool)>, stack: &mut Vec<Id>, undo: &mut Vec<(Id, Expr, crate::lang::Data)>) -> Option<(Id, bool)> {
        let live = self.pos.get(usize::from(id)).copied().filter(|p| *p != NOT_LIVE);
        // a term node with nothing replaced below stays as it is
        if live.is_some_and(|p| !dirty[p as usize]) {
            return Some((id, false));
        }
        if let Some(done) = memo.get(&id) {
            return Some(*done);
        }
        if let Some(r) = with.get(&id) {
            if stack.contains(&id) {
                return None;
            }
            stack.push(id);
            let out = self.rebuild(*r, with, dirty, memo, stack, undo)?;
            stack.pop();
            memo.insert(id, out);
            return Some(out);
        }
        let node = self.eg.id_to_node(id).clone();
        let mut kids: smallvec::SmallVec<[Id; 4]> = smallvec::SmallVec::new();
        let mut below = false;
        for c in node.children() {
            let (k, changed) = self.rebuild(*c, with, dirty, memo, stack, undo)?;
            kids.push(k);
            below |= changed;
        }
        let same = kids.iter().zip(node.children()).all(|(a, b)| a == b);
        let mut out = if same && !below {
            (id, false)
        } else if same {
            // a child was edited in place: the node stays, its data is recomputed from the children's
            self.edit(id, node, undo)
        } else {
            let mut it = kids.into_iter();
            let new = node.map_children(|c| it.next().unwrap_or(c));
            match self.eg.lookup_node(&new) {
                Some(q) => (q, false),
                None if live.is_some() => self.edit(id, new, undo),
                None => (self.eg.add(new), false),
            }
        };
        // a class that is not in the current term may be a constant expression: the fresh e-graph shows its number
        if self.pos.get(usize::from(out.0)).is_none_or(|p| *p == NOT_LIVE)
            && !matches!(self.eg.id_to_node(out.0), Expr::Num(_))
            && let Some(v) = self.eg[out.0].data.konst
        {
            out = (self.eg.add(Expr::Num(v)), false);
        }
        memo.insert(id, out);
        Some(out)
    }

    /// Give the term class `id` the node `node` in place (or, the same node, recompute its data), recording its
    /// node and data before in `undo`: the class that takes `id`'s place, and whether `id`'s data changed. A node
    /// that is a constant expression is not edited: its number takes the place (as for a rebuilt copy, which the
    /// fresh e-graph folds).
    fn edit(&mut self, id: Id, node: Expr, undo: &mut Vec<(Id, Expr, crate::lang::Data)>) -> (Id, bool) {
        use egg::Analysis;
        let data = crate::lang::Meta::make(&mut self.eg, &node, id);
        if let Some(v) = data.konst
            && !matches!(node, Expr::Num(_))
        {
            return (self.eg.add(Expr::Num(v)), false);
        }
        let old = &self.eg[id];
        let changed = data != old.data;
        let same_node = old.nodes.first() == Some(&node);
        if same_node && !changed {
            return (id, false);
        }
        undo.push((id, self.eg.id_to_node(id).clone(), old.data.clone()));
        if same_node {
            self.eg[id].data = data;
        } else {
            self.eg.set_node(id, node, data);
        }
        (id, changed)
    }

    /// The symbols of the current term.
    fn symbols(&self) -> std::collections::BTreeSet<egg::Symbol> {
        debug_assert!(self.symbols.iter().copied().eq(self.order.iter().filter_map(|id| if let Expr::Symbol(s) = self.eg.id_to_node(*id) { Some(*s) } else { None }).collect::<std::collections::BTreeSet<_>>()));
        self.symbols.clone()
    }
}

/// Can the pattern node `at` match the pool class `id`, judging by operators down to `depth` levels? (A pool
/// class has one node, so this only skips classes egg's matcher would reject.)
fn shape_fits(pat: &[egg::ENodeOrVar<Expr>], at: usize, eg: &EG, id: Id, depth: usize) -> bool {
    let egg::ENodeOrVar::ENode(p) = &pat[at] else { return true };
    let n = eg.id_to_node(id);
    p.matches(n) && (depth == 0 || p.children().iter().zip(n.children()).all(|(pc, nc)| shape_fits(pat, usize::from(*pc), eg, *nc, depth - 1)))
}
