//! The Rust side of rules: rule conditions (`if notfree ?k ?e`, …) and the few named appliers that a pattern
//! cannot express (`@d-leaf`, `@delta-contract`, `@time-sum`). Pattern right-hand sides are in `rhs.rs`.
pub(crate) use super::rhs::union_term;
use super::rhs::pick_name;
use crate::lang::{EG, Expr, copy_into, mentions, num};
use egg::{Applier, Condition, Id, Language, PatternAst, RecExpr, Subst, Symbol, Var};
use std::collections::BTreeSet;
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

/// What appliers and conditions need to know about the model.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    /// Names that do not depend on anything (parameters and data): ∂ of them w.r.t. anything else is 0.
    pub independent: BTreeSet<Symbol>,
    /// The last time step T.
    pub steps: usize,
}

/// A rule condition, written after `if` in a rule file.
#[derive(Debug, Clone)]
pub enum Cond {
    /// `notfree ?k ?e`: the index ?k does not occur free in ?e.
    NotFree(Var, Var),
    /// `const ?c`: ?c is a number.
    Const(Var),
    /// `?t > N`: ?t is a number greater than N.
    Gt(Var, f64),
    /// `before-end ?t`: ?t is a time step before T (a symbolic step counts as one).
    BeforeEnd(Var),
    /// `has-delta ?y`: ?y is a product with a Kronecker δ among its factors.
    HasDelta(Var),
    /// `adjacent ?a ?b`: ?b = ?a + 1.
    Adjacent(Var, Var),
    /// `ordered ?a ?b`: ?a ≤ ?b (a Σ over time from ?a to ?b is not empty).
    Ordered(Var, Var),
    /// `not-self ?w`: the matched (d X ?w) is not the derivative of a quantity with respect to itself.
    NotSelf(Var),
    /// `after-start ?t`: ?t is a time step after the start, t ≥ 1 (a symbolic step counts as one).
    AfterStart(Var),
    /// `reaches ?x ?t`: ?x holds a derivative ∂X⁽ᵗ⁾/∂… of a quantity at the time step ?t.
    Reaches(Var, Var),
    /// `no-d ?y`: ?y holds no derivative ∂ at all.
    NoD(Var),
}

/// One kind of condition: its name, how many ?variables it takes, what it means (for error hints, `bptt rules`
/// and rules/README.md), and how it is built from its variables. Adding a condition is a row here, a variant of
/// [`Cond`] and its test in [`Conds::check`] (`?t > N` is the one written differently, so it is parsed apart).
pub struct CondKind {
    pub name: &'static str,
    pub arity: usize,
    pub doc: &'static str,
    pub build: fn(&[Var]) -> Cond,
}

/// Every condition a rule may name after `if`.
pub const CONDITIONS: &[CondKind] = &[
    CondKind { name: "notfree", arity: 2, doc: "notfree ?k ?e: the index ?k does not occur free in ?e", build: |v| Cond::NotFree(v[0], v[1]) },
    CondKind { name: "const", arity: 1, doc: "const ?c: ?c is a number", build: |v| Cond::Const(v[0]) },
    CondKind { name: "before-end", arity: 1, doc: "before-end ?t: ?t is a time step before T (a symbolic k counts as one)", build: |v| Cond::BeforeEnd(v[0]) },
    CondKind { name: "has-delta", arity: 1, doc: "has-delta ?y: ?y is a product with a Kronecker δ among its factors", build: |v| Cond::HasDelta(v[0]) },
    CondKind { name: "adjacent", arity: 2, doc: "adjacent ?a ?b: the time step ?b is ?a + 1", build: |v| Cond::Adjacent(v[0], v[1]) },
    CondKind { name: "ordered", arity: 2, doc: "ordered ?a ?b: ?a ≤ ?b, so a Σ over time from ?a to ?b is not empty", build: |v| Cond::Ordered(v[0], v[1]) },
    CondKind { name: "not-self", arity: 1, doc: "not-self ?w: the matched (d X ?w) is not a quantity differentiated with respect to itself", build: |v| Cond::NotSelf(v[0]) },
    CondKind { name: "after-start", arity: 1, doc: "after-start ?t: ?t ≥ 1, a time step after the start (a symbolic k counts as one)", build: |v| Cond::AfterStart(v[0]) },
    CondKind { name: "no-d", arity: 1, doc: "no-d ?y: ?y holds no derivative ∂ (a factor that may move past one)", build: |v| Cond::NoD(v[0]) },
    CondKind { name: "reaches", arity: 2, doc: "reaches ?x ?t: ?x holds a derivative ∂X⁽ᵗ⁾/∂… of a quantity at the time step ?t", build: |v| Cond::Reaches(v[0], v[1]) },
];

