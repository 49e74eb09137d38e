//! Numbers: evaluates any expression of the language to a tensor over its free indices. Quantities of the model
//! (h, s, y, L) are computed from their definitions; a derivative (d E X) is computed exactly with dual numbers
//! seeded at X (one forward pass per seed, cached). Sums are loops; the expression DAG is memoised.
use crate::error::{Error, Result};
use crate::lang::{Expr, free_indices, index_children};
use crate::model::{DeclKind, Model, TimeSlot};
use crate::params::{Params, Sizes};
use egg::{Id, RecExpr, Symbol};
use env::Env;
use rustc_hash::FxHashMap as HashMap;

mod env;
mod reverse;
mod tensor;
pub use tensor::Tensor;

/// A value and its derivative along the current seed.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Dual(pub f64, pub f64);

/// A concrete entry of a quantity: name, time step, indices (0-based).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QKey {
    pub name: Symbol,
    pub time: Option<i64>,
    /// Kept inline: keys are cloned and hashed for every quantity read.
    pub idx: Idx,
}

/// The index values of a quantity entry.
pub type Idx = smallvec::SmallVec<[i64; 4]>;

/// Evaluates expressions for one model, one set of sizes and one set of parameter values.
pub struct Numeric<'a> {
    model: &'a Model,
    sizes: &'a Sizes,
    params: &'a Params,
    seeds: Vec<Option<QKey>>,
    seed_ids: HashMap<QKey, usize>,
    cache: HashMap<(usize, QKey), Dual>,
    /// The size of an index whose range cannot be told from its use (only for tests of rules at random points,
    /// where every size is the same).
    pub default_dim: Option<usize>,
    /// Quantities in the order their values were finished (every quantity after the ones it reads).
    order: Vec<QKey>,
    position: HashMap<QKey, usize>,
    /// Adjoints: for an output quantity E, ∂E/∂P for every quantity P that E depends on.
    adjoints: HashMap<(QKey, Symbol), HashMap<QKey, f64>>,
    /// For each quantity Q, the local partials ∂Q/∂P of the quantities P its definition reads (computed once:
    /// every reverse sweep through Q needs the same ones).
    partials: HashMap<QKey, std::rc::Rc<Vec<(QKey, f64)>>>,
    /// The free-index sets of each definition's right-hand side, by definition (computed once).
    def_free: Vec<Option<std::rc::Rc<Free>>>,
}


fn lookup(env: &Env, s: Symbol) -> Option<i64> {
    env.lookup(s)
}

impl<'a> Numeric<'a> {
    pub fn new(model: &'a Model, sizes: &'a Sizes, params: &'a Params) -> Self {
        Numeric {
            model,
            sizes,
            params,
            seeds: vec![None],
            seed_ids: HashMap::default(),
            cache: HashMap::default(),
            default_dim: None,
            order: vec![],
            position: HashMap::default(),
            adjoints: HashMap::default(),
            partials: HashMap::default(),
            def_free: vec![None; model.defs.len()],
        }
    }

    /// The size of each free index of `e`, found from where it is used (an index of W⁽ʳ⁾ ranges over n_h, …).
    pub fn index_dims(&self, e: &RecExpr<Expr>, free: &[Symbol]) -> Result<Vec<usize>> {
        let mut found: HashMap<Symbol, usize> = HashMap::default();
        for u in self.model.index_uses(e) {
            found.entry(u.index).or_insert(self.sizes.dims.get(&u.dim).copied().unwrap_or(0));
        }
        free.iter()
            .map(|s| found.get(s).copied().or(self.default_dim).ok_or_else(|| Error::Eval(format!("cannot tell which size the free index `{s}` ranges over"))))
            .collect()
    }

    /// The free indices of `e` (declared names such as L are quantities, not indices).
    pub fn free_of(&self, e: &RecExpr<Expr>) -> Vec<Symbol> {
        let mut f = free_indices(e, e.root());
        f.retain(|s| !self.model.decls.contains_key(s));
        f
    }

