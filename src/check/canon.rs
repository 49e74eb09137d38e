//! A canonical form for comparing two expressions symbolically: a sum of products with exact rational
//! coefficients, Σ over time written out, Kronecker δ contracted against bound indices, terms and factors sorted,
//! and bound indices renamed in order of appearance. Everything that is not + − × neg, whole powers, Σ or δ (a
//! weight entry, σ′(h⁽²⁾[i]), ∂L/∂h⁽³⁾[a]) is an atom. Equal canonical forms mean equal expressions (sound: the
//! coefficients are compared exactly, never with a tolerance); unequal forms mean only "not shown equal" — but
//! their difference is itself a small sum of products, which [`Canon::difference`] turns back into expressions
//! so that the numbers can show it is not zero (a difference far below the rounding of the whole gradient,
//! such as a dropped vanishing term, is still seen).
use crate::exact::Rational;
use crate::lang::Expr;
use crate::model::Model;
use crate::params::Sizes;
use egg::{Id, Language, RecExpr, Symbol};
use num_traits::{Signed, Zero};
use std::collections::BTreeMap;

/// An atom: its text with every index position written `_`, the index symbols in those positions, and the
/// atom as an expression (time steps written out, bound indices by their fresh names) for the numbers.
#[derive(Debug, Clone)]
struct Atom {
    key: String,
    idx: Vec<Symbol>,
    /// Shared: monomials are copied often, their atoms rarely change.
    expr: std::rc::Rc<RecExpr<Expr>>,
    /// log, 1/x or a fractional power: not defined everywhere, so 0 × it is not 0 everywhere.
    partial: bool,
}

#[derive(Debug, Clone)]
struct Mono {
    coef: Rational,
    bound: Vec<Symbol>,
    factors: Vec<Atom>,
}

/// One product of the canonical form, ready for the numbers: Σ over `bound` (with their sizes) of the product
/// of `factors`.
#[derive(Debug, Clone)]
pub struct Product {
    pub bound: Vec<(Symbol, Symbol)>,
    pub factors: Vec<(RecExpr<Expr>, Vec<Symbol>)>,
}

/// A canonical sum of products: the text of each product (bound indices renamed), its exact coefficient, and
/// one instance of it as expressions.
#[derive(Debug, Clone)]
pub struct Canon {
    terms: BTreeMap<String, (Rational, Product)>,
    /// A product with a partial atom (log, 1/x, a fractional power) cancelled or was multiplied by 0: the
    /// form is not equal to the expression where that atom is undefined, so it proves nothing.
    pub dropped_partial: bool,
}

/// Products beyond this many: give up (the form would not be readable as a proof anyway).
const MAX_TERMS: usize = 20_000;

enum Val {
    Index(Symbol),
    Time(i64),
}

struct Builder<'a> {
    /// Numbers hidden from the rewriting as placeholder symbols ([`hide_numbers`]), by name.
    consts: &'a BTreeMap<Symbol, f64>,
    model: &'a Model,
    sizes: &'a Sizes,
    env: Vec<(Symbol, Val)>,
    fresh: usize,
    /// The size symbol of every fresh bound index.
    dims: BTreeMap<Symbol, Symbol>,
    dropped_partial: bool,
}

fn sym(e: &RecExpr<Expr>, id: Id) -> Option<Symbol> {
    match &e[id] {
        Expr::Symbol(s) => Some(*s),
        _ => None,
    }
}

