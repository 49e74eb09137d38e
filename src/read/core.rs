//! The part both formula readers share: the parser state, precedence (sums of products of factors), the depth
//! guard, the node builders that need the model (Σ sizes, activations, bound indices that would capture a
//! name, whole time bounds), and the end of a read (no trailing text, each Σ's size from where its index is
//! used). A dialect ([`super::text`], [`super::latex`]) brings its tokens and its factors.
use super::Nesting;
use crate::diag::Diag;
use crate::lang::Expr;
use crate::model::Model;
use crate::notation::Act;
use egg::{Id, RecExpr, Symbol};
use std::ops::Range;
use std::sync::Arc;

pub(crate) type R<T> = Result<T, Diag>;

/// A reader over one dialect's tokens `T`.
pub(crate) struct Core<'a, T> {
    pub toks: Vec<(T, Range<usize>)>,
    pub pos: usize,
    pub out: RecExpr<Expr>,
    pub file: &'a str,
    pub src: &'a Arc<str>,
    depth: usize,
    pub model: Option<&'a Model>,
    /// The function σ stands for (the model's activation, as the blog writes σ for it); `sigmoid` is always the
    /// logistic function.
    pub sigma: Act,
}

/// What a dialect adds: its token for a one-character symbol, its product sign, and how it reads a factor.
pub(crate) trait Dialect {
    type Tok;
    /// The tokens of `+` and `-`.
    const PLUS: Self::Tok;
    const MINUS: Self::Tok;
    /// Eat an explicit product sign (`*`, `\cdot`), if there is one.
    fn eat_times(&mut self) -> bool;
    /// Can the current token begin a factor (a product written without a sign)?
    fn starts_factor(&self) -> bool;
    fn factor(&mut self) -> R<Id>;
    /// A number, a parenthesis, a quantity, a function, a Σ, a ∂ … (called one level deeper by [`Core::primary`]).
    fn primary_inner(&mut self) -> R<Id>;
}

/// The tokens of a dialect, read from text with errors at their position.
pub(crate) type Tokenize<T> = fn(&str, &Arc<str>, &str) -> R<Vec<(T, Range<usize>)>>;

/// Read a whole formula in a dialect: its tokens, a sum of terms, nothing after it (`trailing`: the hint).
pub(crate) fn read<T: PartialEq>(text: &str, file: &str, model: Option<&Model>, sigma: Act, tokenize: Tokenize<T>, trailing: &str) -> R<RecExpr<Expr>>
where
    for<'a> Core<'a, T>: Dialect<Tok = T>,
{
    let src: Arc<str> = Arc::from(text);
    let toks = tokenize(text, &src, file)?;
    let mut p = Core::new(toks, file, &src, model, sigma);
    p.expr()?;
    p.finish(trailing)
}

impl<T> Nesting for Core<'_, T> {
    fn depth(&mut self) -> &mut usize {
        &mut self.depth
    }
    fn here(&self, msg: &str, hint: &str) -> Diag {
        Diag::new(self.file, self.src, self.span(), msg).hint(hint)
    }
}

impl<'a, T> Core<'a, T> {
    pub fn new(toks: Vec<(T, Range<usize>)>, file: &'a str, src: &'a Arc<str>, model: Option<&'a Model>, sigma: Act) -> Self {
        Core { toks, pos: 0, out: RecExpr::default(), file, src, depth: 0, model, sigma }
    }
    pub fn peek(&self) -> Option<&T> {
        self.toks.get(self.pos).map(|t| &t.0)
    }
    pub fn peek_at(&self, k: usize) -> Option<&T> {
        self.toks.get(self.pos + k).map(|t| &t.0)
    }
    /// The current token's bytes (the end of the text after the last token).
    pub fn span(&self) -> Range<usize> {
        self.toks.get(self.pos).map(|t| t.1.clone()).unwrap_or(self.src.len()..self.src.len())
    }
    pub fn err<X>(&self, msg: impl Into<String>, hint: impl AsRef<str>) -> R<X> {
        Err(Diag::new(self.file, self.src, self.span(), msg).hint(hint.as_ref()))
    }
    pub fn sym(&mut self, s: &str) -> Id {
        self.out.add(Expr::Symbol(s.into()))
    }

    /// `name`, `name[i,…]` or `name⁽ᵗ⁾[i,…]`.
    pub fn quantity_node(&mut self, name: &str, time: Option<Id>, idx: &[String]) -> Id {
        if time.is_none() && idx.is_empty() {
            return self.sym(name);
        }
        let mut kids = vec![self.sym(name)];
        kids.extend(time);
        for i in idx {
            kids.push(self.sym(i));
        }
        self.out.add(if time.is_some() { Expr::Tx(kids.into()) } else { Expr::Ix(kids.into()) })
    }

    /// Σ_k body. The size k ranges over is taken from where k is used when the read ends ([`Core::finish`]);
    /// until then, and for an index used nowhere, it is the model's first size.
    pub fn sum_node(&mut self, k: Id, body: Id) -> Id {
        let dim = self.unused_index_size();
        let dim = self.out.add(Expr::Symbol(dim));
        self.out.add(Expr::Sum([k, dim, body]))
    }

    fn unused_index_size(&self) -> Symbol {
        unused_index_size(self.model)
    }

