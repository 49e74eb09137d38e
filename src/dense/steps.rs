//! The compiled run of the recursions: every quantity over time forward (t = 0 … T), then every ∂L/∂q⁽ᵏ⁾ a side
//! equation gives backward, each step one run of its program written into the store; and the closed form's
//! Σ over time from the stored steps. A step that a program needs and that is not stored yet is computed first
//! (as the interpreter's memo would), to a small depth. Any error discards the compiled run: the interpreter
//! then does it all, and gives the error where it arises.
use super::array::D;
use super::program::{Compiled, Kind, Memo, Program};
use super::{Dense, NO_TIME};
use crate::error::{Error, Result};
use egg::{Language, RecExpr, Symbol};
use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

/// How many steps not yet computed a run may call for, one inside another.
const MAX_DEPTH: usize = 32;

fn busy() -> Error {
    Error::Eval("a recursion needs its own step".into())
}

impl<'a> Dense<'a> {
    /// Fill the store by compiled programs; false (and no store) when the interpreter must do it.
    pub(super) fn warm_compiled(&mut self) -> bool {
        let ok = matches!(self.try_warm(), Ok(true));
        if !ok {
            self.compiled = None;
            self.quantities.clear();
            self.grads.clear();
        }
        ok
    }

    fn try_warm(&mut self) -> Result<bool> {
        let steps = self.sizes.steps;
        let timed = self.timed_quantities();
        let size = |d: &Dense, n: Symbol| d.model.decls.get(&n).map(|x| x.dims.iter().map(|s| d.dim_of(*s)).product::<usize>());
        let mut c = Compiled::default();
        for q in &timed {
            c.values.add(*q, size(self, *q).unwrap_or(0), steps)?;
        }
        for s in &self.sides {
            if c.grads.slot(s.name).is_none() {
                let Some(n) = size(self, s.name) else { return Ok(false) };
                c.grads.add(s.name, n, steps)?;
            }
        }
        self.compiled = Some(c);
        // every definition over time and every side equation compiles, each to its declared shape, or none runs
        let model = self.model;
        let mut defs = vec![];
        for d in &model.defs {
            let var = match &d.time {
                None => {
                    defs.push(None);
                    continue;
                }
                Some(crate::model::TimeSlot::Var(s)) => Some(*s),
                Some(crate::model::TimeSlot::Fixed(_)) => None,
            };
            if !timed.contains(&d.name) {
                return Ok(false);
            }
            let dims = self.index_dims(&d.rhs);
            let Some(p) = self.compile(&d.rhs, var, Some(&d.idx), &dims) else { return Ok(false) };
            if !self.declared(d.name, &p) {
                return Ok(false);
            }
            defs.push(Some(p));
        }
        let mut sides = vec![];
        for s in &self.sides {
            let var = s.time.err().map(|x| x.0);
            let Some(p) = self.compile(&s.rhs, var, Some(&s.idx), &s.dims) else { return Ok(false) };
            if !self.declared(s.name, &p) {
                return Ok(false);
            }
            sides.push(Some(p));
        }
        if let Some(c) = self.compiled.as_mut() {
            (c.defs, c.sides) = (defs, sides);
        }
        for t in 0..=steps as i64 {
            crate::limits::check("the numbers")?;
            for (slot, q) in timed.iter().enumerate() {
                if self.def_for(*q, t).is_some() {
                    self.ensure_value(slot, *q, t)?;
                }
            }
        }
        for (t, q) in self.covered() {
            crate::limits::check("the numbers")?;
            let slot = self.compiled.as_ref().and_then(|c| c.grads.slot(q)).ok_or_else(busy)?;
            self.ensure_grad(slot, q, t)?;
        }
        Ok(true)
    }

    /// The program's result has the declared sizes of `name`.
    fn declared(&self, name: Symbol, p: &Program) -> bool {
        self.model.decls.get(&name).is_some_and(|d| d.dims.len() == p.dims.len() && d.dims.iter().zip(&p.dims).all(|(s, n)| self.dim_of(*s) == *n))
    }

