//! Appliers that regroup terms for a loss at every step (`--many-to-many`): taking the last term out of a Σ over
//! time so it can join the term that reaches the same step (`@time-peel`, `@time-peel-next`), and merging two
//! Σs that end in the same factor into one (`@sum-merge`). The `reaches` condition says which step a term is at.
use super::apply::{konst, put_time, rename, representative, union_term};
use crate::lang::{EG, Expr, copy_into, num, sub_expr};
use egg::{Applier, Id, Language, PatternAst, RecExpr, Subst, Symbol, Var};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// Whether the class `id` holds a derivative (d X …) whose X passes `hit` (each class is visited once, so this is
/// linear in the e-graph however deep the term is; a derivative's own inside is not searched).
fn any_d(eg: &EG, id: Id, hit: impl Fn(Id) -> bool) -> bool {
    let mut seen: HashSet<Id> = HashSet::default();
    let mut todo = vec![eg.find(id)];
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        for n in &eg[id].nodes {
            match n {
                Expr::D([x, _]) if hit(*x) => return true,
                Expr::D(_) => {}
                n => todo.extend(n.children().iter().map(|c| eg.find(*c))),
            }
        }
    }
    false
}

/// Whether the class `id` holds a derivative (d X⁽ᵗ⁾ …) of something at the time step `t`.
pub fn reaches(eg: &EG, id: Id, t: f64) -> bool {
    any_d(eg, id, |x| eg[x].nodes.iter().any(|m| matches!(m, Expr::Tx(ch) if konst(eg, ch[1]) == Some(t))))
}

/// Whether the class `id` holds a derivative node anywhere (the condition `no-d` is its negation).
pub fn holds_d(eg: &EG, id: Id) -> bool {
    any_d(eg, id, |_| true)
}

/// `@time-peel ?k ?lo ?hi ?body` on `(tsum ?k ?lo ?hi ?body)`: f(hi) + Σ_{k=lo}^{hi−1} f(k) (just f(hi) when
/// lo = hi). `@time-peel-next ?x …` on `(+ ?x (tsum …))`: the same, with f(hi) placed right after the term of
/// ?x that reaches step hi, the term it is to be merged with: (c + (x' + f(hi))) + Σ_{k=lo}^{hi−1} f(k) for
/// ?x = c + x'.
pub struct TimePeel {
    pub x: Option<Var>,
    pub k: Var,
    pub lo: Var,
    pub hi: Var,
    pub body: Var,
}

impl Applier<Expr, crate::lang::Meta> for TimePeel {
    fn apply_one(&self, eg: &mut EG, eclass: Id, subst: &Subst, _: Option<&PatternAst<Expr>>, _: Symbol) -> Vec<Id> {
        let (Some(lo), Some(hi), Some(k)) = (konst(eg, subst[self.lo]), konst(eg, subst[self.hi]), eg[subst[self.k]].data.sym) else { return vec![] };
        if lo.fract() != 0.0 || hi.fract() != 0.0 || lo > hi {
            return vec![];
        }
        let Some(body) = representative(eg, subst[self.body]) else { return vec![] };
        let x = match self.x {
            Some(v) => match representative(eg, subst[v]) {
                Some(x) => Some(x),
                None => return vec![],
            },
            None => None,
        };
        let mut out = RecExpr::default();
        let f = put_time(&body, body.root(), k, hi, &mut out);
        let head = match &x {
            None => f,
            Some(x) => join_at(x, x.root(), hi, f, &mut out),
        };
        if lo < hi {
            let kk = out.add(Expr::Symbol(k));
            let l = out.add(num(lo));
            let h = out.add(num(hi - 1.0));
            let b = copy_into(&body, body.root(), &mut out);
            let rest = out.add(Expr::TSum([kk, l, h, b]));
            out.add(Expr::Add([head, rest]));
        }
        union_term(eg, eclass, &out)
    }
    fn vars(&self) -> Vec<Var> {
        let mut v: Vec<Var> = self.x.into_iter().collect();
        v.extend([self.k, self.lo, self.hi, self.body]);
        v
    }
}

