//! Which term classes each rule of a run may still match. A rule's candidates are the term classes with its
//! pattern's top operator; most of them are known not to match (a miss, remembered until a step changes what the
//! rule reads below the class). Beside the misses, each rule keeps a list of the candidates that are not known to
//! miss — the classes that joined the term, and those whose miss was forgotten — so that a search looks at these
//! alone: a step costs what it changed, not a pass over every candidate of every rule it tries (at T = 1000 that
//! pass was 100 million bit tests over 88 000 searches; the lists make it 380 000 tests).
//!
//! Invariant: every term class that is a candidate of a known rule and is not marked as a miss is in the rule's
//! list (the list may hold more: classes that left the term, or were marked since; a search drops them).
use super::reads::{order_matters, outermost, reach};
use egg::Id;

/// A set of classes as bits.
#[derive(Default)]
struct Bits(Vec<u64>);

impl Bits {
    fn has(&self, id: Id) -> bool {
        let k = usize::from(id);
        self.0.get(k / 64).is_some_and(|w| w & (1 << (k % 64)) != 0)
    }
    fn set(&mut self, id: Id) {
        let k = usize::from(id);
        if self.0.len() <= k / 64 {
            self.0.resize(k / 64 + 1, 0);
        }
        self.0[k / 64] |= 1 << (k % 64);
    }
    fn clear(&mut self, id: Id) {
        let k = usize::from(id);
        if let Some(w) = self.0.get_mut(k / 64) {
            *w &= !(1 << (k % 64));
        }
    }
}

/// What the pool knows about the rule at one position of the run's list.
struct Known {
    /// How far below a class the rule reads (`None`: the whole subterm), so how far above a change its misses
    /// must be forgotten.
    reach: Option<usize>,
    /// Does the order of its matches matter (it picks fresh names, or its named applier says so)?
    ordered: bool,
    /// Does its applier work only on the outermost of nested matches (and its pattern have an operator on top)?
    outermost: bool,
    /// The classes it is known not to match, or where applying it changed nothing: here, or for a rule that
    /// reads whole subterms, as bit `lane` of each class's word in [`Candidates::lanes`].
    misses: Bits,
    lane: Option<u32>,
    /// The candidates not known to miss (and perhaps some that left the term or missed since), each once.
    pending: Vec<Id>,
    queued: Bits,
}

impl Known {
    fn queue(&mut self, id: Id) {
        if !self.queued.has(id) {
            self.queued.set(id);
            self.pending.push(id);
        }
    }
}

pub(super) struct Candidates {
    known: Vec<Option<Known>>,
    /// For every class, a bit per rule that reads whole subterms (its lane, the first 64 such rules): it is known
    /// not to match the class. Kept by class rather than by rule because such a rule forgets its misses at every
    /// class above a replaced one — about a thousand classes a step at T = 1000 — and a class's word answers for
    /// all of them at once.
    lanes: Vec<u64>,
    /// The position of the rule in each lane.
    lane_rule: Vec<usize>,
    /// By operator ([`crate::lang::op_index`]): the lanes of the known rules that have a class with this operator
    /// as a candidate (its pattern's top, or a variable); the positions of those that read whole subterms beyond
    /// the 64 lanes, and of the others.
    lane_ops: [u64; crate::lang::OPS],
    deep: [Vec<usize>; crate::lang::OPS],
    shallow: [Vec<usize>; crate::lang::OPS],
    /// By operator: how far below a class the shallow rules read (0 when there are none), so that a class above
    /// a change whose misses no rule would forget is passed over at once (most are).
    far: [usize; crate::lang::OPS],
    /// The lanes of the rules whose applier works on the outermost of nested matches, and the positions of all
    /// such rules: at a class held by a term class with its operator (an inner one) their misses are kept when
    /// forgotten elsewhere, and forgotten when the class's parents change ([`Candidates::reparented`]).
    outer_lanes: u64,
    outer: Vec<usize>,
    /// The classes where a lane bit was set since the pool last looked (it empties the list): the pool keeps
    /// track of those on its cached chain of classes ([`super::above`]).
    pub lane_log: Vec<Id>,
}

impl Default for Candidates {
    fn default() -> Candidates {
        Candidates {
            known: vec![],
            lanes: vec![],
            lane_rule: vec![],
            lane_ops: [0; crate::lang::OPS],
            deep: Default::default(),
            shallow: Default::default(),
            far: [0; crate::lang::OPS],
            outer_lanes: 0,
            outer: vec![],
            lane_log: vec![],
        }
    }
}

/// Is `id` known not to match the rule `k`?
fn missed(lanes: &[u64], k: &Known, id: Id) -> bool {
    match k.lane {
        Some(l) => lanes.get(usize::from(id)).is_some_and(|w| w >> l & 1 != 0),
        None => k.misses.has(id),
    }
}

