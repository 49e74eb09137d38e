//! The stepper's pool: one e-graph for a whole run of the stepper that is never united, so every class holds
//! exactly one node and the current term is the part reachable from its root. A step searches the rules on that
//! part, lets the appliers record each (matched class, right-hand side) instead of uniting them, and puts every
//! right-hand side in place of its class (numbers for constant results, as the fresh e-graph's constant folding
//! does). A class above a replaced one is edited in place (its node gets the new child), so a step adds only its
//! right-hand sides, and its bookkeeping (which classes are in the term, which rules are known not to match
//! them, [`super::candidates`]) touches only the replaced classes and their ancestors — not the rest of the term.
//!
//! The result equals the reference step ([`super::one_step`]: a fresh e-graph of the term, rules united, the new
//! form extracted); the cases where uniting could pick differently (a right-hand side that is itself rewritten,
//! two right-hand sides for one class, a cycle) are handed to the reference step. `tests/stepper.rs` checks
//! that both give the same derivation for every plan and variant.
use super::above::Above;
use super::members::Members;
use super::candidates::Candidates;
use super::reads::shape_fits;
use super::{Stats, Step, one_step};
use crate::lang::{Data, EG, Expr, Meta, Reserved};
use crate::plan::RuleUse;
use crate::rules::RuleSet;
use egg::{Id, Language, RecExpr, SearchMatches};
use rustc_hash::FxHashMap as HashMap;
use smallvec::SmallVec;
use std::collections::BTreeSet;

/// A class's node and data before an in-place edit (to undo a step the pool hands to the reference step).
type Undo = Vec<(Id, Expr, Data)>;

pub struct Pool {
    eg: EG,
    root: Id,
    /// Which pool classes form the term (reference counts, parent lists, by operator, the term's symbols).
    m: Members,
    /// For the rule at each position of the run's list: the classes it is known not to match, or where applying
    /// it changed nothing (forgotten within the rule's reach above a change, [`super::reads::reach`]), and the
    /// candidates it may still match. Where the order of its matches matters (it picks fresh names, or its named
    /// applier says so), they are applied in term order, as the reference step does; otherwise by class.
    cands: Candidates,
    /// The number of pool classes when the current step began: the classes made since then that are not part of
    /// the new term are dropped from the hash-cons table when the step ends.
    since: usize,
    /// The classes at or above a replaced one in the current step (`above.stamp` is the step's stamp).
    above: Above,
    /// The replaced classes of the current step: `keyed[id] == above.stamp`.
    keyed: Vec<u32>,
    /// What [`Pool::rebuild`] gave for each class in the current step (valid where `done[id] == above.stamp`).
    done: Vec<u32>,
    gave: Vec<(Id, bool)>,
    /// The (matched class, right-hand side) pairs an application records, kept between steps for its room.
    pairs: Vec<(Id, Id)>,
}

impl Pool {
    /// A pool holding `term`; `None` when `term` has an unfolded constant (then the fresh e-graph would see a
    /// number beside it, which the pool does not model).
    pub fn new(term: &RecExpr<Expr>, reserved: &Reserved) -> Option<Pool> {
        let mut eg = EG::new(Meta { reserved: reserved.names.clone(), shown: reserved.shown.clone(), no_fold: true, ..Default::default() });
        let root = eg.add_expr(term);
        let mut pool = Pool {
            eg,
            root,
            m: Members::new(),
            cands: Candidates::default(),
            since: 0,
            above: Above::default(),
            keyed: vec![],
            done: vec![],
            gave: vec![],
            pairs: vec![],
        };
        pool.m.add_ref(&pool.eg, root, None);
        pool.since = pool.eg.number_of_classes();
        let folded = pool.m.all.items.iter().all(|id| matches!(pool.eg.id_to_node(*id), Expr::Num(_)) || pool.eg[*id].data.konst.is_none());
        folded.then_some(pool)
    }

    /// The current term, written out in the order a fresh e-graph numbers it (post-order, a shared node where it
    /// first occurs). A step works on the pool's classes; only a step that is kept needs the term itself.
    pub fn term(&self) -> RecExpr<Expr> {
        let (at, order) = self.order();
        order.iter().map(|id| self.eg.id_to_node(*id).clone().map_children(|c| Id::from(at[usize::from(c)] as usize))).collect()
    }

    /// The current term's size in nodes.
    pub fn len(&self) -> usize {
        self.m.len()
    }

