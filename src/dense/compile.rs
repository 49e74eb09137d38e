//! Compiling an expression into a [`Program`]: the nodes in evaluation order, each with its axes and sizes, the
//! walk of each operation planned from them ([`Zip`], [`Contract`], [`Reduce`]), exactly the operations
//! [`Dense::eval`] would do at every step. None for anything a program cannot hold (the interpreter then runs).
use super::array::{Contract, Reduce, Zip};
use super::program::{Affine, Bin, Op, Program, Un, Val};
use super::{Dense, sym};
use crate::lang::Expr;
use crate::model::DeclKind;
use egg::{Id, RecExpr, Symbol};
use rustc_hash::FxHashMap as HashMap;

fn as_i64(v: f64) -> Option<i64> {
    (v.fract() == 0.0 && v.abs() < 1e15).then_some(v as i64)
}

/// Compiling one expression: the nodes so far, with their axes.
struct Builder<'a, 'd> {
    dense: &'d Dense<'a>,
    e: &'d RecExpr<Expr>,
    var: Option<Symbol>,
    dims: &'d HashMap<Symbol, usize>,
    ops: Vec<Op<'a>>,
    shapes: Vec<(Vec<Symbol>, Vec<usize>)>,
    consts: Vec<Vec<f64>>,
    done: HashMap<Id, usize>,
}