    /// Evaluate `e` to a tensor over its free indices (in order of first appearance).
    pub fn tensor(&mut self, e: &RecExpr<Expr>) -> Result<Tensor> {
        let indices = self.free_of(e);
        let dims = self.index_dims(e, &indices)?;
        self.tensor_with(e, &indices, &dims, &[])
    }

    /// Evaluate `e` over the given indices and sizes, with extra fixed bindings (e.g. a time step k).
    pub fn tensor_with(&mut self, e: &RecExpr<Expr>, indices: &[Symbol], dims: &[usize], fixed: &[(Symbol, i64)]) -> Result<Tensor> {
        let total = dims.iter().try_fold(1usize, |a, d| a.checked_mul(*d)).ok_or_else(|| Error::Limit("a value with more entries than memory can hold".into()))?;
        crate::limits::reserve(total.saturating_mul(8), "a value")?;
        let free = free_sets(e);
        let mut memo = HashMap::with_capacity_and_hasher(e.as_ref().len(), Default::default());
        let mut data = Vec::with_capacity(total);
        for flat in 0..total {
            let mut env = Env::from(fixed);
            let mut rest = flat;
            // index values are 1-based, as printed and as time steps are (δ(k,i) compares them)
            let mut vals = vec![0i64; dims.len()];
            for k in (0..dims.len()).rev() {
                vals[k] = (rest % dims[k]) as i64 + 1;
                rest /= dims[k];
            }
            env.extend(indices.iter().copied().zip(vals));
            crate::limits::check("the numbers")?;
            let v = self.eval(e, e.root(), &mut env, 0, &free, &mut memo)?;
            data.push(v.0);
        }
        Ok(Tensor { indices: indices.to_vec(), dims: dims.to_vec(), data })
    }

    fn seed(&mut self, k: QKey) -> usize {
        if let Some(s) = self.seed_ids.get(&k) {
            return *s;
        }
        self.seeds.push(Some(k.clone()));
        self.seed_ids.insert(k, self.seeds.len() - 1);
        self.seeds.len() - 1
    }

    fn key(&mut self, e: &RecExpr<Expr>, id: Id, env: &mut Env, free: &Free, memo: &mut Memo) -> Result<QKey> {
        let (name, time, idx) = match &e[id] {
            Expr::Symbol(s) => (*s, None, vec![]),
            Expr::Ix(ch) => (sym(e, ch[0])?, None, ch[1..].to_vec()),
            Expr::Tx(ch) => (sym(e, ch[0])?, Some(ch[1]), ch[2..].to_vec()),
            _ => return Err(Error::Eval("a derivative must be taken with respect to a quantity such as W_r[i,p]".into())),
        };
        let int = |v: f64, what: &str| -> Result<i64> {
            if v.fract() == 0.0 && v.is_finite() && v.abs() < 1e15 { Ok(v as i64) } else { Err(Error::Eval(format!("{what} of `{name}` is {v}, not a whole number"))) }
        };
        let time = match time {
            Some(t) => Some(int(self.eval(e, t, env, 0, free, memo)?.0, "the time step")?),
            None => None,
        };
        let mut iv = Idx::new();
        for c in idx {
            // index values are 1-based in expressions, 0-based in keys
            iv.push(int(self.eval(e, c, env, 0, free, memo)?.0, "an index")? - 1);
        }
        Ok(QKey { name, time, idx: iv })
    }

    fn eval(&mut self, e: &RecExpr<Expr>, id: Id, env: &mut Env, seed: usize, free: &Free, memo: &mut Memo) -> Result<Dual> {
        // numbers and bound indices cost less than a memo lookup
        match &e[id] {
            Expr::Num(v) => return Ok(Dual(v.into_inner(), 0.0)),
            Expr::Symbol(s) => {
                if let Some(v) = lookup(env, *s) {
                    return Ok(Dual(v as f64, 0.0));
                }
            }
            _ => {}
        }
        let mk = (id, seed, free[usize::from(id)].iter().map(|s| lookup(env, *s).unwrap_or(i64::MIN)).collect::<Idx>());
        if let Some(v) = memo.get(&mk) {
            return Ok(*v);
        }
        let v = self.eval_node(e, id, env, seed, free, memo)?;
        memo.insert(mk, v);
        Ok(v)
    }

