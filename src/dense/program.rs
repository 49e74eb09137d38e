//! The recursion compiled. Each definition of a quantity over time, each derived side equation (∂L/∂h⁽ᵏ⁾ = …)
//! and each body of a Σ over time in the closed form becomes a program once: its nodes in evaluation order, every
//! node's axes and sizes fixed, every walk (elementwise, contraction, reduction) planned, a buffer per node. A step
//! then runs the program over those buffers and writes its result into one array per quantity (all steps side by
//! side), with no allocation, hashing or tree walk per step. The operations, their order and their kernels are the
//! interpreter's ([`Dense::eval`]), so the numbers are the same to the last bit (tested by comparing outputs).
//! Anything a program cannot hold (a shape that is not fixed, a name it cannot place, a Σ over time inside a
//! recursion) makes the compilation fail, and the interpreter does the whole run instead.
use super::array::{Contract, D, Reduce, Zip};
use super::{Dense, sym};
use crate::error::{Error, Result};
use crate::lang::Expr;
use crate::model::DeclKind;
use crate::notation::Act;
use egg::{Id, RecExpr, Symbol};
use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

/// A time step written as `a·var + b` (var: the program's time variable; T is a number by now).
#[derive(Debug, Clone, Copy)]
struct Affine {
    a: i64,
    b: i64,
}

impl Affine {
    fn at(self, var: i64) -> Result<i64> {
        self.a.checked_mul(var).and_then(|x| x.checked_add(self.b)).ok_or_else(|| Error::Eval("a time step out of range".into()))
    }
}