impl Cond {
    pub fn vars(&self) -> Vec<Var> {
        match self {
            Cond::NotFree(a, b) | Cond::Adjacent(a, b) | Cond::Ordered(a, b) | Cond::Reaches(a, b) => vec![*a, *b],
            Cond::Const(a) | Cond::Gt(a, _) | Cond::BeforeEnd(a) | Cond::HasDelta(a) | Cond::NotSelf(a) | Cond::AfterStart(a) | Cond::NoD(a) => vec![*a],
        }
    }

    /// Does the condition read a whole subterm (not only its variables' classes, their data and their nodes)?
    pub fn reads_deep(&self) -> bool {
        matches!(self, Cond::HasDelta(_) | Cond::NoD(_) | Cond::Reaches(..))
    }
}

/// All conditions of one rule, checked together.
pub struct Conds {
    pub conds: Vec<Cond>,
    pub ctx: Arc<Ctx>,
}

pub(crate) fn konst(eg: &EG, id: Id) -> Option<f64> {
    eg[id].data.konst.map(|v| v.into_inner())
}

impl Condition<Expr, crate::lang::Meta> for Conds {
    fn check(&self, eg: &mut EG, eclass: Id, s: &Subst) -> bool {
        self.conds.iter().all(|c| match c {
            Cond::NotFree(k, e) => match eg[s[*k]].data.sym {
                Some(k) => !eg[s[*e]].data.free.contains(&k),
                None => false,
            },
            Cond::Const(a) => konst(eg, s[*a]).is_some(),
            Cond::Gt(a, v) => konst(eg, s[*a]).is_some_and(|x| x > *v),
            Cond::BeforeEnd(a) => match konst(eg, s[*a]) {
                Some(t) => t < self.ctx.steps as f64,
                None => eg[s[*a]].data.sym.is_some(),
            },
            Cond::HasDelta(a) => has_delta(eg, s[*a], 16),
            Cond::AfterStart(a) => match konst(eg, s[*a]) {
                Some(t) => t >= 1.0,
                None => eg[s[*a]].data.sym.is_some(),
            },
            Cond::NoD(y) => !super::regroup::holds_d(eg, s[*y]),
            Cond::Reaches(x, t) => konst(eg, s[*t]).is_some_and(|t| super::regroup::reaches(eg, s[*x], t)),
            Cond::Adjacent(a, b) => matches!((konst(eg, s[*a]), konst(eg, s[*b])), (Some(x), Some(y)) if y == x + 1.0),
            Cond::Ordered(a, b) => matches!((konst(eg, s[*a]), konst(eg, s[*b])), (Some(x), Some(y)) if x <= y),
            Cond::NotSelf(w) => {
                let w = eg.find(s[*w]);
                let x = eg[eclass].nodes.iter().find_map(|n| match n {
                    Expr::D([x, ww]) if eg.find(*ww) == w => Some(*x),
                    _ => None,
                });
                match (x.and_then(|x| leaf_of(eg, x)), leaf_of(eg, w)) {
                    (Some(a), Some(b)) => !(a.name == b.name && same_time(eg, a.time, b.time) != Some(false)),
                    _ => false,
                }
            }
        })
    }
    fn vars(&self) -> Vec<Var> {
        self.conds.iter().flat_map(Cond::vars).collect()
    }
}

