//! The plan of a derivation as data: the goal, then beats (blog equation number, title, rules in priority
//! order with optional limits), focus/unfocus on a part of the expression, and side equations ("where" lines).
use crate::diag::Diag;
use crate::lang::Expr;
use crate::rules::{Line, RuleSet, lines};
use crate::sexp::{Src, parse_one, to_expr, to_pattern};
use egg::{Pattern, RecExpr, Symbol};
use std::ops::Range;
use std::sync::Arc;

/// A rule named in a beat, with an optional limit on the number of steps it may fire in.
#[derive(Debug, Clone)]
pub struct RuleUse {
    pub name: String,
    pub limit: Option<usize>,
}

/// A side equation derived from `lhs` with `rules`; with `k_range` the time symbol `k` is free and the equation
/// holds for every k in the range.
#[derive(Debug, Clone)]
pub struct WhereSpec {
    pub lhs: RecExpr<Expr>,
    pub rules: Vec<RuleUse>,
    pub k_range: Option<(Symbol, i64, i64)>,
}

/// One instruction of a plan.
#[derive(Debug, Clone)]
pub enum Item {
    /// A beat; with `aside` it derives that expression on the side (shown as `aside = …`, checked), leaving the
    /// main expression as it is.
    /// `title_ko`: the title in Korean (a `ko | …` line right after the beat), for `--lang ko`.
    Beat { eq: Option<u32>, title: String, title_ko: Option<String>, rules: Vec<RuleUse>, wheres: Vec<WhereSpec>, aside: Option<RecExpr<Expr>> },
    Focus(Pattern<Expr>),
    Unfocus,
    Final,
}

/// A whole plan.
#[derive(Debug, Clone)]
pub struct Plan {
    pub goal: RecExpr<Expr>,
    pub items: Vec<Item>,
    /// The final result stated for any number of steps, with the symbol `T` for the last step.
    pub closed: Option<RecExpr<Expr>>,
    /// The rules `check` expands a formula and the gradient with before comparing them (`expand RULES`).
    pub expand: Vec<RuleUse>,
    /// More rules for the forms `check` looks for a typical mistake in (`diagnose RULES`): applied after
    /// `expand` to the result (a gated cell's ∂L/∂c⁽ᵏ⁾ written out one step, where the forget gate is).
    pub diagnose: Vec<RuleUse>,
}

fn rule_uses(src: &Src, text: &str, at: usize, rules: &RuleSet, diags: &mut Vec<Diag>) -> Vec<RuleUse> {
    let mut out = vec![];
    let mut pos = at;
    for w in text.split(' ') {
        let span = pos..pos + w.len();
        pos += w.len() + 1;
        if w.is_empty() {
            continue;
        }
        let (name, limit) = match w.split_once('*') {
            Some((n, l)) => match l.parse::<usize>() {
                Ok(l) if l > 0 => (n, Some(l)),
                _ => {
                    diags.push(src.diag(span, format!("`{l}` is not a positive limit")).hint("write rule*N, e.g. unfold-h*1"));
                    continue;
                }
            },
            None => (w, None),
        };
        if rules.get(name).is_none() {
            let near = rules.rules.iter().map(|r| r.name.as_str()).filter(|n| n.split('-').next() == name.split('-').next()).collect::<Vec<_>>();
            let hint = if near.is_empty() { "`bptt rules` lists the loaded rules".to_string() } else { format!("rules of that family: {}", near.join(", ")) };
            diags.push(src.diag(span, format!("unknown rule `{name}`")).hint(hint));
            continue;
        }
        out.push(RuleUse { name: name.to_string(), limit });
    }
    out
}

fn field(text: &str, r: &Range<usize>, n: usize) -> Option<(usize, String)> {
    let mut start = r.start;
    for (i, part) in text[r.clone()].split('|').enumerate() {
        if i == n {
            let lead = part.len() - part.trim_start().len();
            return Some((start + lead, part.trim().to_string()));
        }
        start += part.len() + 1;
    }
    None
}

