//! The expression language in index notation, on egg: numbers, indexed and time-indexed symbols, sums over
//! bound indices, Kronecker δ, activations, the derivative operator, and the e-class analysis that tracks free
//! indices and constants.
use egg::{Analysis, DidMerge, EGraph, Id, Language, RecExpr, Symbol, define_language};
use ordered_float::NotNan;
use std::collections::BTreeSet;

/// A number in an expression (never NaN).
pub type Num = NotNan<f64>;

define_language! {
    /// One node of an expression. Index and time positions hold ordinary sub-expressions (usually symbols or
    /// numbers), so `s⁽ᵗ⁻¹⁾[p]` is `(tx s (- t 1) p)`.
    pub enum Expr {
        Num(Num),
        "+" = Add([Id; 2]),
        "-" = Sub([Id; 2]),
        "*" = Mul([Id; 2]),
        "neg" = Neg(Id),
        "pow" = Pow([Id; 2]),
        "tanh" = Tanh(Id),
        "sigmoid" = Sigmoid(Id),
        "relu" = Relu(Id),
        "identity" = Identity(Id),
        "dtanh" = DTanh(Id),
        "dsigmoid" = DSigmoid(Id),
        "drelu" = DRelu(Id),
        "didentity" = DIdentity(Id),
        // exp, log and 1/a: the softmax cross-entropy loss
        "exp" = Exp(Id),
        "log" = Log(Id),
        "recip" = Recip(Id),
        // (d e w): the derivative of e with respect to the quantity w
        "d" = D([Id; 2]),
        // (sum k dim body): Σ over the bound index k, which ranges over the size named dim
        "sum" = Sum([Id; 3]),
        // (tsum k lo hi body): Σ over the bound time step k = lo..hi
        "tsum" = TSum([Id; 4]),
        "delta" = Delta([Id; 2]),
        // (ix W_r i p) = W⁽ʳ⁾[i,p]; (ix y m) = y[m]
        "ix" = Ix(Ids),
        // (tx s 3 i) = s⁽³⁾[i]: a name, a time, then indices
        "tx" = Tx(Ids),
        Symbol(Symbol),
    }
}

/// The children of an indexed symbol (name, [time,] indices), kept inline: a boxed slice allocated on every node
/// copy, which egg makes many of.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ids(smallvec::SmallVec<[Id; 4]>);

impl From<Vec<Id>> for Ids {
    fn from(v: Vec<Id>) -> Self {
        Ids(smallvec::SmallVec::from_vec(v))
    }
}

impl std::ops::Deref for Ids {
    type Target = [Id];
    fn deref(&self) -> &[Id] {
        &self.0
    }
}

impl egg::LanguageChildren for Ids {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn can_be_length(_: usize) -> bool {
        true
    }
    fn from_vec(v: Vec<Id>) -> Self {
        v.into()
    }
    fn as_slice(&self) -> &[Id] {
        &self.0
    }
    fn as_mut_slice(&mut self) -> &mut [Id] {
        &mut self.0
    }
}

/// An e-graph over [`Expr`] with the [`Meta`] analysis.
pub type EG = EGraph<Expr, Meta>;
/// A rewrite rule over [`Expr`].
pub type Rw = egg::Rewrite<Expr, Meta>;

/// The activations the language knows, with the node names of the function and of its derivative.
pub const ACTIVATIONS: &[&str] = &["tanh", "sigmoid", "relu", "identity"];

/// E-class analysis: free index symbols, folded constants, and the symbols the fresh-name generator must avoid.
#[derive(Default, Clone)]
pub struct Meta {
    /// Symbols that must never be chosen as a fresh bound index (e.g. every symbol of the whole term when the
    /// e-graph holds only a part of it).
    pub reserved: BTreeSet<Symbol>,
    /// Leave constant classes alone (no number node is added): the stepper's pool folds constants itself.
    pub no_fold: bool,
    /// When set, appliers record (matched class, right-hand side) here instead of uniting the two classes.
    pub record: Option<Vec<(Id, Id)>>,
    /// When set, the symbols a fresh name must avoid (besides `reserved`): the current term's and those this
    /// step added, instead of every symbol of the e-graph (the stepper's pool also holds earlier terms).
    pub live: Option<BTreeSet<Symbol>>,
}