fn has_delta(eg: &EG, id: Id, depth: usize) -> bool {
    depth > 0
        && eg[id].nodes.iter().any(|n| match n {
            Expr::Delta(_) => true,
            Expr::Mul([a, b]) => has_delta(eg, *a, depth - 1) || has_delta(eg, *b, depth - 1),
            _ => false,
        })
}

/// A leaf quantity: name, time (if time-indexed) and index classes.
struct Leaf {
    name: Symbol,
    time: Option<Id>,
    idx: Vec<Id>,
}

fn leaf_of(eg: &EG, id: Id) -> Option<Leaf> {
    eg[id].nodes.iter().find_map(|n| match n {
        Expr::Ix(ch) => Some(Leaf { name: eg[ch[0]].data.sym?, time: None, idx: ch[1..].to_vec() }),
        Expr::Tx(ch) => Some(Leaf { name: eg[ch[0]].data.sym?, time: Some(ch[1]), idx: ch[2..].to_vec() }),
        Expr::Symbol(s) => Some(Leaf { name: *s, time: None, idx: vec![] }),
        _ => None,
    })
}

fn same_time(eg: &EG, a: Option<Id>, b: Option<Id>) -> Option<bool> {
    match (a, b) {
        (None, None) => Some(true),
        (Some(a), Some(b)) if eg.find(a) == eg.find(b) => Some(true),
        (Some(a), Some(b)) => match (konst(eg, a), konst(eg, b)) {
            (Some(x), Some(y)) => Some(x == y),
            _ => None,
        },
        _ => Some(false),
    }
}

/// `@d-leaf ?e ?w`: ∂X[k,l]/∂X[a,b] = δ(k,a) δ(l,b) for the same quantity at the same time; ∂ of a parameter
/// or a data value with respect to anything else is 0. Defined quantities (h, s, y, L) are left alone: they must
/// be unfolded first.
pub struct DLeaf {
    pub e: Var,
    pub w: Var,
    pub ctx: Arc<Ctx>,
}

impl Applier<Expr, crate::lang::Meta> for DLeaf {
    fn apply_one(&self, eg: &mut EG, eclass: Id, subst: &Subst, _: Option<&PatternAst<Expr>>, _: Symbol) -> Vec<Id> {
        let (Some(x), Some(y)) = (leaf_of(eg, subst[self.e]), leaf_of(eg, subst[self.w])) else { return vec![] };
        if eg[subst[self.e]].data.konst.is_some() {
            return vec![];
        }
        let mut t = RecExpr::default();
        let same = x.name == y.name && x.idx.len() == y.idx.len();
        match (same, same_time(eg, x.time, y.time)) {
            (true, Some(true)) => {
                let mut acc: Option<Id> = None;
                for (a, b) in x.idx.iter().zip(&y.idx) {
                    let (Some(sa), Some(sb)) = (eg[*a].data.sym, eg[*b].data.sym) else { return vec![] };
                    let a = t.add(Expr::Symbol(sa));
                    let b = t.add(Expr::Symbol(sb));
                    let dl = t.add(Expr::Delta([a, b]));
                    acc = Some(match acc {
                        None => dl,
                        Some(p) => t.add(Expr::Mul([p, dl])),
                    });
                }
                if acc.is_none() {
                    t.add(num(1.0));
                }
            }
            (_, Some(_)) if self.ctx.independent.contains(&x.name) => {
                t.add(num(0.0));
            }
            _ => return vec![],
        }
        union_term(eg, eclass, &t)
    }
    fn vars(&self) -> Vec<Var> {
        vec![self.e, self.w]
    }
}

