//! The term classes above a step's changes. A step rebuilds the classes above a replaced one and forgets, at
//! every one of them, the misses of the rules that read whole subterms ([`super::candidates`]); so each step
//! needs the set of classes at or above its replaced classes. On a deep term (at T = 1000 the derivation's term
//! nests about a thousand levels) that set is mostly the same long line of classes from one step to the next:
//! each class on it has one term parent, the next one up, and steps change the term far below its top.
//!
//! So the walk keeps that line between steps: a chain of term classes from the root down, in which each class's
//! only term parent is the one before it. A walk up from a step's replaced classes stops where it reaches the
//! chain (everything above that point is the chain's part above it), and adds the classes it walked that
//! continue the chain downward. The chain is cut above any class whose parents change (an entry added to or
//! taken off its parent list, or it left the term: [`super::members::Members::moved`]); the forgetting on the
//! chain's part visits only the classes on it that hold such misses (logged when they are set).
//!
//! Invariant: for every class `chain[i]` with `i > 0`, its term parents are exactly `chain[i - 1]`, and
//! `chain[0]` has none (it is the root). So the classes at or above `chain[i]` are `chain[..=i]`.
//! Debug builds check every walk against the plain walk up to the root (the stepper test runs them).
use super::candidates::Candidates;
use super::members::Members;
use crate::lang::EG;
use egg::Id;

#[derive(Default)]
pub(super) struct Above {
    /// The classes the current step's walk reached: `mark[id] == stamp`, listed in `marked`.
    mark: Vec<u32>,
    pub stamp: u32,
    pub marked: Vec<Id>,
    /// The chain, root first, and each class's position on it (valid where `chain[at[id]] == id`).
    chain: Vec<Id>,
    at: Vec<u32>,
    /// The lowest position of the chain that the current step's walk reached: `chain[..=joined]` are above a
    /// replaced class too, without being in `marked`.
    joined: Option<usize>,
    /// Classes that were on the chain when a miss of a rule reading whole subterms was set there (some may
    /// have left the chain or been forgotten since).
    deep: Vec<Id>,
    /// For a class the current step's walk reached with one term parent, a walked class that has it as its
    /// only term parent: `down[id] = (stamp, child)`.
    down: Vec<(u32, Id)>,
    /// The classes [`Above::near`] listed: `seen[id] == stamp2`.
    seen: Vec<u32>,
    stamp2: u32,
    /// In debug builds: the plain walk's classes, to check the forgetting against.
    #[cfg(debug_assertions)]
    pub plain: Vec<Id>,
}

impl Above {
    /// The tables cover `n` classes.
    pub fn grow(&mut self, n: usize) {
        if self.mark.len() < n {
            self.mark.resize(n, 0);
            self.at.resize(n, u32::MAX);
            self.down.resize(n, (0, Id::from(0usize)));
            self.seen.resize(n, 0);
        }
    }

    /// `id`'s position on the chain.
    fn pos(&self, id: Id) -> Option<usize> {
        let p = *self.at.get(usize::from(id))? as usize;
        (self.chain.get(p) == Some(&id)).then_some(p)
    }

    /// Is `id` at or above a replaced class of the current step?
    pub fn is_marked(&self, id: Id) -> bool {
        let k = usize::from(id);
        self.mark.get(k).is_some_and(|m| *m == self.stamp) || self.joined.is_some_and(|j| self.at.get(k).is_some_and(|p| *p as usize <= j && self.chain.get(*p as usize) == Some(&id)))
    }