/// Whether the sub-term `id` holds a derivative (d X⁽ᵗ⁾ …) of something at the time step `t` (each shared node
/// is visited once).
fn term_reaches(x: &RecExpr<Expr>, id: Id, t: f64) -> bool {
    let mut seen = vec![false; x.as_ref().len()];
    let mut todo = vec![id];
    while let Some(id) = todo.pop() {
        if std::mem::replace(&mut seen[usize::from(id)], true) {
            continue;
        }
        match &x[id] {
            Expr::D([q, _]) if matches!(&x[*q], Expr::Tx(ch) if matches!(&x[ch[1]], Expr::Num(v) if v.into_inner() == t)) => return true,
            n => todo.extend(n.children().iter().copied()),
        }
    }
    false
}

/// Copy `x` with the term of its `+` chain that reaches step `t` (the first one, else the last term) replaced
/// by `term + f`.
fn join_at(x: &RecExpr<Expr>, id: Id, t: f64, f: Id, out: &mut RecExpr<Expr>) -> Id {
    match &x[id] {
        Expr::Add([l, r]) => {
            let (l, r) = if term_reaches(x, *l, t) {
                (join_at(x, *l, t, f, out), copy_into(x, *r, out))
            } else {
                (copy_into(x, *l, out), join_at(x, *r, t, f, out))
            };
            out.add(Expr::Add([l, r]))
        }
        _ => {
            let term = copy_into(x, id, out);
            out.add(Expr::Add([term, f]))
        }
    }
}

/// `@sum-merge ?a ?n ?x ?b ?y` on `(+ (sum ?a ?n ?x) (sum ?b ?n ?y))` with x = g(a) d(a), y = h(b) d(b):
/// Σ_a (g(a) + h(a)) d(a). Applies only when both bodies end in the same factor d (up to the bound index).
pub struct SumMerge {
    pub a: Var,
    pub n: Var,
    pub x: Var,
    pub b: Var,
    pub y: Var,
    /// `@sum-merge-sub`: Σ_a g(a) d(a) − Σ_b h(b) d(b) = Σ_a (g(a) − h(a)) d(a).
    pub sub: bool,
}

impl Applier<Expr, crate::lang::Meta> for SumMerge {
    fn apply_one(&self, eg: &mut EG, eclass: Id, subst: &Subst, _: Option<&PatternAst<Expr>>, _: Symbol) -> Vec<Id> {
        let (Some(a), Some(b)) = (eg[subst[self.a]].data.sym, eg[subst[self.b]].data.sym) else { return vec![] };
        if a != b && eg[subst[self.y]].data.free.contains(&a) {
            return vec![];
        }
        let (Some(x), Some(y)) = (representative(eg, subst[self.x]), representative(eg, subst[self.y])) else { return vec![] };
        let (Expr::Mul([gx, dx]), Expr::Mul([gy, dy])) = (&x[x.root()], &y[y.root()]) else { return vec![] };
        let mut renamed = RecExpr::default();
        let Some(dy) = rename(&y, *dy, b, a, &mut renamed) else { return vec![] };
        if sub_expr(&x, *dx) != sub_expr(&renamed, dy) {
            return vec![];
        }
        let mut out = RecExpr::default();
        let Some(n) = representative(eg, subst[self.n]) else { return vec![] };
        let gx = copy_into(&x, *gx, &mut out);
        let Some(gy) = rename(&y, *gy, b, a, &mut out) else { return vec![] };
        let g = out.add(if self.sub { Expr::Sub([gx, gy]) } else { Expr::Add([gx, gy]) });
        let d = copy_into(&x, *dx, &mut out);
        let body = out.add(Expr::Mul([g, d]));
        let aa = out.add(Expr::Symbol(a));
        let nn = copy_into(&n, n.root(), &mut out);
        out.add(Expr::Sum([aa, nn, body]));
        union_term(eg, eclass, &out)
    }
    fn vars(&self) -> Vec<Var> {
        vec![self.a, self.n, self.x, self.b, self.y]
    }
}