/// Some term of an e-class, preferring the class's first node (the form the step started from); cycle-safe.
pub fn representative(eg: &EG, id: Id) -> Option<RecExpr<Expr>> {
    // (`stack`: the classes being written out, a set: a deep term has thousands, and a list searched at every
    // class made writing it out quadratic in its depth)
    fn go(eg: &EG, id: Id, out: &mut RecExpr<Expr>, memo: &mut FxHashMap<Id, Id>, stack: &mut FxHashSet<Id>) -> Option<Id> {
        let id = eg.find(id);
        if let Some(r) = memo.get(&id) {
            return Some(*r);
        }
        if !stack.insert(id) {
            return None;
        }
        let mut res = None;
        'nodes: for n in &eg[id].nodes {
            let mut kids = vec![];
            for c in n.children() {
                match go(eg, *c, out, memo, stack) {
                    Some(k) => kids.push(k),
                    None => continue 'nodes,
                }
            }
            let mut it = kids.into_iter();
            res = Some(out.add(n.clone().map_children(|_| it.next().unwrap_or(Id::from(0usize)))));
            break;
        }
        stack.remove(&id);
        if let Some(r) = res {
            memo.insert(id, r);
        }
        res
    }
    let mut out = RecExpr::default();
    go(eg, id, &mut out, &mut FxHashMap::default(), &mut FxHashSet::default())?;
    Some(out)
}

fn flatten_mul(e: &RecExpr<Expr>, id: Id, out: &mut Vec<Id>) {
    match &e[id] {
        Expr::Mul([a, b]) => {
            flatten_mul(e, *a, out);
            flatten_mul(e, *b, out);
        }
        _ => out.push(id),
    }
}

/// Copy `root` of `src` into `dst`, replacing the free symbol `k` by `j`; `None` if a binder named `j` would
/// capture it.
pub(crate) fn rename(src: &RecExpr<Expr>, root: Id, k: Symbol, j: Symbol, dst: &mut RecExpr<Expr>) -> Option<Id> {
    let n = &src[root];
    match n {
        Expr::Symbol(s) if *s == k => return Some(dst.add(Expr::Symbol(j))),
        Expr::Sum([b, _, body]) | Expr::TSum([b, _, _, body]) => {
            if let Expr::Symbol(bs) = &src[*b] {
                if *bs == k {
                    return Some(copy_into(src, root, dst)); // k is shadowed below here
                }
                if *bs == j && mentions(src, *body, k) {
                    return None;
                }
            }
        }
        _ => {}
    }
    let mut kids = vec![];
    for c in n.children() {
        kids.push(rename(src, *c, k, j, dst)?);
    }
    let mut it = kids.into_iter();
    Some(dst.add(n.clone().map_children(|_| it.next().unwrap_or(Id::from(0usize)))))
}

/// `@delta-contract ?k ?body` on `(sum ?k ?n ?body)`: Σ_k δ(k,j) f(k) = f(j) — when a factor of the body's
/// product is δ(k,j) or δ(j,k), drop it and rename k to j in the other factors.
pub struct Contract {
    pub k: Var,
    pub body: Var,
}

impl Applier<Expr, crate::lang::Meta> for Contract {
    fn apply_one(&self, eg: &mut EG, eclass: Id, subst: &Subst, _: Option<&PatternAst<Expr>>, _: Symbol) -> Vec<Id> {
        let Some(k) = eg[subst[self.k]].data.sym else { return vec![] };
        if !has_delta(eg, subst[self.body], 64) {
            return vec![];
        }
        let Some(rep) = representative(eg, subst[self.body]) else { return vec![] };
        let mut factors = vec![];
        flatten_mul(&rep, rep.root(), &mut factors);
        let hit = factors.iter().enumerate().find_map(|(pos, f)| match &rep[*f] {
            Expr::Delta([a, b]) => match (&rep[*a], &rep[*b]) {
                (Expr::Symbol(a), Expr::Symbol(b)) if *a == k && *b != k => Some((pos, *b)),
                (Expr::Symbol(a), Expr::Symbol(b)) if *b == k && *a != k => Some((pos, *a)),
                _ => None,
            },
            _ => None,
        });
        let Some((pos, j)) = hit else { return vec![] };
        let mut t = RecExpr::default();
        let mut acc: Option<Id> = None;
        for (i, f) in factors.iter().enumerate() {
            if i == pos {
                continue;
            }
            let Some(c) = rename(&rep, *f, k, j, &mut t) else { return vec![] };
            acc = Some(match acc {
                None => c,
                Some(p) => t.add(Expr::Mul([p, c])),
            });
        }
        if acc.is_none() {
            t.add(num(1.0));
        }
        union_term(eg, eclass, &t)
    }
    fn vars(&self) -> Vec<Var> {
        vec![self.k, self.body]
    }
}