/// `id` does not match the rule `k` (or applying it there changed nothing); a lane bit set is logged in `log`.
fn set_missed(lanes: &mut Vec<u64>, log: &mut Vec<Id>, k: &mut Known, id: Id) {
    match k.lane {
        Some(l) => {
            let c = usize::from(id);
            if lanes.len() <= c {
                lanes.resize(c + 1, 0);
            }
            lanes[c] |= 1 << l;
            log.push(id);
        }
        None => k.misses.set(id),
    }
}

/// The lanes set in `word`, lowest first.
fn lanes_of(mut word: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (word != 0).then(|| {
            let l = word.trailing_zeros() as usize;
            word &= word - 1;
            l
        })
    })
}

impl Candidates {
    /// Is the rule at `at` known (its candidates listed)?
    pub fn is_known(&self, at: usize) -> bool {
        self.known.get(at).is_some_and(Option::is_some)
    }

    /// Start keeping the rule at `at`, whose candidates in the current term are `now` (each once); `top`: its
    /// pattern's top operator ([`crate::lang::op_index`]), `None` for a variable.
    pub fn know(&mut self, at: usize, rule: &crate::rules::Rule, top: Option<usize>, now: &[Id]) {
        if self.known.len() <= at {
            self.known.resize_with(at + 1, || None);
        }
        let reach = reach(rule);
        let lane = (reach.is_none() && self.lane_rule.len() < 64).then(|| {
            self.lane_rule.push(at);
            self.lane_rule.len() as u32 - 1
        });
        let mut k = Known { reach, ordered: order_matters(rule), outermost: top.is_some() && outermost(rule), misses: Bits::default(), lane, pending: Vec::with_capacity(now.len()), queued: Bits::default() };
        if k.outermost {
            self.outer.push(at);
            if let Some(l) = lane {
                self.outer_lanes |= 1 << l;
            }
        }
        for id in now {
            k.queue(*id);
        }
        self.known[at] = Some(k);
        let ops = match top {
            Some(op) => op..op + 1,
            None => 0..crate::lang::OPS,
        };
        for op in ops.filter(|op| *op < crate::lang::OPS) {
            match (reach, lane) {
                (None, Some(l)) => self.lane_ops[op] |= 1 << l,
                (None, None) => self.deep[op].push(at),
                (Some(d), _) => {
                    self.shallow[op].push(at);
                    self.far[op] = self.far[op].max(d);
                }
            }
        }
    }

    /// The farthest any known rule with a bounded reach reads below a class.
    pub fn farthest(&self) -> usize {
        self.far.iter().copied().max().unwrap_or(0)
    }

    pub fn ordered(&self, at: usize) -> bool {
        self.known.get(at).and_then(Option::as_ref).is_some_and(|k| k.ordered)
    }

    pub fn outermost(&self, at: usize) -> bool {
        self.known.get(at).and_then(Option::as_ref).is_some_and(|k| k.outermost)
    }

    /// A class that joined the term (its node's operator `op`): a candidate of every known rule with that
    /// operator, not yet judged unless known to miss (a class that left the term and came back unchanged).
    pub fn joined(&mut self, op: u8, id: Id) {
        let op = usize::from(op);
        let (Some(deep), Some(shallow), Some(lanes)) = (self.deep.get(op), self.shallow.get(op), self.lane_ops.get(op)) else { return };
        let unmissed = lanes & !self.lanes.get(usize::from(id)).copied().unwrap_or(0);
        for at in lanes_of(unmissed).map(|l| &self.lane_rule[l]).chain(deep).chain(shallow) {
            if let Some(k) = self.known[*at].as_mut()
                && !missed(&self.lanes, k, id)
            {
                k.queue(id);
            }
        }
    }

    /// Every class of `above` (the classes at or above a replaced one; `op_of`: a class's operator) may now
    /// match a rule that reads whole subterms where it did not: those rules' misses there are forgotten — except,
    /// for a rule whose applier works on the outermost of nested matches, at an inner class (`inner`: held by a
    /// term class with its operator), which a search would pass over (the class above it is forgotten too).
    pub fn forget_above(&mut self, op_of: impl Fn(Id) -> u8, inner: impl Fn(Id) -> bool, above: &[Id]) {
        for id in above {
            self.forget_deep(op_of(*id), *id, || inner(*id));
        }
    }

