//! Rule soundness at random points: each rule's left-hand side is instantiated with random terms of the right
//! kind (indices, time steps, quantities, expressions), the rule is applied by the stepper exactly as in a
//! derivation, and both sides are evaluated with random parameters. A rule whose sides differ is unsound.
use crate::eval::Numeric;
use crate::lang::{Expr, num};
use crate::params::{Params, Sizes};
use crate::plan::RuleUse;
use crate::rules::Rule;
use crate::rules::apply::Cond;
use crate::session::Session;
use crate::stepper::{Limits, Stats, run};
use egg::{Symbol, ENodeOrVar, Id, RecExpr, Var};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use std::collections::HashMap;

/// What the check found for one rule.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Both sides agreed on this many instances (each at several random parameter sets).
    Sound(usize),
    /// An instance where the two sides differ.
    Unsound { before: String, after: String, lhs: f64, rhs: f64 },
    /// No random instance made the rule fire.
    Untested,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Name(bool, usize),
    Time,
    Index,
    Binder,
    Dim,
    Wrt,
    Number,
    Scalar,
}

fn roles(rule: &Rule) -> HashMap<Var, Role> {
    let ast = rule.lhs.as_ref();
    let mut out: HashMap<Var, Role> = HashMap::new();
    let set = |c: Id, r: Role, out: &mut HashMap<Var, Role>| {
        if let ENodeOrVar::Var(v) = &ast[usize::from(c)] {
            let e = out.entry(*v).or_insert(r);
            if *e == Role::Scalar || (*e == Role::Index && r == Role::Binder) {
                *e = r;
            }
        }
    };
    for n in ast {
        let ENodeOrVar::ENode(n) = n else { continue };
        match n {
            Expr::Tx(ch) => {
                set(ch[0], Role::Name(true, ch.len() - 2), &mut out);
                set(ch[1], Role::Time, &mut out);
                ch[2..].iter().for_each(|c| set(*c, Role::Index, &mut out));
            }
            Expr::Ix(ch) => {
                set(ch[0], Role::Name(false, ch.len() - 1), &mut out);
                ch[1..].iter().for_each(|c| set(*c, Role::Index, &mut out));
            }
            Expr::Sum([k, d, b]) => {
                set(*k, Role::Binder, &mut out);
                set(*d, Role::Dim, &mut out);
                set(*b, Role::Scalar, &mut out);
            }
            Expr::TSum([k, lo, hi, b]) => {
                set(*k, Role::Binder, &mut out);
                set(*lo, Role::Time, &mut out);
                set(*hi, Role::Time, &mut out);
                set(*b, Role::Scalar, &mut out);
            }
            Expr::Delta([a, b]) => {
                set(*a, Role::Index, &mut out);
                set(*b, Role::Index, &mut out);
            }
            Expr::D([e, w]) => {
                set(*e, Role::Scalar, &mut out);
                set(*w, Role::Wrt, &mut out);
            }
            other => {
                for c in egg::Language::children(other) {
                    set(*c, Role::Scalar, &mut out);
                }
            }
        }
    }
    for c in &rule.conds {
        match c {
            // a number in a time slot is a time step
            Cond::Const(v) if out.get(v) != Some(&Role::Time) => {
                out.insert(*v, Role::Number);
            }
            Cond::Gt(v, _) | Cond::BeforeEnd(v) | Cond::AfterStart(v) => {
                out.insert(*v, Role::Time);
            }
            Cond::Adjacent(a, b) | Cond::Ordered(a, b) => {
                out.insert(*a, Role::Time);
                out.insert(*b, Role::Time);
            }
            _ => {}
        }
    }
    for v in crate::rules::parse::pattern_vars(&rule.lhs) {
        out.entry(v).or_insert(Role::Scalar);
    }
    out
}

struct Gen {
    rng: ChaCha8Rng,
    steps: usize,
    names: Names,
}