/// Where a node's numbers are during a run.
#[derive(Debug, Clone, Copy)]
enum Val<'a> {
    Buf(usize),
    Param(&'a [f64]),
    /// A stored step: (a value or a gradient, the slot, the time step).
    Stored(Kind, usize, usize),
    Held(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Kind {
    Value,
    Grad,
}

#[derive(Debug)]
enum Op<'a> {
    /// Numbers fixed at compile time (a literal, T, δ), already in the node's buffer.
    Const,
    Time(Affine),
    /// A parameter or data: all of it, or (timed) the n entries of one step.
    Param { data: &'a [f64], n: usize, time: Option<Affine> },
    /// A quantity over time at a step.
    Value { slot: usize, name: Symbol, time: Affine },
    /// ∂L/∂name at a step: stored when a side equation gives it, else the interpreter's (the reference's).
    Grad { slot: Option<usize>, name: Symbol, time: Affine },
    /// A quantity without time (y, L), from the interpreter, computed once.
    Untimed(Symbol),
    Zip { a: usize, b: usize, f: Bin, plan: Zip },
    Map { a: usize, f: Un },
    Scale { a: usize, by: f64 },
    Pow { a: usize, p: usize },
    Act { a: usize, act: Act },
    DAct { a: usize, act: Act },
    Contract { a: usize, b: usize, plan: Contract },
    Reduce { a: usize, plan: Reduce },
}

/// An elementwise operation of two (a match per array, not a call per entry).
#[derive(Debug, Clone, Copy)]
enum Bin {
    Add,
    Sub,
    Mul,
    /// The second operand (the interpreter's permute: zeros zipped with the value).
    Second,
}

/// An elementwise operation of one.
#[derive(Debug, Clone, Copy)]
enum Un {
    Neg,
    Exp,
    Log,
    Recip,
}

/// One compiled expression.
#[derive(Debug)]
pub(super) struct Program<'a> {
    ops: Vec<Op<'a>>,
    bufs: Vec<Vec<f64>>,
    vals: Vec<Val<'a>>,
    held: Vec<Option<Rc<D>>>,
    /// The result's axes and sizes.
    pub(super) idx: Vec<Symbol>,
    pub(super) dims: Vec<usize>,
}

/// Every step of every quantity over time, and of every ∂L/∂q that a side equation gives, side by side.
#[derive(Debug, Default)]
pub(super) struct Slots {
    pub(super) names: Vec<Symbol>,
    size: Vec<usize>,
    data: Vec<Vec<f64>>,
    done: Vec<Vec<bool>>,
}

impl Slots {
    pub(super) fn add(&mut self, name: Symbol, size: usize, steps: usize) -> Result<()> {
        let total = size.checked_mul(steps + 2).ok_or_else(|| Error::Eval("too many numbers".into()))?;
        self.names.push(name);
        self.size.push(size);
        self.data.push(vec![0.0; total]);
        self.done.push(vec![false; steps + 2]);
        Ok(())
    }
    pub(super) fn slot(&self, name: Symbol) -> Option<usize> {
        self.names.iter().position(|n| *n == name)
    }
    pub(super) fn get(&self, slot: usize, t: usize) -> Option<&[f64]> {
        let n = self.size[slot];
        (*self.done[slot].get(t)?).then(|| &self.data[slot][t * n..(t + 1) * n])
    }
    /// Steps from … to (each stored), side by side.
    fn range(&self, slot: usize, from: usize, to: usize) -> Option<&[f64]> {
        let n = self.size[slot];
        let done = self.done[slot].get(from..=to)?;
        done.iter().all(|d| *d).then(|| &self.data[slot][from * n..(to + 1) * n])
    }
    pub(super) fn put(&mut self, slot: usize, t: usize, v: &[f64]) -> Result<()> {
        let n = self.size[slot];
        if v.len() != n || t >= self.done[slot].len() {
            return Err(Error::Eval("a step's numbers do not fit".into()));
        }
        self.data[slot][t * n..(t + 1) * n].copy_from_slice(v);
        self.done[slot][t] = true;
        Ok(())
    }
}

/// The compiled run: the stores, the programs of the definitions and side equations, σ(x) remembered for σ′(x).
#[derive(Debug, Default)]
pub(super) struct Compiled<'a> {
    pub(super) values: Slots,
    pub(super) grads: Slots,
    /// Per model definition (None: not over time, or running).
    pub(super) defs: Vec<Option<Program<'a>>>,
    /// Per side equation (None: running).
    pub(super) sides: Vec<Option<Program<'a>>>,
    /// σ(x) by the stored x it was computed from, for an activation whose σ′ has a form in σ's value (as the
    /// interpreter's `act_values`: the same numbers reused, so the same bits).
    pub(super) memo: HashMap<MemoKey, Memo>,
    /// How deep runs have called for steps not yet computed (bounded: a deeper need is left to the interpreter).
    pub(super) depth: usize,
}

/// σ, and the stored x it was computed from.
pub(super) type MemoKey = (Act, Kind, usize, usize);

#[derive(Debug)]
pub(super) enum Memo {
    /// σ(x) is the stored result of a program (the definition s⁽ᵗ⁾ = σ(h⁽ᵗ⁾)).
    Stored(Kind, usize, usize),
    Owned(Vec<f64>),
}

fn as_i64(v: f64) -> Option<i64> {
    (v.fract() == 0.0 && v.abs() < 1e15).then_some(v as i64)
}