/// `@time-sum ?t`: a term at the concrete time step ?t becomes Σ_{k=t}^{t} of the same term with every time
/// written relative to k (3 → k, 2 → k−1), so that neighbouring steps can merge into one Σ over time.
pub struct TimeSum {
    pub t: Var,
}

fn abstract_time(src: &RecExpr<Expr>, id: Id, t: f64, k: Symbol, dst: &mut RecExpr<Expr>) -> Id {
    if let Expr::Tx(ch) = &src[id] {
        let mut kids = vec![copy_into(src, ch[0], dst)];
        let time = match &src[ch[1]] {
            Expr::Num(v) => {
                let off = v.into_inner() - t;
                let kk = dst.add(Expr::Symbol(k));
                if off == 0.0 {
                    kk
                } else {
                    let o = dst.add(num(off.abs()));
                    dst.add(if off < 0.0 { Expr::Sub([kk, o]) } else { Expr::Add([kk, o]) })
                }
            }
            _ => copy_into(src, ch[1], dst),
        };
        kids.push(time);
        for c in &ch[2..] {
            kids.push(copy_into(src, *c, dst));
        }
        return dst.add(Expr::Tx(kids.into()));
    }
    let n = src[id].clone().map_children(|c| abstract_time(src, c, t, k, dst));
    dst.add(n)
}

impl Applier<Expr, crate::lang::Meta> for TimeSum {
    fn apply_one(&self, eg: &mut EG, eclass: Id, subst: &Subst, _: Option<&PatternAst<Expr>>, _: Symbol) -> Vec<Id> {
        let Some(t) = konst(eg, subst[self.t]) else { return vec![] };
        let Some(rep) = representative(eg, eclass) else { return vec![] };
        // The new Σ binds k over the matched term only, so k must just avoid that term's own symbols; using the
        // same name for every step lets neighbouring steps merge.
        let mut used = crate::lang::symbols(&rep);
        used.extend(eg.analysis.reserved.iter().copied());
        let k = pick_name(&used, "k");
        let mut out = RecExpr::default();
        let kk = out.add(Expr::Symbol(k));
        let lo = out.add(num(t));
        let hi = out.add(num(t));
        let body = abstract_time(&rep, rep.root(), t, k, &mut out);
        out.add(Expr::TSum([kk, lo, hi, body]));
        union_term(eg, eclass, &out)
    }
    fn vars(&self) -> Vec<Var> {
        vec![self.t]
    }
}

/// An applier built for one rule.
pub type Boxed = Box<dyn Applier<Expr, crate::lang::Meta> + Send + Sync>;

/// One named applier a rule file may call with `=> @name ?v …`: its name, how many ?variables it takes, what it
/// does, and how it is built. Adding an applier is a row here and its `Applier` implementation.
pub struct ApplierKind {
    pub name: &'static str,
    pub arity: usize,
    pub doc: &'static str,
    pub build: fn(&[Var], &Arc<Ctx>) -> Boxed,
    /// Its result at a match depends only on that match (not on what the step did at the other matches before
    /// it), so a step may apply its matches in any order. The stepper's pool then need not put them in term order.
    pub any_order: bool,
    /// It reads only the classes its pattern binds and their nodes (not a whole subterm), so whether it does
    /// something at a class does not change when a step changes that class's subterm further down.
    pub shallow: bool,
    /// It does nothing at a match that is a child of another match of its rule (it works on the outermost of
    /// nested matches: `sum-collect` on the outermost `+` of a chain). The stepper's pool then skips a candidate
    /// held by a term class with the same operator, which is a match too whenever the candidate is one.
    pub outermost: bool,
}

