//! Reverse mode through one definition: the local partials ∂Q/∂P of a quantity Q with respect to every quantity
//! P its definition reads, in one backward pass over the definition (values from the memoised forward
//! evaluation). The sweep over the model's quantities ([`Numeric::adjoint`]) chains these.
use super::{Env, Free, Memo, Numeric, QKey, lookup};
use crate::error::{Error, Result};
use crate::lang::Expr;
use egg::{Id, RecExpr};
use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

impl Numeric<'_> {
    /// ∂q/∂p for every quantity p that q's definition reads (a p read in several places is listed once per
    /// place; the sweep adds them up). Computed once per q.
    pub(super) fn partials_of(&mut self, q: &QKey) -> Result<Rc<Vec<(QKey, f64)>>> {
        if let Some(p) = self.partials.get(q) {
            return Ok(p.clone());
        }
        let (di, mut env, free) = self.definition(q)?;
        let rhs = &self.model.defs[di].rhs;
        let mut memo = HashMap::default();
        let mut out = vec![];
        self.back(rhs, rhs.root(), &mut env, 1.0, &free, &mut memo, &mut out)?;
        let out = Rc::new(out);
        self.partials.insert(q.clone(), out.clone());
        Ok(out)
    }

    /// Add `bar` × ∂(node `id`)/∂P to `out` for every quantity P read below `id`.
    #[allow(clippy::too_many_arguments)]
    fn back(&mut self, e: &RecExpr<Expr>, id: Id, env: &mut Env, bar: f64, free: &Free, memo: &mut Memo, out: &mut Vec<(QKey, f64)>) -> Result<()> {
        let mut val = |this: &mut Self, c: Id, env: &mut Env| this.eval(e, c, env, 0, free, memo).map(|d| d.0);
        match &e[id] {
            Expr::Num(_) | Expr::Delta(_) => {}
            Expr::Symbol(s) => {
                if lookup(env, *s).is_none() {
                    out.push((QKey { name: *s, time: None, idx: Default::default() }, bar));
                }
            }
            Expr::Add([a, b]) => {
                self.back(e, *a, env, bar, free, memo, out)?;
                self.back(e, *b, env, bar, free, memo, out)?;
            }
            Expr::Sub([a, b]) => {
                self.back(e, *a, env, bar, free, memo, out)?;
                self.back(e, *b, env, -bar, free, memo, out)?;
            }
            Expr::Mul([a, b]) => {
                let (x, y) = (val(self, *a, env)?, val(self, *b, env)?);
                self.back(e, *a, env, bar * y, free, memo, out)?;
                self.back(e, *b, env, bar * x, free, memo, out)?;
            }
            Expr::Neg(a) => self.back(e, *a, env, -bar, free, memo, out)?,
            Expr::Pow([a, b]) => {
                let (x, y) = (val(self, *a, env)?, val(self, *b, env)?);
                self.back(e, *a, env, bar * y * x.powf(y - 1.0), free, memo, out)?;
                self.back(e, *b, env, bar * x.powf(y) * x.ln(), free, memo, out)?;
            }
            Expr::Exp(a) => {
                let x = val(self, *a, env)?;
                self.back(e, *a, env, bar * x.exp(), free, memo, out)?;
            }
            Expr::Log(a) => {
                let x = val(self, *a, env)?;
                self.back(e, *a, env, bar / x, free, memo, out)?;
            }
            Expr::Recip(a) => {
                let x = val(self, *a, env)?;
                self.back(e, *a, env, -bar / (x * x), free, memo, out)?;
            }
            Expr::Act(f, a) => {
                let (_, df, _) = f.eval(val(self, *a, env)?);
                self.back(e, *a, env, bar * df, free, memo, out)?;
            }
            Expr::DAct(f, a) => {
                let (_, _, ddf) = f.eval(val(self, *a, env)?);
                self.back(e, *a, env, bar * ddf, free, memo, out)?;
            }
            Expr::D(_) => return Err(Error::Eval("a model definition cannot hold a derivative".into())),
            Expr::Sum([.., body]) | Expr::TSum([.., body]) => {
                let (k, range) = self.bound_range(e, id, env, free, memo)?;
                for v in range {
                    env.push((k, v));
                    let r = self.back(e, *body, env, bar, free, memo, out);
                    env.pop();
                    r?;
                }
            }
            Expr::Ix(_) | Expr::Tx(_) => {
                let k = self.key(e, id, env, free, memo)?;
                out.push((k, bar));
            }
        }
        Ok(())
    }
}
