//! Reading the formula a user checks: the text syntax (Unicode or ASCII) or LaTeX (told apart by a backslash),
//! optional Einstein sums over repeated indices, and the checks that its free indices are the gradient's and
//! are used with the gradient's sizes.
use crate::error::{Error, Result};
use crate::lang::{Expr, free_indices};
use crate::model::Model;
use egg::{Id, Language, RecExpr, Symbol};

/// Which reader a formula needs.
pub fn is_latex(text: &str) -> bool {
    text.contains('\\')
}

/// Read one formula (`file` names it in errors: `<formula>`, a file name, or `FILE:LINE`).
/// σ stands for the model's activation `sigma` (as the blog writes σ); `sigmoid` is always the logistic function.
pub fn read(text: &str, file: &str, model: &Model, einstein: bool, target_free: &[Symbol], sigma: crate::notation::Act) -> Result<RecExpr<Expr>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let syntax = if is_latex(text) { crate::read::Syntax::Latex } else { crate::read::Syntax::Text };
    let e = crate::read::read_with(syntax, text, file, Some(model), sigma)?;
    Ok(if einstein { crate::read::sizes_from_use(&implicit_sums(&e, model, target_free), model) } else { e })
}

/// The free index symbols of `e` (names of the model and T are not indices).
pub fn free_of(e: &RecExpr<Expr>, model: &Model) -> Vec<Symbol> {
    free_indices(e, e.root()).into_iter().filter(|s| !model.is_name(*s)).collect()
}

/// Einstein's convention, as the blog writes: an index repeated in two factors of a product, and not a free index
/// of the gradient, is summed over.
pub fn implicit_sums(e: &RecExpr<Expr>, model: &Model, target_free: &[Symbol]) -> RecExpr<Expr> {
    fn factors(e: &RecExpr<Expr>, id: Id, out: &mut Vec<Id>) {
        match &e[id] {
            Expr::Mul([a, b]) => {
                factors(e, *a, out);
                factors(e, *b, out);
            }
            _ => out.push(id),
        }
    }
    fn go(e: &RecExpr<Expr>, id: Id, m: &Model, keep: &[Symbol], bound: &mut Vec<Symbol>, out: &mut RecExpr<Expr>) -> Id {
        match &e[id] {
            Expr::Mul(_) => {
                let mut fs = vec![];
                factors(e, id, &mut fs);
                let mut count: Vec<(Symbol, usize)> = vec![];
                for f in &fs {
                    for s in free_indices(e, *f) {
                        if m.is_name(s) || keep.contains(&s) || bound.contains(&s) {
                            continue;
                        }
                        match count.iter_mut().find(|(x, _)| *x == s) {
                            Some(c) => c.1 += 1,
                            None => count.push((s, 1)),
                        }
                    }
                }
                let summed: Vec<Symbol> = count.into_iter().filter(|c| c.1 >= 2).map(|c| c.0).collect();
                bound.extend(&summed);
                let mut acc: Option<Id> = None;
                for f in fs {
                    let x = go(e, f, m, keep, bound, out);
                    acc = Some(match acc {
                        None => x,
                        Some(a) => out.add(Expr::Mul([a, x])),
                    });
                }
                bound.truncate(bound.len() - summed.len());
                let mut body = acc.unwrap_or_else(|| out.add(crate::lang::num(1.0)));
                for s in summed.into_iter().rev() {
                    let k = out.add(Expr::Symbol(s));
                    // its size is set from where the index is used, by the readers' sizes_from_use
                    let n = out.add(Expr::Symbol(m.sum_dim().unwrap_or(s)));
                    body = out.add(Expr::Sum([k, n, body]));
                }
                body
            }
            Expr::Sum([k, _, _]) | Expr::TSum([k, _, _, _]) => {
                let k = match &e[*k] {
                    Expr::Symbol(s) => Some(*s),
                    _ => None,
                };
                bound.extend(k);
                let n = e[id].clone().map_children(|c| go(e, c, m, keep, bound, out));
                if k.is_some() {
                    bound.pop();
                }
                out.add(n)
            }
            n => {
                let n = n.clone().map_children(|c| go(e, c, m, keep, bound, out));
                out.add(n)
            }
        }
    }
    let mut out = RecExpr::default();
    go(e, e.root(), model, target_free, &mut vec![], &mut out);
    out
}