/// What the analysis knows about one e-class.
#[derive(Debug, Clone)]
pub struct Data {
    /// Index symbols that may occur free (intersection over the class's members).
    pub free: FreeSet,
    /// The class's value if it is a constant.
    pub konst: Option<Num>,
    /// `Some(s)` if the class contains the plain symbol `s`.
    pub sym: Option<Symbol>,
}

/// A small set of symbols kept inline (free-index sets have a handful of members; an e-graph has one per class,
/// and a heap set per class was a third of the derivation's time in malloc).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FreeSet(smallvec::SmallVec<[Symbol; 6]>);

impl FreeSet {
    pub fn contains(&self, s: &Symbol) -> bool {
        self.0.contains(s)
    }
    pub fn insert(&mut self, s: Symbol) {
        if !self.0.contains(&s) {
            self.0.push(s);
        }
    }
    pub fn remove(&mut self, s: &Symbol) {
        self.0.retain(|x| x != s);
    }
    pub fn retain(&mut self, f: impl FnMut(&Symbol) -> bool) {
        let mut f = f;
        self.0.retain(|x| f(x));
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Symbol> {
        self.0.iter()
    }
    pub fn extend(&mut self, it: impl IntoIterator<Item = Symbol>) {
        for s in it {
            self.insert(s);
        }
    }
}

fn fold_const(eg: &EG, n: &Expr) -> Option<Num> {
    let c = |i: &Id| eg[*i].data.konst.map(|v| v.into_inner());
    let v = match n {
        Expr::Num(v) => return Some(*v),
        Expr::Add([a, b]) => c(a)? + c(b)?,
        Expr::Sub([a, b]) => c(a)? - c(b)?,
        Expr::Mul([a, b]) => c(a)? * c(b)?,
        Expr::Neg(a) => -c(a)?,
        _ => return None,
    };
    NotNan::new(v).ok().filter(|v| v.is_finite())
}

/// The number of node kinds ([`op_index`] is below it).
pub const OPS: usize = 24;

/// A small number for the node's kind (its operator), to index tables by.
pub fn op_index(n: &Expr) -> usize {
    match n {
        Expr::Num(_) => 0,
        Expr::Add(_) => 1,
        Expr::Sub(_) => 2,
        Expr::Mul(_) => 3,
        Expr::Neg(_) => 4,
        Expr::Pow(_) => 5,
        Expr::Tanh(_) => 6,
        Expr::Sigmoid(_) => 7,
        Expr::Relu(_) => 8,
        Expr::Identity(_) => 9,
        Expr::DTanh(_) => 10,
        Expr::DSigmoid(_) => 11,
        Expr::DRelu(_) => 12,
        Expr::DIdentity(_) => 13,
        Expr::Exp(_) => 14,
        Expr::Log(_) => 15,
        Expr::Recip(_) => 16,
        Expr::D(_) => 17,
        Expr::Sum(_) => 18,
        Expr::TSum(_) => 19,
        Expr::Delta(_) => 20,
        Expr::Ix(_) => 21,
        Expr::Tx(_) => 22,
        Expr::Symbol(_) => 23,
    }
}

/// The children of a node whose free symbols count as free indices of the node (names and sizes do not).
pub fn index_children(n: &Expr) -> &[Id] {
    match n {
        Expr::Ix(ch) | Expr::Tx(ch) => &ch[1..],
        Expr::Sum(ch) => &ch[2..],
        _ => n.children(),
    }
}

impl Analysis<Expr> for Meta {
    type Data = Data;