    /// σ(arg) or σ′(arg) for the function called `name` (σ itself: the model's activation).
    pub fn activation(&mut self, name: &str, prime: bool, arg: Id, known: &str) -> R<Id> {
        let name = if name == "sigma" || name == "σ" { self.sigma.name() } else { name };
        match crate::lang::activation(name, prime, arg) {
            Some(n) => Ok(self.out.add(n)),
            None => self.err(format!("unknown function `{name}`"), known),
        }
    }

    /// A bound index must not be a name of the model: Σ_L … ∂L/∂… would capture the loss.
    pub fn bound_index_ok(&self, k: &str, at: Range<usize>) -> R<()> {
        match self.model {
            Some(m) if m.captures(k.into()) => Err(Diag::new(self.file, self.src, at, format!("the summation index `{k}` is a name of the model (a sum over it would capture the name)"))
                .hint("use another letter for the index, such as k or a")),
            _ => Ok(()),
        }
    }

    /// A bound of a Σ over time, read from `start` up to here: whole numbers only.
    pub fn whole(&self, e: Id, start: usize) -> R<Id> {
        let end = self.toks.get(self.pos.saturating_sub(1)).map(|t| t.1.end).unwrap_or(start);
        super::whole_bound(&self.out, e).map_err(|v| {
            Diag::new(self.file, self.src, start..end.max(start), format!("the bound {v} of a Σ over time is not a whole number")).hint("time steps are whole numbers: write 1, T, T-1 …")
        })?;
        Ok(e)
    }

    /// The read expression: nothing may follow it; with a model each Σ gets the size its index is used with.
    pub fn finish(self, trailing: &str) -> R<RecExpr<Expr>> {
        if self.pos < self.toks.len() {
            return self.err("unexpected text after the formula", trailing);
        }
        Ok(match self.model {
            Some(m) => sizes_from_use(&self.out, m),
            None => self.out,
        })
    }
}

impl<T: PartialEq> Core<'_, T>
where
    Self: Dialect<Tok = T>,
{
    pub fn eat(&mut self, t: &T) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Every path of recursion passes here (a chain of ∂ prefixes does not pass through `expr`): one level deeper.
    pub fn primary(&mut self) -> R<Id> {
        self.deeper(Self::primary_inner)
    }

    /// A sum of terms: `a + b - c`.
    pub fn expr(&mut self) -> R<Id> {
        self.deeper(|p| {
            let mut acc = p.term()?;
            loop {
                if p.eat(&Self::PLUS) {
                    let t = p.term()?;
                    acc = p.out.add(Expr::Add([acc, t]));
                } else if p.eat(&Self::MINUS) {
                    let t = p.term()?;
                    acc = p.out.add(Expr::Sub([acc, t]));
                } else {
                    return Ok(acc);
                }
            }
        })
    }

    /// A product of factors, with or without a product sign. −x y is (−x) y, as the printer writes it;
    /// −(x y) keeps its parentheses.
    pub fn term(&mut self) -> R<Id> {
        let mut acc = if self.eat(&Self::MINUS) {
            let f = self.factor()?;
            self.out.add(Expr::Neg(f))
        } else {
            self.factor()?
        };
        loop {
            if !self.eat_times() && !self.starts_factor() {
                break;
            }
            let f = self.factor()?;
            acc = self.out.add(Expr::Mul([acc, f]));
        }
        Ok(acc)
    }
}

/// The size a model-less read gives every Σ (a placeholder: without a model no size is known).
pub const NO_MODEL_SIZE: &str = "N";

/// The size of a Σ whose index is used nowhere: the model's first size (without a model, [`NO_MODEL_SIZE`]).
fn unused_index_size(model: Option<&Model>) -> Symbol {
    model.and_then(Model::sum_dim).unwrap_or_else(|| Symbol::from(NO_MODEL_SIZE))
}

/// Give every Σ the size of the first declared quantity slot its index occupies.
pub(crate) fn sizes_from_use(e: &RecExpr<Expr>, m: &Model) -> RecExpr<Expr> {
    fn slot(e: &RecExpr<Expr>, id: Id, k: Symbol, m: &Model) -> Option<Symbol> {
        let (ch, first) = match &e[id] {
            Expr::Ix(ch) => (ch, 1),
            Expr::Tx(ch) => (ch, 2),
            n => return egg::Language::children(n).iter().find_map(|c| slot(e, *c, k, m)),
        };
        let Expr::Symbol(name) = &e[ch[0]] else { return None };
        let d = m.decls.get(name)?;
        ch[first..].iter().zip(&d.dims).find_map(|(c, dim)| matches!(&e[*c], Expr::Symbol(s) if *s == k).then_some(*dim))
    }
    let mut out = RecExpr::default();
    let mut map: Vec<Id> = vec![];
    for n in e.as_ref() {
        let new = match n {
            Expr::Sum([k, _, body]) => {
                let dim = match &e[*k] {
                    Expr::Symbol(k) => slot(e, *body, *k, m),
                    _ => None,
                };
                let kk = map[usize::from(*k)];
                let d = out.add(Expr::Symbol(dim.unwrap_or_else(|| unused_index_size(Some(m)))));
                Expr::Sum([kk, d, map[usize::from(*body)]])
            }
            n => egg::Language::map_children(n.clone(), |c| map[usize::from(c)]),
        };
        map.push(out.add(new));
    }
    out
}