/// `@sum-collect ?x ?y` on `(+ ?x ?y)`: like terms collected across a whole chain of `+`. The first two sums
/// Σ_a g(a) ∂X(a)/∂w and Σ_b h(b) ∂X(b)/∂w over the same range whose bodies end in the same derivative (up to
/// the bound index) become one, Σ_a (g(a) + h(a)) ∂X(a)/∂w, in the place of the first; the second leaves the
/// chain, which otherwise keeps its shape. g + h is one left-nested chain in a canonical order ([`order_key`]),
/// so that the fold rule that names it matches one shape however the terms arrived. A cell with several paths into one quantity (an LSTM's four gates
/// into s⁽ᵗ⁻¹⁾) needs it: the terms to merge are rarely neighbours.
pub struct SumCollect;

/// The canonical order of the terms of a collected factor: their text with a Σ's own bound index blanked, so
/// that the order does not depend on which letters the sums were given or in which order they were collected.
fn order_key(t: &RecExpr<Expr>) -> String {
    if let Expr::Sum([k, n, body]) = &t[t.root()]
        && let Expr::Symbol(k) = &t[*k]
    {
        let mut out = RecExpr::default();
        if let Some(b) = rename(t, *body, *k, Symbol::from("·"), &mut out) {
            return format!("(sum · {} {})", sub_expr(t, *n), sub_expr(&out, b));
        }
    }
    t.to_string()
}

/// `x` with arithmetic on numbers done (a time step written `3 − 1` by one rule and `2` by another is one step).
pub(super) fn folded(x: &RecExpr<Expr>) -> RecExpr<Expr> {
    let mut out: RecExpr<Expr> = RecExpr::default();
    for n in x.as_ref() {
        let k = |i: &Id| match &out[*i] {
            Expr::Num(v) => Some(v.into_inner()),
            _ => None,
        };
        let v = match n {
            Expr::Add([a, b]) => k(a).zip(k(b)).map(|(a, b)| a + b),
            Expr::Sub([a, b]) => k(a).zip(k(b)).map(|(a, b)| a - b),
            Expr::Mul([a, b]) => k(a).zip(k(b)).map(|(a, b)| a * b),
            _ => None,
        };
        out.add(match v {
            Some(v) if v.is_finite() => num(v),
            _ => n.clone(),
        });
    }
    out
}

/// The terms of the `+` chain at `id`, left to right.
fn chain_terms(x: &RecExpr<Expr>, id: Id, out: &mut Vec<Id>) {
    match &x[id] {
        Expr::Add([l, r]) => {
            chain_terms(x, *l, out);
            chain_terms(x, *r, out);
        }
        _ => out.push(id),
    }
}

/// `Σ_k g d` with `d` a derivative: (k, range, g, d).
pub(super) fn collectable(x: &RecExpr<Expr>, id: Id) -> Option<(Symbol, Id, Id, Id)> {
    let Expr::Sum([k, n, body]) = &x[id] else { return None };
    let Expr::Symbol(k) = &x[*k] else { return None };
    let Expr::Mul([g, d]) = &x[*body] else { return None };
    matches!(&x[*d], Expr::D(_)).then_some((*k, *n, *g, *d))
}

/// A sum's key: its range and its derivative with the bound index `a` blanked (`None` where blanking it would
/// capture a name).
pub(super) fn key(x: &RecExpr<Expr>, a: Symbol, n: Id, d: Id) -> Option<String> {
    let mut out = RecExpr::default();
    rename(x, d, a, Symbol::from("·"), &mut out).map(|d| format!("{} {}", sub_expr(x, n), sub_expr(&out, d)))
}

/// The pairs of sums with one key (`keys`: each sum's), in the order they are tried: by the first of the two, then
/// the second (a scan over all pairs, but only of those that may be collected, not all m² of them).
pub(super) fn pairs(keys: &[Option<String>]) -> Vec<(usize, usize)> {
    let mut groups: HashMap<&str, Vec<usize>> = HashMap::default();
    for (p, k) in keys.iter().enumerate() {
        if let Some(k) = k {
            groups.entry(k.as_str()).or_default().push(p);
        }
    }
    let mut out = vec![];
    for (p, k) in keys.iter().enumerate() {
        let Some(k) = k else { continue };
        out.extend(groups[k.as_str()].iter().filter(|q| **q > p).map(|q| (p, *q)));
    }
    out
}