    /// Size of the pool (every node it ever held).
    pub fn size(&self) -> usize {
        self.eg.number_of_classes()
    }

    /// The per-class tables cover every pool class.
    fn grow(&mut self) {
        let n = self.eg.number_of_classes();
        self.m.grow(n);
        self.above.grow(n);
        if self.done.len() < n {
            self.done.resize(n, 0);
            self.keyed.resize(n, 0);
            self.gave.resize(n, (Id::from(0usize), false));
        }
    }

    /// The term in order: each pool class's position (u32::MAX: not in the term), and the classes by position.
    fn order(&self) -> (Vec<u32>, Vec<Id>) {
        let mut at = vec![u32::MAX; self.eg.number_of_classes()];
        let mut order = Vec::with_capacity(self.len());
        self.visit(self.root, &mut at, &mut order);
        (at, order)
    }

    fn visit(&self, id: Id, at: &mut [u32], order: &mut Vec<Id>) {
        let k = usize::from(id);
        if at[k] != u32::MAX {
            return;
        }
        for c in self.eg.id_to_node(id).children() {
            self.visit(*c, at, order);
        }
        at[k] = order.len() as u32;
        order.push(id);
    }

    /// The matches of `rule` (at position `at` of the run's list) in the current term: in term order (the order
    /// the reference step applies them in) where the order matters, else by class.
    fn search(&mut self, rule: &crate::rules::Rule, at: usize) -> Vec<SearchMatches<'static, Expr>> {
        // egg refuses to search an e-graph with additions not yet rebuilt; a pool is never united, so it is
        // congruence-closed as it stands (only egg's per-operator index, which is not used here, lags)
        self.eg.clean = true;
        let pat = rule.lhs.as_ref();
        let Some(top) = pat.len().checked_sub(1) else { return vec![] };
        let mut joined = std::mem::take(&mut self.m.joined);
        for id in joined.drain(..) {
            self.cands.joined(self.m.op(id), id);
        }
        self.m.joined = joined;
        // (the classes whose parents changed since the last search: nothing else changes the term in between, so the
        // chain and the outermost rules' misses are up to date when the step's walk and search read them)
        let mut moved = std::mem::take(&mut self.m.moved);
        self.above.cut(&moved);
        if self.cands.has_outermost() {
            for id in moved.iter().copied().filter(|id| self.m.live(*id)) {
                self.cands.reparented(id);
            }
        }
        moved.clear();
        self.m.moved = moved;
        let (op, now) = match &pat[top] {
            egg::ENodeOrVar::ENode(n) => (Some(crate::lang::op_index(n)), &self.m.by_op[crate::lang::op_index(n)].items),
            egg::ENodeOrVar::Var(_) => (None, &self.m.all.items),
        };
        if !self.cands.is_known(at) {
            self.cands.know(at, rule, op, now);
            self.m.log_moves |= self.cands.has_outermost();
        }
        debug_assert!(self.cands.covers(at, now), "a candidate of {} is neither listed nor known to miss", rule.name);
        let mut out = vec![];
        // an applier that works on the outermost of nested matches skips a candidate that a term class with the
        // same operator holds: the outermost class above it with that operator is a candidate too, and not known
        // to miss (anything that put the candidate back on the list — a change below it, its joining the term, a
        // change of its parents — put that class back as well), so the applier sees the match that covers it
        let outermost = self.cands.outermost(at);
        #[cfg(debug_assertions)]
        let mut skipped = vec![];
        let (eg, m) = (&self.eg, &self.m);
        self.cands.sweep(at, |id| {
            if !m.live(id) {
                return None;
            }
            if outermost && m.info[usize::from(id)].parents.iter().any(|p| m.holds(eg, *p, id) && m.op(*p) == m.op(id)) {
                #[cfg(debug_assertions)]
                skipped.push(id);
                return Some(false);
            }
            let found = if shape_fits(pat, top, eg, id, 2) { rule.rewrite.searcher.search_eclass_with_limit(eg, id, usize::MAX) } else { None };
            Some(found.map(|f| out.push(SearchMatches { eclass: f.eclass, substs: f.substs, ast: None })).is_some())
        });
        // (each skipped candidate is below a match through term classes with its operator: the outermost of them)
        #[cfg(debug_assertions)]
        for id in &skipped {
            let matched: std::collections::HashSet<Id> = out.iter().map(|o| o.eclass).collect();
            let (mut todo, mut seen) = (vec![*id], std::collections::HashSet::new());
            let mut found = false;
            while let Some(c) = todo.pop() {
                found |= matched.contains(&c);
                for p in &self.m.info[usize::from(c)].parents {
                    if self.m.holds(&self.eg, *p, c) && self.m.op(*p) == self.m.op(*id) && seen.insert(*p) {
                        todo.push(*p);
                    }
                }
            }
            debug_assert!(found, "a skipped candidate of {} is below no match", rule.name);
        }
        if out.len() > 1 {
            if self.cands.ordered(at) {
                let (pos, _) = self.order();
                out.sort_by_key(|m| pos[usize::from(m.eclass)]);
            } else {
                out.sort_by_key(|m| m.eclass);
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
            self.eg.analysis.record = Some(std::mem::take(&mut self.pairs));
            // the term's symbols are lent to the appliers, and taken back without what they added
            self.check_symbols();
            self.eg.analysis.live = Some(std::mem::take(&mut self.m.symbols));
            rule.rewrite.apply(&mut self.eg, &matches);
            let mut pairs = self.eg.analysis.record.take().unwrap_or_default();
            self.m.symbols = self.eg.analysis.live.take().unwrap_or_default();
            for s in self.eg.analysis.live_added.drain(..) {
                self.m.symbols.remove(&s);
            }
            stats.largest_egraph = stats.largest_egraph.max(self.size());
            // the places rewritten: distinct (class, new form) pairs, as uniting counts the unions that did something
            pairs.retain(|(c, r)| c != r);
            pairs.sort_unstable();
            pairs.dedup();
            let changed = pairs;
            self.remember_no_ops(i, &matches, &changed);
            let replaced = if changed.is_empty() { None } else { Some(self.replace(&changed)) };
            let count = changed.len();
            // (the list's room is kept for the next step)
            self.pairs = changed;
            self.pairs.clear();
            let Some(replaced) = replaced else { continue };
            let Some((root, edited)) = replaced else {
                // a case the pool does not model: the reference step, from the same term
                let next = one_step(&self.term(), uses, fired, rules, reserved, stats);
                if let Some((_, step)) = &next {
                    stats.fresh_steps += 1;
                    let root = self.eg.add_expr(&step.term);
                    self.move_root(root);
                    self.end_step();
                }
                return next;
            };
            if root == self.root && !edited {
                continue;
            }
            self.move_root(root);
            self.end_step();
            self.compact(reserved);
            let term = if keep { self.term() } else { RecExpr::default() };
            return Some((i, Step { rule: u.name.clone(), count, term }));
        }
        None
    }

