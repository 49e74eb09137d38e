//! Fast numbers for a derived result at any size: every sub-expression is evaluated to a dense array over its free
//! indices at once (products broadcast, Σ reduces an axis, Σ over time loops), the model's quantities come from
//! its definitions one time step at a time, and ∂L/∂h⁽ᵏ⁾, ∂L/∂s⁽ᵏ⁾ come from the side equations the rules derived
//! (the backward recursion). This evaluates what the derivation wrote, never a hand-written BPTT; the entry-by-
//! entry evaluator in `eval` stays the reference and a test compares the two.
use crate::derive::{Derivation, Where};
use crate::error::{Error, Result};
use crate::eval::Tensor;
use crate::lang::Expr;
use crate::model::{DeclKind, Model};
use crate::params::{Params, Sizes};
use egg::{Id, RecExpr, Symbol};
use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

mod array;
mod compile;
mod program;
mod steps;
use array::D;

type Key = (Symbol, i64);

/// A side equation the rules derived: ∂L/∂NAME⁽time⁾[idx] = rhs, for a fixed step or a range of k.
struct Side {
    name: Symbol,
    time: std::result::Result<i64, (Symbol, i64, i64)>,
    idx: Vec<Symbol>,
    rhs: Rc<RecExpr<Expr>>,
    /// The size of each index of `rhs` (computed once: it is evaluated at every step).
    dims: Rc<HashMap<Symbol, usize>>,
}

/// The fast evaluator for one model, sizes and parameter values.
pub struct Dense<'a> {
    model: &'a Model,
    sizes: &'a Sizes,
    params: &'a Params,
    sides: Vec<Side>,
    quantities: HashMap<Key, Rc<D>>,
    grads: HashMap<Key, Rc<D>>,
    /// For a ∂L/∂… that no side equation gives (a plan that stops earlier): the reference evaluator's exact value.
    reference: Option<crate::eval::Numeric<'a>>,
    /// The index sizes of each definition's right-hand side, by its position in the model (computed once).
    def_dims: Vec<Option<Rc<HashMap<Symbol, usize>>>>,
    /// σ(x) by the array x it was computed from (kept alive here, so its address names it) for an activation
    /// whose σ′ has a form in σ's value: σ′(x) then reuses σ(x) (the same numbers, one σ fewer per entry).
    act_values: HashMap<(usize, crate::notation::Act), ActValue>,
    /// The recursions compiled, with every step's numbers (None: not compiled, or the interpreter runs).
    compiled: Option<program::Compiled<'a>>,
    /// Never compile (the interpreter alone: a test compares the two).
    interpret: bool,
}

/// An activation's input array (kept alive: its address is the key) and σ of it.
type ActValue = (Rc<Vec<f64>>, Rc<Vec<f64>>);

const NO_TIME: i64 = i64::MIN;

/// The placeholder axes `§0`, `§1`, … of a value fetched by name (interned once per process: a data value such as
/// x⁽ᵗ⁾ is fetched at every step, and interning a symbol takes a lock).
fn placeholder_axes(rank: usize) -> Vec<Symbol> {
    static AXES: std::sync::LazyLock<Vec<Symbol>> = std::sync::LazyLock::new(|| (0..8).map(|k| Symbol::from(format!("§{k}"))).collect());
    (0..rank).map(|k| AXES.get(k).copied().unwrap_or_else(|| Symbol::from(format!("§{k}")))).collect()
}

fn sym(e: &RecExpr<Expr>, id: Id) -> Option<Symbol> {
    match &e[id] {
        Expr::Symbol(s) => Some(*s),
        _ => None,
    }
}

