//! The expression language in index notation, on egg: numbers, indexed and time-indexed symbols, sums over
//! bound indices, Kronecker δ, activations, the derivative operator, and the e-class analysis that tracks free
//! indices and constants.
mod names;
pub use names::{Names, Places, name_at, LETTERS};
use crate::notation::Act;
use egg::{Analysis, DidMerge, EGraph, Id, Language, RecExpr, Symbol};
use ordered_float::NotNan;
use std::collections::BTreeSet;

/// A number in an expression (never NaN).
pub type Num = NotNan<f64>;

/// One node of an expression. Index and time positions hold ordinary sub-expressions (usually symbols or
/// numbers), so `s⁽ᵗ⁻¹⁾[p]` is `(tx s (- t 1) p)`. Written out (not by `define_language!`) because an
/// activation node carries its row of the activation table: `(tanh a)` is `Act(tanh, a)`, `(dtanh a)` is
/// `DAct(tanh, a)`, and a new activation needs no new variant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Expr {
    Num(Num),
    Add([Id; 2]),
    Sub([Id; 2]),
    Mul([Id; 2]),
    Neg(Id),
    Pow([Id; 2]),
    /// σ(a), for an activation σ of the table
    Act(Act, Id),
    /// σ′(a)
    DAct(Act, Id),
    // exp, log and 1/a: the softmax cross-entropy loss
    Exp(Id),
    Log(Id),
    Recip(Id),
    /// (d e w): the derivative of e with respect to the quantity w
    D([Id; 2]),
    /// (sum k dim body): Σ over the bound index k, which ranges over the size named dim
    Sum([Id; 3]),
    /// (tsum k lo hi body): Σ over the bound time step k = lo..hi
    TSum([Id; 4]),
    Delta([Id; 2]),
    /// (ix W_r i p) = W⁽ʳ⁾[i,p]; (ix y m) = y[m]
    Ix(Ids),
    /// (tx s 3 i) = s⁽³⁾[i]: a name, a time, then indices
    Tx(Ids),
    Symbol(Symbol),
}

impl Expr {
    /// The operator as written in s-expressions (`+`, `tanh`, `dtanh`, `ix`, …); a number or symbol itself.
    pub fn op(&self) -> std::borrow::Cow<'static, str> {
        use std::borrow::Cow::Borrowed;
        match self {
            Expr::Num(v) => v.to_string().into(),
            Expr::Symbol(s) => s.to_string().into(),
            Expr::Add(_) => Borrowed("+"),
            Expr::Sub(_) => Borrowed("-"),
            Expr::Mul(_) => Borrowed("*"),
            Expr::Neg(_) => Borrowed("neg"),
            Expr::Pow(_) => Borrowed("pow"),
            Expr::Act(a, _) => Borrowed(a.row().name),
            Expr::DAct(a, _) => Borrowed(a.row().prime),
            Expr::Exp(_) => Borrowed("exp"),
            Expr::Log(_) => Borrowed("log"),
            Expr::Recip(_) => Borrowed("recip"),
            Expr::D(_) => Borrowed("d"),
            Expr::Sum(_) => Borrowed("sum"),
            Expr::TSum(_) => Borrowed("tsum"),
            Expr::Delta(_) => Borrowed("delta"),
            Expr::Ix(_) => Borrowed("ix"),
            Expr::Tx(_) => Borrowed("tx"),
        }
    }
}

impl Language for Expr {
    type Discriminant = std::mem::Discriminant<Expr>;
    fn discriminant(&self) -> Self::Discriminant {
        std::mem::discriminant(self)
    }
    fn matches(&self, other: &Self) -> bool {
        match (self, other) {
            (Expr::Num(a), Expr::Num(b)) => a == b,
            (Expr::Symbol(a), Expr::Symbol(b)) => a == b,
            (Expr::Act(a, _), Expr::Act(b, _)) | (Expr::DAct(a, _), Expr::DAct(b, _)) => a == b,
            (Expr::Ix(a), Expr::Ix(b)) | (Expr::Tx(a), Expr::Tx(b)) => a.len() == b.len(),
            _ => self.discriminant() == other.discriminant(),
        }
    }
    fn children(&self) -> &[Id] {
        match self {
            Expr::Num(_) | Expr::Symbol(_) => &[],
            Expr::Add(c) | Expr::Sub(c) | Expr::Mul(c) | Expr::Pow(c) | Expr::D(c) | Expr::Delta(c) => c,
            Expr::Neg(a) | Expr::Act(_, a) | Expr::DAct(_, a) | Expr::Exp(a) | Expr::Log(a) | Expr::Recip(a) => std::slice::from_ref(a),
            Expr::Sum(c) => c,
            Expr::TSum(c) => c,
            Expr::Ix(c) | Expr::Tx(c) => egg::LanguageChildren::as_slice(c),
        }
    }
    fn children_mut(&mut self) -> &mut [Id] {
        match self {
            Expr::Num(_) | Expr::Symbol(_) => &mut [],
            Expr::Add(c) | Expr::Sub(c) | Expr::Mul(c) | Expr::Pow(c) | Expr::D(c) | Expr::Delta(c) => c,
            Expr::Neg(a) | Expr::Act(_, a) | Expr::DAct(_, a) | Expr::Exp(a) | Expr::Log(a) | Expr::Recip(a) => std::slice::from_mut(a),
            Expr::Sum(c) => c,
            Expr::TSum(c) => c,
            Expr::Ix(c) | Expr::Tx(c) => egg::LanguageChildren::as_mut_slice(c),
        }
    }
}

impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.op())
    }
}

impl egg::FromOp for Expr {
    type Error = egg::FromOpError;
    /// An operator with a fitting number of children is that node; otherwise a leaf is a number or a symbol
    /// (what `define_language!` does: `tanh` alone is a symbol).
    fn from_op(op: &str, ch: Vec<Id>) -> Result<Self, Self::Error> {
        let two = |ch: &[Id]| -> Option<[Id; 2]> { ch.try_into().ok() };
        let node = match (op, ch.len()) {
            ("+", 2) => two(&ch).map(Expr::Add),
            ("-", 2) => two(&ch).map(Expr::Sub),
            ("*", 2) => two(&ch).map(Expr::Mul),
            ("neg", 1) => Some(Expr::Neg(ch[0])),
            ("pow", 2) => two(&ch).map(Expr::Pow),
            ("exp", 1) => Some(Expr::Exp(ch[0])),
            ("log", 1) => Some(Expr::Log(ch[0])),
            ("recip", 1) => Some(Expr::Recip(ch[0])),
            ("d", 2) => two(&ch).map(Expr::D),
            ("sum", 3) => <[Id; 3]>::try_from(&ch[..]).ok().map(Expr::Sum),
            ("tsum", 4) => <[Id; 4]>::try_from(&ch[..]).ok().map(Expr::TSum),
            ("delta", 2) => two(&ch).map(Expr::Delta),
            ("ix", _) => Some(Expr::Ix(ch.clone().into())),
            ("tx", _) => Some(Expr::Tx(ch.clone().into())),
            (_, 1) => Act::of_op(op).map(|(a, prime)| if prime { Expr::DAct(a, ch[0]) } else { Expr::Act(a, ch[0]) }),
            _ => None,
        };
        match node {
            Some(n) => Ok(n),
            None if ch.is_empty() => Ok(match op.parse::<Num>() {
                Ok(v) => Expr::Num(v),
                Err(_) => Expr::Symbol(op.into()),
            }),
            None => Err(egg::FromOpError::new(op, ch)),
        }
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

/// The names a stepper run's fresh indices must avoid: `names` always (the rest of the expression when the run
/// holds only a part of it), `shown` for a new level's index ([`Meta::shown`]).
#[derive(Default, Clone, Debug)]
pub struct Reserved {
    pub names: BTreeSet<Symbol>,
    pub shown: BTreeSet<Symbol>,
}

impl From<BTreeSet<Symbol>> for Reserved {
    fn from(names: BTreeSet<Symbol>) -> Self {
        Reserved { names, shown: BTreeSet::new() }
    }
}

/// E-class analysis: free index symbols, folded constants, and the symbols the fresh-name generator must avoid.
#[derive(Default, Clone)]
pub struct Meta {
    /// Symbols that must never be chosen as a fresh bound index (e.g. every symbol of the whole term when the
    /// e-graph holds only a part of it).
    pub reserved: BTreeSet<Symbol>,
    /// Letters earlier steps of the derivation showed: a new level's index (an unfolded definition's Σ) avoids
    /// them too, so that one letter names one sum throughout (the blog's a, b, c, d down the levels).
    pub shown: BTreeSet<Symbol>,
    /// Leave constant classes alone (no number node is added): the stepper's pool folds constants itself.
    pub no_fold: bool,
    /// When set, appliers record (matched class, right-hand side) here instead of uniting the two classes.
    pub record: Option<Vec<(Id, Id)>>,
    /// When set, the symbols a fresh name must avoid (besides `reserved`): the current term's and those this
    /// step added, instead of every symbol of the e-graph (the stepper's pool also holds earlier terms).
    pub live: Option<Names>,
    /// The symbols this step added to `live` (so that the stepper's pool can take its term's set back).
    pub live_added: Vec<Symbol>,
    /// The places of the fresh-name sequence that `reserved` and `shown` take (computed once: both are fixed for
    /// an e-graph).
    pub fixed_places: std::sync::OnceLock<(Places, Places)>,
}

/// What the analysis knows about one e-class.
#[derive(Debug, Clone, PartialEq)]
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
pub const OPS: usize = 18;

/// A small number for the node's kind (its operator, every activation one kind), to index tables by.
pub fn op_index(n: &Expr) -> usize {
    match n {
        Expr::Num(_) => 0,
        Expr::Add(_) => 1,
        Expr::Sub(_) => 2,
        Expr::Mul(_) => 3,
        Expr::Neg(_) => 4,
        Expr::Pow(_) => 5,
        Expr::Act(..) => 6,
        Expr::DAct(..) => 7,
        Expr::Exp(_) => 8,
        Expr::Log(_) => 9,
        Expr::Recip(_) => 10,
        Expr::D(_) => 11,
        Expr::Sum(_) => 12,
        Expr::TSum(_) => 13,
        Expr::Delta(_) => 14,
        Expr::Ix(_) => 15,
        Expr::Tx(_) => 16,
        Expr::Symbol(_) => 17,
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

pub fn mentions(e: &RecExpr<Expr>, id: Id, k: Symbol) -> bool {
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
            Expr::Num(v) if v.into_inner() < 0.0 => format!("(neg {})", crate::notation::fmt_num(-v.into_inner())),
            Expr::Num(v) => crate::notation::fmt_num(v.into_inner()),
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

/// The node of the activation called `name` (a word of the activation table), or of its derivative.
pub fn activation(name: &str, prime: bool, a: Id) -> Option<Expr> {
    let act = Act::named(name)?;
    Some(if prime { Expr::DAct(act, a) } else { Expr::Act(act, a) })
}