impl Builder<'_> {
    fn lookup(&self, s: Symbol) -> Option<&Val> {
        self.env.iter().rev().find(|(k, _)| *k == s).map(|(_, v)| v)
    }

    /// A whole number, if `id` is time arithmetic over known steps.
    fn int(&self, e: &RecExpr<Expr>, id: Id) -> Option<i64> {
        match &e[id] {
            Expr::Num(v) if v.fract() == 0.0 && v.into_inner().abs() < 1e9 => Some(v.into_inner() as i64),
            Expr::Symbol(s) => match self.lookup(*s) {
                Some(Val::Time(t)) => Some(*t),
                _ => self.model.steps_value(*s, self.sizes.steps).map(|t| t as i64),
            },
            Expr::Add([a, b]) => Some(self.int(e, *a)? + self.int(e, *b)?),
            Expr::Sub([a, b]) => Some(self.int(e, *a)? - self.int(e, *b)?),
            Expr::Neg(a) => Some(-self.int(e, *a)?),
            _ => None,
        }
    }

    /// The exact value of a number node or a hidden number.
    fn number(&self, e: &RecExpr<Expr>, id: Id) -> Option<Rational> {
        match &e[id] {
            Expr::Num(v) => crate::exact::of_f64(v.into_inner()),
            Expr::Symbol(s) => self.consts.get(s).and_then(|v| crate::exact::of_f64(*v)),
            _ => None,
        }
    }

    /// The index symbol `id` stands for (bound indices resolve to their fresh names).
    fn index(&self, e: &RecExpr<Expr>, id: Id) -> Option<Symbol> {
        let s = sym(e, id)?;
        match self.lookup(s) {
            Some(Val::Index(x)) => Some(*x),
            Some(Val::Time(_)) => None,
            None if self.model.is_name(s) => None,
            None => Some(s),
        }
    }

    /// The atom at `id` as an expression: time arithmetic over known steps becomes numbers, bound indices their
    /// fresh names; a Σ inside keeps its own bound index.
    fn copy(&mut self, e: &RecExpr<Expr>, id: Id, out: &mut RecExpr<Expr>) -> Id {
        if let Some(t) = self.int(e, id).filter(|_| !matches!(&e[id], Expr::Num(_))) {
            return out.add(crate::lang::num(t as f64));
        }
        match &e[id] {
            Expr::Symbol(s) if self.consts.contains_key(s) => out.add(crate::lang::num(self.consts[s])),
            Expr::Symbol(s) => {
                let x = self.index(e, id).unwrap_or(*s);
                out.add(Expr::Symbol(x))
            }
            Expr::Sum([k, ..]) | Expr::TSum([k, ..]) => {
                let kk = sym(e, *k);
                if let Some(k) = kk {
                    self.env.push((k, Val::Index(k)));
                }
                let n = e[id].clone().map_children(|c| self.copy(e, c, out));
                if kk.is_some() {
                    self.env.pop();
                }
                out.add(n)
            }
            n => {
                let n = n.clone().map_children(|c| self.copy(e, c, out));
                out.add(n)
            }
        }
    }

    fn atom(&mut self, e: &RecExpr<Expr>, id: Id, out: &mut (String, Vec<Symbol>)) {
        if let Some(t) = self.int(e, id).filter(|_| !matches!(&e[id], Expr::Num(_))) {
            out.0.push_str(&t.to_string());
            return;
        }
        match &e[id] {
            Expr::Symbol(s) if self.consts.contains_key(s) => {
                out.0.push_str(&crate::exact::of_f64(self.consts[s]).map(|r| r.to_string()).unwrap_or_else(|| "nan".into()));
            }
            Expr::Symbol(s) => match self.index(e, id) {
                Some(x) => {
                    out.0.push('_');
                    out.1.push(x);
                }
                None => out.0.push_str(s.as_str()),
            },
            Expr::Num(v) => out.0.push_str(&v.to_string()),
            Expr::Sum([k, _, body]) | Expr::TSum([k, _, _, body]) => {
                // a Σ inside an atom: its bound index by depth, so that names do not matter
                let depth = self.env.len();
                let marker: Symbol = format!("${depth}").into();
                out.0.push_str(&format!("({} {marker} ", e[id]));
                for c in egg::Language::children(&e[id]).iter().skip(1).take(egg::Language::children(&e[id]).len() - 2) {
                    self.atom(e, *c, out);
                    out.0.push(' ');
                }
                if let Some(k) = sym(e, *k) {
                    self.env.push((k, Val::Index(marker)));
                    self.atom(e, *body, out);
                    self.env.pop();
                }
                out.0.push(')');
            }
            n => {
                out.0.push('(');
                out.0.push_str(&n.to_string());
                for c in egg::Language::children(n) {
                    out.0.push(' ');
                    self.atom(e, *c, out);
                }
                out.0.push(')');
            }
        }
    }

    fn poly(&mut self, e: &RecExpr<Expr>, id: Id) -> Option<Vec<Mono>> {
        let one = |coef: Rational| vec![Mono { coef, bound: vec![], factors: vec![] }];
        let int = |v: i64| Rational::from_integer(v.into());
        let out = match &e[id] {
            Expr::Num(v) => one(crate::exact::of_f64(v.into_inner())?),
            Expr::Symbol(s) if self.consts.contains_key(s) => one(crate::exact::of_f64(self.consts[s])?),
            Expr::Symbol(s) if matches!(self.lookup(*s), Some(Val::Time(_))) => one(int(self.int(e, id)?)),
            Expr::Add([a, b]) => {
                let mut p = self.poly(e, *a)?;
                p.extend(self.poly(e, *b)?);
                p
            }
            Expr::Sub([a, b]) => {
                let mut p = self.poly(e, *a)?;
                p.extend(negate(self.poly(e, *b)?));
                p
            }
            Expr::Neg(a) => negate(self.poly(e, *a)?),
            // 1/c of a number c ≠ 0 is the exact rational 1/c (\frac{1}{3} reads as 1 · (1/3))
            Expr::Recip(a) if self.number(e, *a).is_some_and(|r| !r.is_zero()) => one(num_traits::Inv::inv(self.number(e, *a)?)),
            Expr::Mul([a, b]) => {
                let (x, y) = (self.poly(e, *a)?, self.poly(e, *b)?);
                self.product(&x, &y)?
            }
            Expr::Pow([a, b]) if matches!(&e[*b], Expr::Num(v) if v.fract() == 0.0 && (1.0..=4.0).contains(&v.into_inner())) => {
                let n = self.int(e, *b)?;
                let x = self.poly(e, *a)?;
                let mut acc = x.clone();
                for _ in 1..n {
                    acc = self.product(&acc, &x)?;
                }
                acc
            }
            Expr::Sum([k, dim, body]) => {
                let k = sym(e, *k)?;
                let dim = sym(e, *dim)?;
                let size = int(*self.sizes.dims.get(&dim)? as i64);
                self.fresh += 1;
                let f: Symbol = format!("§{}", self.fresh).into();
                self.dims.insert(f, dim);
                self.env.push((k, Val::Index(f)));
                let p = self.poly(e, *body);
                self.env.pop();
                p?.into_iter()
                    .map(|mut m| {
                        if m.factors.iter().any(|a| a.idx.contains(&f)) {
                            m.bound.push(f);
                        } else {
                            m.coef *= size.clone();
                        }
                        m
                    })
                    .collect()
            }
            Expr::TSum([k, lo, hi, body]) => match (self.int(e, *lo), self.int(e, *hi)) {
                (Some(lo), Some(hi)) if hi - lo < 10_000 => {
                    let k = sym(e, *k)?;
                    let mut p = vec![];
                    for t in lo..=hi {
                        self.env.push((k, Val::Time(t)));
                        let r = self.poly(e, *body);
                        self.env.pop();
                        p.extend(r?);
                    }
                    p
                }
                _ => self.atom_poly(e, id),
            },
            Expr::Delta([a, b]) => match (self.index(e, *a), self.index(e, *b)) {
                (Some(x), Some(y)) if x == y => one(int(1)),
                (Some(x), Some(y)) => {
                    let mut v = vec![x, y];
                    v.sort_by(|p, q| p.as_str().cmp(q.as_str()));
                    let mut expr = RecExpr::default();
                    let (p, q) = (expr.add(Expr::Symbol(v[0])), expr.add(Expr::Symbol(v[1])));
                    expr.add(Expr::Delta([p, q]));
                    vec![Mono { coef: int(1), bound: vec![], factors: vec![Atom { key: "(delta _ _)".into(), idx: v, expr: std::rc::Rc::new(expr), partial: false }] }]
                }
                _ => match (self.int(e, *a), self.int(e, *b)) {
                    (Some(x), Some(y)) => one(int(if x == y { 1 } else { 0 })),
                    _ => self.atom_poly(e, id),
                },
            },
            _ => self.atom_poly(e, id),
        };
        (out.len() <= MAX_TERMS).then_some(out)
    }

    fn atom_poly(&mut self, e: &RecExpr<Expr>, id: Id) -> Vec<Mono> {
        let mut a = (String::new(), vec![]);
        self.atom(e, id, &mut a);
        let mut expr = RecExpr::default();
        self.copy(e, id, &mut expr);
        let partial = expr.as_ref().iter().any(|n| match n {
            Expr::Log(_) | Expr::Recip(_) => true,
            Expr::Pow([_, p]) => !matches!(&expr[*p], Expr::Num(v) if v.fract() == 0.0 && v.into_inner() >= 0.0),
            _ => false,
        });
        vec![Mono { coef: Rational::from_integer(1.into()), bound: vec![], factors: vec![Atom { key: a.0, idx: a.1, expr: std::rc::Rc::new(expr), partial }] }]
    }

    fn product(&mut self, x: &[Mono], y: &[Mono]) -> Option<Vec<Mono>> {
        if x.len().saturating_mul(y.len()) > MAX_TERMS {
            return None;
        }
        // the run's time and memory limits: give up (the caller reports the limit)
        crate::limits::check("the proof").ok()?;
        let mut out = vec![];
        for a in x {
            for b in y {
                let mut b = b.clone();
                // the same Σ may be multiplied by itself (a power): keep bound names apart
                for v in b.bound.clone() {
                    if a.bound.contains(&v) {
                        self.fresh += 1;
                        let f: Symbol = format!("§{}", self.fresh).into();
                        if let Some(d) = self.dims.get(&v).copied() {
                            self.dims.insert(f, d);
                        }
                        rename(&mut b, v, f);
                    }
                }
                let mut m = a.clone();
                m.coef *= b.coef.clone();
                if m.coef.is_zero() && m.factors.iter().chain(&b.factors).any(|f| f.partial) {
                    self.dropped_partial = true;
                }
                m.bound.extend(b.bound);
                m.factors.extend(b.factors);
                out.push(m);
            }
        }
        Some(out)
    }
}

