//! Reading one rule line (`name: LHS => RHS if COND, …`) into a checked egg rewrite, reporting every problem
//! with its span and a hint.
use super::apply::{APPLIERS, CONDITIONS, Cond, Conds, Ctx, Dyn};
use super::rhs::Fresh;
use crate::diag::Diag;
use crate::lang::{Expr, Rw};
use crate::sexp::{Src, parse_one, to_pattern};
use egg::{ConditionalApplier, ENodeOrVar, Pattern, PatternAst, Rewrite, Symbol, Var};
use std::ops::Range;
use std::sync::Arc;

/// The right-hand side of a rule.
#[derive(Debug, Clone)]
pub enum Rhs {
    Pattern(PatternAst<Expr>),
    Applier(String, Vec<Var>),
}

/// A parsed rule before it becomes a rewrite.
pub struct Parsed {
    pub name: String,
    pub name_span: Range<usize>,
    pub lhs: PatternAst<Expr>,
    pub rhs: Rhs,
    pub conds: Vec<Cond>,
    /// A new Σ index names a new level of the derivation (an unfolded definition's Σ): it avoids every letter
    /// earlier steps showed ([`super::rhs::fresh_symbol`]).
    pub new_level: bool,
}

/// Is `name` kebab-case with a family prefix (`d-mul`, `delta-contract`)?
pub fn good_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 2
        && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
        && parts[0].starts_with(|c: char| c.is_ascii_lowercase())
}

fn find(text: &str, from: usize, to: usize, pat: &str) -> Option<usize> {
    text[from..to].find(pat).map(|i| i + from)
}

/// Parse the rule on `line` (a byte range of `src.text`). `arrow` is `=>` for rules and `:=` for definitions.
pub fn parse_rule(src: &Src, line: Range<usize>, arrow: &str) -> Result<Parsed, Diag> {
    let text: &str = src.text;
    let Some(colon) = find(text, line.start, line.end, ":").filter(|c| !text[line.start..*c].contains('(')) else {
        return Err(src.diag(line.clone(), "a rule must start with its name and a colon")
            .hint(format!("write `family-name: LHS {arrow} RHS`, e.g. `d-add: (d (+ ?a ?b) ?w) {arrow} …`")));
    };
    let raw = &text[line.start..colon];
    let name = raw.trim();
    let lead = raw.len() - raw.trim_start().len();
    let name_span = line.start + lead..line.start + lead + name.len();
    if !good_name(name) {
        return Err(src.diag(name_span, format!("rule name `{name}` is not kebab-case with a family prefix"))
            .hint("use lower-case words joined by `-`, the first naming the family: d-mul, delta-contract, unfold-h"));
    }
    let body = colon + 1..line.end;
    let Some(arr) = find(text, body.start, body.end, arrow) else {
        return Err(src.diag(body, format!("missing `{arrow}` between the two sides of the rule"))
            .hint(format!("write `{name}: LHS {arrow} RHS`")));
    };
    let (rhs_end, cond_range) = match find(text, arr, body.end, " if ") {
        Some(i) => (i, Some(i + 4..body.end)),
        None => (body.end, None),
    };
    let lhs_sx = parse_one(src, body.start..arr)?;
    let lhs = to_pattern(src, &lhs_sx)?;
    let lvars: Vec<Var> = pattern_vars(&lhs);
    let rhs_range = arr + arrow.len()..rhs_end;
    let rhs_text = text[rhs_range.clone()].trim();
    let rhs = if let Some(app) = rhs_text.strip_prefix('@') {
        let start = rhs_range.start + text[rhs_range.clone()].find('@').unwrap_or(0);
        let mut words = app.split_whitespace();
        let aname = words.next().unwrap_or("");
        let Some(kind) = APPLIERS.iter().find(|a| a.name == aname) else {
            return Err(src.diag(start..start + 1 + aname.len(), format!("unknown applier `@{aname}`"))
                .hint(format!("the named appliers are {}", APPLIERS.iter().map(|a| format!("@{}", a.name)).collect::<Vec<_>>().join(", "))));
        };
        let arity = &kind.arity;
        let mut args = vec![];
        for w in words {
            let span = start..rhs_range.end;
            let v: Var = w.parse().map_err(|_| src.diag(span.clone(), format!("`{w}` is not a ?variable")))?;
            if !lvars.contains(&v) {
                return Err(src.diag(span, format!("`{w}` is not bound by the left-hand side")).hint("an applier's arguments must be variables of the left-hand side"));
            }
            args.push(v);
        }
        if args.len() != *arity {
            return Err(src.diag(start..rhs_range.end, format!("`@{aname}` takes {arity} variable(s), not {}", args.len()))
                .hint(kind.doc));
        }
        Rhs::Applier(aname.to_string(), args)
    } else {
        let rhs_sx = parse_one(src, rhs_range.clone())?;
        let rhs = to_pattern(src, &rhs_sx)?;
        let binders = binder_vars(&rhs);
        for v in pattern_vars(&rhs) {
            if !lvars.contains(&v) && !binders.contains(&v) {
                let at = text[rhs_range.clone()].find(&v.to_string()).map(|i| rhs_range.start + i).unwrap_or(rhs_range.start);
                return Err(src.diag(at..at + v.to_string().len(), format!("`{v}` is used on the right but not bound on the left"))
                    .hint("only the index of a new Σ may be new on the right (it gets a fresh name); check the spelling"));
            }
        }
        Rhs::Pattern(rhs)
    };
    let mut conds = vec![];
    if let Some(cr) = cond_range {
        let mut pos = cr.start;
        for part in text[cr.clone()].split(',') {
            let span = pos..pos + part.len();
            pos += part.len() + 1;
            let c = parse_cond(src, part.trim(), span.clone())?;
            for v in c.vars() {
                if !lvars.contains(&v) {
                    return Err(src.diag(span, format!("the condition uses `{v}`, which the left-hand side does not bind")));
                }
            }
            conds.push(c);
        }
    }
    Ok(Parsed { name: name.to_string(), name_span, lhs, rhs, conds, new_level: false })
}