    fn make(eg: &mut EG, n: &Expr, _id: Id) -> Data {
        let mut free = FreeSet::default();
        let mut sym = None;
        match n {
            Expr::Symbol(s) => {
                free.insert(*s);
                sym = Some(*s);
            }
            Expr::Sum([k, _, body]) | Expr::TSum([k, _, _, body]) => {
                free = eg[*body].data.free.clone();
                if let Some(k) = eg[*k].data.sym {
                    free.remove(&k);
                }
                if let Expr::TSum([_, lo, hi, _]) = n {
                    free.extend(eg[*lo].data.free.iter().copied());
                    free.extend(eg[*hi].data.free.iter().copied());
                }
            }
            _ => {
                for c in index_children(n) {
                    free.extend(eg[*c].data.free.iter().copied());
                }
            }
        }
        Data { free, konst: fold_const(eg, n), sym }
    }

    fn merge(&mut self, to: &mut Data, from: Data) -> DidMerge {
        let before = to.free.len();
        to.free.retain(|s| from.free.contains(s));
        let mut dm = DidMerge(before != to.free.len(), to.free.len() != from.free.len());
        // Two different constants can only meet through an unsound rule; the numeric step check reports that
        // rule by name, so keep the first value here instead of failing.
        match (to.konst, from.konst) {
            (None, Some(v)) => {
                to.konst = Some(v);
                dm = dm | DidMerge(true, false);
            }
            (Some(_), None) => dm = dm | DidMerge(false, true),
            _ => {}
        }
        match (to.sym, from.sym) {
            (None, Some(s)) => {
                to.sym = Some(s);
                dm = dm | DidMerge(true, false);
            }
            (Some(_), None) => dm = dm | DidMerge(false, true),
            _ => {}
        }
        dm
    }