    fn eval_node(&mut self, e: &RecExpr<Expr>, id: Id, env: &mut Env, seed: usize, free: &Free, memo: &mut Memo) -> Result<Dual> {
        let mut ev = |this: &mut Self, c: Id, env: &mut Env| this.eval(e, c, env, seed, free, memo);
        Ok(match &e[id] {
            Expr::Num(v) => Dual(v.into_inner(), 0.0),
            Expr::Symbol(s) => match lookup(env, *s) {
                Some(v) => Dual(v as f64, 0.0),
                None => self.quantity(&QKey { name: *s, time: None, idx: Idx::new() }, seed)?,
            },
            Expr::Add([a, b]) => {
                let (x, y) = (ev(self, *a, env)?, ev(self, *b, env)?);
                Dual(x.0 + y.0, x.1 + y.1)
            }
            Expr::Sub([a, b]) => {
                let (x, y) = (ev(self, *a, env)?, ev(self, *b, env)?);
                Dual(x.0 - y.0, x.1 - y.1)
            }
            Expr::Mul([a, b]) => {
                let (x, y) = (ev(self, *a, env)?, ev(self, *b, env)?);
                Dual(x.0 * y.0, x.1 * y.0 + x.0 * y.1)
            }
            Expr::Neg(a) => {
                let x = ev(self, *a, env)?;
                Dual(-x.0, -x.1)
            }
            Expr::Pow([a, b]) => {
                let (x, y) = (ev(self, *a, env)?, ev(self, *b, env)?);
                let v = x.0.powf(y.0);
                let dx = y.0 * x.0.powf(y.0 - 1.0) * x.1;
                let dy = if y.1 == 0.0 { 0.0 } else { v * x.0.ln() * y.1 };
                Dual(v, dx + dy)
            }
            Expr::Exp(a) => {
                let x = ev(self, *a, env)?;
                let v = x.0.exp();
                Dual(v, v * x.1)
            }
            Expr::Log(a) => {
                let x = ev(self, *a, env)?;
                Dual(x.0.ln(), x.1 / x.0)
            }
            Expr::Recip(a) => {
                let x = ev(self, *a, env)?;
                Dual(1.0 / x.0, -x.1 / (x.0 * x.0))
            }
            Expr::Act(f, a) => {
                let x = ev(self, *a, env)?;
                let (f, df, _) = f.eval(x.0);
                Dual(f, df * x.1)
            }
            Expr::DAct(f, a) => {
                let x = ev(self, *a, env)?;
                let (_, df, ddf) = f.eval(x.0);
                Dual(df, ddf * x.1)
            }
            Expr::D([x, w]) => {
                if seed != 0 {
                    return Err(Error::Eval("a derivative of a derivative cannot be evaluated".into()));
                }
                let k = self.key(e, *w, env, free, memo)?;
                if !self.model.decls.contains_key(&k.name) {
                    return Err(Error::Eval(format!("cannot differentiate with respect to `{}`: not a name of the model", k.name)));
                }
                self.check_range(&k)?;
                // a derivative with respect to a value that does not exist (h⁽⁰⁾, x⁽ᵀ⁺¹⁾) is not 0: it is an error
                self.exists(&k)?;
                if matches!(&e[*x], Expr::Ix(_) | Expr::Tx(_)) || matches!(&e[*x], Expr::Symbol(s) if lookup(env, *s).is_none()) {
                    // ∂(quantity)/∂(quantity): one reverse sweep gives it for every wrt at once
                    let out = self.key(e, *x, env, free, memo)?;
                    self.check_range(&out)?;
                    self.exists(&out)?;
                    return Ok(Dual(self.adjoint(&out, &k)?, 0.0));
                }
                let s = self.seed(k);
                let v = self.eval(e, *x, env, s, free, memo)?;
                Dual(v.1, 0.0)
            }
            Expr::Sum([.., body]) | Expr::TSum([.., body]) => {
                let (k, range) = self.bound_range(e, id, env, free, memo)?;
                let mut acc = Dual::default();
                for v in range {
                    crate::limits::check("the numbers")?;
                    env.push((k, v));
                    let r = self.eval(e, *body, env, seed, free, memo);
                    env.pop();
                    let r = r?;
                    acc = Dual(acc.0 + r.0, acc.1 + r.1);
                }
                acc
            }
            Expr::Delta([a, b]) => {
                let (x, y) = (ev(self, *a, env)?, ev(self, *b, env)?);
                Dual(if x.0 == y.0 { 1.0 } else { 0.0 }, 0.0)
            }
            Expr::Ix(_) | Expr::Tx(_) => {
                let k = self.key(e, id, env, free, memo)?;
                self.quantity(&k, seed)?
            }
        })
    }