fn parse_cond(src: &Src, s: &str, span: Range<usize>) -> Result<Cond, Diag> {
    let t: Vec<&str> = s.split_whitespace().collect();
    let var = |x: &str| -> Result<Var, Diag> {
        if !x.starts_with('?') {
            return Err(src.diag(span.clone(), format!("`{x}` is not a ?variable")));
        }
        x.parse().map_err(|_| src.diag(span.clone(), format!("`{x}` is not a ?variable")))
    };
    if let Some((kind, args)) = t.split_first().and_then(|(n, args)| CONDITIONS.iter().find(|c| c.name == *n).map(|k| (k, args)))
        && args.len() == kind.arity
    {
        let vars = args.iter().map(|a| var(a)).collect::<Result<Vec<_>, _>>()?;
        return Ok((kind.build)(&vars));
    }
    Ok(match t.as_slice() {
        [a, ">", v] => Cond::Gt(
            var(a)?,
            v.parse().ok().filter(|x: &f64| x.is_finite()).ok_or_else(|| src.diag(span.clone(), format!("`{v}` is not a number")))?,
        ),
        _ => {
            let known: Vec<&str> = CONDITIONS.iter().map(|c| c.doc).chain(["?t > N: ?t is a number greater than N"]).collect();
            return Err(src.diag(span, format!("unknown condition `{s}`")).hint(format!("the conditions are: {}", known.join("; "))));
        }
    })
}

/// The variables of a pattern, in order of first appearance.
pub fn pattern_vars(p: &PatternAst<Expr>) -> Vec<Var> {
    let mut out = vec![];
    for n in p.as_ref() {
        if let ENodeOrVar::Var(v) = n
            && !out.contains(v) {
                out.push(*v);
            }
    }
    out
}

/// Variables that stand as the index of a Σ (or Σ over time) in a pattern.
fn binder_vars(p: &PatternAst<Expr>) -> Vec<Var> {
    let mut out = vec![];
    for n in p.as_ref() {
        if let ENodeOrVar::ENode(Expr::Sum([k, _, _]) | Expr::TSum([k, _, _, _])) = n
            && let ENodeOrVar::Var(v) = &p[*k] {
                out.push(*v);
            }
    }
    out
}

/// Turn a parsed rule into an egg rewrite.
pub fn build_rewrite(p: &Parsed, ctx: &Arc<Ctx>) -> Result<Rw, String> {
    let lhs = Pattern::new(p.lhs.clone());
    let conds = Conds { conds: p.conds.clone(), ctx: ctx.clone() };
    let name = p.name.as_str();
    macro_rules! mk {
        ($app:expr) => {
            if p.conds.is_empty() {
                Rewrite::new(name, lhs, $app)
            } else {
                Rewrite::new(name, lhs, ConditionalApplier { condition: conds, applier: $app })
            }
        };
    }
    match &p.rhs {
        Rhs::Applier(a, args) => match super::apply::applier(a, args.len()) {
            Some(kind) => mk!(Dyn((kind.build)(args, ctx))),
            None => Err(format!("unknown applier @{a}")),
        },
        Rhs::Pattern(rhs) => {
            let lvars = pattern_vars(&p.lhs);
            let fresh: Vec<(Var, Symbol)> = pattern_vars(rhs)
                .into_iter()
                .filter(|v| !lvars.contains(v))
                .map(|v| (v, Symbol::from(v.to_string().trim_start_matches('?'))))
                .collect();
            let pat = Pattern::new(rhs.clone());
            mk!(Fresh { pat, fresh, new_level: p.new_level })
        }
    }
}

/// The wrt variable every unfold rule carries.
pub const WRT: &str = "?wrt";

/// `X := R` becomes `(d X ?wrt) => (d R ?wrt)`.
pub fn definition_to_unfold(mut p: Parsed) -> Parsed {
    let wrt: egg::Var = WRT.parse().unwrap_or_else(|_| unreachable!("?wrt is a valid variable"));
    let wrap = |ast: &PatternAst<Expr>| -> PatternAst<Expr> {
        let mut v: Vec<ENodeOrVar<Expr>> = ast.as_ref().to_vec();
        let root = egg::Id::from(v.len() - 1);
        v.push(ENodeOrVar::Var(wrt));
        let w = egg::Id::from(v.len() - 1);
        v.push(ENodeOrVar::ENode(Expr::D([root, w])));
        PatternAst::from(v)
    };
    p.lhs = wrap(&p.lhs);
    p.new_level = true;
    // ∂X/∂X = 1 is not ∂(definition of X)/∂X: unfolding is only for derivatives with respect to something else.
    p.conds.push(crate::rules::apply::Cond::NotSelf(wrt));
    if let Rhs::Pattern(r) = &p.rhs {
        p.rhs = Rhs::Pattern(wrap(r));
    }
    p
}
