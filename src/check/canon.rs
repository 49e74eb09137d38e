//! A canonical form for comparing two expressions symbolically: a sum of products with numeric coefficients,
//! Σ over time written out, Kronecker δ contracted against bound indices, terms and factors sorted, and bound
//! indices renamed in order of appearance. Everything that is not + − × neg, whole powers, Σ or δ (a weight entry,
//! σ′(h⁽²⁾[i]), ∂L/∂h⁽³⁾[a]) is an atom. Equal canonical forms mean equal expressions (sound); unequal forms
//! mean only "not shown equal".
use crate::lang::Expr;
use crate::model::Model;
use crate::params::Sizes;
use egg::{Id, RecExpr, Symbol};
use std::collections::BTreeMap;

/// An atom: its text with every index position written `_`, and the index symbols in those positions.
type Atom = (String, Vec<Symbol>);

#[derive(Debug, Clone)]
struct Mono {
    coef: f64,
    bound: Vec<Symbol>,
    factors: Vec<Atom>,
}

/// A canonical sum of products: the text of each product (bound indices renamed) and its coefficient.
#[derive(Debug, Clone, PartialEq)]
pub struct Canon(pub BTreeMap<String, f64>);

/// Products beyond this many: give up (the form would not be readable as a proof anyway).
const MAX_TERMS: usize = 20_000;

enum Val {
    Index(Symbol),
    Time(i64),
}