    /// The bound index of the Σ at `id` and the values it takes: 0..n for a Σ over a size, lo..=hi over time.
    fn bound_range(&mut self, e: &RecExpr<Expr>, id: Id, env: &mut Env, free: &Free, memo: &mut Memo) -> Result<(Symbol, std::ops::Range<i64>)> {
        match &e[id] {
            Expr::Sum([k, dim, _]) => {
                let dim = sym(e, *dim)?;
                let n = *self.sizes.dims.get(&dim).ok_or_else(|| Error::Eval(format!("unknown size `{dim}` in a Σ")))?;
                Ok((sym(e, *k)?, 1..n as i64 + 1))
            }
            Expr::TSum([k, lo, hi, _]) => {
                let whole = |v: f64, what: &str| -> Result<i64> {
                    if v.fract() == 0.0 && v.abs() < 1e15 { Ok(v as i64) } else { Err(Error::Eval(format!("the {what} bound of a Σ over time is {v}, not a whole number"))) }
                };
                let lo = whole(self.eval(e, *lo, env, 0, free, memo)?.0, "lower")?;
                let hi = whole(self.eval(e, *hi, env, 0, free, memo)?.0, "upper")?;
                if hi - lo > 1_000_000 {
                    return Err(Error::Eval(format!("a Σ over time from {lo} to {hi} is too long")));
                }
                Ok((sym(e, *k)?, lo..hi + 1))
            }
            n => Err(Error::Eval(format!("expected a Σ, found `{n}`"))),
        }
    }

    /// Does the entry `k` exist: a parameter or data value at a time step 1..T, or a defined quantity with a
    /// definition that applies (h⁽⁰⁾ has none; nothing has a step after T).
    fn exists(&mut self, k: &QKey) -> Result<()> {
        match self.model.decls.get(&k.name).map(|d| d.kind) {
            Some(DeclKind::Param | DeclKind::Data) => match k.time {
                Some(t) if t < 1 || t as usize > self.sizes.steps => {
                    Err(Error::Missing(format!("`{}` has no time step {t} (steps are 1..{})", k.name, self.sizes.steps)))
                }
                _ => Ok(()),
            },
            Some(_) => self.definition(k).map(|_| ()),
            None => Err(Error::Eval(format!("unknown name `{}`", k.name))),
        }
    }

    fn check_range(&self, k: &QKey) -> Result<()> {
        let d = self.model.decls.get(&k.name).ok_or_else(|| Error::Eval(format!("unknown name `{}`", k.name)))?;
        if d.timed != k.time.is_some() || d.dims.len() != k.idx.len() {
            return Err(Error::Eval(format!("`{}` takes {}{} index(es)", k.name, if d.timed { "a time and " } else { "" }, d.dims.len())));
        }
        for (i, dim) in k.idx.iter().zip(&d.dims) {
            let n = self.sizes.dims.get(dim).copied().unwrap_or(0) as i64;
            if *i < 0 || *i >= n {
                return Err(Error::Missing(format!("index {} of `{}` is out of range 1..{n}", i + 1, k.name)));
            }
        }
        Ok(())
    }