impl Plan {
    /// Read a plan file, checking that every rule it names is loaded.
    pub fn read(file: &str, text: &Arc<str>, rules: &RuleSet, diags: &mut Vec<Diag>) -> Option<Plan> {
        let src = Src { file, text };
        let mut goal = None;
        let mut closed = None;
        let mut items: Vec<Item> = vec![];
        let mut expand = vec![];
        let mut diagnose = vec![];
        // the line number of the last beat or aside line (a `ko` line must come right after it)
        let mut beat_line = None;
        for (line_no, (_, l)) in lines(text).into_iter().enumerate() {
            let Line::Content(r) = l else { continue };
            let line = text[r.clone()].trim();
            let word = line.split_whitespace().next().unwrap_or("");
            let rest_at = r.start + text[r.clone()].find(word).unwrap_or(0) + word.len();
            let rest = rest_at..r.end;
            match word {
                "goal" => match parse_one(&src, rest).and_then(|sx| to_expr(&src, &sx)) {
                    Ok(e) => goal = Some(e),
                    Err(d) => diags.push(d),
                },
                "beat" => {
                    let (Some((eq_at, eq)), Some((_, title))) = (field(text, &rest, 0), field(text, &rest, 1)) else {
                        diags.push(src.diag(r.clone(), "a beat is `beat EQ | TITLE | RULES`").hint("EQ is a blog equation number or -"));
                        continue;
                    };
                    let eq = if eq == "-" {
                        None
                    } else {
                        match eq.parse::<u32>() {
                            Ok(n) => Some(n),
                            Err(_) => {
                                diags.push(src.diag(eq_at..eq_at + eq.len(), format!("`{eq}` is not an equation number")).hint("write a number, or - for a beat without one"));
                                continue;
                            }
                        }
                    };
                    let rules = match field(text, &rest, 2) {
                        Some((at, rs)) => rule_uses(&src, &rs, at, rules, diags),
                        None => vec![],
                    };
                    items.push(Item::Beat { eq, title, title_ko: None, rules, wheres: vec![], aside: None });
                    beat_line = Some(line_no);
                }
                "ko" => {
                    // everything after the first `|` (a Korean title may hold a `|` of its own)
                    let title = text[rest.clone()].split_once('|').map(|(_, t)| t.trim().to_string()).filter(|t| !t.is_empty());
                    match (items.last_mut(), title) {
                        (Some(Item::Beat { title_ko, .. }), Some(t)) if beat_line.is_some_and(|b| b + 1 == line_no) => *title_ko = Some(t),
                        (_, None) => diags.push(src.diag(r.clone(), "a Korean title is `ko | 제목`").hint("the words after `ko |` are the title in Korean")),
                        _ => diags.push(src.diag(r.clone(), "a `ko` line must come right after its beat or aside").hint("put the Korean title on the line after the beat, with the same [tags]")),
                    }
                }
                "aside" => {
                    let fields: Vec<Option<(usize, String)>> = (0..4).map(|i| field(text, &rest, i)).collect();
                    let [Some((eq_at, eq)), Some((_, title)), Some((e_at, e)), Some((r_at, rs))] = [fields[0].clone(), fields[1].clone(), fields[2].clone(), fields[3].clone()] else {
                        diags.push(src.diag(r.clone(), "an aside is `aside EQ | TITLE | EXPR | RULES`"));
                        continue;
                    };
                    let Ok(eq) = eq.parse::<u32>() else {
                        diags.push(src.diag(eq_at..eq_at + eq.len(), format!("`{eq}` is not an equation number")));
                        continue;
                    };
                    match parse_one(&src, e_at..e_at + e.len()).and_then(|sx| to_expr(&src, &sx)) {
                        Ok(x) => {
                            let rules = rule_uses(&src, &rs, r_at, rules, diags);
                            items.push(Item::Beat { eq: Some(eq), title, title_ko: None, rules, wheres: vec![], aside: Some(x) });
                            beat_line = Some(line_no);
                        }
                        Err(d) => diags.push(d),
                    }
                }
                "where" => {
                    let (Some((e_at, e)), Some((r_at, rs))) = (field(text, &rest, 0), field(text, &rest, 1)) else {
                        diags.push(src.diag(r.clone(), "a side equation is `where EXPR | RULES [| k LO HI]`"));
                        continue;
                    };
                    let lhs = match parse_one(&src, e_at..e_at + e.len()).and_then(|sx| to_expr(&src, &sx)) {
                        Ok(x) => x,
                        Err(d) => {
                            diags.push(d);
                            continue;
                        }
                    };
                    let uses = rule_uses(&src, &rs, r_at, rules, diags);
                    let k_range = match field(text, &rest, 2) {
                        None => None,
                        Some((at, kr)) => {
                            let w: Vec<&str> = kr.split_whitespace().collect();
                            match w.as_slice() {
                                [k, lo, hi] if lo.parse::<i64>().is_ok() && hi.parse::<i64>().is_ok() => {
                                    let (lo, hi): (i64, i64) = (lo.parse().unwrap_or(0), hi.parse().unwrap_or(0));
                                    let max = crate::limits::MAX_STEPS as i64 + 1;
                                    if !(0..=max).contains(&lo) || !(0..=max).contains(&hi) {
                                        diags.push(src.diag(at..at + kr.len(), format!("the time range {lo}..{hi} leaves the steps 0..{max}")).hint("a side equation's range is a range of time steps, e.g. `k 1 {T-1}`"));
                                        None
                                    } else {
                                        Some((Symbol::from(*k), lo, hi))
                                    }
                                }
                                _ => {
                                    diags.push(src.diag(at..at + kr.len(), "a time range is `k LO HI`").hint("e.g. `k 1 {T-1}`"));
                                    None
                                }
                            }
                        }
                    };
                    match items.last_mut() {
                        Some(Item::Beat { wheres, .. }) => wheres.push(WhereSpec { lhs, rules: uses, k_range }),
                        _ => diags.push(src.diag(r.clone(), "a `where` line must follow a beat")),
                    }
                }
                "focus" => match parse_one(&src, rest).and_then(|sx| to_pattern(&src, &sx)) {
                    Ok(p) => items.push(Item::Focus(Pattern::new(p))),
                    Err(d) => diags.push(d),
                },
                "unfocus" => items.push(Item::Unfocus),
                "final" => items.push(Item::Final),
                "closed" => match parse_one(&src, rest).and_then(|sx| to_expr(&src, &sx)) {
                    Ok(e) => closed = Some(e),
                    Err(d) => diags.push(d),
                },
                "expand" => expand = rule_uses(&src, &text[rest.clone()], rest.start, rules, diags),
                "diagnose" => diagnose = rule_uses(&src, &text[rest.clone()], rest.start, rules, diags),
                _ => diags.push(src.diag(r.start..r.start + word.len(), format!("unknown plan instruction `{word}`"))
                    .hint("a plan has goal, beat, ko, aside, where, focus, unfocus, final, closed, expand and diagnose lines")),
            }
        }
        if goal.is_some() && !items.iter().any(|i| matches!(i, Item::Beat { .. })) {
            diags.push(src.diag(0..0, "the plan has no `beat` line: there is nothing to derive").hint("e.g. beat 6 | chain rule through the output y | unfold-loss, d-sum, …"));
        }
        match goal {
            Some(goal) => Some(Plan { goal, items, closed, expand, diagnose }),
            None => {
                diags.push(src.diag(0..0, "the plan has no `goal` line").hint("e.g. goal (d L (ix W_r i p))"));
                None
            }
        }
    }
}