impl<'a> Dense<'a> {
    /// With derived side equations (the ∂L/∂h⁽ᵏ⁾ recursion).
    pub fn new(model: &'a Model, sizes: &'a Sizes, params: &'a Params, wheres: &[Where]) -> Dense<'a> {
        let mut sides = vec![];
        for w in wheres {
            let Expr::D([l, q]) = &w.lhs[w.lhs.root()] else { continue };
            if sym(&w.lhs, *l).is_none() {
                continue;
            }
            let Expr::Tx(ch) = &w.lhs[*q] else { continue };
            let Some(name) = sym(&w.lhs, ch[0]) else { continue };
            let time = match (&w.lhs[ch[1]], w.k_range) {
                (Expr::Num(v), _) => Ok(v.into_inner() as i64),
                (Expr::Symbol(k), Some((kk, lo, hi))) if *k == kk => Err((kk, lo, hi)),
                _ => continue,
            };
            let idx: Option<Vec<Symbol>> = ch[2..].iter().map(|c| sym(&w.lhs, *c)).collect();
            let Some(idx) = idx else { continue };
            sides.push(Side { name, time, idx, rhs: Rc::new(w.rhs.clone()), dims: Rc::default() });
        }
        let mut d = Dense { model, sizes, params, sides, quantities: HashMap::default(), grads: HashMap::default(), reference: None, def_dims: vec![None; model.defs.len()], act_values: HashMap::default(), compiled: None, interpret: false };
        for i in 0..d.sides.len() {
            d.sides[i].dims = Rc::new(d.index_dims(&d.sides[i].rhs));
        }
        d
    }

    /// Evaluate `e` over the axes `order` (the gradient's indices).
    pub fn tensor(&mut self, e: &RecExpr<Expr>, order: &[Symbol]) -> Result<Tensor> {
        self.warm();
        let dims = self.index_dims(e);
        let mut env = vec![];
        let v = self.eval(e, e.root(), &mut env, &dims)?.permute(order)?;
        Ok(Tensor { indices: v.idx, dims: v.dims, data: Rc::try_unwrap(v.data).unwrap_or_else(|d| (*d).clone()) })
    }

    /// Fill the caches in the order the recursions run (states forward in time, gradients backward), so that no
    /// evaluation recurses more than one step deep, whatever T is.
    fn warm(&mut self) {
        if !self.interpret && self.warm_compiled() {
            return;
        }
        let steps = self.sizes.steps as i64;
        let timed = self.timed_quantities();
        for t in 0..=steps {
            for q in &timed {
                let _ = self.quantity(*q, t);
            }
        }
        for (t, q) in self.covered() {
            let _ = self.grad(q, t);
        }
    }

    /// The model's quantities over time, in declaration order (the order the forward pass computes them in).
    fn timed_quantities(&self) -> Vec<Symbol> {
        self.model.decls.iter().filter(|(_, d)| d.kind == DeclKind::Quantity && d.timed).map(|(n, _)| *n).collect()
    }

    fn dim_of(&self, d: Symbol) -> usize {
        self.sizes.dims.get(&d).copied().unwrap_or(0)
    }

    /// The size of each index symbol, from where it is used.
    fn index_dims(&self, e: &RecExpr<Expr>) -> HashMap<Symbol, usize> {
        let mut out = HashMap::default();
        for n in e.as_ref() {
            if let Expr::Sum([k, d, _]) = n
                && let (Some(k), Some(d)) = (sym(e, *k), sym(e, *d))
            {
                out.entry(k).or_insert(self.dim_of(d));
            }
        }
        for u in self.model.index_uses(e) {
            out.insert(u.index, self.dim_of(u.dim));
        }
        out
    }

    fn time(&mut self, e: &RecExpr<Expr>, id: Id, env: &mut Vec<(Symbol, i64)>, dims: &HashMap<Symbol, usize>) -> Result<i64> {
        if let Some(t) = self.whole_time(e, id, env) {
            return Ok(t);
        }
        let v = self.eval(e, id, env, dims)?;
        match v.data.as_slice() {
            [t] if v.idx.is_empty() && t.fract() == 0.0 => Ok(*t as i64),
            _ => Err(Error::Eval("a time step must be a whole number".into())),
        }
    }

    /// The value of a time symbol: a Σ-over-time index bound in `env` (the innermost), or T itself.
    fn time_symbol(&self, s: Symbol, env: &[(Symbol, i64)]) -> Option<i64> {
        match env.iter().rev().find(|(k, _)| *k == s) {
            Some((_, v)) => Some(*v),
            None => self.model.steps_value(s, self.sizes.steps).and_then(|t| i64::try_from(t).ok()),
        }
    }

    /// A time written with whole numbers, time indices, T, + and − (every time step the rules write) as a number
    /// without arrays; None for anything else (then [`Dense::eval`] decides, as before).
    fn whole_time(&self, e: &RecExpr<Expr>, id: Id, env: &[(Symbol, i64)]) -> Option<i64> {
        match &e[id] {
            Expr::Num(v) => {
                let v = v.into_inner();
                (v.fract() == 0.0 && v.abs() < 1e15).then_some(v as i64)
            }
            Expr::Symbol(s) => self.time_symbol(*s, env),
            Expr::Add([a, b]) => self.whole_time(e, *a, env)?.checked_add(self.whole_time(e, *b, env)?),
            Expr::Sub([a, b]) => self.whole_time(e, *a, env)?.checked_sub(self.whole_time(e, *b, env)?),
            _ => None,
        }
    }

    fn eval(&mut self, e: &RecExpr<Expr>, id: Id, env: &mut Vec<(Symbol, i64)>, dims: &HashMap<Symbol, usize>) -> Result<D> {
        Ok(match &e[id] {
            Expr::Num(v) => D::scalar(v.into_inner()),
            Expr::Symbol(s) => match self.time_symbol(*s, env) {
                Some(t) => D::scalar(t as f64),
                None => (*self.quantity(*s, NO_TIME)?).clone(),
            },
            Expr::Add([a, b]) => D::zip(&self.eval(e, *a, env, dims)?, &self.eval(e, *b, env, dims)?, |x, y| x + y),
            Expr::Sub([a, b]) => D::zip(&self.eval(e, *a, env, dims)?, &self.eval(e, *b, env, dims)?, |x, y| x - y),
            Expr::Mul([a, b]) => D::zip(&self.eval(e, *a, env, dims)?, &self.eval(e, *b, env, dims)?, |x, y| x * y),
            Expr::Neg(a) => self.eval(e, *a, env, dims)?.map(|x| -x),
            Expr::Pow([a, b]) => {
                let p = self.eval(e, *b, env, dims)?;
                let p = if p.idx.is_empty() { p.data[0] } else { return Err(Error::Eval("an exponent with an index".into())) };
                self.eval(e, *a, env, dims)?.map(|x| x.powf(p))
            }
            Expr::Exp(a) => self.eval(e, *a, env, dims)?.map(f64::exp),
            Expr::Log(a) => self.eval(e, *a, env, dims)?.map(f64::ln),
            Expr::Recip(a) => self.eval(e, *a, env, dims)?.map(|x| 1.0 / x),
            Expr::Act(f, a) => {
                let x = self.eval(e, *a, env, dims)?;
                // the input is kept (its address names it) only where σ′ can reuse σ's values
                let input = f.row().df_of_value.is_some().then(|| x.data.clone());
                let y = match f.row().f_many {
                    Some(many) => {
                        let mut out = vec![];
                        many(&x.data, &mut out);
                        D { data: Rc::new(out), ..x }
                    }
                    None => x.map(f.row().f),
                };
                if let Some(input) = input {
                    self.act_values.insert((Rc::as_ptr(&input) as usize, *f), (input, y.data.clone()));
                }
                y
            }
            Expr::DAct(f, a) => {
                let x = self.eval(e, *a, env, dims)?;
                match (f.row().df_of_value, self.act_values.get(&(Rc::as_ptr(&x.data) as usize, *f))) {
                    (Some(dv), Some((_, y))) => D { data: Rc::new(y.iter().map(|v| dv(*v)).collect()), ..x },
                    _ => x.map(f.row().df),
                }
            }
            Expr::Sum([k, d, body]) => {
                let k = sym(e, *k).ok_or_else(|| Error::Eval("a Σ needs an index".into()))?;
                let n = sym(e, *d).map(|d| self.dim_of(d)).unwrap_or(0);
                if let Expr::Mul([x, y]) = &e[*body] {
                    let (x, y) = (self.eval(e, *x, env, dims)?, self.eval(e, *y, env, dims)?);
                    if let Some(c) = D::contract(&x, &y, k) {
                        return Ok(c);
                    }
                    let v = D::zip(&x, &y, |a, b| a * b);
                    return Ok(if v.idx.contains(&k) { v.reduce(k) } else { v.map(|x| x * n as f64) });
                }
                let v = self.eval(e, *body, env, dims)?;
                if v.idx.contains(&k) { v.reduce(k) } else { v.map(|x| x * n as f64) }
            }
            Expr::TSum([k, lo, hi, body]) => {
                let k = sym(e, *k).ok_or_else(|| Error::Eval("a Σ needs an index".into()))?;
                let (lo, hi) = (self.time(e, *lo, env, dims)?, self.time(e, *hi, env, dims)?);
                // Σₖ a⁽ᵏ⁾ ⊗ b⁽ᵏ⁾ (e.g. ∂L/∂h⁽ᵏ⁾[i] s⁽ᵏ⁻¹⁾[p]): every step's factors, then one matrix product
                if let Expr::Mul([x, y]) = &e[*body]
                    && let Some(v) = self.outer_sum(e, (*x, *y), k, (lo, hi), env, dims)?
                {
                    return Ok(v);
                }
                // any other body: one compiled program run at every step, when it compiles
                if !matches!(&e[*body], Expr::Mul(_))
                    && let Some(v) = self.compiled_sum(e, *body, k, (lo, hi), dims)
                {
                    return Ok(v);
                }
                let mut acc: Option<D> = None;
                for t in lo..=hi {
                    crate::limits::check("the numbers")?;
                    env.push((k, t));
                    // Σₖ a⁽ᵏ⁾ ⊗ b⁽ᵏ⁾ (e.g. ∂L/∂h⁽ᵏ⁾[i] s⁽ᵏ⁻¹⁾[p]) accumulates in place
                    if let (Expr::Mul([x, y]), Some(a)) = (&e[*body], acc.as_mut()) {
                        let xy = self.eval(e, *x, env, dims).and_then(|x| Ok((x, self.eval(e, *y, env, dims)?)));
                        let (x, y) = match xy {
                            Ok(v) => v,
                            Err(err) => {
                                env.pop();
                                return Err(err);
                            }
                        };
                        env.pop();
                        if !D::add_outer(a, &x, &y) {
                            let v = D::zip(&x, &y, |p, q| p * q);
                            acc = acc.map(|a| D::add_into(a, &v));
                        }
                        continue;
                    }
                    let v = self.eval(e, *body, env, dims);
                    env.pop();
                    let v = v?;
                    acc = Some(match acc {
                        None => v,
                        Some(a) => D::add_into(a, &v),
                    });
                }
                acc.unwrap_or_else(|| D::scalar(0.0))
            }
            Expr::Delta([a, b]) => {
                let (Some(a), Some(b)) = (sym(e, *a), sym(e, *b)) else { return Err(Error::Eval("δ of numbers".into())) };
                let n = dims.get(&a).or(dims.get(&b)).copied().unwrap_or(0);
                let mut data = vec![0.0; n * n];
                (0..n).for_each(|i| data[i * n + i] = 1.0);
                D { idx: vec![a, b], dims: vec![n, n], data: Rc::new(data) }
            }
            Expr::Ix(ch) | Expr::Tx(ch) => {
                let name = sym(e, ch[0]).ok_or_else(|| Error::Eval("a name".into()))?;
                let (t, first) = if matches!(&e[id], Expr::Tx(_)) { (self.time(e, ch[1], env, dims)?, 2) } else { (NO_TIME, 1) };
                let to: Option<Vec<Symbol>> = ch[first..].iter().map(|c| sym(e, *c)).collect();
                let to = to.ok_or_else(|| Error::Eval("a numeric index (the fast evaluator takes index names)".into()))?;
                let (from, v) = self.named(name, t)?;
                v.as_ref().clone().rename(&from, &to)
            }
            Expr::D([l, q]) => {
                let (Expr::Symbol(_), Expr::Tx(ch)) = (&e[*l], &e[*q]) else { return Err(Error::Eval("only ∂L/∂(quantity at a step) is fast".into())) };
                let name = sym(e, ch[0]).ok_or_else(|| Error::Eval("a name".into()))?;
                let t = self.time(e, ch[1], env, dims)?;
                let to: Option<Vec<Symbol>> = ch[2..].iter().map(|c| sym(e, *c)).collect();
                let to = to.ok_or_else(|| Error::Eval("a numeric index".into()))?;
                let (from, v) = self.grad(name, t)?;
                v.as_ref().clone().rename(&from, &to)
            }
        })
    }

    /// Σ_{k=lo}^{hi} x⁽ᵏ⁾ y⁽ᵏ⁾ as one GEMM when every step's x and y have the same axes, disjoint (an outer
    /// product); None otherwise (the caller sums step by step).
    #[allow(clippy::too_many_arguments)]
    fn outer_sum(&mut self, e: &RecExpr<Expr>, (x, y): (Id, Id), k: Symbol, (lo, hi): (i64, i64), env: &mut Vec<(Symbol, i64)>, dims: &HashMap<Symbol, usize>) -> Result<Option<D>> {
        if hi < lo {
            return Ok(None);
        }
        if let Some(v) = self.compiled_outer(e, (x, y), k, (lo, hi), dims) {
            return Ok(Some(v));
        }
        let (mut ra, mut rb) = (vec![], vec![]);
        let mut first: Option<(D, D)> = None;
        for t in lo..=hi {
            crate::limits::check("the numbers")?;
            env.push((k, t));
            let xy = self.eval(e, x, env, dims).and_then(|a| Ok((a, self.eval(e, y, env, dims)?)));
            env.pop();
            let (a, b) = xy?;
            match &first {
                Some((fa, fb)) if fa.idx != a.idx || fa.dims != a.dims || fb.idx != b.idx || fb.dims != b.dims => return Ok(None),
                Some(_) => {}
                None => {
                    if a.idx.iter().any(|s| b.idx.contains(s)) || a.idx.is_empty() || b.idx.is_empty() {
                        return Ok(None);
                    }
                    ra.reserve(a.data.len() * (hi - lo + 1) as usize);
                    rb.reserve(b.data.len() * (hi - lo + 1) as usize);
                }
            }
            ra.extend_from_slice(&a.data);
            rb.extend_from_slice(&b.data);
            if first.is_none() {
                first = Some((a, b));
            }
        }
        Ok(first.and_then(|(a, b)| D::outer_sum((&a.idx, &a.dims), (&b.idx, &b.dims), &ra, &rb)))
    }

    /// A parameter, data or quantity at step `t`, over placeholder axes.
    fn named(&mut self, name: Symbol, t: i64) -> Result<(Vec<Symbol>, Rc<D>)> {
        if let Some(v) = self.quantities.get(&(name, t)) {
            return Ok((v.idx.clone(), v.clone()));
        }
        let decl = self.model.decls.get(&name).ok_or_else(|| Error::Eval(format!("unknown name `{name}`")))?;
        if decl.kind == DeclKind::Quantity {
            let v = self.quantity(name, t)?;
            return Ok((v.idx.clone(), v));
        }
        let axes = placeholder_axes(decl.dims.len());
        let a = self.params.values.get(&name).ok_or_else(|| Error::Eval(format!("no values for `{name}`")))?;
        let dims: Vec<usize> = decl.dims.iter().map(|d| self.dim_of(*d)).collect();
        let n: usize = dims.iter().product();
        let data = if decl.timed {
            if t < 1 || t > self.sizes.steps as i64 {
                return Err(Error::Eval(format!("`{name}` has no time step {t}")));
            }
            a.data[(t as usize - 1) * n..t as usize * n].to_vec()
        } else {
            a.data.clone()
        };
        let data = Rc::new(data);
        let v = Rc::new(D { idx: axes.clone(), dims, data });
        self.quantities.insert((name, t), v.clone());
        Ok((axes, v))
    }

    /// A quantity from its definition, memoised per step.
    fn quantity(&mut self, name: Symbol, t: i64) -> Result<Rc<D>> {
        if let Some(v) = self.quantities.get(&(name, t)) {
            return Ok(v.clone());
        }
        if let Some(v) = self.stored(program::Kind::Value, name, t) {
            return Ok(v);
        }
        let model = self.model;
        if let Some((di, var)) = self.def_for(name, t) {
            let d = &model.defs[di];
            let mut env: Vec<(Symbol, i64)> = var.map(|s| (s, t)).into_iter().collect();
            let dims = match &self.def_dims[di] {
                Some(x) => x.clone(),
                None => {
                    let x = Rc::new(self.index_dims(&d.rhs));
                    self.def_dims[di] = Some(x.clone());
                    x
                }
            };
            let v = self.eval(&d.rhs, d.rhs.root(), &mut env, &dims)?.permute(&d.idx)?;
            let v = Rc::new(v);
            self.quantities.insert((name, t), v.clone());
            return Ok(v);
        }
        Err(Error::Eval(format!("`{name}` has no time step {t}")))
    }

    fn grad_by_reference(&mut self, name: Symbol, t: i64) -> Result<(Vec<Symbol>, Rc<D>)> {
        let decl = self.model.decls.get(&name).ok_or_else(|| Error::Eval(format!("unknown name `{name}`")))?;
        let axes = placeholder_axes(decl.dims.len());
        let dims: Vec<usize> = decl.dims.iter().map(|d| self.dim_of(*d)).collect();
        let mut e = RecExpr::default();
        let l = e.add(Expr::Symbol(self.model.loss()));
        let mut kids = vec![e.add(Expr::Symbol(name)), e.add(crate::lang::num(t as f64))];
        kids.extend(axes.iter().map(|a| e.add(Expr::Symbol(*a))));
        let q = e.add(Expr::Tx(kids.into()));
        e.add(Expr::D([l, q]));
        let (model, sizes, params) = (self.model, self.sizes, self.params);
        let num = self.reference.get_or_insert_with(|| crate::eval::Numeric::new(model, sizes, params));
        let v = num.tensor_with(&e, &axes, &dims, &[])?;
        let v = Rc::new(D { idx: axes.clone(), dims, data: Rc::new(v.data) });
        self.grads.insert((name, t), v.clone());
        Ok((axes, v))
    }

    /// ∂L/∂NAME⁽ᵗ⁾ from the derived side equations, memoised per step.
    fn grad(&mut self, name: Symbol, t: i64) -> Result<(Vec<Symbol>, Rc<D>)> {
        if let Some(v) = self.grads.get(&(name, t)) {
            return Ok((v.idx.clone(), v.clone()));
        }
        if let Some(v) = self.stored(program::Kind::Grad, name, t) {
            return Ok((v.idx.clone(), v));
        }
        let Some(at) = self.side_for(name, t) else { return self.grad_by_reference(name, t) };
        let (rhs, idx, k, dims) = (self.sides[at].rhs.clone(), self.sides[at].idx.clone(), self.sides[at].time.err().map(|x| x.0), self.sides[at].dims.clone());
        let mut env: Vec<(Symbol, i64)> = k.map(|k| (k, t)).into_iter().collect();
        let v = Rc::new(self.eval(&rhs, rhs.root(), &mut env, &dims)?.permute(&idx)?);
        self.grads.insert((name, t), v.clone());
        Ok((idx, v))
    }
}

/// The derivation's final form evaluated with [`Dense`]: the whole gradient at once.
pub fn gradient(s: &crate::session::Session, d: &Derivation) -> Result<Tensor> {
    let last = d.beats.last().map(|b| &b.whole).unwrap_or(&d.goal);
    let order = crate::lang::free_indices(&d.goal, d.goal.root()).into_iter().filter(|x| !s.model.decls.contains_key(x)).collect::<Vec<_>>();
    let wheres: Vec<Where> = d.beats.iter().flat_map(|b| b.wheres.iter().cloned()).collect();
    Dense::new(&s.model, &s.sizes, &s.params, &wheres).tensor(last, &order)
}

/// The gradient at any T without unrolling: the plan's closed form (checked for T = 1..8 by `closed::check`) at
/// this session's T, with the side equations of the plan's last beat derived by the rules at this T.
pub fn closed_gradient(s: &crate::session::Session, limits: crate::stepper::Limits) -> Result<Tensor> {
    closed_gradient_by(s, limits, false).map(|(g, _)| g)
}

/// [`closed_gradient`], by the interpreter alone when `interpret`; and whether the compiled programs ran.
fn closed_gradient_by(s: &crate::session::Session, limits: crate::stepper::Limits, interpret: bool) -> Result<(Tensor, bool)> {
    let closed = s.plan.closed.as_ref().ok_or_else(|| Error::Usage(format!("the plan for {} has no closed form", s.wrt)))?;
    let specs = s.plan.items.iter().rev().find_map(|i| match i {
        crate::plan::Item::Beat { wheres, .. } if !wheres.is_empty() => Some(wheres.clone()),
        _ => None,
    });
    let mut stats = crate::stepper::Stats::default();
    let mut wheres = vec![];
    for w in specs.unwrap_or_default() {
        if w.k_range.is_some_and(|(_, lo, hi)| hi < lo) {
            continue;
        }
        wheres.push(crate::derive::derive_where(&w, &s.rules, limits, &mut stats)?);
    }
    // every quantity over time is kept at every step, with its gradient: that much memory, asked for first
    let per_step: usize = s
        .model
        .decls
        .values()
        .filter(|d| d.kind == DeclKind::Quantity && d.timed)
        .map(|d| d.dims.iter().fold(8usize, |a, n| a.saturating_mul(s.sizes.dims.get(n).copied().unwrap_or(1))))
        .fold(0usize, |a, b| a.saturating_add(b));
    crate::limits::reserve(per_step.saturating_mul(2).saturating_mul(s.sizes.steps + 1), "the numbers of every step (values and gradients)")?;
    let e = crate::closed::instantiate(closed, &s.model, s.sizes.steps);
    let order = crate::lang::free_indices(&s.plan.goal, s.plan.goal.root()).into_iter().filter(|x| !s.model.decls.contains_key(x)).collect::<Vec<_>>();
    let mut dense = Dense::new(&s.model, &s.sizes, &s.params, &wheres);
    dense.interpret = interpret;
    let g = dense.tensor(&e, &order)?;
    crate::limits::check("the numbers")?;
    Ok((g, dense.compiled.is_some()))
}

#[cfg(test)]
mod tests {
    use crate::session::{Options, Session};

