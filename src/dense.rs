//! Fast numbers for a derived result at any size: every sub-expression is evaluated to a dense array over its free
//! indices at once (products broadcast, Σ reduces an axis, Σ over time loops), the model's quantities come from
//! its definitions one time step at a time, and ∂L/∂h⁽ᵏ⁾, ∂L/∂s⁽ᵏ⁾ come from the side equations the rules derived
//! (the backward recursion). This evaluates what the derivation wrote, never a hand-written BPTT; the entry-by-
//! entry evaluator in `eval` stays the reference and a test compares the two.
use crate::derive::{Derivation, Where};
use crate::error::{Error, Result};
use crate::eval::Tensor;
use crate::lang::Expr;
use crate::model::{DeclKind, Model, TimeSlot};
use crate::params::{Params, Sizes};
use egg::{Id, RecExpr, Symbol};
use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

/// A dense array over named axes (row-major in the order of `idx`).
#[derive(Debug, Clone)]
struct D {
    idx: Vec<Symbol>,
    dims: Vec<usize>,
    /// Shared: renaming axes or reading a parameter never copies the numbers.
    data: Rc<Vec<f64>>,
}

impl D {
    fn scalar(v: f64) -> D {
        D { idx: vec![], dims: vec![], data: Rc::new(vec![v]) }
    }
    fn map(mut self, f: impl Fn(f64) -> f64) -> D {
        Rc::make_mut(&mut self.data).iter_mut().for_each(|v| *v = f(*v));
        self
    }
    /// Σ_k a·b without forming the product: a contraction over the shared axis `k` (a matrix-vector product).
    fn contract(a: &D, b: &D, k: Symbol) -> Option<D> {
        let (pa, pb) = (a.idx.iter().position(|s| *s == k)?, b.idx.iter().position(|s| *s == k)?);
        let n = a.dims[pa];
        if b.dims[pb] != n {
            return None;
        }
        let (sa, sb) = (a.strides(), b.strides());
        let mut idx = vec![];
        let mut dims = vec![];
        let (mut ra, mut rb) = (vec![], vec![]);
        for (x, st, other, ost) in [(a, &sa, b, &sb), (b, &sb, a, &sa)] {
            for (j, s) in x.idx.iter().enumerate() {
                if *s == k || idx.contains(s) {
                    continue;
                }
                idx.push(*s);
                dims.push(x.dims[j]);
                let in_other = other.idx.iter().position(|t| t == s).map(|p| ost[p]).unwrap_or(0);
                if std::ptr::eq(x, a) {
                    ra.push(st[j]);
                    rb.push(in_other);
                } else {
                    ra.push(in_other);
                    rb.push(st[j]);
                }
            }
        }
        let (ka, kb) = (sa[pa], sb[pb]);
        let total: usize = dims.iter().product();
        let mut data = Vec::with_capacity(total);
        let mut ctr = vec![0usize; dims.len()];
        let (mut oa, mut ob) = (0usize, 0usize);
        // a matrix times a vector along the matrix's rows (k is the first of two axes): add scaled rows, contiguous
        if dims.len() == 1 && ((a.idx.len() == 1 && b.idx.len() == 2 && pb == 0) || (b.idx.len() == 1 && a.idx.len() == 2 && pa == 0)) {
            let (v, m) = if a.idx.len() == 1 { (a, b) } else { (b, a) };
            let cols = dims[0];
            let mut out = vec![0.0; cols];
            for (j, x) in v.data.iter().enumerate() {
                for (o, w) in out.iter_mut().zip(&m.data[j * cols..(j + 1) * cols]) {
                    *o += x * w;
                }
            }
            return Some(D { idx, dims, data: Rc::new(out) });
        }
        for _ in 0..total {
            let acc = if ka == 1 && kb == 1 {
                dot(&a.data[oa..oa + n], &b.data[ob..ob + n])
            } else {
                (0..n).map(|j| a.data[oa + j * ka] * b.data[ob + j * kb]).sum()
            };
            data.push(acc);
            for q in (0..dims.len()).rev() {
                ctr[q] += 1;
                oa += ra[q];
                ob += rb[q];
                if ctr[q] < dims[q] {
                    break;
                }
                oa -= ra[q] * dims[q];
                ob -= rb[q] * dims[q];
                ctr[q] = 0;
            }
        }
        Some(D { idx, dims, data: Rc::new(data) })
    }
    /// acc += v, in place when the axes agree.
    fn add_into(acc: D, v: &D) -> D {
        if acc.idx == v.idx {
            let mut acc = acc;
            Rc::make_mut(&mut acc.data).iter_mut().zip(v.data.iter()).for_each(|(x, y)| *x += y);
            return acc;
        }
        D::zip(&acc, v, |x, y| x + y)
    }
    /// acc += a ⊗ b (an outer product over disjoint axes, in acc's order a then b), in place.
    fn add_outer(acc: &mut D, a: &D, b: &D) -> bool {
        if a.idx.iter().any(|s| b.idx.contains(s)) || acc.idx.len() != a.idx.len() + b.idx.len() || acc.idx[..a.idx.len()] != a.idx[..] || acc.idx[a.idx.len()..] != b.idx[..] {
            return false;
        }
        let m = b.data.len();
        let out = Rc::make_mut(&mut acc.data);
        for (i, x) in a.data.iter().enumerate() {
            for (o, y) in out[i * m..(i + 1) * m].iter_mut().zip(b.data.iter()) {
                *o += x * y;
            }
        }
        true
    }
    fn strides(&self) -> Vec<usize> {
        let mut s = vec![1; self.dims.len()];
        for k in (0..self.dims.len().saturating_sub(1)).rev() {
            s[k] = s[k + 1] * self.dims[k + 1];
        }
        s
    }
    /// a ∘ b elementwise over the union of the axes (a's order, then b's new axes).
    fn zip(a: &D, b: &D, f: impl Fn(f64, f64) -> f64) -> D {
        if a.idx == b.idx {
            return D { idx: a.idx.clone(), dims: a.dims.clone(), data: Rc::new(a.data.iter().zip(b.data.iter()).map(|(x, y)| f(*x, *y)).collect()) };
        }
        if b.idx.is_empty() {
            let y = b.data[0];
            return D { idx: a.idx.clone(), dims: a.dims.clone(), data: Rc::new(a.data.iter().map(|x| f(*x, y)).collect()) };
        }
        if a.idx.is_empty() {
            let x = a.data[0];
            return D { idx: b.idx.clone(), dims: b.dims.clone(), data: Rc::new(b.data.iter().map(|y| f(x, *y)).collect()) };
        }
        let mut idx = a.idx.clone();
        let mut dims = a.dims.clone();
        for (s, n) in b.idx.iter().zip(&b.dims) {
            if !idx.contains(s) {
                idx.push(*s);
                dims.push(*n);
            }
        }
        // the stride of every result axis in a and in b (0 where the operand does not have it)
        let (sa, sb) = (a.strides(), b.strides());
        let pick = |x: &D, st: &[usize]| -> Vec<usize> { idx.iter().map(|s| x.idx.iter().position(|t| t == s).map(|p| st[p]).unwrap_or(0)).collect() };
        let (pa, pb) = (pick(a, &sa), pick(b, &sb));
        let total: usize = dims.iter().product();
        let mut data = Vec::with_capacity(total);
        let last = dims.len() - 1;
        let mut ctr = vec![0usize; dims.len()];
        let (mut oa, mut ob) = (0usize, 0usize);
        while data.len() < total {
            // the innermost axis as a tight loop
            for j in 0..dims[last] {
                data.push(f(a.data[oa + j * pa[last]], b.data[ob + j * pb[last]]));
            }
            let mut k = last;
            loop {
                if k == 0 {
                    return D { idx, dims, data: Rc::new(data) };
                }
                k -= 1;
                ctr[k] += 1;
                oa += pa[k];
                ob += pb[k];
                if ctr[k] < dims[k] {
                    break;
                }
                oa -= pa[k] * dims[k];
                ob -= pb[k] * dims[k];
                ctr[k] = 0;
            }
        }
        D { idx, dims, data: Rc::new(data) }
    }
    /// Σ over the axis `k`.
    fn reduce(self, k: Symbol) -> D {
        let Some(p) = self.idx.iter().position(|s| *s == k) else { return self };
        let outer: usize = self.dims[..p].iter().product();
        let n = self.dims[p];
        let inner: usize = self.dims[p + 1..].iter().product();
        let mut data = vec![0.0; outer * inner];
        for o in 0..outer {
            for j in 0..n {
                let src = &self.data[(o * n + j) * inner..(o * n + j + 1) * inner];
                for (d, s) in data[o * inner..(o + 1) * inner].iter_mut().zip(src) {
                    *d += s;
                }
            }
        }
        let mut idx = self.idx;
        let mut dims = self.dims;
        idx.remove(p);
        dims.remove(p);
        D { idx, dims, data: Rc::new(data) }
    }
    /// The same values with the axes renamed (`from[k]` → `to[k]`).
    fn rename(mut self, from: &[Symbol], to: &[Symbol]) -> D {
        for s in &mut self.idx {
            if let Some(p) = from.iter().position(|f| f == s) {
                *s = to[p];
            }
        }
        self
    }
    /// Reorder the axes to `order`.
    fn permute(self, order: &[Symbol]) -> Result<D> {
        if self.idx == order {
            return Ok(self);
        }
        let zero = D { idx: order.to_vec(), dims: order.iter().map(|s| self.idx.iter().position(|t| t == s).map(|p| self.dims[p]).unwrap_or(1)).collect(), data: Rc::new(vec![]) };
        let n: usize = zero.dims.iter().product();
        let ones = D { data: Rc::new(vec![0.0; n]), ..zero };
        if self.idx.iter().any(|s| !order.contains(s)) {
            return Err(Error::Eval("an index is left over".into()));
        }
        Ok(D::zip(&ones, &self, |_, y| y))
    }
}