    /// The value of one entry of a quantity, with its derivative along `seed`.
    pub fn quantity(&mut self, k: &QKey, seed: usize) -> Result<Dual> {
        if let Some(v) = self.cache.get(&(seed, k.clone())) {
            return Ok(*v);
        }
        self.check_range(k)?;
        crate::limits::check("the numbers")?;
        let is_seed = self.seeds[seed].as_ref() == Some(k);
        let decl_kind = self.model.decls.get(&k.name).map(|d| d.kind);
        let v = match decl_kind {
            Some(DeclKind::Param | DeclKind::Data) => {
                let arr = self.params.values.get(&k.name).ok_or_else(|| Error::Eval(format!("no value for `{}`", k.name)))?;
                let mut idx = vec![];
                if let Some(t) = k.time {
                    if t < 1 || t as usize > self.sizes.steps {
                        return Err(Error::Missing(format!("`{}` has no time step {t} (steps are 1..{})", k.name, self.sizes.steps)));
                    }
                    idx.push(t as usize - 1);
                }
                idx.extend(k.idx.iter().map(|i| *i as usize));
                let v = arr.get(&idx).ok_or_else(|| Error::Missing(format!("`{}` has no entry {:?}", k.name, idx)))?;
                Dual(v, if is_seed { 1.0 } else { 0.0 })
            }
            _ => {
                let v = self.defined(k, seed)?;
                if is_seed { Dual(v.0, 1.0) } else { v }
            }
        };
        self.cache.insert((seed, k.clone()), v);
        if seed == 0 && !self.position.contains_key(k) {
            self.position.insert(k.clone(), self.order.len());
            self.order.push(k.clone());
        }
        Ok(v)
    }

    /// ∂out/∂wrt by one reverse sweep over the quantities `out` depends on, for every entry of wrt's quantity at
    /// once (cached per `out` and that name). The sweep goes through the defined quantities and stops at
    /// parameters and data other than wrt's: nothing depends on them.
    fn adjoint(&mut self, out: &QKey, wrt: &QKey) -> Result<f64> {
        let cache_key = (out.clone(), wrt.name);
        if let Some(a) = self.adjoints.get(&cache_key) {
            return Ok(a.get(wrt).copied().unwrap_or(0.0));
        }
        self.quantity(out, 0)?;
        let end = self.position.get(out).copied().unwrap_or(0);
        let mut adj: HashMap<QKey, f64> = HashMap::default();
        adj.insert(out.clone(), 1.0);
        for i in (0..=end).rev() {
            crate::limits::check("the numbers")?;
            let q = self.order[i].clone();
            let Some(&aq) = adj.get(&q) else { continue };
            if matches!(self.model.decls.get(&q.name).map(|d| d.kind), Some(DeclKind::Param | DeclKind::Data)) {
                continue; // a parameter or a data value reads nothing
            }
            let partials = self.partials_of(&q)?;
            for (p, local) in partials.iter() {
                let leaf = matches!(self.model.decls.get(&p.name).map(|d| d.kind), Some(DeclKind::Param | DeclKind::Data));
                if (leaf && p.name != wrt.name) || *local == 0.0 {
                    continue;
                }
                *adj.entry(p.clone()).or_insert(0.0) += aq * local;
            }
        }
        let v = adj.get(wrt).copied().unwrap_or(0.0);
        self.adjoints.insert(cache_key, adj);
        Ok(v)
    }

    fn defined(&mut self, k: &QKey, seed: usize) -> Result<Dual> {
        let (di, mut env, free) = self.definition(k)?;
        let rhs = &self.model.defs[di].rhs;
        // (room for every node once: the table grew from empty for each quantity)
        let mut memo = HashMap::with_capacity_and_hasher(rhs.as_ref().len(), Default::default());
        self.eval(rhs, rhs.root(), &mut env, seed, &free, &mut memo)
    }

