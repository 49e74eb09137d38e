//! What the stepper's pool needs to know about a rule besides its pattern: whether the order of its matches can
//! change a step, how far below a class it reads (so how far above a change its misses go stale), and a quick
//! test of a pattern's operators against a class before egg's matcher runs.
use crate::lang::{EG, Expr};
use egg::{Id, Language};

/// Does the order in which `rule`'s matches are applied matter? A right-hand side with variables the left one
/// does not bind picks fresh names (each avoiding the names picked before it in the step); a named applier says
/// whether it may be applied in any order ([`crate::rules::apply::ApplierKind::any_order`]). Other rules give the
/// same result in any order.
pub(super) fn order_matters(rule: &crate::rules::Rule) -> bool {
    match &rule.rhs {
        crate::rules::parse::Rhs::Applier(name, args) => {
            !crate::rules::apply::applier(name, args.len()).is_some_and(|k| k.any_order)
        }
        crate::rules::parse::Rhs::Pattern(rhs) => {
            let bound = crate::rules::parse::pattern_vars(&rule.lhs);
            crate::rules::parse::pattern_vars(rhs).iter().any(|v| !bound.contains(v))
        }
    }
}

/// Does `rule`'s named applier work only on the outermost of nested matches
/// ([`crate::rules::apply::ApplierKind::outermost`])?
pub(super) fn outermost(rule: &crate::rules::Rule) -> bool {
    match &rule.rhs {
        crate::rules::parse::Rhs::Applier(name, args) => crate::rules::apply::applier(name, args.len()).is_some_and(|k| k.outermost),
        crate::rules::parse::Rhs::Pattern(_) => false,
    }
}

/// How far below the matched class `rule` reads: its pattern's depth and two levels more (a condition or an
/// applier may look at a bound class's node and its children's data, e.g. `not-self`, `@d-leaf`); `None` when
/// a condition or its applier reads a whole subterm (`no-d`, `reaches`, `has-delta`; a named applier that is not
/// [`crate::rules::apply::ApplierKind::shallow`]).
pub(super) fn reach(rule: &crate::rules::Rule) -> Option<usize> {
    if rule.conds.iter().any(|c| c.reads_deep()) {
        return None;
    }
    if let crate::rules::parse::Rhs::Applier(name, args) = &rule.rhs
        && !crate::rules::apply::applier(name, args.len()).is_some_and(|k| k.shallow)
    {
        return None;
    }
    fn depth(p: &[egg::ENodeOrVar<Expr>], at: usize) -> usize {
        match &p[at] {
            egg::ENodeOrVar::ENode(n) => 1 + n.children().iter().map(|c| depth(p, usize::from(*c))).max().unwrap_or(0),
            egg::ENodeOrVar::Var(_) => 0,
        }
    }
    let p = rule.lhs.as_ref();
    Some(p.len().checked_sub(1).map_or(0, |top| depth(p, top)) + 2)
}

/// Can the pattern node `at` match the pool class `id`, judging by operators down to `depth` levels? (A pool
/// class has one node, so this only skips classes egg's matcher would reject.)
pub(super) fn shape_fits(pat: &[egg::ENodeOrVar<Expr>], at: usize, eg: &EG, id: Id, depth: usize) -> bool {
    let egg::ENodeOrVar::ENode(p) = &pat[at] else { return true };
    let n = eg.id_to_node(id);
    p.matches(n) && (depth == 0 || p.children().iter().zip(n.children()).all(|(pc, nc)| shape_fits(pat, usize::from(*pc), eg, *nc, depth - 1)))
}