/// The slice a value names.
fn slice<'x>(v: Val<'x>, bufs: &'x [Vec<f64>], held: &'x [Option<Rc<D>>], c: &'x Compiled) -> &'x [f64] {
    match v {
        Val::Buf(i) => &bufs[i],
        Val::Param(s) => s,
        Val::Stored(Kind::Value, q, t) => c.values.get(q, t).unwrap_or(&[]),
        Val::Stored(Kind::Grad, q, t) => c.grads.get(q, t).unwrap_or(&[]),
        Val::Held(i) => held[i].as_ref().map(|d| d.data.as_slice()).unwrap_or(&[]),
    }
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

    fn zip(&mut self, a: usize, b: usize, f: Bin) -> Option<usize> {
        let ((ai, ad), (bi, bd)) = (&self.shapes[a], &self.shapes[b]);
        // the sizes must agree wherever the axes do (the interpreter would read past an array otherwise)
        if ai.iter().zip(ad).any(|(s, n)| bi.iter().position(|t| t == s).is_some_and(|p| bd[p] != *n)) || (ai == bi && ad != bd) {
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
                        // the other axes the two share must have one size
                        if xi.iter().zip(xd).any(|(s, m)| *s != k && yi.iter().position(|t| t == s).is_some_and(|p| yd[p] != *m)) {
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
        Some(Program { ops, bufs: b.consts, vals: vec![Val::Buf(0); n], held: vec![None; n], idx, dims })
    }

    /// Run `p` at time `var`: the root's numbers are then `p`'s last value ([`Program::result`]). When the last
    /// node is σ of a stored x, its key is returned: the caller remembers where it keeps the result.
    pub(super) fn run(&mut self, p: &mut Program<'a>, var: i64) -> Result<Option<MemoKey>> {
        let mut last = None;
        for i in 0..p.ops.len() {
            let v = match &p.ops[i] {
                Op::Const => Val::Buf(i),
                Op::Time(a) => {
                    let t = a.at(var)? as f64;
                    p.bufs[i].clear();
                    p.bufs[i].push(t);
                    Val::Buf(i)
                }
                Op::Param { data, n, time } => match time {
                    None => Val::Param(data),
                    Some(a) => {
                        let t = a.at(var)?;
                        if t < 1 || t > self.sizes.steps as i64 {
                            return Err(Error::Eval(format!("a name has no time step {t}")));
                        }
                        Val::Param(&data[(t as usize - 1) * n..t as usize * n])
                    }
                },
                Op::Value { slot, name, time } => {
                    let (slot, name, t) = (*slot, *name, time.at(var)?);
                    self.ensure_value(slot, name, t)?;
                    Val::Stored(Kind::Value, slot, t as usize)
                }
                Op::Grad { slot, name, time } => {
                    let (slot, name, t) = (*slot, *name, time.at(var)?);
                    match slot {
                        Some(q) if self.ensure_grad(q, name, t)? => Val::Stored(Kind::Grad, q, t as usize),
                        _ => {
                            p.held[i] = Some(self.grad(name, t)?.1);
                            Val::Held(i)
                        }
                    }
                }
                Op::Untimed(name) => {
                    if p.held[i].is_none() {
                        p.held[i] = Some(self.quantity(*name, super::NO_TIME)?);
                    }
                    Val::Held(i)
                }
                op => {
                    let mut out = std::mem::take(&mut p.bufs[i]);
                    let c = self.compiled.as_ref().ok_or_else(|| Error::Eval("no compiled run".into()))?;
                    let get = |j: usize| slice(p.vals[j], &p.bufs, &p.held, c);
                    let memo = match op {
                        Op::Zip { a, b, f, plan } => {
                            let (a, b) = (get(*a), get(*b));
                            match f {
                                Bin::Add => plan.run(a, b, &mut out, |x, y| x + y),
                                Bin::Sub => plan.run(a, b, &mut out, |x, y| x - y),
                                Bin::Mul => plan.run(a, b, &mut out, |x, y| x * y),
                                Bin::Second => plan.run(a, b, &mut out, |_, y| y),
                            }
                            None
                        }
                        Op::Map { a, f } => match f {
                            Un::Neg => map(&mut out, get(*a), |x| -x),
                            Un::Exp => map(&mut out, get(*a), f64::exp),
                            Un::Log => map(&mut out, get(*a), f64::ln),
                            Un::Recip => map(&mut out, get(*a), |x| 1.0 / x),
                        },
                        Op::Scale { a, by } => map(&mut out, get(*a), |x| x * by),
                        Op::Pow { a, p: e } => {
                            let e = get(*e).first().copied().unwrap_or(f64::NAN);
                            map(&mut out, get(*a), |x| x.powf(e))
                        }
                        Op::Contract { a, b, plan } => {
                            plan.run(get(*a), get(*b), &mut out);
                            None
                        }
                        Op::Reduce { a, plan } => {
                            plan.run(get(*a), &mut out);
                            None
                        }
                        Op::Act { a, act } => {
                            match act.row().f_many {
                                Some(many) => many(get(*a), &mut out),
                                None => _ = map(&mut out, get(*a), act.row().f),
                            }
                            match (act.row().df_of_value, p.vals[*a]) {
                                (Some(_), Val::Stored(kind, q, t)) => Some((*act, kind, q, t)),
                                _ => None,
                            }
                        }
                        Op::DAct { a, act } => {
                            let x = get(*a);
                            let hit = match (act.row().df_of_value, p.vals[*a]) {
                                (Some(dv), Val::Stored(kind, q, t)) => c.memo.get(&(*act, kind, q, t)).map(|m| (dv, m)),
                                _ => None,
                            };
                            match hit {
                                Some((dv, Memo::Stored(kind, q, t))) => map(&mut out, slice(Val::Stored(*kind, *q, *t), &[], &[], c), dv),
                                Some((dv, Memo::Owned(y))) => map(&mut out, y, dv),
                                None => map(&mut out, x, act.row().df),
                            };
                            None
                        }
                        _ => None,
                    };
                    p.bufs[i] = out;
                    if let Some(key) = memo {
                        // the σ values stay where the interpreter would keep them: the program's result when the
                        // activation is its last node (kept by the caller), else a copy
                        if i + 1 == p.ops.len() {
                            last = Some(key);
                        } else if let Some(c) = self.compiled.as_mut() {
                            c.memo.insert(key, Memo::Owned(p.bufs[i].clone()));
                        }
                    }
                    Val::Buf(i)
                }
            };
            p.vals[i] = v;
        }
        Ok(last)
    }
}

impl Program<'_> {
    /// The result of the last run when it is in the program's own buffer.
    pub(super) fn own_result(&self) -> Option<&[f64]> {
        match self.vals.last() {
            Some(Val::Buf(i)) => Some(&self.bufs[*i]),
            _ => None,
        }
    }

    /// A program that is one load at k + b (a quantity or gradient over time, or data): b.
    pub(super) fn rows_at(&self) -> Option<i64> {
        match self.ops.as_slice() {
            [Op::Value { time, .. } | Op::Grad { slot: Some(_), time, .. } | Op::Param { time: Some(time), .. }] if time.a == 1 => Some(time.b),
            _ => None,
        }
    }

    /// Such a program's numbers for k = lo … hi, one step after another, where they lie (None if a step is
    /// not there).
    pub(super) fn rows<'x>(&'x self, c: &'x Compiled, steps: usize, (lo, hi): (i64, i64)) -> Option<&'x [f64]> {
        let b = self.rows_at()?;
        let (from, to) = (usize::try_from(lo.checked_add(b)?).ok()?, usize::try_from(hi.checked_add(b)?).ok()?);
        match self.ops.first()? {
            Op::Value { slot, .. } => c.values.range(*slot, from, to),
            Op::Grad { slot: Some(slot), .. } => c.grads.range(*slot, from, to),
            Op::Param { data, n, .. } if from >= 1 && to <= steps => data.get((from - 1) * n..to * n),
            _ => None,
        }
    }

    /// The result of the last run (empty before one).
    pub(super) fn result<'x>(&'x self, c: &'x Compiled) -> &'x [f64] {
        match self.vals.last() {
            Some(v) => slice(*v, &self.bufs, &self.held, c),
            None => &[],
        }
    }
}

fn map(out: &mut Vec<f64>, x: &[f64], f: impl Fn(f64) -> f64) -> Option<(Act, Kind, usize, usize)> {
    out.clear();
    out.extend(x.iter().map(|v| f(*v)));
    None
}