/// The model's names by the part they can play in a random instance, in declaration order (no Rust code names
/// them): square matrices over the first size (W⁽ʳ⁾), the other matrices, the quantities over time of the first
/// size (h, s: the last is the state passed on), vectors, the loss, and the first size.
struct Names {
    square: Vec<Symbol>,
    matrices: Vec<Symbol>,
    timed: Vec<Symbol>,
    vectors: Vec<Symbol>,
    loss: Symbol,
    dim: Symbol,
    /// Two free index names and two bound ones that are none of the model's names (an LSTM has a quantity i).
    free: [&'static str; 2],
    bound: [&'static str; 2],
}

/// Index letters for random instances, in order of preference; the model's names are skipped.
const INDEX_LETTERS: &str = "ijklpquvwabd";

impl Names {
    fn of(m: &crate::model::Model) -> Names {
        use crate::model::DeclKind;
        let dim = m.dims.first().map(|d| d.0).unwrap_or_else(|| Symbol::from("?"));
        let params = || m.order.iter().filter(|n| m.decls[*n].kind == DeclKind::Param);
        let square = m.recurrent_params().collect();
        let matrices = params().filter(|n| m.decls[*n].dims.len() == 2).copied().collect();
        let mut timed: Vec<(usize, Symbol)> = vec![];
        for d in &m.defs {
            let decl = &m.decls[&d.name];
            if decl.timed && decl.dims == [dim] && !timed.iter().any(|t| t.1 == d.name) {
                timed.push((timed.len(), d.name));
            }
        }
        let vectors = m.decls.iter().filter(|(_, d)| !d.timed && d.dims.len() == 1).map(|(n, _)| *n).collect();
        let mut letters = INDEX_LETTERS.chars().map(|c| Symbol::from(c.to_string())).filter(|l| !m.is_name(*l));
        let mut next = || letters.next().map(|l| l.as_str()).unwrap_or("?");
        let free = [next(), next()];
        let bound = [next(), next()];
        Names { square, matrices, timed: timed.into_iter().map(|t| t.1).collect(), vectors, loss: m.loss(), dim, free, bound }
    }
}

impl Gen {
    fn below(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
    fn pick_name(&mut self, xs: &[Symbol]) -> Symbol {
        xs.get(self.below(xs.len())).copied().unwrap_or_else(|| Symbol::from("?"))
    }
    fn first(xs: &[Symbol], k: usize) -> Symbol {
        xs.get(k).or(xs.last()).copied().unwrap_or_else(|| Symbol::from("?"))
    }
    fn time(&mut self) -> usize {
        1 + self.below(self.steps)
    }
    fn leaf(&mut self, out: &mut RecExpr<Expr>, idx: &[&str]) -> Id {
        let i = |g: &mut Gen, out: &mut RecExpr<Expr>| {
            let s = g.pick(idx);
            out.add(Expr::Symbol(s.into()))
        };
        match self.below(6) {
            0 => {
                let n = out.add(Expr::Symbol(Gen::first(&self.names.square, 0)));
                let (a, b) = (i(self, out), i(self, out));
                out.add(Expr::Ix(vec![n, a, b].into()))
            }
            1 | 2 => {
                let timed = self.names.timed.clone();
                let name = self.pick_name(&timed);
                let n = out.add(Expr::Symbol(name));
                let t = out.add(num(self.time() as f64));
                let a = i(self, out);
                out.add(Expr::Tx(vec![n, t, a].into()))
            }
            3 => {
                let wide: Vec<Symbol> = self.names.matrices.iter().filter(|m| !self.names.square.contains(m)).copied().collect();
                let n = out.add(Expr::Symbol(Gen::first(&wide, 0)));
                let (a, b) = (i(self, out), i(self, out));
                out.add(Expr::Ix(vec![n, a, b].into()))
            }
            4 => out.add(Expr::Symbol(self.names.loss)),
            _ => out.add(num([0.5, 2.0, -1.5, 3.0][self.below(4)])),
        }
    }
    fn scalar(&mut self, out: &mut RecExpr<Expr>, idx: &[&str], depth: usize) -> Id {
        if depth == 0 {
            return self.leaf(out, idx);
        }
        match self.below(7) {
            0 => {
                let (a, b) = (self.scalar(out, idx, depth - 1), self.scalar(out, idx, depth - 1));
                out.add(Expr::Mul([a, b]))
            }
            1 => {
                let (a, b) = (self.scalar(out, idx, depth - 1), self.scalar(out, idx, depth - 1));
                out.add(Expr::Add([a, b]))
            }
            2 => {
                let a = self.scalar(out, idx, depth - 1);
                out.add(Expr::Act(crate::notation::Act::FIRST, a))
            }
            3 => {
                let a = out.add(Expr::Symbol(self.pick(idx).into()));
                let b = out.add(Expr::Symbol(self.pick(&self.names.free.clone()).into()));
                let dl = out.add(Expr::Delta([a, b]));
                let x = self.scalar(out, idx, depth - 1);
                out.add(Expr::Mul([dl, x]))
            }
            _ => self.leaf(out, idx),
        }
    }
    fn wrt(&mut self, out: &mut RecExpr<Expr>) -> Id {
        let choice = self.below(3);
        let (name, timed) = match choice {
            0 => (Gen::first(&self.names.square, 0), false),
            k => (Gen::first(&self.names.timed, k - 1), true),
        };
        let n = out.add(Expr::Symbol(name));
        let a = out.add(Expr::Symbol(self.pick(&self.names.free.clone()).into()));
        if timed {
            let t = out.add(num(self.time() as f64));
            out.add(Expr::Tx(vec![n, t, a].into()))
        } else {
            let b = out.add(Expr::Symbol(self.pick(&self.names.free.clone()).into()));
            out.add(Expr::Ix(vec![n, a, b].into()))
        }
    }
}

/// The shapes some rules need before they can fire at all: a Σ body that ends in a factor over the Σ's own
/// index (so that `sum-merge` finds two sums ending in the same factor), and a term holding ∂X⁽ᵗ⁾/∂… for a
/// `reaches ?x ?t` condition.
struct Shapes {
    /// Body variable → binder variable, for every Σ of the pattern.
    bodies: HashMap<Var, Var>,
    /// ?x → ?t of each `reaches` condition.
    reaches: HashMap<Var, Var>,
    /// The factor every Σ body ends in (name, time), chosen once per instance.
    tail: (Symbol, usize),
}

fn shapes(rule: &Rule, g: &mut Gen) -> Shapes {
    let ast = rule.lhs.as_ref();
    let var = |c: &Id| match &ast[usize::from(*c)] {
        ENodeOrVar::Var(v) => Some(*v),
        _ => None,
    };
    let mut bodies = HashMap::new();
    for n in ast {
        if let ENodeOrVar::ENode(Expr::Sum([k, _, b])) = n
            && let (Some(k), Some(b)) = (var(k), var(b)) {
                bodies.insert(b, k);
            }
    }
    let reaches = rule.conds.iter().filter_map(|c| match c {
        Cond::Reaches(x, t) => Some((*x, *t)),
        _ => None,
    }).collect();
    let timed = g.names.timed.clone();
    let tail = (g.pick_name(&timed), g.time());
    Shapes { bodies, reaches, tail }
}

/// An instance for `@sum-collect`: c + Σ_k g(k) ∂X(k)/∂w + Σ_l h(l) ∂X(l)/∂w, two sums to collect across a chain.
fn collect_instance(g: &mut Gen, tail: (Symbol, usize)) -> RecExpr<Expr> {
    let mut out = RecExpr::default();
    let w = g.wrt(&mut out);
    let c = g.scalar(&mut out, &g.names.free.clone(), 2);
    let mut sums = vec![];
    for k in g.names.bound {
        let pool = [g.names.free[0], g.names.free[1], k];
        let x = g.scalar(&mut out, &pool, 2);
        let n = out.add(Expr::Symbol(tail.0));
        let t = out.add(num(tail.1 as f64));
        let kk = out.add(Expr::Symbol(k.into()));
        let q = out.add(Expr::Tx(vec![n, t, kk].into()));
        let d = out.add(Expr::D([q, w]));
        let body = out.add(Expr::Mul([x, d]));
        let kb = out.add(Expr::Symbol(k.into()));
        let dim = out.add(Expr::Symbol(g.names.dim));
        sums.push(out.add(Expr::Sum([kb, dim, body])));
    }
    let x = out.add(Expr::Add([c, sums[0]]));
    out.add(Expr::Add([x, sums[1]]));
    out
}

fn instantiate(rule: &Rule, roles: &HashMap<Var, Role>, g: &mut Gen) -> RecExpr<Expr> {
    let binders: Vec<&str> = g.names.bound.to_vec();
    let shape = shapes(rule, g);
    if matches!(&rule.rhs, crate::rules::parse::Rhs::Applier(a, _) if a == "sum-collect") {
        return collect_instance(g, shape.tail);
    }
    let mut out = RecExpr::default();
    let mut vars: HashMap<Var, Id> = HashMap::new();
    // times are picked first, so that a `reaches ?x ?t` term can use ?t's value
    let mut times: HashMap<Var, usize> = HashMap::new();
    for v in crate::rules::parse::pattern_vars(&rule.lhs) {
        if roles.get(&v) == Some(&Role::Time) {
            times.insert(v, g.time());
        }
    }
    // most draws honour the time conditions (`adjacent`, `ordered`), so that rules guarded by them fire
    if g.below(4) != 0 {
        for c in &rule.conds {
            if let Cond::Adjacent(a, b) = c
                && let (Some(x), Some(_)) = (times.get(a).copied(), times.get(b)) {
                    if x < g.steps {
                        times.insert(*b, x + 1);
                    } else {
                        times.insert(*a, x - 1);
                        times.insert(*b, x);
                    }
                }
        }
        for c in &rule.conds {
            if let Cond::Ordered(a, b) = c
                && let (Some(x), Some(y)) = (times.get(a).copied(), times.get(b).copied())
                && x > y {
                    times.insert(*a, y);
                    times.insert(*b, x);
                }
        }
    }
    let mut names: HashMap<Var, &str> = HashMap::new();
    let mut map: Vec<Id> = vec![];
    let mut bi = 0;
    let mut pool: Vec<&str> = g.names.free.to_vec();
    for n in rule.lhs.as_ref() {
        let id = match n {
            ENodeOrVar::Var(v) => match vars.get(v) {
                Some(id) => *id,
                None => {
                    let id = match roles.get(v).copied().unwrap_or(Role::Scalar) {
                        Role::Binder => {
                            let b = binders[bi % binders.len()];
                            bi += 1;
                            pool.push(b);
                            names.insert(*v, b);
                            out.add(Expr::Symbol(b.into()))
                        }
                        Role::Index => {
                            let s = g.pick(&pool);
                            out.add(Expr::Symbol(s.into()))
                        }
                        Role::Time => out.add(num(times.get(v).copied().unwrap_or(1) as f64)),
                        Role::Dim => out.add(Expr::Symbol(g.names.dim)),
                        Role::Number => out.add(num([0.5, 2.0, 3.0, 1.0, 0.0][g.below(5)])),
                        Role::Name(true, _) => {
                            let timed = g.names.timed.clone();
                            out.add(Expr::Symbol(g.pick_name(&timed)))
                        }
                        Role::Name(false, 2) => {
                            let m = g.names.matrices.clone();
                            out.add(Expr::Symbol(g.pick_name(&m)))
                        }
                        Role::Name(false, _) => {
                            let v = g.names.vectors.clone();
                            out.add(Expr::Symbol(g.pick_name(&v)))
                        }
                        Role::Wrt => g.wrt(&mut out),
                        Role::Scalar => {
                            let p = pool.clone();
                            let x = g.scalar(&mut out, &p, 2);
                            let binder = shape.bodies.get(v).and_then(|k| names.get(k)).filter(|_| g.below(2) == 0);
                            if let Some(k) = binder {
                                let (name, t) = shape.tail;
                                let n = out.add(Expr::Symbol(name));
                                let t = out.add(num(t as f64));
                                let k = out.add(Expr::Symbol((*k).into()));
                                let tail = out.add(Expr::Tx(vec![n, t, k].into()));
                                out.add(Expr::Mul([x, tail]))
                            } else if let Some(t) = shape.reaches.get(v).and_then(|t| times.get(t)) {
                                // the state passed on: the last quantity over time of the first size
                                let n = out.add(Expr::Symbol(Gen::first(&g.names.timed, usize::MAX)));
                                let t = out.add(num(*t as f64));
                                let i = out.add(Expr::Symbol(g.pick(&p).into()));
                                let q = out.add(Expr::Tx(vec![n, t, i].into()));
                                let w = g.wrt(&mut out);
                                let d = out.add(Expr::D([q, w]));
                                let y = g.scalar(&mut out, &p, 1);
                                let dy = out.add(Expr::Mul([y, d]));
                                out.add(Expr::Add([x, dy]))
                            } else {
                                x
                            }
                        }
                    };
                    vars.insert(*v, id);
                    id
                }
            },
            ENodeOrVar::ENode(e) => out.add(egg::Language::map_children(e.clone(), |c| map[usize::from(c)])),
        };
        map.push(id);
    }
    // re-root: the last node added for the pattern's root
    let root = map.last().copied().unwrap_or(Id::from(0usize));
    crate::lang::sub_expr(&out, root)
}

/// How far the two sides of a sound rule may differ: f64 rounding, relative per entry.
pub const SOUND_TOL: f64 = 1e-12;

/// Check one rule at random points. `tries` instantiations are attempted; each instance that fires is
/// evaluated with `param_sets` random parameter sets.
pub fn check_rule(s: &Session, rule: &Rule, seed: u64, tries: usize, param_sets: usize) -> Verdict {
    let roles = roles(rule);
    let mut g = Gen { rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed), steps: s.sizes.steps, names: Names::of(&s.model) };
    let n = 2usize;
    // every size equal (every instance can be evaluated), and every size different (a rule that confuses two
    // sizes, Σ over n_h for Σ over n_x, shows itself only there): the tries alternate between the two
    let equal = Sizes { steps: s.sizes.steps, dims: s.sizes.dims.keys().map(|k| (*k, n)).collect() };
    let distinct = Sizes { steps: s.sizes.steps, dims: s.sizes.dims.keys().enumerate().map(|(j, k)| (*k, n + j)).collect() };
    let sets = |sizes: &Sizes| -> Vec<Params> { (0..param_sets).map(|p| Params::random(&s.model, sizes, seed.wrapping_add(p as u64 * 7919))).collect() };
    let (equal_sets, distinct_sets) = (sets(&equal), sets(&distinct));
    let mut fired = 0;
    for t in 0..tries {
        let (sizes, param_sets) = if t % 2 == 0 { (&equal, &equal_sets) } else { (&distinct, &distinct_sets) };
        let before = instantiate(rule, &roles, &mut g);
        let uses = [RuleUse { name: rule.name.clone(), limit: Some(1) }];
        let Ok(steps) = run(&before, &uses, &s.rules, &Default::default(), Limits::default(), &mut Stats::default(), "soundness") else { continue };
        let Some(after) = steps.first().map(|x| x.term.clone()) else { continue };
        let mut all_ok = true;
        for p in param_sets {
            let mut num = Numeric::new(&s.model, sizes, p);
            num.default_dim = Some(n);
            let idx = num.free_of(&before);
            let Ok(dims) = num.index_dims(&before, &idx) else { all_ok = false; break };
            let (Ok(a), Ok(b)) = (num.tensor_with(&before, &idx, &dims, &[]), num.tensor_with(&after, &idx, &dims, &[])) else {
                all_ok = false;
                break;
            };
            if a.data.iter().any(|v| !v.is_finite()) {
                all_ok = false;
                break;
            }
            // both sides are computed in f64 from the same numbers: they agree to rounding, 1e-12 relative per
            // entry (plus 1e-12 of the largest entry for entries near zero); a rule off by 1e-10 is unsound
            let scale = a.data.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            if let Some((x, y)) = a.data.iter().zip(&b.data).find(|(x, y)| !((*x - *y).abs() <= SOUND_TOL * (x.abs().max(y.abs()) + scale))) {
                let show = |e: &RecExpr<Expr>| crate::print::render(e, crate::print::Style::Ascii, 200);
                return Verdict::Unsound { before: show(&before), after: show(&after), lhs: *x, rhs: *y };
            }
        }
        if all_ok {
            fired += 1;
        }
    }
    if fired == 0 { Verdict::Untested } else { Verdict::Sound(fired) }
}