    fn modify(eg: &mut EG, id: Id) {
        if eg.analysis.no_fold {
            return;
        }
        if let Some(v) = eg[id].data.konst
            && !eg[id].nodes.iter().any(|n| matches!(n, Expr::Num(_))) {
                let c = eg.add(Expr::Num(v));
                eg.union(id, c);
            }
    }
}

/// A number node.
pub fn num(v: f64) -> Expr {
    Expr::Num(NotNan::new(v).unwrap_or_default())
}

/// Every symbol that occurs anywhere in `e` (names, indices, sizes).
pub fn symbols(e: &RecExpr<Expr>) -> BTreeSet<Symbol> {
    e.as_ref()
        .iter()
        .filter_map(|n| if let Expr::Symbol(s) = n { Some(*s) } else { None })
        .collect()
}

/// The free index symbols of the sub-expression at `root`, in order of first appearance.
pub fn free_indices(e: &RecExpr<Expr>, root: Id) -> Vec<Symbol> {
    fn go(e: &RecExpr<Expr>, id: Id, bound: &mut Vec<Symbol>, out: &mut Vec<Symbol>) {
        match &e[id] {
            Expr::Symbol(s) => {
                if !bound.contains(s) && !out.contains(s) {
                    out.push(*s);
                }
            }
            Expr::Sum([k, _, body]) => with_bound(e, *k, bound, |b| go(e, *body, b, out)),
            Expr::TSum([k, lo, hi, body]) => {
                go(e, *lo, bound, out);
                go(e, *hi, bound, out);
                with_bound(e, *k, bound, |b| go(e, *body, b, out));
            }
            n => {
                for c in index_children(n) {
                    go(e, *c, bound, out);
                }
            }
        }
    }
    let mut out = vec![];
    go(e, root, &mut vec![], &mut out);
    out
}

fn with_bound(e: &RecExpr<Expr>, k: Id, bound: &mut Vec<Symbol>, f: impl FnOnce(&mut Vec<Symbol>)) {
    if let Expr::Symbol(s) = &e[k] {
        bound.push(*s);
        f(bound);
        bound.pop();
    } else {
        f(bound);
    }
}

/// Copy the sub-expression at `root` of `src` into `dst` (keeping sharing), returning its new id.
pub fn copy_into(src: &RecExpr<Expr>, root: Id, dst: &mut RecExpr<Expr>) -> Id {
    let n = src[root].clone().map_children(|c| copy_into(src, c, dst));
    dst.add(n)
}

/// The sub-expression at `root` as an expression of its own.
pub fn sub_expr(src: &RecExpr<Expr>, root: Id) -> RecExpr<Expr> {
    let mut out = RecExpr::default();
    copy_into(src, root, &mut out);
    out
}

fn mentions(e: &RecExpr<Expr>, id: Id, k: Symbol) -> bool {
    match &e[id] {
        Expr::Symbol(s) => *s == k,
        n => n.children().iter().any(|c| mentions(e, *c, k)),
    }
}

/// A canonical text of an expression up to the associativity of + and × (and a − b as a + (−b)): two
/// expressions that print alike have the same normal form. Used to check that printed formulas read back.
pub fn normal_form(e: &RecExpr<Expr>) -> String {
    fn terms(e: &RecExpr<Expr>, id: Id, neg: bool, out: &mut Vec<String>) {
        match &e[id] {
            Expr::Add([a, b]) => {
                terms(e, *a, neg, out);
                terms(e, *b, neg, out);
            }
            Expr::Sub([a, b]) => {
                terms(e, *a, neg, out);
                terms(e, *b, !neg, out);
            }
            _ => out.push(format!("{}{}", if neg { "-" } else { "+" }, go(e, id))),
        }
    }
    fn factors(e: &RecExpr<Expr>, id: Id, out: &mut Vec<String>) {
        match &e[id] {
            Expr::Mul([a, b]) => {
                factors(e, *a, out);
                factors(e, *b, out);
            }
            _ => out.push(go(e, id)),
        }
    }
    fn go(e: &RecExpr<Expr>, id: Id) -> String {
        match &e[id] {
            Expr::Add(_) | Expr::Sub(_) => {
                let mut t = vec![];
                terms(e, id, false, &mut t);
                format!("(sum-of {})", t.join(" "))
            }
            Expr::Mul(_) => {
                let mut f = vec![];
                factors(e, id, &mut f);
                format!("(product {})", f.join(" "))
            }
            // a negative number prints, and reads back, as a negation
            Expr::Num(v) if v.into_inner() < 0.0 => format!("(neg {})", crate::render::text::fmt_num(-v.into_inner())),
            Expr::Num(v) => crate::render::text::fmt_num(v.into_inner()),
            Expr::Symbol(s) => s.to_string(),
            // the size of a Σ is not printed; it is known from where the index is used, and only then
            Expr::Sum([k, _, body]) if !matches!(&e[*k], Expr::Symbol(s) if mentions(e, *body, *s)) => {
                format!("(sum {} ? {})", go(e, *k), go(e, *body))
            }
            n => {
                let kids: Vec<String> = n.children().iter().map(|c| go(e, *c)).collect();
                format!("({} {})", n, kids.join(" "))
            }
        }
    }
    go(e, e.root())
}

/// The node of the activation named `name` (`tanh`, `sigmoid`, `relu`, `identity`), or of its derivative.
pub fn activation(name: &str, prime: bool, a: Id) -> Option<Expr> {
    Some(match (name, prime) {
        ("tanh", false) => Expr::Tanh(a),
        ("tanh", true) => Expr::DTanh(a),
        ("sigmoid", false) => Expr::Sigmoid(a),
        ("sigmoid", true) => Expr::DSigmoid(a),
        ("relu", false) => Expr::Relu(a),
        ("relu", true) => Expr::DRelu(a),
        ("identity" | "id", false) => Expr::Identity(a),
        ("identity" | "id", true) => Expr::DIdentity(a),
        _ => return None,
    })
}