/// Every named applier.
pub const APPLIERS: &[ApplierKind] = &[
    ApplierKind { name: "d-leaf", arity: 2, doc: "@d-leaf ?e ?w: ∂X[k,l]/∂X[a,b] = δ(k,a) δ(l,b); ∂(parameter or data)/∂(anything else) = 0", build: |v, ctx| Box::new(DLeaf { e: v[0], w: v[1], ctx: ctx.clone() }), any_order: true, shallow: true, outermost: false },
    ApplierKind { name: "delta-contract", arity: 2, doc: "@delta-contract ?k ?body on (sum ?k ?n ?body): Σ_k δ(k,j) f(k) = f(j)", build: |v, _| Box::new(Contract { k: v[0], body: v[1] }), any_order: true, shallow: false, outermost: false },
    ApplierKind { name: "time-sum", arity: 1, doc: "@time-sum ?t: a term at step ?t = Σ_{k=t}^{t} of it with times written relative to k", build: |v, _| Box::new(TimeSum { t: v[0] }), any_order: true, shallow: false, outermost: false },
    ApplierKind { name: "time-unroll", arity: 4, doc: "@time-unroll ?k ?lo ?hi ?body on (tsum ?k ?lo ?hi ?body) with numeric bounds: f(lo) + … + f(hi)", build: |v, _| Box::new(TimeUnroll { k: v[0], lo: v[1], hi: v[2], body: v[3] }), any_order: true, shallow: false, outermost: false },
    ApplierKind { name: "time-peel", arity: 4, doc: "@time-peel ?k ?lo ?hi ?body on (tsum ?k ?lo ?hi ?body): f(hi) + Σ_{k=lo}^{hi−1} f(k)", build: |v, _| Box::new(super::regroup::TimePeel { x: None, k: v[0], lo: v[1], hi: v[2], body: v[3] }), any_order: true, shallow: false, outermost: false },
    ApplierKind { name: "time-peel-next", arity: 5, doc: "@time-peel-next ?x ?k ?lo ?hi ?body on (+ ?x (tsum …)): f(hi) joins the last term of ?x", build: |v, _| Box::new(super::regroup::TimePeel { x: Some(v[0]), k: v[1], lo: v[2], hi: v[3], body: v[4] }), any_order: true, shallow: false, outermost: false },
    ApplierKind { name: "sum-merge", arity: 5, doc: "@sum-merge ?a ?n ?x ?b ?y on (+ (sum ?a ?n ?x) (sum ?b ?n ?y)): one Σ when x and y end in the same factor", build: |v, _| Box::new(super::regroup::SumMerge { a: v[0], n: v[1], x: v[2], b: v[3], y: v[4], sub: false }), any_order: true, shallow: false, outermost: false },
    ApplierKind { name: "sum-collect", arity: 2, doc: "@sum-collect ?x ?y on (+ ?x ?y): in the whole + chain, the first two Σs over one range that end in the same derivative become one", build: |_, _| Box::new(super::regroup::SumCollect), any_order: true, shallow: false, outermost: true },
    ApplierKind { name: "sum-merge-sub", arity: 5, doc: "@sum-merge-sub ?a ?n ?x ?b ?y on (- (sum ?a ?n ?x) (sum ?b ?n ?y)): the same for a difference", build: |v, _| Box::new(super::regroup::SumMerge { a: v[0], n: v[1], x: v[2], b: v[3], y: v[4], sub: true }), any_order: true, shallow: false, outermost: false },
];

/// The named applier `@name` taking `arity` variables, if there is one.
pub fn applier(name: &str, arity: usize) -> Option<&'static ApplierKind> {
    APPLIERS.iter().find(|k| k.name == name && k.arity == arity)
}