impl<'a> Builder<'a, '_> {
    fn push(&mut self, op: Op<'a>, idx: Vec<Symbol>, dims: Vec<usize>, c: Vec<f64>) -> usize {
        self.ops.push(op);
        self.shapes.push((idx, dims));
        self.consts.push(c);
        self.ops.len() - 1
    }

    fn time(&self, id: Id) -> Option<Affine> {
        Some(match &self.e[id] {
            Expr::Num(v) => Affine { a: 0, b: as_i64(v.into_inner())? },
            Expr::Symbol(s) if Some(*s) == self.var => Affine { a: 1, b: 0 },
            Expr::Symbol(s) => Affine { a: 0, b: i64::try_from(self.dense.model.steps_value(*s, self.dense.sizes.steps)?).ok()? },
            Expr::Add([x, y]) => {
                let (x, y) = (self.time(*x)?, self.time(*y)?);
                Affine { a: x.a.checked_add(y.a)?, b: x.b.checked_add(y.b)? }
            }
            Expr::Sub([x, y]) => {
                let (x, y) = (self.time(*x)?, self.time(*y)?);
                Affine { a: x.a.checked_sub(y.a)?, b: x.b.checked_sub(y.b)? }
            }
            _ => return None,
        })
    }

    /// The index names of a name's children: distinct symbols, one per declared axis.
    fn axes(&self, kids: &[Id], name: Symbol) -> Option<(Vec<Symbol>, Vec<usize>)> {
        let decl = self.dense.model.decls.get(&name)?;
        let to: Vec<Symbol> = kids.iter().map(|c| sym(self.e, *c)).collect::<Option<_>>()?;
        if to.len() != decl.dims.len() || to.iter().enumerate().any(|(i, s)| to[..i].contains(s)) {
            return None;
        }
        Some((to, decl.dims.iter().map(|d| self.dense.dim_of(*d)).collect()))
    }

    /// Nodes `a` and `b` give every axis they share one size (a kernel would read past an array otherwise).
    fn sizes_agree(&self, a: usize, b: usize) -> bool {
        let ((ai, ad), (bi, bd)) = (&self.shapes[a], &self.shapes[b]);
        ai.iter().zip(ad).all(|(s, n)| bi.iter().position(|t| t == s).is_none_or(|p| bd[p] == *n))
    }

    fn zip(&mut self, a: usize, b: usize, f: Bin) -> Option<usize> {
        let ((ai, ad), (bi, bd)) = (&self.shapes[a], &self.shapes[b]);
        if !self.sizes_agree(a, b) || (ai == bi && ad != bd) {
            return None;
        }
        let (idx, dims, plan) = Zip::plan((ai, ad), (bi, bd));
        Some(self.push(Op::Zip { a, b, f, plan }, idx, dims, vec![]))
    }

    fn unary(&mut self, a: usize, op: Op<'a>) -> usize {
        let (idx, dims) = self.shapes[a].clone();
        self.push(op, idx, dims, vec![])
    }

    fn node(&mut self, id: Id, depth: usize) -> Option<usize> {
        if let Some(i) = self.done.get(&id) {
            return Some(*i);
        }
        if depth > 200 {
            return None;
        }
        let d = depth + 1;
        let at = match &self.e[id] {
            Expr::Num(v) => self.push(Op::Const, vec![], vec![], vec![v.into_inner()]),
            Expr::Symbol(s) if Some(*s) == self.var => self.push(Op::Time(Affine { a: 1, b: 0 }), vec![], vec![], vec![0.0]),
            Expr::Symbol(s) => match self.dense.model.steps_value(*s, self.dense.sizes.steps) {
                Some(t) => self.push(Op::Const, vec![], vec![], vec![t as f64]),
                None => {
                    let decl = self.dense.model.decls.get(s)?;
                    if decl.kind != DeclKind::Quantity || decl.timed || !decl.dims.is_empty() {
                        return None;
                    }
                    self.push(Op::Untimed(*s), vec![], vec![], vec![])
                }
            },
            Expr::Add([a, b]) => (self.node(*a, d)?, self.node(*b, d)?).pipe(|(a, b)| self.zip(a, b, Bin::Add))?,
            Expr::Sub([a, b]) => (self.node(*a, d)?, self.node(*b, d)?).pipe(|(a, b)| self.zip(a, b, Bin::Sub))?,
            Expr::Mul([a, b]) => (self.node(*a, d)?, self.node(*b, d)?).pipe(|(a, b)| self.zip(a, b, Bin::Mul))?,
            Expr::Neg(a) => self.node(*a, d)?.pipe(|a| self.unary(a, Op::Map { a, f: Un::Neg })),
            Expr::Exp(a) => self.node(*a, d)?.pipe(|a| self.unary(a, Op::Map { a, f: Un::Exp })),
            Expr::Log(a) => self.node(*a, d)?.pipe(|a| self.unary(a, Op::Map { a, f: Un::Log })),
            Expr::Recip(a) => self.node(*a, d)?.pipe(|a| self.unary(a, Op::Map { a, f: Un::Recip })),
            Expr::Pow([a, p]) => {
                let p = self.node(*p, d)?;
                if !self.shapes[p].0.is_empty() {
                    return None;
                }
                let a = self.node(*a, d)?;
                self.unary(a, Op::Pow { a, p })
            }
            Expr::Act(f, a) => self.node(*a, d)?.pipe(|a| self.unary(a, Op::Act { a, act: *f })),
            Expr::DAct(f, a) => self.node(*a, d)?.pipe(|a| self.unary(a, Op::DAct { a, act: *f })),
            Expr::Sum([k, dd, body]) => {
                let k = sym(self.e, *k)?;
                let n = sym(self.e, *dd).map(|x| self.dense.dim_of(x)).unwrap_or(0);
                let v = if let Expr::Mul([x, y]) = &self.e[*body] {
                    let (x, y) = (self.node(*x, d)?, self.node(*y, d)?);
                    let ((xi, xd), (yi, yd)) = (&self.shapes[x], &self.shapes[y]);
                    if let Some((idx, dims, plan)) = Contract::plan((xi, xd), (yi, yd), k) {
                        // the other axes the two share must have one size too (the plan checked k's)
                        if !self.sizes_agree(x, y) {
                            return None;
                        }
                        let at = self.push(Op::Contract { a: x, b: y, plan }, idx, dims, vec![]);
                        self.done.insert(id, at);
                        return Some(at);
                    }
                    self.zip(x, y, Bin::Mul)?
                } else {
                    self.node(*body, d)?
                };
                let (vi, vd) = self.shapes[v].clone();
                match vi.iter().position(|s| *s == k) {
                    Some(p) => {
                        let (mut idx, mut dims) = (vi, vd);
                        let plan = Reduce::plan(&dims, p);
                        idx.remove(p);
                        dims.remove(p);
                        self.push(Op::Reduce { a: v, plan }, idx, dims, vec![])
                    }
                    None => self.unary(v, Op::Scale { a: v, by: n as f64 }),
                }
            }
            Expr::Delta([a, b]) => {
                let (a, b) = (sym(self.e, *a)?, sym(self.e, *b)?);
                let n = self.dims.get(&a).or(self.dims.get(&b)).copied().unwrap_or(0);
                let mut data = vec![0.0; n * n];
                (0..n).for_each(|i| data[i * n + i] = 1.0);
                self.push(Op::Const, vec![a, b], vec![n, n], data)
            }
            Expr::Ix(ch) | Expr::Tx(ch) => {
                let name = sym(self.e, ch[0])?;
                let timed = matches!(&self.e[id], Expr::Tx(_));
                let (time, first) = if timed { (Some(self.time(ch[1])?), 2) } else { (None, 1) };
                let (to, dims) = self.axes(&ch[first..], name)?;
                let decl = self.dense.model.decls.get(&name)?;
                if decl.timed != timed {
                    return None;
                }
                let op = if decl.kind == DeclKind::Quantity {
                    match time {
                        Some(time) => Op::Value { slot: usize::MAX, name, time },
                        None => Op::Untimed(name),
                    }
                } else {
                    let data = self.dense.params.values.get(&name)?.data.as_slice();
                    let n: usize = dims.iter().product();
                    if data.len() != if timed { n * self.dense.sizes.steps } else { n } {
                        return None;
                    }
                    Op::Param { data, n, time }
                };
                self.push(op, to, dims, vec![])
            }
            Expr::D([l, q]) => {
                let (Expr::Symbol(_), Expr::Tx(ch)) = (&self.e[*l], &self.e[*q]) else { return None };
                let name = sym(self.e, ch[0])?;
                let time = self.time(ch[1])?;
                let (to, dims) = self.axes(&ch[2..], name)?;
                self.push(Op::Grad { slot: None, name, time }, to, dims, vec![])
            }
            Expr::TSum(_) => return None,
        };
        self.done.insert(id, at);
        Some(at)
    }
}