    fn move_root(&mut self, root: Id) {
        if root != self.root {
            let old = self.root;
            self.m.add_ref(&self.eg, root, None);
            self.root = root;
            self.m.drop_ref(&mut self.eg, old);
        }
    }

    /// The classes made during this step that are not part of the new term are dropped from the hash-cons
    /// table (as a class that leaves the term is), so that the table holds only the term's classes.
    fn end_step(&mut self) {
        self.grow();
        for k in self.since..self.eg.number_of_classes() {
            if self.m.info[k].refs == 0 {
                self.eg.forget(Id::from(k));
            }
        }
        self.since = self.eg.number_of_classes();
    }

    /// A match whose application changed nothing (a condition failed, or an applier such as `@delta-contract`
    /// found nothing to do) does not change while the class's subterm does not: it is remembered with the classes
    /// the rule does not match (forgotten when a step changes the subterm), so that a later step does not apply
    /// the rule there again (otherwise every step that reaches `delta-contract` would try it at every Σ).
    fn remember_no_ops(&mut self, at: usize, matches: &[SearchMatches<'static, Expr>], changed: &[(Id, Id)]) {
        for m in matches {
            if changed.binary_search_by_key(&m.eclass, |(c, _)| *c).is_err() {
                self.cands.miss(at, m.eclass);
            }
        }
    }

    /// Start afresh from the current term when the pool has grown to several times its size: what earlier steps
    /// added and no longer use is dropped, so the pool stays proportional to the term. The term, and so every
    /// later step, is the same.
    fn compact(&mut self, reserved: &Reserved) {
        if self.size() > 4 * self.len() + 4096
            && let Some(fresh) = Pool::new(&self.term(), reserved)
        {
            *self = fresh;
        }
    }

    /// Mark the term classes at or above a replaced class (`with`'s keys) for this step ([`Above`]).
    fn mark_above(&mut self, with: &HashMap<Id, Id>) {
        if self.above.next_stamp() {
            self.done.iter_mut().for_each(|m| *m = 0);
            self.keyed.iter_mut().for_each(|m| *m = 0);
        }
        for c in with.keys() {
            self.keyed[usize::from(*c)] = self.above.stamp;
        }
        self.above.walk(with.keys().copied(), &mut self.m, &self.eg, &mut self.cands);
    }

    /// Put every matched class's right-hand side in its place (`pairs`: distinct (class, right-hand side) pairs,
    /// the two different): the new root, and whether a class of the term was edited in place. `None` when uniting
    /// could choose differently (see the module comment); the pool is then as it was.
    ///
    /// A term class above a replaced one is edited in place rather than made anew (one node per class, so its
    /// node gets the new child and the hash-cons table its new node; its analysis data is recomputed). Where the
    /// edited node is a class the pool holds already (two parts became the same), or a constant (the fresh
    /// e-graph folds it), that class takes its place instead, as a rebuilt copy would have found it.
    fn replace(&mut self, pairs: &[(Id, Id)]) -> Option<(Id, bool)> {
        let mut with: HashMap<Id, Id> = HashMap::default();
        for (c, r) in pairs {
            if with.insert(*c, *r).is_some_and(|old| old != *r) {
                return None;
            }
        }
        if with.values().any(|r| with.contains_key(r)) {
            return None;
        }
        self.grow();
        self.mark_above(&with);
        let mut stack = vec![];
        let mut undo = vec![];
        let mut changed = vec![];
        let Some(root) = self.rebuild_up(&with, &mut stack, &mut undo, &mut changed) else {
            // back to the term as it was (the reference step starts from it)
            for (id, node, data) in undo.into_iter().rev() {
                self.eg.set_node(id, node, data);
            }
            return None;
        };
        self.grow();
        // the term's references follow the edits, slot by slot (an edit keeps the operator and the number of
        // children): new children first, so that no class leaves and comes back
        let mut gone = vec![];
        for (id, old, _) in &undo {
            if self.m.live(*id) && self.eg.id_to_node(*id) != old {
                let kids: SmallVec<[Id; 4]> = self.eg.id_to_node(*id).children().iter().copied().collect();
                for (new, was) in kids.iter().zip(old.children()) {
                    if new != was {
                        self.m.add_ref(&self.eg, *new, Some(*id));
                        gone.push((*was, *id));
                    }
                }
            }
        }
        for (c, p) in gone {
            self.m.unlink(c, p);
            self.m.drop_ref(&mut self.eg, c);
        }
        // A class whose subterm changed may now match where it did not: its misses are forgotten — for a rule that
        // reads whole subterms, at every class above a replaced one; for the others, only up to as far above a
        // class whose node, place or data changed as the rule reads below a class (further up, the rule sees the
        // same classes, nodes and data as before).
        let mut touched: Vec<Id> = changed.into_iter().filter(|c| self.m.live(*c)).collect();
        touched.extend(undo.iter().filter(|(id, old, _)| self.m.live(*id) && self.eg.id_to_node(*id) != old).map(|(id, _, _)| *id));
        self.grow();
        let near = self.above.near(&self.m, &self.eg, &touched, self.cands.farthest());
        for (id, h) in near {
            self.cands.forget_near(self.m.op(id), id, h);
        }
        self.above.forget(&mut self.cands, &self.m, &self.eg);
        Some((root, !undo.is_empty()))
    }

    /// The new root: the replaced classes are rebuilt, then every term class above a class that changed (another
    /// class in its place, or its data changed in place), until nothing changes — not every class up to the root:
    /// one whose node and data stay the same leaves the classes above it as they are (they hold it by id).
    /// `changed` gets the term classes whose result differs (another class, or their data changed).
    fn rebuild_up(&mut self, with: &HashMap<Id, Id>, stack: &mut Vec<Id>, undo: &mut Undo, changed: &mut Vec<Id>) -> Option<Id> {
        let mut keys: Vec<Id> = with.keys().copied().filter(|c| self.m.live(*c)).collect();
        keys.sort_unstable();
        for c in keys {
            self.rebuild(c, with, stack, undo, changed)?;
        }
        let mut at = 0;
        while let Some(&x) = changed.get(at) {
            at += 1;
            for i in 0..self.m.info[usize::from(x)].parents.len() {
                let p = self.m.info[usize::from(x)].parents[i];
                let k = usize::from(p);
                if self.done[k] != self.above.stamp && self.m.holds(&self.eg, p, x) {
                    self.rebuild(p, with, stack, undo, changed)?;
                }
            }
        }
        let k = usize::from(self.root);
        Some(if self.done[k] == self.above.stamp { self.gave[k].0 } else { self.root })
    }

    /// The class that takes the place of `id` in the new term, and whether its analysis data changed in place.
    /// A term class whose result differs from it (another class, or its data changed) is listed in `changed`.
    /// `undo` records every class edited in place (its node and data before), to restore on `None`.
    /// Every class it is called on exists when the step's rebuilding begins (the term's, the right-hand sides'),
    /// so the per-class tables cover it.
    fn rebuild(&mut self, id: Id, with: &HashMap<Id, Id>, stack: &mut Vec<Id>, undo: &mut Undo, changed: &mut Vec<Id>) -> Option<(Id, bool)> {
        let k = usize::from(id);
        let live = self.m.live(id);
        // a term node with nothing replaced below stays as it is
        if live && !self.above.is_marked(id) {
            return Some((id, false));
        }
        if self.done[k] == self.above.stamp {
            return Some(self.gave[k]);
        }
        // (only a term class can be a replaced one: a match is found in the term)
        if let Some(r) = if live && self.keyed[k] == self.above.stamp { with.get(&id) } else { None } {
            if stack.contains(&id) {
                return None;
            }
            stack.push(id);
            let out = self.rebuild(*r, with, stack, undo, changed)?;
            stack.pop();
            self.done[k] = self.above.stamp;
            self.gave[k] = out;
            changed.push(id);
            return Some(out);
        }
        let old: SmallVec<[Id; 4]> = self.eg.id_to_node(id).children().iter().copied().collect();
        let mut kids: SmallVec<[Id; 4]> = SmallVec::new();
        let mut below = false;
        for c in &old {
            // a term class with nothing replaced below stays (the check of the call below, without the call)
            let ck = usize::from(*c);
            if self.m.info.get(ck).is_some_and(|i| i.refs > 0) && !self.above.is_marked(*c) {
                kids.push(*c);
                continue;
            }
            let (c, data) = self.rebuild(*c, with, stack, undo, changed)?;
            kids.push(c);
            below |= data;
        }
        let same = kids == old;
        let mut out = if same && !below {
            (id, false)
        } else if same {
            // a child was edited in place: the node stays, its data is recomputed from the children's
            self.edit(id, self.eg.id_to_node(id).clone(), undo)
        } else {
            let mut it = kids.into_iter();
            let new = self.eg.id_to_node(id).clone().map_children(|c| it.next().unwrap_or(c));
            match self.eg.lookup_node(&new) {
                Some(q) => (q, false),
                None if live => self.edit(id, new, undo),
                None => (self.eg.add(new), false),
            }
        };
        // a class that is not in the current term may be a constant expression: the fresh e-graph shows its number
        if !self.m.live(out.0)
            && !matches!(self.eg.id_to_node(out.0), Expr::Num(_))
            && let Some(v) = self.eg[out.0].data.konst
        {
            out = (self.eg.add(Expr::Num(v)), false);
        }
        self.done[k] = self.above.stamp;
        self.gave[k] = out;
        if live && (out.0 != id || out.1) {
            changed.push(id);
        }
        Some(out)
    }

    /// Give the class `id` the node `node` in place (or, the same node, recompute its data), recording its node
    /// and data before in `undo`: the class that takes `id`'s place, and whether `id`'s data changed. A node that
    /// is a constant expression is not edited: its number takes the place (as for a rebuilt copy, which the fresh
    /// e-graph folds).
    fn edit(&mut self, id: Id, node: Expr, undo: &mut Undo) -> (Id, bool) {
        use egg::Analysis;
        let data = Meta::make(&mut self.eg, &node, id);
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

    /// The kept set of symbols is the term's (checked in debug builds: the stepper test runs them).
    fn check_symbols(&self) {
        debug_assert!(self.m.symbols.iter().copied().eq(self.term().as_ref().iter().filter_map(|n| if let Expr::Symbol(s) = n { Some(*s) } else { None }).collect::<BTreeSet<_>>()));
    }
}