/// A built applier as egg wants one (egg has no `Applier` for a box).
pub struct Dyn(pub Boxed);

impl Applier<Expr, crate::lang::Meta> for Dyn {
    fn apply_matches(&self, eg: &mut crate::lang::EG, matches: &[egg::SearchMatches<Expr>], rule: Symbol) -> Vec<Id> {
        self.0.apply_matches(eg, matches, rule)
    }
    fn apply_one(&self, eg: &mut crate::lang::EG, id: Id, subst: &Subst, ast: Option<&egg::PatternAst<Expr>>, rule: Symbol) -> Vec<Id> {
        self.0.apply_one(eg, id, subst, ast, rule)
    }
    fn get_pattern_ast(&self) -> Option<&egg::PatternAst<Expr>> {
        self.0.get_pattern_ast()
    }
    fn vars(&self) -> Vec<Var> {
        self.0.vars()
    }
}

/// `@time-unroll ?k ?lo ?hi ?body`: a Σ over time with numeric bounds written out term by term, each time step
/// folded to a number (`s⁽ᵏ⁻¹⁾` at k = 3 is `s⁽²⁾`). At most [`UNROLL_MAX`] terms.
pub struct TimeUnroll {
    pub k: Var,
    pub lo: Var,
    pub hi: Var,
    pub body: Var,
}

/// Copy `id` with the symbol `k` replaced by the number `t`, folding time arithmetic (a binder of `k` shadows it).
pub(crate) fn put_time(src: &RecExpr<Expr>, id: Id, k: Symbol, t: f64, dst: &mut RecExpr<Expr>) -> Id {
    let binds = |b: &Id| matches!(&src[*b], Expr::Symbol(s) if *s == k);
    match &src[id] {
        Expr::Symbol(s) if *s == k => dst.add(num(t)),
        Expr::Sum([b, ..]) | Expr::TSum([b, ..]) if binds(b) => copy_into(src, id, dst),
        n => {
            let n = n.clone().map_children(|c| put_time(src, c, k, t, dst));
            let v = |c: &Id| match &dst[*c] {
                Expr::Num(v) => Some(v.into_inner()),
                _ => None,
            };
            let folded = match &n {
                Expr::Add([a, b]) => v(a).zip(v(b)).map(|(a, b)| a + b),
                Expr::Sub([a, b]) => v(a).zip(v(b)).map(|(a, b)| a - b),
                _ => None,
            };
            dst.add(folded.map(num).unwrap_or(n))
        }
    }
}

/// The most terms `@time-unroll` writes out (`check` writes Σs out to compare them term by term, and its
/// expansion grows fast with their length).
pub const UNROLL_MAX: usize = 256;

impl Applier<Expr, crate::lang::Meta> for TimeUnroll {
    fn apply_one(&self, eg: &mut EG, eclass: Id, subst: &Subst, _: Option<&PatternAst<Expr>>, _: Symbol) -> Vec<Id> {
        let (Some(lo), Some(hi), Some(k)) = (konst(eg, subst[self.lo]), konst(eg, subst[self.hi]), eg[subst[self.k]].data.sym) else { return vec![] };
        if lo.fract() != 0.0 || hi.fract() != 0.0 || hi - lo >= UNROLL_MAX as f64 {
            return vec![];
        }
        let Some(body) = representative(eg, subst[self.body]) else { return vec![] };
        let mut out = RecExpr::default();
        let mut acc: Option<Id> = None;
        let mut t = lo;
        while t <= hi {
            let term = put_time(&body, body.root(), k, t, &mut out);
            acc = Some(match acc {
                None => term,
                Some(a) => out.add(Expr::Add([a, term])),
            });
            t += 1.0;
        }
        if acc.is_none() {
            out.add(num(0.0));
        }
        union_term(eg, eclass, &out)
    }
    fn vars(&self) -> Vec<Var> {
        vec![self.k, self.lo, self.hi, self.body]
    }
}
