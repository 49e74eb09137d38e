//! Which classes of the stepper's pool form the current term: a class is part of it while something refers to it
//! — a child slot of a term class, or the root — so joining and leaving are kept by reference counts, and each
//! class lists the term classes that took it as a child (how a step finds the classes above a replaced one).
//! Beside them, the term's classes by operator (a rule's candidates) and its symbols (what a fresh name avoids).
use crate::lang::{EG, Expr, Names};
use egg::{Id, Language};
use smallvec::SmallVec;

/// Classes, with insertion and removal in constant time (in no particular order).
#[derive(Default, Clone)]
pub(super) struct Set {
    pub items: Vec<Id>,
    /// Where each class is in `items` (u32::MAX: not in the set).
    slot: Vec<u32>,
}

impl Set {
    pub fn insert(&mut self, id: Id) {
        let k = usize::from(id);
        if self.slot.len() <= k {
            self.slot.resize(k + 1, u32::MAX);
        }
        if self.slot[k] == u32::MAX {
            self.slot[k] = self.items.len() as u32;
            self.items.push(id);
        }
    }

    pub fn remove(&mut self, id: Id) {
        let k = usize::from(id);
        let Some(at) = self.slot.get(k).copied().filter(|s| *s != u32::MAX) else { return };
        self.items.swap_remove(at as usize);
        if let Some(moved) = self.items.get(at as usize) {
            self.slot[usize::from(*moved)] = at;
        }
        self.slot[k] = u32::MAX;
    }
}

/// What the pool keeps for every class, side by side (a walk up the term reads a class's parents, references and
/// operator together: one cache line rather than three).
#[derive(Default, Clone)]
pub(super) struct Info {
    /// The term classes that took the class as a child: an entry per child slot. An entry whose class left the
    /// term stays (it is skipped where the list is read), but a term class holds every child it has an entry for:
    /// an in-place edit that puts another class in a slot takes its entry off the old child's list
    /// ([`Members::unlink`]), so that reading a list needs no look at the nodes.
    pub parents: SmallVec<[Id; 2]>,
    /// The references to the class from the term: one per child slot of a term class that holds it, one more for
    /// the root. A class is part of the term while it has any.
    pub refs: u32,
    /// Its node's operator ([`crate::lang::op_index`]; a class's node keeps its operator), set when it first
    /// joins the term.
    pub op: u8,
}

/// The classes of the term.
#[derive(Default)]
pub(super) struct Members {
    /// For every pool class, its parents, references and operator.
    pub info: Vec<Info>,
    /// The classes of the term, and the same by operator ([`crate::lang::op_index`]).
    pub all: Set,
    pub by_op: Vec<Set>,
    /// The symbols of the term.
    pub symbols: Names,
    /// The classes that joined the term since the pool last looked (it empties the list).
    pub joined: Vec<Id>,
    /// The classes whose term parents may have changed since the pool last looked (an entry added to or taken
    /// off their parent list; a class that left the term, and its children): the pool's cached chain of classes
    /// is cut above them ([`super::above`]), and the rules that work on the outermost of nested matches forget
    /// their misses there ([`super::candidates::Candidates::reparented`]).
    pub moved: Vec<Id>,
    /// Whether to keep that list (the pool says: only while it has a chain or knows such a rule).
    pub log_moves: bool,
}

impl Members {
    pub fn new() -> Members {
        Members { by_op: vec![Set::default(); crate::lang::OPS], ..Default::default() }
    }

    /// The tables cover `n` classes.
    pub fn grow(&mut self, n: usize) {
        if self.info.len() < n {
            self.info.resize(n, Info::default());
        }
    }

    pub fn live(&self, id: Id) -> bool {
        self.info.get(usize::from(id)).is_some_and(|i| i.refs > 0)
    }

    /// Is `p` (an entry of `c`'s parent list) a term class that holds `c` now? (A term class holds every child
    /// it has an entry for: checked in debug builds, which the stepper test runs.)
    pub fn holds(&self, eg: &EG, p: Id, c: Id) -> bool {
        let live = self.live(p);
        debug_assert!(!live || eg.id_to_node(p).children().contains(&c), "a stale parent entry");
        live
    }

    /// `p` no longer holds `c` in one of its child slots (an in-place edit put another class there): one entry
    /// fewer in `c`'s parent list.
    pub fn unlink(&mut self, c: Id, p: Id) {
        if let Some(list) = self.info.get_mut(usize::from(c)).map(|i| &mut i.parents)
            && let Some(at) = list.iter().position(|q| *q == p)
        {
            list.swap_remove(at);
        }
        if self.log_moves {
            self.moved.push(c);
        }
    }

    /// The operator of a class that was ever in the term.
    pub fn op(&self, id: Id) -> u8 {
        self.info.get(usize::from(id)).map_or(0, |i| i.op)
    }

    pub fn len(&self) -> usize {
        self.all.items.len()
    }

    /// One more reference to `id` (from `parent`'s child slot, or as the root): a class that joins the term
    /// brings its children with it.
    pub fn add_ref(&mut self, eg: &EG, id: Id, parent: Option<Id>) {
        self.grow(eg.number_of_classes());
        let mut todo = vec![(id, parent)];
        while let Some((id, parent)) = todo.pop() {
            let k = usize::from(id);
            if let Some(p) = parent {
                self.info[k].parents.push(p);
                if self.log_moves {
                    self.moved.push(id);
                }
            }
            self.info[k].refs += 1;
            if self.info[k].refs == 1 {
                let node = eg.id_to_node(id);
                self.joined.push(id);
                let op = crate::lang::op_index(node);
                self.info[k].op = op as u8;
                self.all.insert(id);
                self.by_op[op].insert(id);
                if let Expr::Symbol(s) = node {
                    self.symbols.insert(*s);
                }
                todo.extend(node.children().iter().map(|c| (*c, Some(id))));
            }
        }
    }

    /// One reference fewer to `id`: a class that leaves the term lets go of its children, and the hash-cons
    /// table forgets it (no later `add` finds it: it may keep data and a meaning from before an in-place edit of
    /// a class below it).
    pub fn drop_ref(&mut self, eg: &mut EG, id: Id) {
        let mut todo = vec![id];
        while let Some(id) = todo.pop() {
            let k = usize::from(id);
            self.info[k].refs = self.info[k].refs.saturating_sub(1);
            if self.info[k].refs == 0 {
                let node = eg.id_to_node(id);
                if self.log_moves {
                    self.moved.push(id);
                    self.moved.extend(node.children().iter().copied());
                }
                self.all.remove(id);
                self.by_op[crate::lang::op_index(node)].remove(id);
                if let Expr::Symbol(s) = node {
                    self.symbols.remove(s);
                }
                todo.extend(node.children().iter().copied());
                eg.forget(id);
            }
        }
    }
}