/// Every free index of the formula must be one of the gradient's, and every one of the gradient's must appear.
pub fn check_free(e: &RecExpr<Expr>, model: &Model, target: &[Symbol], gradient: &str, what: &str) -> Result<()> {
    let have = free_of(e, model);
    let extra: Vec<String> = have.iter().filter(|s| !target.contains(s)).map(|s| format!("`{s}`")).collect();
    let missing: Vec<String> = target.iter().filter(|s| !have.contains(s)).map(|s| format!("`{s}`")).collect();
    if extra.is_empty() && missing.is_empty() {
        return Ok(());
    }
    let want = target.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(" and ");
    let mut msg = format!("{what}: {gradient} has the free indices {want}");
    if !extra.is_empty() {
        msg.push_str(&format!("; {} {} free here but not an index of the gradient — sum over it with Σ (sum_a …), or pass --einstein to sum repeated indices", extra.join(", "), if extra.len() == 1 { "is" } else { "are" }));
    }
    if !missing.is_empty() {
        msg.push_str(&format!("; {} {} missing — a gradient entry must depend on every index of {gradient}", missing.join(", "), if missing.len() == 1 { "is" } else { "are" }));
    }
    Err(Error::Usage(msg))
}

/// Uses of a free index with a size other than the gradient's: (index, the use, the size it has there).
pub fn shape_conflicts(e: &RecExpr<Expr>, model: &Model, target: &[(Symbol, Symbol)]) -> Vec<(Symbol, String, Symbol)> {
    let mut out: Vec<(Symbol, String, Symbol)> = vec![];
    for u in model.index_uses(e) {
        if target.iter().any(|(t, want)| *t == u.index && *want != u.dim) && !out.iter().any(|(x, _, _)| *x == u.index) {
            let at = crate::lang::sub_expr(e, Id::from(u.node));
            out.push((u.index, crate::print::render(&at, crate::print::Style::Unicode, usize::MAX / 4), u.dim));
        }
    }
    out
}

/// Every indexed name must be one of the model's (`q⁽ᵏ⁾[p]` is an error pointing at the `q`).
pub fn check_names(e: &RecExpr<Expr>, model: &Model, text: &str, file: &str) -> Result<()> {
    // ∂/∂X: X must be a name of the model (not an index such as p)
    for n in e.as_ref() {
        let Expr::D([_, w]) = n else { continue };
        let Expr::Symbol(name) = &e[*w] else { continue };
        if model.decls.contains_key(name) {
            continue;
        }
        let msg = format!("cannot differentiate with respect to `{name}`: it is not a name of the model");
        let hint = "write ∂L/∂W⁽ʳ⁾[i,p] or dL/dh^(k)[i]: the denominator is a parameter or a quantity";
        let at = ["/d", "/∂", "partial "].iter().find_map(|p| text.find(&format!("{p}{name}")).map(|i| i + p.len()));
        return Err(match at {
            Some(i) => crate::diag::Diag::new(file, &std::sync::Arc::from(text), i..i + name.as_str().len(), msg).hint(hint).into(),
            None => Error::Usage(format!("{file}: {msg}")),
        });
    }
    for n in e.as_ref() {
        let (Expr::Ix(ch) | Expr::Tx(ch)) = n else { continue };
        let Expr::Symbol(name) = &e[ch[0]] else { continue };
        if model.decls.contains_key(name) {
            continue;
        }
        let mut known: Vec<String> = model.decls.keys().map(|k| k.to_string()).collect();
        known.sort();
        let msg = format!("unknown name `{name}`: the model has {}", known.join(", "));
        let hint = "in LaTeX, W^{(r)} is W_r, \\bar{y} is ybar; see bptt derive for the names";
        // point at the first place the name is written with an index or a time after it
        let at = text.match_indices(name.as_str()).map(|(i, _)| i).find(|i| {
            let before = text[..*i].chars().next_back();
            let after = text[i + name.as_str().len()..].chars().next();
            !before.is_some_and(|c| c.is_alphanumeric()) && matches!(after, Some('[' | '^' | '_' | '⁽'))
        });
        return Err(match at {
            Some(i) => crate::diag::Diag::new(file, &std::sync::Arc::from(text), i..i + name.as_str().len(), msg).hint(hint).into(),
            None => Error::Usage(format!("{file}: {msg}")),
        });
    }
    Ok(())
}