    /// The same at one class `id` (its operator `op`; `inner`: is it an inner class, asked only where it matters).
    pub fn forget_deep(&mut self, op: u8, id: Id, inner: impl Fn() -> bool) {
        let op = usize::from(op);
        let (Some(lanes), Some(word)) = (self.lane_ops.get(op), self.lanes.get(usize::from(id)).copied()) else { return };
        let outer = word & lanes & self.outer_lanes != 0 || self.deep[op].iter().any(|at| self.outer.contains(at));
        let keep = outer && inner();
        let stale = word & lanes & if keep { !self.outer_lanes } else { !0 };
        let Some(word) = self.lanes.get_mut(usize::from(id)) else { return };
        if stale != 0 {
            *word &= !stale;
            for l in lanes_of(stale) {
                if let Some(k) = self.known[self.lane_rule[l]].as_mut() {
                    k.queue(id);
                }
            }
        }
        // (rules beyond the 64 lanes)
        for at in &self.deep[op] {
            if let Some(k) = self.known[*at].as_mut()
                && k.misses.has(id)
                && !(keep && k.outermost)
            {
                k.misses.clear(id);
                k.queue(id);
            }
        }
    }

    /// Are there rules whose applier works on the outermost of nested matches?
    pub fn has_outermost(&self) -> bool {
        !self.outer.is_empty()
    }

    /// The term parents of `id` changed: it may have become an outermost match, or an inner one; the misses of
    /// the rules whose applier works on the outermost of nested matches are forgotten there.
    pub fn reparented(&mut self, id: Id) {
        for at in &self.outer {
            let Some(k) = self.known[*at].as_mut() else { continue };
            if missed(&self.lanes, k, id) {
                match k.lane {
                    Some(l) => {
                        if let Some(w) = self.lanes.get_mut(usize::from(id)) {
                            *w &= !(1 << l);
                        }
                    }
                    None => k.misses.clear(id),
                }
                k.queue(id);
            }
        }
    }

    /// Are all rules that read whole subterms kept in lanes (so that a class's misses of them show in its word)?
    pub fn deep_in_lanes(&self) -> bool {
        self.deep.iter().all(Vec::is_empty)
    }

    /// May `id` hold a miss of a rule that reads whole subterms (a lane bit)?
    pub fn has_lanes(&self, id: Id) -> bool {
        self.lanes.get(usize::from(id)).is_some_and(|w| *w != 0)
    }

    /// Would [`Candidates::forget_deep`] forget anything at `id` (operator `op`)? (For the checks of debug
    /// builds.)
    #[cfg(debug_assertions)]
    pub fn stale_deep(&self, op: u8, id: Id, inner: bool) -> bool {
        let op = usize::from(op);
        let word = self.lanes.get(usize::from(id)).copied().unwrap_or(0) & if inner { !self.outer_lanes } else { !0 };
        self.lane_ops.get(op).is_some_and(|l| word & l != 0) || self.deep.get(op).is_some_and(|d| d.iter().any(|at| self.known[*at].as_ref().is_some_and(|k| k.misses.has(id) && !(inner && k.outermost))))
    }

    /// What a rule reads below `id` (a term class with node operator `op`, `height` levels above a class whose
    /// node, place or data changed) may have changed: its misses there are forgotten for the rules with a bounded
    /// reach that read that far.
    pub fn forget_near(&mut self, op: u8, id: Id, height: usize) {
        let op = usize::from(op);
        let Some(rules) = self.shallow.get(op).filter(|_| height <= self.far[op]) else { return };
        for at in rules {
            let Some(k) = self.known[*at].as_mut() else { continue };
            if k.reach.is_some_and(|d| height <= d) && k.misses.has(id) {
                k.misses.clear(id);
                k.queue(id);
            }
        }
    }

    /// Search the rule at `at`: `test` each class of its list not known to miss — `None`: not a term class (it
    /// leaves the list), `Some(false)`: no match (a miss, remembered), `Some(true)`: a match (it stays listed).
    pub fn sweep(&mut self, at: usize, mut test: impl FnMut(Id) -> Option<bool>) {
        let Some(k) = self.known.get_mut(at).and_then(Option::as_mut) else { return };
        let (lanes, log) = (&mut self.lanes, &mut self.lane_log);
        let mut i = 0;
        while let Some(&id) = k.pending.get(i) {
            let verdict = if missed(lanes, k, id) { None } else { test(id) };
            if verdict == Some(true) {
                i += 1;
                continue;
            }
            if verdict == Some(false) {
                set_missed(lanes, log, k, id);
            }
            k.queued.clear(id);
            k.pending.swap_remove(i);
        }
    }

    /// The invariant, for the rule at `at` whose candidates in the term are `now`: each is listed or known to
    /// miss (checked in debug builds, which the stepper test runs).
    pub fn covers(&self, at: usize, now: &[Id]) -> bool {
        self.known.get(at).and_then(Option::as_ref).is_some_and(|k| now.iter().all(|id| k.queued.has(*id) || missed(&self.lanes, k, *id)))
    }

    /// The rule at `at` changed nothing where it matched `id`: remembered as a miss.
    pub fn miss(&mut self, at: usize, id: Id) {
        if let Some(k) = self.known.get_mut(at).and_then(Option::as_mut) {
            set_missed(&mut self.lanes, &mut self.lane_log, k, id);
        }
    }
}