/// The first pair of chain terms that can be collected, and the merged sum.
fn first_pair(x: &RecExpr<Expr>, terms: &[Id]) -> Option<(usize, usize, RecExpr<Expr>)> {
    let sums: Vec<(usize, (Symbol, Id, Id, Id))> = terms.iter().enumerate().filter_map(|(o, t)| collectable(x, *t).map(|c| (o, c))).collect();
    // a key per sum: its range and its derivative with the bound index blanked; only sums with the same key can be
    // collected, so the pairs tried are those (in the order of a scan over all pairs), not all m² of them
    let keys: Vec<Option<String>> = sums.iter().map(|(_, (a, n, _, d))| key(x, *a, *n, *d)).collect();
    for (p, q) in pairs(&keys) {
        if let Some(out) = merged(x, terms, sums[p].1, sums[q].1, sums[q].0) {
            return Some((sums[p].0, sums[q].0, out));
        }
    }
    None
}

/// Σ_a g(a) d(a) and Σ_b h(b) d(b) (the `j`-th chain term) as Σ_a (g + h)(a) d(a), if they can be collected.
pub(super) fn merged(x: &RecExpr<Expr>, terms: &[Id], (a, n, g, d): (Symbol, Id, Id, Id), (b, m, h, e): (Symbol, Id, Id, Id), j: usize) -> Option<RecExpr<Expr>> {
    if sub_expr(x, m) != sub_expr(x, n) || (a != b && crate::lang::mentions(x, terms[j], a)) {
        return None;
    }
    let mut renamed = RecExpr::default();
    let e = rename(x, e, b, a, &mut renamed)?;
    if sub_expr(&renamed, e) != sub_expr(x, d) {
        return None;
    }
    // g + h as one left-nested chain, whichever of them was collected before
    let mut out = RecExpr::default();
    let mut hs = RecExpr::default();
    let h = rename(x, h, b, a, &mut hs)?;
    let (mut gt, mut ht) = (vec![], vec![]);
    chain_terms(x, g, &mut gt);
    chain_terms(&hs, h, &mut ht);
    let mut parts: Vec<(String, RecExpr<Expr>)> = gt.iter().map(|t| sub_expr(x, *t)).chain(ht.iter().map(|t| sub_expr(&hs, *t))).map(|t| (order_key(&t), t)).collect();
    parts.sort_by(|p, q| p.0.cmp(&q.0));
    let mut sum = None;
    for (_, t) in &parts {
        let t = copy_into(t, t.root(), &mut out);
        sum = Some(match sum {
            None => t,
            Some(s) => out.add(Expr::Add([s, t])),
        });
    }
    let d = copy_into(x, d, &mut out);
    let body = out.add(Expr::Mul([sum?, d]));
    let k = out.add(Expr::Symbol(a));
    let n = copy_into(x, n, &mut out);
    out.add(Expr::Sum([k, n, body]));
    Some(out)
}

/// The chain at `id` with its `i`-th term replaced by `merged` and its `j`-th left out.
fn rebuild(x: &RecExpr<Expr>, id: Id, ord: &mut usize, i: usize, j: usize, merged: &RecExpr<Expr>, out: &mut RecExpr<Expr>) -> Option<Id> {
    match &x[id] {
        Expr::Add([l, r]) => match (rebuild(x, *l, ord, i, j, merged, out), rebuild(x, *r, ord, i, j, merged, out)) {
            (Some(a), Some(b)) => Some(out.add(Expr::Add([a, b]))),
            (a, b) => a.or(b),
        },
        _ => {
            let o = *ord;
            *ord += 1;
            match o {
                _ if o == j => None,
                _ if o == i => Some(copy_into(merged, merged.root(), out)),
                _ => Some(copy_into(x, id, out)),
            }
        }
    }
}