    /// The definition that gives `k` (its position in the model), the bindings of its time and index variables,
    /// and the free-index sets of its right-hand side.
    fn definition(&mut self, k: &QKey) -> Result<(usize, Env, std::rc::Rc<Free>)> {
        let model = self.model;
        for (di, d) in model.defs.iter().enumerate().filter(|(_, d)| d.name == k.name) {
            let mut env = Env::default();
            match (&d.time, k.time) {
                (None, None) => {}
                (Some(TimeSlot::Fixed(v)), Some(t)) if *v == t as f64 => {}
                (Some(TimeSlot::Var(s)), Some(t)) => env.push((*s, t)),
                _ => continue,
            }
            if !d.guards.iter().all(|(s, n)| lookup(&env, *s).is_some_and(|v| v as f64 > *n)) {
                continue;
            }
            if k.time.is_some_and(|t| t > self.sizes.steps as i64) {
                return Err(Error::Missing(format!("`{}` has no time step {} (steps are 0..{})", k.name, k.time.unwrap_or(0), self.sizes.steps)));
            }
            env.extend(d.idx.iter().copied().zip(k.idx.iter().map(|i| i + 1)));
            let free = match &self.def_free[di] {
                Some(f) => f.clone(),
                None => {
                    let f = std::rc::Rc::new(free_sets(&d.rhs));
                    self.def_free[di] = Some(f.clone());
                    f
                }
            };
            return Ok((di, env, free));
        }
        Err(match k.time {
            Some(t) => Error::Missing(format!("`{}` has no time step {t} (no definition of it applies there)", k.name)),
            None => Error::Eval(format!("no definition of `{}` applies", k.name)),
        })
    }
}

type Free = Vec<Vec<Symbol>>;
type Memo = HashMap<(Id, usize, Idx), Dual>;

fn sym(e: &RecExpr<Expr>, id: Id) -> Result<Symbol> {
    match &e[id] {
        Expr::Symbol(s) => Ok(*s),
        n => Err(Error::Eval(format!("expected a name or an index, found `{n}`"))),
    }
}

/// The free symbols of every node (what a memoised value depends on).
fn free_sets(e: &RecExpr<Expr>) -> Free {
    let mut out: Free = Vec::with_capacity(e.as_ref().len());
    for n in e.as_ref() {
        let mut f: Vec<Symbol> = vec![];
        let add = |f: &mut Vec<Symbol>, s: &Vec<Symbol>| {
            for x in s {
                if !f.contains(x) {
                    f.push(*x);
                }
            }
        };
        match n {
            Expr::Symbol(s) => f.push(*s),
            Expr::Sum([k, _, body]) => {
                add(&mut f, &out[usize::from(*body)]);
                if let Expr::Symbol(k) = &e[*k] {
                    f.retain(|x| x != k);
                }
            }
            Expr::TSum([k, lo, hi, body]) => {
                add(&mut f, &out[usize::from(*body)]);
                if let Expr::Symbol(k) = &e[*k] {
                    f.retain(|x| x != k);
                }
                add(&mut f, &out[usize::from(*lo)]);
                add(&mut f, &out[usize::from(*hi)]);
            }
            _ => {
                for c in index_children(n) {
                    add(&mut f, &out[usize::from(*c)]);
                }
            }
        }
        f.sort();
        out.push(f);
    }
    out
}

/// Central finite differences of L with respect to every entry of the parameter `wrt`, step `h`.
pub fn finite_differences(model: &Model, sizes: &Sizes, params: &Params, loss: Symbol, wrt: Symbol, h: f64) -> Result<Vec<f64>> {
    Ok(finite_differences_until(model, sizes, params, loss, wrt, h, &std::sync::atomic::AtomicBool::new(false))?.unwrap_or_default())
}

/// [`finite_differences`], given up (`None`) once `stop` is set (checked between evaluations of L, so that a
/// caller that runs it beside other work can end it when that work fails).
pub fn finite_differences_until(model: &Model, sizes: &Sizes, params: &Params, loss: Symbol, wrt: Symbol, h: f64, stop: &std::sync::atomic::AtomicBool) -> Result<Option<Vec<f64>>> {
    let arr = params.values.get(&wrt).ok_or_else(|| Error::Eval(format!("no parameter `{wrt}`")))?;
    let lk = QKey { name: loss, time: None, idx: Idx::new() };
    let mut out = vec![];
    for i in 0..arr.data.len() {
        let mut vals = [0.0; 2];
        for (j, sign) in [1.0, -1.0].into_iter().enumerate() {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                return Ok(None);
            }
            let mut p = params.clone();
            if let Some(a) = p.values.get_mut(&wrt) {
                a.data[i] += sign * h;
            }
            vals[j] = Numeric::new(model, sizes, &p).quantity(&lk, 0)?.0;
        }
        out.push((vals[0] - vals[1]) / (2.0 * h));
    }
    Ok(Some(out))
}