    /// The names each side equation covers, by step (a side equation per step, or one for a range of k), the
    /// latest step first: the order the backward recursion runs in.
    pub(super) fn covered(&self) -> Vec<(i64, Symbol)> {
        let steps = self.sizes.steps as i64;
        let mut covered: Vec<(i64, usize, Symbol)> = vec![];
        for (at, s) in self.sides.iter().enumerate() {
            let (lo, hi) = match s.time {
                Ok(t) => (t, t),
                Err((_, lo, hi)) => (lo, hi),
            };
            covered.extend((lo.max(1)..=hi.min(steps)).map(|t| (t, at, s.name)));
        }
        // by step, latest first; within a step in the order of the side equations
        covered.sort_by_key(|(t, at, _)| (std::cmp::Reverse(*t), *at));
        covered.into_iter().map(|(t, _, q)| (t, q)).collect()
    }

    /// Run program `which` (a definition's or a side equation's) at `t` and store its result.
    fn run_into(&mut self, which: (bool, usize), kind: Kind, slot: usize, t: i64) -> Result<()> {
        let c = self.compiled.as_mut().ok_or_else(busy)?;
        if c.depth >= MAX_DEPTH {
            return Err(busy());
        }
        let cell = if which.0 { c.defs.get_mut(which.1) } else { c.sides.get_mut(which.1) };
        let mut p = cell.and_then(Option::take).ok_or_else(busy)?;
        c.depth += 1;
        let r = self.run(&mut p, t);
        let c = self.compiled.as_mut().ok_or_else(busy)?;
        c.depth -= 1;
        let done = r.and_then(|key| {
            // the result straight from its buffer; copied first only when it is itself a stored step
            let v = match p.own_result() {
                Some(v) => std::borrow::Cow::Borrowed(v),
                None => std::borrow::Cow::Owned(p.result(c).to_vec()),
            };
            c.slots_mut(kind).put(slot, t as usize, &v)?;
            if let Some(key) = key {
                c.memo.insert(key, Memo::Stored(kind, slot, t as usize));
            }
            Ok(())
        });
        let cell = if which.0 { c.defs.get_mut(which.1) } else { c.sides.get_mut(which.1) };
        if let Some(cell) = cell {
            *cell = Some(p);
        }
        done
    }

    /// The quantity `name` (stored in `slot`) at step t, computed if it is not stored yet.
    pub(super) fn ensure_value(&mut self, slot: usize, name: Symbol, t: i64) -> Result<()> {
        if t >= 0 && self.compiled.as_ref().and_then(|c| c.values.get(slot, t as usize)).is_some() {
            return Ok(());
        }
        let (di, _) = self.def_for(name, t).filter(|_| t >= 0).ok_or_else(|| Error::Eval(format!("`{name}` has no time step {t}")))?;
        self.run_into((true, di), Kind::Value, slot, t)
    }

    /// ∂L/∂name at step t in the store (computed by its side equation if need be); false when no side
    /// equation gives it (the interpreter's reference value is used).
    pub(super) fn ensure_grad(&mut self, slot: usize, name: Symbol, t: i64) -> Result<bool> {
        if t < 0 {
            return Ok(false);
        }
        if self.compiled.as_ref().and_then(|c| c.grads.get(slot, t as usize)).is_some() {
            return Ok(true);
        }
        let Some(at) = self.side_for(name, t) else { return Ok(false) };
        self.run_into((false, at), Kind::Grad, slot, t)?;
        Ok(true)
    }

    /// A stored step as an array (over placeholder axes) for the interpreter.
    pub(super) fn stored(&self, kind: Kind, name: Symbol, t: i64) -> Option<Rc<D>> {
        let c = self.compiled.as_ref()?;
        let slots = c.slots(kind);
        let v = slots.get(slots.slot(name)?, usize::try_from(t).ok()?)?;
        let decl = self.model.decls.get(&name)?;
        let dims: Vec<usize> = decl.dims.iter().map(|d| self.dim_of(*d)).collect();
        Some(Rc::new(D { idx: super::placeholder_axes(dims.len()), dims, data: Rc::new(v.to_vec()) }))
    }

