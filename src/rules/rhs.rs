//! Right-hand sides: a pattern's instance (with fresh bound indices for its extra variables), and how a
//! right-hand side becomes the new form of the matched class — united with it in a fresh e-graph, recorded in the
//! stepper's pool ([`crate::lang::Meta::record`]).
use crate::lang::{EG, Expr};
use egg::{Applier, Id, Language, Pattern, PatternAst, RecExpr, Subst, Symbol, Var};
use std::collections::BTreeSet;

/// The letters a fresh bound index is chosen from, in order (then a1, b1, …).
const POOL: &str = crate::lang::LETTERS;

/// A bound-index name that occurs nowhere in the e-graph and is not reserved: `preferred` if possible, else the
/// first free letter of a fixed pool (a, b, c, d, e, …, as the blog names its levels), then a1, b1, …. A new
/// level's index (`new_level`: an unfolded definition's Σ) also avoids every letter earlier steps showed, so that
/// a letter is never reused for another sum. Deterministic.
pub fn fresh_symbol(eg: &EG, preferred: Symbol, new_level: bool) -> Symbol {
    let a = &eg.analysis;
    match &a.live {
        Some(live) => {
            let used = |s: Symbol| a.reserved.contains(&s) || (new_level && a.shown.contains(&s)) || live.contains(&s);
            if !preferred.as_str().is_empty() && !used(preferred) {
                return preferred;
            }
            // the first name of the sequence that none of the three sets holds, found by their places
            let (reserved, shown) = a.fixed_places.get_or_init(|| (crate::lang::Places::of(&a.reserved), crate::lang::Places::of(&a.shown)));
            let at = if new_level { crate::lang::Places::first_free(&[live.places(), reserved, shown]) } else { crate::lang::Places::first_free(&[live.places(), reserved]) };
            crate::lang::name_at(at)
        }
        None => {
            let mut used: BTreeSet<Symbol> = a.reserved.clone();
            if new_level {
                used.extend(a.shown.iter().copied());
            }
            for class in eg.classes() {
                for n in &class.nodes {
                    if let Expr::Symbol(s) = n {
                        used.insert(*s);
                    }
                }
            }
            pick_symbol(Some(preferred), |s| used.contains(&s))
        }
    }
}

/// `preferred` if it is not in `used`, else the first unused name of the pool.
pub fn pick_name(used: &BTreeSet<Symbol>, preferred: &str) -> Symbol {
    pick(preferred, |s| used.contains(&s))
}

/// The pool's first-round names as symbols (interned once: a fresh name is picked at many steps).
static FIRST_ROUND: std::sync::LazyLock<Vec<Symbol>> = std::sync::LazyLock::new(|| POOL.chars().map(|c| Symbol::from(c.to_string())).collect());

fn pick(preferred: &str, used: impl Fn(Symbol) -> bool) -> Symbol {
    pick_symbol((!preferred.is_empty()).then(|| Symbol::from(preferred)), used)
}

/// [`pick`] with the preferred name interned already (a rule's fresh variables are named once, when it is read).
fn pick_symbol(preferred: Option<Symbol>, used: impl Fn(Symbol) -> bool) -> Symbol {
    if let Some(p) = preferred
        && !p.as_str().is_empty()
        && !used(p)
    {
        return p;
    }
    if let Some(s) = FIRST_ROUND.iter().copied().find(|s| !used(*s)) {
        return s;
    }
    for round in 1.. {
        for p in POOL.chars() {
            let name = Symbol::from(format!("{p}{round}"));
            if !used(name) {
                return name;
            }
        }
    }
    unreachable!("the name pool is unbounded")
}

pub(crate) fn union_term(eg: &mut EG, eclass: Id, term: &RecExpr<Expr>) -> Vec<Id> {
    let id = eg.add_expr(term);
    for n in term.as_ref() {
        note_symbol(eg, n);
    }
    join(eg, eclass, id)
}

/// A node put into the stepper's pool during a step: a symbol in it is in use from now on (a fresh e-graph
/// would list it among its classes).
pub(crate) fn note_symbol(eg: &mut EG, n: &Expr) {
    if let (Some(live), Expr::Symbol(s)) = (&mut eg.analysis.live, n)
        && live.insert(*s)
    {
        eg.analysis.live_added.push(*s);
    }
}

/// Make the right-hand side `id` the new form of the matched class: unite the two, or (in the stepper's pool,
/// which is never united) record the pair.
pub(crate) fn join(eg: &mut EG, eclass: Id, id: Id) -> Vec<Id> {
    if let Some(rec) = &mut eg.analysis.record {
        rec.push((eclass, id));
        return if eclass == id { vec![] } else { vec![eclass] };
    }
    if eg.union(eclass, id) { vec![eclass] } else { vec![] }
}

/// Add a pattern's instance under `subst`.
fn instantiate(eg: &mut EG, pat: &Pattern<Expr>, subst: &Subst) -> Id {
    let mut ids: Vec<Id> = Vec::with_capacity(pat.ast.as_ref().len());
    for n in pat.ast.as_ref() {
        let id = match n {
            egg::ENodeOrVar::Var(v) => subst[*v],
            egg::ENodeOrVar::ENode(e) => {
                note_symbol(eg, e);
                eg.add(e.clone().map_children(|c| ids[usize::from(c)]))
            }
        };
        ids.push(id);
    }
    ids.last().copied().unwrap_or(Id::from(0usize))
}

/// A pattern right-hand side; its extra variables (if any) are new bound indices (e.g. the `?k` of a new Σ).
pub struct Fresh {
    pub pat: Pattern<Expr>,
    pub fresh: Vec<(Var, Symbol)>,
    /// The new indices name a new level ([`fresh_symbol`]).
    pub new_level: bool,
}

impl Applier<Expr, crate::lang::Meta> for Fresh {
    fn apply_one(&self, eg: &mut EG, eclass: Id, subst: &Subst, _: Option<&PatternAst<Expr>>, _: Symbol) -> Vec<Id> {
        let mut s = subst.clone();
        for (v, pref) in &self.fresh {
            let sym = fresh_symbol(eg, *pref, self.new_level);
            note_symbol(eg, &Expr::Symbol(sym));
            let id = eg.add(Expr::Symbol(sym));
            s.insert(*v, id);
        }
        let id = instantiate(eg, &self.pat, &s);
        join(eg, eclass, id)
    }
    fn vars(&self) -> Vec<Var> {
        self.pat.vars().into_iter().filter(|v| !self.fresh.iter().any(|(f, _)| f == v)).collect()
    }
}