fn negate(p: Vec<Mono>) -> Vec<Mono> {
    p.into_iter().map(|mut m| {
        m.coef = -m.coef;
        m
    }).collect()
}

/// Rename the symbol `from` to `to` everywhere in an expression.
fn rename_expr(e: &RecExpr<Expr>, from: Symbol, to: Symbol) -> RecExpr<Expr> {
    let nodes: Vec<Expr> = e.as_ref().iter().map(|n| match n {
        Expr::Symbol(s) if *s == from => Expr::Symbol(to),
        n => n.clone(),
    }).collect();
    RecExpr::from(nodes)
}

fn rename(m: &mut Mono, from: Symbol, to: Symbol) {
    for b in &mut m.bound {
        if *b == from {
            *b = to;
        }
    }
    for f in &mut m.factors {
        if f.idx.contains(&from) {
            f.expr = std::rc::Rc::new(rename_expr(&f.expr, from, to));
        }
        for x in &mut f.idx {
            if *x == from {
                *x = to;
            }
        }
    }
}

/// Contract δ(b, x) against a bound index b; then name bound indices by order of appearance and print.
fn finish(mut m: Mono, dims: &BTreeMap<Symbol, Symbol>) -> (String, Rational, Product) {
    loop {
        let hit = m.factors.iter().position(|f| f.key == "(delta _ _)" && f.idx.iter().any(|x| m.bound.contains(x)));
        let Some(at) = hit else { break };
        let d = m.factors.remove(at);
        let (b, x) = if m.bound.contains(&d.idx[0]) { (d.idx[0], d.idx[1]) } else { (d.idx[1], d.idx[0]) };
        m.bound.retain(|v| *v != b);
        rename(&mut m, b, x);
    }
    let shape = |f: &Atom, bound: &[Symbol], names: &BTreeMap<Symbol, String>| -> String {
        let idx: Vec<String> = f.idx.iter().map(|x| names.get(x).cloned().unwrap_or_else(|| if bound.contains(x) { "#".into() } else { x.to_string() })).collect();
        format!("{}[{}]", f.key, idx.join(","))
    };
    let empty = BTreeMap::new();
    let bound = m.bound.clone();
    m.factors.sort_by_cached_key(|f| shape(f, &bound, &empty));
    let mut names = BTreeMap::new();
    for f in &m.factors {
        for x in &f.idx {
            if m.bound.contains(x) && !names.contains_key(x) {
                let n = format!("#{}", names.len());
                names.insert(*x, n);
            }
        }
    }
    let mut parts: Vec<String> = m.factors.iter().map(|f| shape(f, &bound, &names)).collect();
    parts.sort();
    let product = Product {
        bound: m.bound.iter().map(|b| (*b, dims.get(b).copied().unwrap_or_else(|| Symbol::from("?")))).collect(),
        factors: m.factors.iter().map(|f| {
            let mut idx = f.idx.clone();
            idx.dedup();
            ((*f.expr).clone(), idx)
        }).collect(),
    };
    (parts.join(" "), m.coef, product)
}