struct Builder<'a> {
    model: &'a Model,
    sizes: &'a Sizes,
    env: Vec<(Symbol, Val)>,
    fresh: usize,
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
            Expr::Num(v) if v.fract() == 0.0 && v.abs() < 1e9 => Some(v.into_inner() as i64),
            Expr::Symbol(s) => match self.lookup(*s) {
                Some(Val::Time(t)) => Some(*t),
                _ if s.as_str() == "T" => Some(self.sizes.steps as i64),
                _ => None,
            },
            Expr::Add([a, b]) => Some(self.int(e, *a)? + self.int(e, *b)?),
            Expr::Sub([a, b]) => Some(self.int(e, *a)? - self.int(e, *b)?),
            Expr::Neg(a) => Some(-self.int(e, *a)?),
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

    fn atom(&mut self, e: &RecExpr<Expr>, id: Id, out: &mut Atom) {
        if let Some(t) = self.int(e, id).filter(|_| !matches!(&e[id], Expr::Num(_))) {
            out.0.push_str(&t.to_string());
            return;
        }
        match &e[id] {
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
        let one = |coef: f64| vec![Mono { coef, bound: vec![], factors: vec![] }];
        let out = match &e[id] {
            Expr::Num(v) => one(v.into_inner()),
            Expr::Symbol(s) if matches!(self.lookup(*s), Some(Val::Time(_))) => one(self.int(e, id)? as f64),
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
                let size = *self.sizes.dims.get(&sym(e, *dim)?)? as f64;
                self.fresh += 1;
                let f: Symbol = format!("§{}", self.fresh).into();
                self.env.push((k, Val::Index(f)));
                let p = self.poly(e, *body);
                self.env.pop();
                p?.into_iter()
                    .map(|mut m| {
                        if m.factors.iter().any(|a| a.1.contains(&f)) {
                            m.bound.push(f);
                        } else {
                            m.coef *= size;
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
                (Some(x), Some(y)) if x == y => one(1.0),
                (Some(x), Some(y)) => {
                    let mut v = vec![x, y];
                    v.sort_by(|p, q| p.as_str().cmp(q.as_str()));
                    vec![Mono { coef: 1.0, bound: vec![], factors: vec![("(delta _ _)".into(), v)] }]
                }
                _ => match (self.int(e, *a), self.int(e, *b)) {
                    (Some(x), Some(y)) => one(if x == y { 1.0 } else { 0.0 }),
                    _ => self.atom_poly(e, id),
                },
            },
            _ => self.atom_poly(e, id),
        };
        (out.len() <= MAX_TERMS).then_some(out)
    }

    fn atom_poly(&mut self, e: &RecExpr<Expr>, id: Id) -> Vec<Mono> {
        let mut a: Atom = (String::new(), vec![]);
        self.atom(e, id, &mut a);
        vec![Mono { coef: 1.0, bound: vec![], factors: vec![a] }]
    }

    fn product(&mut self, x: &[Mono], y: &[Mono]) -> Option<Vec<Mono>> {
        if x.len().saturating_mul(y.len()) > MAX_TERMS {
            return None;
        }
        let mut out = vec![];
        for a in x {
            for b in y {
                let mut b = b.clone();
                // the same Σ may be multiplied by itself (a power): keep bound names apart
                for v in b.bound.clone() {
                    if a.bound.contains(&v) {
                        self.fresh += 1;
                        let f: Symbol = format!("§{}", self.fresh).into();
                        rename(&mut b, v, f);
                    }
                }
                let mut m = a.clone();
                m.coef *= b.coef;
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

fn rename(m: &mut Mono, from: Symbol, to: Symbol) {
    for b in &mut m.bound {
        if *b == from {
            *b = to;
        }
    }
    for f in &mut m.factors {
        for x in &mut f.1 {
            if *x == from {
                *x = to;
            }
        }
    }
}

/// Contract δ(b, x) against a bound index b; then name bound indices by order of appearance and print.
fn finish(mut m: Mono) -> (String, f64) {
    loop {
        let hit = m.factors.iter().position(|f| f.0 == "(delta _ _)" && f.1.iter().any(|x| m.bound.contains(x)));
        let Some(at) = hit else { break };
        let d = m.factors.remove(at);
        let (b, x) = if m.bound.contains(&d.1[0]) { (d.1[0], d.1[1]) } else { (d.1[1], d.1[0]) };
        m.bound.retain(|v| *v != b);
        rename(&mut m, b, x);
    }
    let shape = |f: &Atom, bound: &[Symbol], names: &BTreeMap<Symbol, String>| -> String {
        let idx: Vec<String> = f.1.iter().map(|x| names.get(x).cloned().unwrap_or_else(|| if bound.contains(x) { "#".into() } else { x.to_string() })).collect();
        format!("{}[{}]", f.0, idx.join(","))
    };
    let empty = BTreeMap::new();
    let bound = m.bound.clone();
    m.factors.sort_by_cached_key(|f| shape(f, &bound, &empty));
    let mut names = BTreeMap::new();
    for f in &m.factors {
        for x in &f.1 {
            if m.bound.contains(x) && !names.contains_key(x) {
                let n = format!("#{}", names.len());
                names.insert(*x, n);
            }
        }
    }
    let mut parts: Vec<String> = m.factors.iter().map(|f| shape(f, &bound, &names)).collect();
    parts.sort();
    (parts.join(" "), m.coef)
}

/// The canonical form of `e` (T and every Σ over time at the sizes given), or None when it would be too large.
pub fn canon(e: &RecExpr<Expr>, model: &Model, sizes: &Sizes) -> Option<Canon> {
    let mut b = Builder { model, sizes, env: vec![], fresh: 0 };
    let p = b.poly(e, e.root())?;
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    for m in p {
        let (k, c) = finish(m);
        *out.entry(k).or_default() += c;
    }
    let scale = out.values().fold(0.0f64, |a, v| a.max(v.abs()));
    out.retain(|_, v| v.abs() > 1e-12 * scale.max(1.0));
    Some(Canon(out))
}

impl Canon {
    /// Same products with coefficients equal to 1e-12 relative.
    pub fn same(&self, other: &Canon) -> bool {
        self.0.len() == other.0.len()
            && self.0.iter().zip(&other.0).all(|((ka, va), (kb, vb))| ka == kb && (va - vb).abs() <= 1e-12 * va.abs().max(vb.abs()).max(1.0))
    }
    /// The number of products.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