    /// The compiled programs run for every model, variant and activation, and give the interpreter's numbers
    /// to the last bit.
    #[test]
    fn compiled_programs_give_the_interpreters_bits() {
        let act = |n: &str| crate::notation::Act::named(n).unwrap();
        let mut cases = vec![];
        for a in ["tanh", "sigmoid", "relu", "identity", "softplus"] {
            for wrt in ["W_r", "W_x"] {
                cases.push(Options { model: None, wrt: Some(wrt.into()), activation: act(a), steps: Some(9), ..Options::default() });
            }
        }
        for (many_to_many, loss) in [(false, "mse"), (true, "mse"), (false, "softmax-ce"), (true, "softmax-ce")] {
            for wrt in ["W_r", "W_x", "b", "W_y"] {
                cases.push(Options { wrt: Some(wrt.into()), bias: true, many_to_many, loss: crate::options::Loss::named(loss).unwrap(), steps: Some(7), ..Options::default() });
            }
        }
        for (model, wrts) in [("lstm", &["W_fr", "W_gx", "b_o", "c0"][..]), ("gru", &["W_nr", "W_zx", "b_r"][..])] {
            for (wrt, many_to_many) in wrts.iter().flat_map(|w| [(w, false), (w, true)]) {
                cases.push(Options { model: Some(model.into()), wrt: Some((*wrt).into()), bias: true, many_to_many, steps: Some(6), ..Options::default() });
            }
        }
        let mut compiled = 0;
        for o in cases {
            let case = format!("{:?} {:?} {} m2m={} {:?}", o.model, o.wrt, o.activation.name(), o.many_to_many, o.loss);
            let Ok(s) = Session::load(o) else { continue };
            if s.plan.closed.is_none() {
                continue;
            }
            let (fast, ran) = super::closed_gradient_by(&s, Default::default(), false).unwrap();
            let (slow, interpreted) = super::closed_gradient_by(&s, Default::default(), true).unwrap();
            assert!(!interpreted, "{case}");
            assert!(ran, "{case}: the programs did not run");
            compiled += 1;
            let bits = |g: &crate::eval::Tensor| g.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&fast), bits(&slow), "{case}");
            assert_eq!((fast.indices, fast.dims), (slow.indices, slow.dims), "{case}");
        }
        assert!(compiled >= 30, "only {compiled} cases ran compiled");
    }
}