/// The canonical form of `e` (T and every Σ over time at the sizes given), or None when it would be too large
/// or holds a number that is not finite.
pub fn canon(e: &RecExpr<Expr>, model: &Model, sizes: &Sizes) -> Option<Canon> {
    canon_with(e, model, sizes, &BTreeMap::new())
}

/// [`canon`] of an expression whose numbers were hidden by [`hide_numbers`] (`consts` gives them back, exactly).
pub fn canon_with(e: &RecExpr<Expr>, model: &Model, sizes: &Sizes, consts: &BTreeMap<Symbol, f64>) -> Option<Canon> {
    let mut b = Builder { consts, model, sizes, env: vec![], fresh: 0, dims: BTreeMap::new(), dropped_partial: false };
    let p = b.poly(e, e.root())?;
    let mut terms: BTreeMap<String, (Rational, Product)> = BTreeMap::new();
    let mut partial: BTreeMap<String, bool> = BTreeMap::new();
    for m in p {
        crate::limits::check("the proof").ok()?;
        let is_partial = m.factors.iter().any(|f| f.partial);
        let (k, c, prod) = finish(m, &b.dims);
        *partial.entry(k.clone()).or_default() |= is_partial;
        match terms.get_mut(&k) {
            Some(t) => t.0 += c,
            None => {
                terms.insert(k, (c, prod));
            }
        }
    }
    let mut dropped_partial = b.dropped_partial;
    terms.retain(|k, (c, _)| {
        if c.is_zero() && partial.get(k).copied().unwrap_or(false) {
            dropped_partial = true;
        }
        !c.is_zero()
    });
    Some(Canon { terms, dropped_partial })
}