/// x · y with four running sums (the compiler vectorises it; the order of additions is fixed, so the result is
/// deterministic).
fn dot(x: &[f64], y: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (xc, yc) = (x.chunks_exact(4), y.chunks_exact(4));
    let tail: f64 = xc.remainder().iter().zip(yc.remainder()).map(|(a, b)| a * b).sum();
    for (a, b) in xc.zip(yc) {
        for l in 0..4 {
            acc[l] += a[l] * b[l];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

type Key = (Symbol, i64);

/// A side equation the rules derived: ∂L/∂NAME⁽time⁾[idx] = rhs, for a fixed step or a range of k.
struct Side {
    name: Symbol,
    time: std::result::Result<i64, (Symbol, i64, i64)>,
    idx: Vec<Symbol>,
    rhs: RecExpr<Expr>,
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
}

const NO_TIME: i64 = i64::MIN;

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
            sides.push(Side { name, time, idx, rhs: w.rhs.clone() });
        }
        Dense { model, sizes, params, sides, quantities: HashMap::default(), grads: HashMap::default(), reference: None }
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
        let steps = self.sizes.steps as i64;
        let timed: Vec<Symbol> = self.model.decls.iter().filter(|(_, d)| d.kind == DeclKind::Quantity && d.timed).map(|(n, _)| *n).collect();
        for t in 0..=steps {
            for q in &timed {
                let _ = self.quantity(*q, t);
            }
        }
        let covered: Vec<(Symbol, i64)> = self
            .sides
            .iter()
            .flat_map(|s| {
                let (lo, hi) = match s.time {
                    Ok(t) => (t, t),
                    Err((_, lo, hi)) => (lo, hi),
                };
                (lo..=hi).map(move |t| (s.name, t))
            })
            .collect();
        for t in (1..=steps).rev() {
            for (q, _) in covered.iter().filter(|c| c.1 == t) {
                let _ = self.grad(*q, t);
            }
        }
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
        let v = self.eval(e, id, env, dims)?;
        match v.data.as_slice() {
            [t] if v.idx.is_empty() && t.fract() == 0.0 => Ok(*t as i64),
            _ => Err(Error::Eval("a time step must be a whole number".into())),
        }
    }

    fn eval(&mut self, e: &RecExpr<Expr>, id: Id, env: &mut Vec<(Symbol, i64)>, dims: &HashMap<Symbol, usize>) -> Result<D> {
        Ok(match &e[id] {
            Expr::Num(v) => D::scalar(v.into_inner()),
            Expr::Symbol(s) => match env.iter().rev().find(|(k, _)| k == s) {
                Some((_, v)) => D::scalar(*v as f64),
                None if s.as_str() == "T" => D::scalar(self.sizes.steps as f64),
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
            Expr::Tanh(a) => self.eval(e, *a, env, dims)?.map(f64::tanh),
            Expr::DTanh(a) => self.eval(e, *a, env, dims)?.map(|x| 1.0 - x.tanh().powi(2)),
            Expr::Sigmoid(a) => self.eval(e, *a, env, dims)?.map(|x| 1.0 / (1.0 + (-x).exp())),
            Expr::DSigmoid(a) => self.eval(e, *a, env, dims)?.map(|x| {
                let s = 1.0 / (1.0 + (-x).exp());
                s * (1.0 - s)
            }),
            Expr::Relu(a) => self.eval(e, *a, env, dims)?.map(|x| x.max(0.0)),
            Expr::DRelu(a) => self.eval(e, *a, env, dims)?.map(|x| if x > 0.0 { 1.0 } else { 0.0 }),
            Expr::Identity(a) => self.eval(e, *a, env, dims)?,
            Expr::DIdentity(a) => self.eval(e, *a, env, dims)?.map(|_| 1.0),
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
                let mut acc: Option<D> = None;
                for t in lo..=hi {
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
        let axes: Vec<Symbol> = (0..decl.dims.len()).map(|k| Symbol::from(format!("§{k}"))).collect();
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
        let model = self.model;
        for d in model.defs.iter().filter(|d| d.name == name) {
            let mut env = vec![];
            match (&d.time, t) {
                (None, NO_TIME) => {}
                (Some(TimeSlot::Fixed(v)), t) if *v == t as f64 => {}
                (Some(TimeSlot::Var(s)), t) if t != NO_TIME && d.guards.iter().all(|(g, n)| *g != *s || t as f64 > *n) => env.push((*s, t)),
                _ => continue,
            }
            let dims = self.index_dims(&d.rhs);
            let v = self.eval(&d.rhs, d.rhs.root(), &mut env, &dims)?.permute(&d.idx)?;
            let v = Rc::new(v);
            self.quantities.insert((name, t), v.clone());
            return Ok(v);
        }
        Err(Error::Eval(format!("`{name}` has no time step {t}")))
    }

    fn grad_by_reference(&mut self, name: Symbol, t: i64) -> Result<(Vec<Symbol>, Rc<D>)> {
        let decl = self.model.decls.get(&name).ok_or_else(|| Error::Eval(format!("unknown name `{name}`")))?;
        let axes: Vec<Symbol> = (0..decl.dims.len()).map(|k| Symbol::from(format!("§{k}"))).collect();
        let dims: Vec<usize> = decl.dims.iter().map(|d| self.dim_of(*d)).collect();
        let mut e = RecExpr::default();
        let l = e.add(Expr::Symbol("L".into()));
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
        let at = self.sides.iter().position(|s| s.name == name && match s.time {
            Ok(v) => v == t,
            Err((_, lo, hi)) => (lo..=hi).contains(&t),
        });
        let Some(at) = at else { return self.grad_by_reference(name, t) };
        let (rhs, idx, k) = (self.sides[at].rhs.clone(), self.sides[at].idx.clone(), self.sides[at].time.err().map(|x| x.0));
        let mut env: Vec<(Symbol, i64)> = k.map(|k| (k, t)).into_iter().collect();
        let dims = self.index_dims(&rhs);
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
    let closed = s.plan.closed.as_ref().ok_or_else(|| Error::Usage(format!("the plan for {} has no closed form", s.options.wrt)))?;
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
    let e = crate::closed::instantiate(closed, s.sizes.steps);
    let order = crate::lang::free_indices(&s.plan.goal, s.plan.goal.root()).into_iter().filter(|x| !s.model.decls.contains_key(x)).collect::<Vec<_>>();
    Dense::new(&s.model, &s.sizes, &s.params, &wheres).tensor(&e, &order)
}
