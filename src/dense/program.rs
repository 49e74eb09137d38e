//! The recursion compiled. Each definition of a quantity over time, each derived side equation (∂L/∂h⁽ᵏ⁾ = …)
//! and each body of a Σ over time in the closed form becomes a program once: its nodes in evaluation order, every
//! node's axes and sizes fixed, every walk (elementwise, contraction, reduction) planned, a buffer per node. A step
//! then runs the program over those buffers and writes its result into one array per quantity (all steps side by
//! side), with no allocation, hashing or tree walk per step. The operations, their order and their kernels are the
//! interpreter's ([`Dense::eval`]), so the numbers are the same to the last bit (tested by comparing outputs).
//! Anything a program cannot hold (a shape that is not fixed, a name it cannot place, a Σ over time inside a
//! recursion) makes the compilation fail ([`super::compile`]), and the interpreter does the whole run instead.
use super::array::{Contract, D, Reduce, Zip};
use super::Dense;
use crate::error::{Error, Result};
use crate::notation::Act;
use egg::Symbol;
use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

/// A time step written as `a·var + b` (var: the program's time variable; T is a number by now).
#[derive(Debug, Clone, Copy)]
pub(super) struct Affine {
    pub(super) a: i64,
    pub(super) b: i64,
}

impl Affine {
    pub(super) fn at(self, var: i64) -> Result<i64> {
        self.a.checked_mul(var).and_then(|x| x.checked_add(self.b)).ok_or_else(|| Error::Eval("a time step out of range".into()))
    }
}

/// Where a node's numbers are during a run.
#[derive(Debug, Clone, Copy)]
pub(super) enum Val<'a> {
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
pub(super) enum Op<'a> {
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
pub(super) enum Bin {
    Add,
    Sub,
    Mul,
    /// The second operand (the interpreter's permute: zeros zipped with the value).
    Second,
}

/// An elementwise operation of one.
#[derive(Debug, Clone, Copy)]
pub(super) enum Un {
    Neg,
    Exp,
    Log,
    Recip,
}

/// One compiled expression.
#[derive(Debug)]
pub(super) struct Program<'a> {
    pub(super) ops: Vec<Op<'a>>,
    pub(super) bufs: Vec<Vec<f64>>,
    pub(super) vals: Vec<Val<'a>>,
    pub(super) held: Vec<Option<Rc<D>>>,
    /// Each node's number of entries (its sizes multiplied).
    pub(super) lens: Vec<usize>,
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

impl Compiled<'_> {
    /// The store of values or of gradients.
    pub(super) fn slots(&self, kind: Kind) -> &Slots {
        match kind {
            Kind::Value => &self.values,
            Kind::Grad => &self.grads,
        }
    }
    pub(super) fn slots_mut(&mut self, kind: Kind) -> &mut Slots {
        match kind {
            Kind::Value => &mut self.values,
            Kind::Grad => &mut self.grads,
        }
    }
}

/// σ, and the stored x it was computed from.
pub(super) type MemoKey = (Act, Kind, usize, usize);

#[derive(Debug)]
pub(super) enum Memo {
    /// σ(x) is the stored result of a program (the definition s⁽ᵗ⁾ = σ(h⁽ᵗ⁾)).
    Stored(Kind, usize, usize),
    Owned(Vec<f64>),
}

/// The slice a value names.
fn slice<'x>(v: Val<'x>, bufs: &'x [Vec<f64>], held: &'x [Option<Rc<D>>], c: &'x Compiled) -> &'x [f64] {
    match v {
        Val::Buf(i) => &bufs[i],
        Val::Param(s) => s,
        Val::Stored(kind, q, t) => c.slots(kind).get(q, t).unwrap_or(&[]),
        Val::Held(i) => held[i].as_ref().map(|d| d.data.as_slice()).unwrap_or(&[]),
    }
}

impl<'a> Dense<'a> {
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
            // a value from the interpreter must have the size the program was compiled for (the kernels index by it)
            if let Val::Held(h) = v
                && p.held[h].as_ref().map(|d| d.data.len()) != Some(p.lens[i])
            {
                return Err(Error::Eval("a value of another size than compiled".into()));
            }
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