/// `x.pipe(f)` = `f(x)`: keeps the compile cases one line each.
trait Pipe: Sized {
    fn pipe<R>(self, f: impl FnOnce(Self) -> R) -> R {
        f(self)
    }
}
impl<T> Pipe for T {}

impl<'a> Dense<'a> {
    /// `e` compiled to run at its time variable `var`, its result over the axes `order` (all of them, each once);
    /// None when a program cannot hold it.
    pub(super) fn compile(&self, e: &RecExpr<Expr>, var: Option<Symbol>, order: Option<&[Symbol]>, dims: &HashMap<Symbol, usize>) -> Option<Program<'a>> {
        let mut b = Builder { dense: self, e, var, dims, ops: vec![], shapes: vec![], consts: vec![], done: HashMap::default() };
        let mut root = b.node(e.root(), 0)?;
        if let Some(order) = order {
            let (ri, _) = &b.shapes[root];
            if ri.as_slice() != order {
                if ri.iter().any(|s| !order.contains(s)) || ri.len() != order.len() {
                    return None;
                }
                // the interpreter's permute: zeros over `order`, zipped with the result, keeping the result
                let od: Vec<usize> = order.iter().map(|s| ri.iter().position(|t| t == s).map(|p| b.shapes[root].1[p]).unwrap_or(1)).collect();
                let zeros = b.push(Op::Const, order.to_vec(), od.clone(), vec![0.0; od.iter().product()]);
                root = b.zip(zeros, root, Bin::Second)?;
            }
        }
        let n = b.ops.len();
        let (idx, dims) = b.shapes[root].clone();
        if root != n - 1 {
            return None;
        }
        let mut ops = b.ops;
        for op in &mut ops {
            match op {
                Op::Value { slot, name, .. } => *slot = self.compiled.as_ref().and_then(|c| c.values.slot(*name))?,
                Op::Grad { slot, name, .. } => *slot = self.compiled.as_ref().and_then(|c| c.grads.slot(*name)),
                _ => {}
            }
        }
        let lens = b.shapes.iter().map(|(_, d)| d.iter().product()).collect();
        Some(Program { ops, bufs: b.consts, vals: vec![Val::Buf(0); n], held: vec![None; n], lens, idx, dims })
    }
}