/// The rewrite of one `+` class, if its chain has two sums to collect: (terms in the chain, its text, the new chain).
/// (The chain written out is kept for its text, which only a tie needs.)
fn collected(eg: &EG, eclass: Id) -> Option<(usize, RecExpr<Expr>, RecExpr<Expr>)> {
    if !super::collect::may_collect(eg, eclass) {
        // (debug builds, which the tests run: the whole chain agrees)
        debug_assert!(
            representative(eg, eclass).is_none_or(|x| {
                let x = folded(&x);
                let mut terms = vec![];
                chain_terms(&x, x.root(), &mut terms);
                first_pair(&x, &terms).is_none()
            }),
            "the quick look at a chain missed two sums to collect"
        );
        return None;
    }
    let x = folded(&representative(eg, eclass)?);
    let mut terms = vec![];
    chain_terms(&x, x.root(), &mut terms);
    let (i, j, merged) = first_pair(&x, &terms)?;
    let mut out = RecExpr::default();
    rebuild(&x, x.root(), &mut 0, i, j, &merged, &mut out)?;
    Some((terms.len(), x, out))
}

/// How a chain is collected: its new form written out, or (in the stepper's pool) which terms merge.
enum Collect {
    Term(RecExpr<Expr>),
    Plan(super::collect::Plan),
}

impl Applier<Expr, crate::lang::Meta> for SumCollect {
    fn apply_one(&self, eg: &mut EG, eclass: Id, _: &Subst, _: Option<&PatternAst<Expr>>, _: Symbol) -> Vec<Id> {
        match collected(eg, eclass) {
            Some((_, _, out)) => union_term(eg, eclass, &out),
            None => vec![],
        }
    }
    /// One place per step: of all the `+` classes that match, the longest chain (an inner `+` of a chain is a
    /// shorter chain of the same terms; a tie goes to the first text), so that a step is the same whichever
    /// e-graph it runs on (the stepper's pool or a fresh one) and nested chains are never rewritten twice at once.
    /// The pick does not depend on the order of the matches: two different classes of a term never have the same
    /// text (the term is hash-consed and its constants are folded; checked in debug builds), so the kind says
    /// `any_order` and the pool need not put the matches in term order (at T = 100 of an LSTM that ordering was a
    /// tenth of the derivation).
    fn apply_matches(&self, eg: &mut EG, matches: &[egg::SearchMatches<Expr>], _: Symbol) -> Vec<Id> {
        // only the outermost chains: a `+` that is a part of another matched `+` has a subset of its terms (and
        // skipping it keeps a step linear in the term instead of quadratic)
        let inner: HashSet<Id> = matches
            .iter()
            .flat_map(|m| eg[m.eclass].nodes.iter())
            .filter_map(|n| match n {
                Expr::Add([l, r]) => Some([eg.find(*l), eg.find(*r)]),
                _ => None,
            })
            .flatten()
            .collect();
        // (in the stepper's pool the chain is read class by class, [`super::collect`]; a chain's text is needed only
        // for a tie)
        let text = |eg: &EG, id: Id| representative(eg, id).map(|x| folded(&x).to_string()).unwrap_or_default();
        let mut best: Option<(usize, Id, Collect)> = None;
        for m in matches.iter().filter(|m| !inner.contains(&eg.find(m.eclass))) {
            let found = match super::collect::in_pool(eg, m.eclass) {
                Ok(plan) => plan.map(|p| (p.terms, Collect::Plan(p))),
                Err(()) => collected(eg, m.eclass).map(|(n, _, out)| (n, Collect::Term(out))),
            };
            let Some((n, how)) = found else { continue };
            let better = match &best {
                None => true,
                Some((bn, _, _)) if n != *bn => n > *bn,
                Some((_, b, _)) => {
                    let (t, u) = (text(eg, m.eclass), text(eg, *b));
                    debug_assert!(eg.find(m.eclass) == eg.find(*b) || t != u, "two chains of one length with one text: the pick would depend on the order of the matches");
                    t < u
                }
            };
            if better {
                best = Some((n, m.eclass, how));
            }
        }
        match best {
            Some((_, eclass, Collect::Term(out))) => union_term(eg, eclass, &out),
            Some((_, eclass, Collect::Plan(p))) => super::collect::apply(eg, eclass, &p),
            None => vec![],
        }
    }
    fn vars(&self) -> Vec<Var> {
        vec![]
    }
}