    /// A new step: a fresh stamp; `true` when the stamps wrapped around and every table keyed by them must be
    /// cleared (this one is).
    pub fn next_stamp(&mut self) -> bool {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.mark.iter_mut().for_each(|m| *m = 0);
            self.down.iter_mut().for_each(|d| d.0 = 0);
            self.stamp = 1;
            return true;
        }
        false
    }

    /// Mark the term classes at or above `keys` (those of them in the term) for the current step (after
    /// [`Above::next_stamp`]). `cands`: where the misses of rules reading whole subterms are kept; the chain is
    /// used only when all those rules are in lanes (their misses show in a class's word).
    pub fn walk(&mut self, keys: impl Iterator<Item = Id>, m: &mut Members, eg: &EG, cands: &mut Candidates) {
        let use_chain = cands.deep_in_lanes();
        if !use_chain {
            self.chain.clear();
        }
        for id in cands.lane_log.drain(..) {
            if self.pos(id).is_some() {
                self.deep.push(id);
            }
        }
        let mut marked = std::mem::take(&mut self.marked);
        marked.clear();
        self.joined = None;
        for c in keys {
            if m.live(c) && self.mark[usize::from(c)] != self.stamp {
                self.mark[usize::from(c)] = self.stamp;
                marked.push(c);
            }
        }
        // the root, if reached
        let mut root = None;
        let mut at = 0;
        while let Some(&c) = marked.get(at) {
            at += 1;
            if let Some(p) = self.pos(c) {
                self.joined = Some(self.joined.map_or(p, |j| j.max(p)));
                continue;
            }
            let mut only: Option<Option<Id>> = None;
            for p in &m.info[usize::from(c)].parents {
                if !m.holds(eg, *p, c) {
                    continue;
                }
                only = match only {
                    None => Some(Some(*p)),
                    Some(Some(q)) if q == *p => Some(Some(q)),
                    _ => Some(None),
                };
                let k = usize::from(*p);
                if self.mark[k] != self.stamp {
                    self.mark[k] = self.stamp;
                    marked.push(*p);
                }
            }
            match only {
                None => root = Some(c),
                Some(Some(p)) if use_chain => self.down[usize::from(p)] = (self.stamp, c),
                _ => {}
            }
        }
        self.marked = marked;
        // the chain follows the walk down from where the walk reached it (or from the root): below that point it
        // goes the way this step's changes came up, along the walked classes with one term parent
        if use_chain {
            let from = match self.joined {
                Some(j) => Some(j),
                None if self.chain.is_empty() => root.map(|r| {
                    self.put(r, cands);
                    0
                }),
                None => None,
            };
            if let Some(j) = from
                && self.below(self.chain[j]).is_some()
            {
                self.chain.truncate(j + 1);
                while let Some(tail) = self.chain.last()
                    && let Some(c) = self.below(*tail)
                    && self.pos(c).is_none()
                {
                    self.put(c, cands);
                }
            }
        }
        // (while there is no chain and no rule that works on the outermost of nested matches, nothing needs to be
        // told when parents change)
        m.log_moves = !self.chain.is_empty() || cands.has_outermost();
        #[cfg(debug_assertions)]
        self.check(m, eg);
    }

    /// The walked class that has `id` as its only term parent, if the current step's walk reached one.
    fn below(&self, id: Id) -> Option<Id> {
        self.down.get(usize::from(id)).filter(|(s, _)| *s == self.stamp).map(|(_, c)| *c)
    }

    /// The classes in `moved` had their term parents change: the chain is cut above each of them.
    pub fn cut(&mut self, moved: &[Id]) {
        for id in moved {
            if let Some(p) = self.pos(*id) {
                self.chain.truncate(p);
            }
        }
    }

    /// `id` joins the chain at its end.
    fn put(&mut self, id: Id, cands: &Candidates) {
        self.at[usize::from(id)] = self.chain.len() as u32;
        self.chain.push(id);
        if cands.has_lanes(id) {
            self.deep.push(id);
        }
    }

    /// Forget, at every class the current step's walk marked or reached on the chain, the misses of the rules
    /// that read whole subterms.
    pub fn forget(&mut self, cands: &mut Candidates, m: &Members, eg: &EG) {
        let inner = |id: Id| m.info[usize::from(id)].parents.iter().any(|p| m.holds(eg, *p, id) && m.op(*p) == m.op(id));
        cands.forget_above(|id| m.op(id), inner, &self.marked);
        let Some(j) = self.joined else { return };
        let mut deep = std::mem::take(&mut self.deep);
        deep.retain(|id| match self.pos(*id) {
            Some(p) if p <= j => {
                cands.forget_deep(m.op(*id), *id, || inner(*id));
                false
            }
            Some(_) => true,
            None => false,
        });
        self.deep = deep;
        #[cfg(debug_assertions)]
        for id in &self.plain {
            debug_assert!(!cands.stale_deep(m.op(*id), *id, inner(*id)), "a miss above a change was not forgotten");
        }
    }

    /// The plain walk (every class at or above a marked key, parent by parent up to the root) gives the same
    /// classes as [`Above::is_marked`] and the chain's invariant holds.
    #[cfg(debug_assertions)]
    fn check(&mut self, m: &Members, eg: &EG) {
        let mut plain: Vec<Id> = vec![];
        let mut seen = std::collections::HashSet::new();
        for c in self.marked.iter().copied() {
            if seen.insert(c) {
                plain.push(c);
            }
        }
        let mut at = 0;
        while let Some(&c) = plain.get(at) {
            at += 1;
            for p in &m.info[usize::from(c)].parents {
                if m.holds(eg, *p, c) && seen.insert(*p) {
                    plain.push(*p);
                }
            }
        }
        for c in &plain {
            debug_assert!(self.is_marked(*c), "a class above a change is not marked");
        }
        let reached = self.joined.map_or(0, |j| j + 1);
        debug_assert!(self.chain[..reached].iter().all(|c| seen.contains(c)), "a chain class not above a change");
        for (i, c) in self.chain.iter().enumerate() {
            let parents: std::collections::BTreeSet<Id> = m.info[usize::from(*c)].parents.iter().copied().filter(|p| m.holds(eg, *p, *c)).collect();
            let want: std::collections::BTreeSet<Id> = if i == 0 { Default::default() } else { [self.chain[i - 1]].into() };
            debug_assert!(parents == want && m.live(*c), "the chain's invariant");
        }
        self.plain = plain;
    }

    /// The term classes at most `far` levels above one of `from` (0: the class itself), each with its height
    /// above the nearest.
    pub fn near(&mut self, m: &Members, eg: &EG, from: &[Id], far: usize) -> Vec<(Id, usize)> {
        self.stamp2 = self.stamp2.wrapping_add(1);
        if self.stamp2 == 0 {
            self.seen.iter_mut().for_each(|m| *m = 0);
            self.stamp2 = 1;
        }
        let mut out: Vec<(Id, usize)> = vec![];
        for id in from {
            if self.seen[usize::from(*id)] != self.stamp2 {
                self.seen[usize::from(*id)] = self.stamp2;
                out.push((*id, 0));
            }
        }
        let mut at = 0;
        while let Some(&(c, h)) = out.get(at) {
            at += 1;
            if h >= far {
                continue;
            }
            for p in &m.info[usize::from(c)].parents {
                let k = usize::from(*p);
                if self.seen[k] != self.stamp2 && m.holds(eg, *p, c) {
                    self.seen[k] = self.stamp2;
                    out.push((*p, h + 1));
                }
            }
        }
        out
    }
}