impl Canon {
    /// The same products with exactly the same coefficients (and nothing partial cancelled away).
    pub fn same(&self, other: &Canon) -> bool {
        !self.dropped_partial
            && !other.dropped_partial
            && self.terms.len() == other.terms.len()
            && self.terms.iter().zip(&other.terms).all(|((ka, (va, _)), (kb, (vb, _)))| ka == kb && va == vb)
    }
    /// self − other: the products whose coefficients differ, with the difference of their coefficients.
    pub fn difference(&self, other: &Canon) -> Vec<(Rational, Product)> {
        let mut out = vec![];
        for (k, (c, p)) in &self.terms {
            let theirs = other.terms.get(k).map(|t| t.0.clone()).unwrap_or_else(Rational::zero);
            let d = c - theirs;
            if !d.is_zero() {
                out.push((d, p.clone()));
            }
        }
        for (k, (c, p)) in &other.terms {
            if !self.terms.contains_key(k) {
                out.push((-c.clone(), p.clone()));
            }
        }
        out
    }
    /// The number of products.
    pub fn len(&self) -> usize {
        self.terms.len()
    }
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
    /// The largest |coefficient|, for reports.
    pub fn max_coef(&self) -> f64 {
        self.terms.values().map(|(c, _)| crate::exact::to_f64(&c.abs())).fold(0.0, f64::max)
    }
}

/// The numbers of `e` that are values (not time steps, indices, Σ bounds or exponents) replaced by placeholder
/// symbols `#c0`, `#c1`, … (recorded in `consts`): rewriting folds constants in f64 (1.0000000000000002 ×
/// 0.9999999999999998 becomes 1), a proof must not — the canonical form multiplies them as exact rationals.
pub fn hide_numbers(e: &RecExpr<Expr>, consts: &mut BTreeMap<Symbol, f64>) -> RecExpr<Expr> {
    fn go(e: &RecExpr<Expr>, id: Id, value: bool, consts: &mut BTreeMap<Symbol, f64>, out: &mut RecExpr<Expr>) -> Id {
        let n = &e[id];
        if let (Expr::Num(v), true) = (n, value) {
            let name: Symbol = format!("#c{}", consts.len()).into();
            consts.insert(name, v.into_inner());
            return out.add(Expr::Symbol(name));
        }
        // which children hold values: not the name, time and indices of a quantity, nor Σ's index, size and
        // bounds, nor δ's indices, nor an exponent, nor what a derivative is taken with respect to
        let kids = n.children();
        let new = n.clone().map_children(|_| Id::from(0usize));
        let mut mapped = Vec::with_capacity(kids.len());
        for (k, c) in kids.iter().enumerate() {
            let v = value
                && match n {
                    Expr::Ix(_) | Expr::Tx(_) | Expr::Delta(_) => false,
                    Expr::Sum(_) => k == 2,
                    Expr::TSum(_) => k == 3,
                    Expr::Pow(_) => k == 0,
                    Expr::D(_) => k == 0,
                    _ => true,
                };
            mapped.push(go(e, *c, v, consts, out));
        }
        let mut it = mapped.into_iter();
        out.add(new.map_children(|_| it.next().unwrap_or(Id::from(0usize))))
    }
    let mut out = RecExpr::default();
    go(e, e.root(), true, consts, &mut out);
    out
}

/// The placeholders of [`hide_numbers`] replaced by their numbers again (for showing the steps).
pub fn show_numbers(e: &RecExpr<Expr>, consts: &BTreeMap<Symbol, f64>) -> RecExpr<Expr> {
    RecExpr::from(e.as_ref().iter().map(|n| match n {
        Expr::Symbol(s) if consts.contains_key(s) => crate::lang::num(consts[s]),
        n => n.clone(),
    }).collect::<Vec<_>>())
}