    /// Σ_{k=lo}^{hi} of `body` by one compiled program, when it compiles and runs: each step's result,
    /// accumulated as the interpreter does (the first step's numbers, then each next one added in place).
    pub(super) fn compiled_sum(&mut self, e: &RecExpr<crate::lang::Expr>, body: egg::Id, k: Symbol, (lo, hi): (i64, i64), dims: &HashMap<Symbol, usize>) -> Option<D> {
        let mut p = self.compile_part(e, body, k, dims)?;
        let mut acc: Vec<f64> = vec![];
        for t in lo..=hi {
            crate::limits::check("the numbers").ok()?;
            self.run(&mut p, t).ok()?;
            let v = p.result(self.compiled.as_ref()?);
            if t == lo {
                acc = v.to_vec();
            } else {
                acc.iter_mut().zip(v).for_each(|(x, y)| *x += y);
            }
        }
        (hi >= lo).then(|| D { idx: p.idx.clone(), dims: p.dims.clone(), data: Rc::new(acc) })
    }

    /// Σ_{k=lo}^{hi} x⁽ᵏ⁾ ⊗ y⁽ᵏ⁾ by compiled programs and one matrix product; None when a program does not
    /// compile or run, or the axes are not an outer product. A factor that is a stored quantity or data at
    /// k + c is read where it lies (its steps are side by side); any other is gathered step by step.
    pub(super) fn compiled_outer(&mut self, e: &RecExpr<crate::lang::Expr>, (x, y): (egg::Id, egg::Id), k: Symbol, (lo, hi): (i64, i64), dims: &HashMap<Symbol, usize>) -> Option<D> {
        let (mut px, mut py) = (self.compile_part(e, x, k, dims)?, self.compile_part(e, y, k, dims)?);
        if px.idx.iter().any(|s| py.idx.contains(s)) || px.idx.is_empty() || py.idx.is_empty() || hi < lo {
            return None;
        }
        let steps = usize::try_from(hi - lo + 1).ok()?;
        let (mut ga, mut gb) = (vec![], vec![]);
        for (p, rows) in [(&mut px, &mut ga), (&mut py, &mut gb)] {
            let direct = p.rows_at().is_some();
            if !direct {
                rows.reserve(p.dims.iter().product::<usize>().saturating_mul(steps));
            }
            for t in lo..=hi {
                crate::limits::check("the numbers").ok()?;
                self.run(p, t).ok()?;
                if !direct {
                    rows.extend_from_slice(p.result(self.compiled.as_ref()?));
                }
            }
        }
        let c = self.compiled.as_ref()?;
        let ra = if px.rows_at().is_some() { px.rows(c, self.sizes.steps, (lo, hi))? } else { &ga };
        let rb = if py.rows_at().is_some() { py.rows(c, self.sizes.steps, (lo, hi))? } else { &gb };
        D::outer_sum((&px.idx, &px.dims), (&py.idx, &py.dims), ra, rb)
    }

    /// A sub-expression of `e` (a Σ's body) compiled on its own, at the Σ's index.
    fn compile_part(&self, e: &RecExpr<crate::lang::Expr>, at: egg::Id, k: Symbol, dims: &HashMap<Symbol, usize>) -> Option<Program<'a>> {
        self.compiled.as_ref()?;
        let part = e[at].build_recexpr(|id| e[id].clone());
        self.compile(&part, Some(k), None, dims)
    }

    /// The definition of `name` at step t (the first that applies, as the interpreter picks), and its time
    /// variable.
    pub(super) fn def_for(&self, name: Symbol, t: i64) -> Option<(usize, Option<Symbol>)> {
        use crate::model::TimeSlot;
        self.model.defs.iter().enumerate().filter(|(_, d)| d.name == name).find_map(|(di, d)| match (&d.time, t) {
            (None, NO_TIME) => Some((di, None)),
            (Some(TimeSlot::Fixed(v)), t) if *v == t as f64 => Some((di, None)),
            (Some(TimeSlot::Var(s)), t) if t != NO_TIME && d.guards.iter().all(|(g, n)| *g != *s || t as f64 > *n) => Some((di, Some(*s))),
            _ => None,
        })
    }

    /// The side equation that gives ∂L/∂name at step t (the first, as the interpreter picks).
    pub(super) fn side_for(&self, name: Symbol, t: i64) -> Option<usize> {
        self.sides.iter().position(|s| {
            s.name == name
                && match s.time {
                    Ok(v) => v == t,
                    Err((_, lo, hi)) => (lo..=hi).contains(&t),
                }
        })
    }
}
