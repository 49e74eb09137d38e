//! S-expressions with positions, the syntax of rule, model and plan files, and their checked conversion to
//! egg patterns and expressions (unknown operators, wrong arity and bad tokens are reported with a span).
use crate::diag::Diag;
use crate::lang::Expr;
use egg::{ENodeOrVar, FromOp, Id, PatternAst, RecExpr, Var};
use std::ops::Range;
use std::sync::Arc;

/// A parsed s-expression; spans are byte ranges into the source the text came from.
#[derive(Debug, Clone)]
pub enum Sx {
    Atom(String, Range<usize>),
    List(Vec<Sx>, Range<usize>),
}

impl Sx {
    pub fn span(&self) -> Range<usize> {
        match self {
            Sx::Atom(_, s) | Sx::List(_, s) => s.clone(),
        }
    }
}

/// Where a piece of text sits, for error messages.
#[derive(Clone)]
pub struct Src<'a> {
    pub file: &'a str,
    pub text: &'a Arc<str>,
}

impl Src<'_> {
    pub fn diag(&self, span: Range<usize>, msg: impl Into<String>) -> Diag {
        Diag::new(self.file, self.text, span, msg)
    }
}

/// The operators a rule may use, the activations from their table.
fn ops_hint() -> String {
    let acts: Vec<&str> = crate::notation::ACTIVATIONS.iter().flat_map(|a| [a.name, a.prime]).collect();
    format!("operators: + - * neg pow exp log recip {} d sum tsum delta ix tx", acts.join(" "))
}

/// Parse exactly one s-expression from `text[range]`.
pub fn parse_one(src: &Src, range: Range<usize>) -> Result<Sx, Diag> {
    let text = &src.text[range.clone()];
    let mut toks = tokenize(text, range.start);
    toks.reverse();
    if toks.is_empty() {
        return Err(src.diag(range.clone(), "expected an expression here").hint("write an s-expression such as (+ ?a ?b)"));
    }
    let sx = parse_tok(src, &mut toks, 0)?;
    if let Some((t, s)) = toks.pop() {
        return Err(src.diag(s, format!("unexpected `{t}` after the expression"))
            .hint("one expression only; wrap several in an operator, e.g. (* ?a ?b)"));
    }
    Ok(sx)
}

fn tokenize(text: &str, offset: usize) -> Vec<(String, Range<usize>)> {
    let mut out = vec![];
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if c.is_whitespace() {
            continue;
        }
        if c == '(' || c == ')' {
            out.push((c.to_string(), offset + i..offset + i + 1));
            continue;
        }
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = it.peek() {
            if d.is_whitespace() || d == '(' || d == ')' {
                break;
            }
            end = j + d.len_utf8();
            it.next();
        }
        out.push((text[i..end].to_string(), offset + i..offset + end));
    }
    out
}

/// How deeply s-expressions may nest (deeper input is an error, not a stack overflow).
pub const MAX_DEPTH: usize = 200;

fn parse_tok(src: &Src, toks: &mut Vec<(String, Range<usize>)>, depth: usize) -> Result<Sx, Diag> {
    let Some((t, span)) = toks.pop() else {
        return Err(src.diag(src.text.len()..src.text.len(), "the expression ends too early"));
    };
    match t.as_str() {
        "(" if depth >= MAX_DEPTH => Err(src.diag(span, format!("the expression nests more than {MAX_DEPTH} levels deep"))
            .hint("split it into several rules")),
        "(" => {
            let mut items = vec![];
            loop {
                match toks.last() {
                    None => {
                        return Err(src.diag(span, "this `(` is never closed").hint("add the missing `)`"));
                    }
                    Some((c, s)) if c == ")" => {
                        let end = s.end;
                        toks.pop();
                        return Ok(Sx::List(items, span.start..end));
                    }
                    _ => items.push(parse_tok(src, toks, depth + 1)?),
                }
            }
        }
        ")" => Err(src.diag(span, "unmatched `)`").hint("remove it, or add the `(` it closes")),
        _ => Ok(Sx::Atom(t, span)),
    }
}

fn is_ident(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What a leaf of a pattern may be.
pub enum Leaf {
    Var(Var),
    Node(Expr),
}

/// Check and convert one atom.
pub fn leaf(src: &Src, a: &str, span: Range<usize>, allow_vars: bool) -> Result<Leaf, Diag> {
    if let Some(rest) = a.strip_prefix('?') {
        if !allow_vars {
            return Err(src.diag(span, format!("`{a}` is a pattern variable, which is not allowed here")));
        }
        if !is_ident(rest) {
            return Err(src.diag(span, format!("`{a}` is not a valid pattern variable"))
                .hint("a variable is `?` followed by letters, digits or `_`, e.g. ?a"));
        }
        return a.parse::<Var>().map(Leaf::Var).map_err(|_| src.diag(span, format!("`{a}` is not a valid pattern variable")));
    }
    if a.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.') && a != "-" {
        return match a.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Leaf::Node(crate::lang::num(v))),
            _ => Err(src.diag(span, format!("`{a}` is not a finite number"))),
        };
    }
    if is_ident(a) {
        if Expr::from_op(a, vec![]).is_ok_and(|n| !matches!(n, Expr::Symbol(_))) {
            return Err(src.diag(span, format!("`{a}` is an operator and needs arguments")).hint(format!("write ({a} …)")));
        }
        return Ok(Leaf::Node(Expr::Symbol(a.into())));
    }
    Err(src.diag(span, format!("`{a}` is not a number, a symbol or a ?variable"))
        .hint("symbols are letters, digits and `_` (W_r, n_h, s0); variables start with `?`"))
}

/// Convert an s-expression to an egg pattern, checking operators and arities.
pub fn to_pattern(src: &Src, sx: &Sx) -> Result<PatternAst<Expr>, Diag> {
    let mut out = PatternAst::default();
    build(src, sx, &mut out, true)?;
    Ok(out)
}

/// Convert an s-expression without variables to an expression.
pub fn to_expr(src: &Src, sx: &Sx) -> Result<RecExpr<Expr>, Diag> {
    let mut pat = PatternAst::default();
    build(src, sx, &mut pat, false)?;
    let nodes: Vec<Expr> = pat
        .as_ref()
        .iter()
        .map(|n| match n {
            ENodeOrVar::ENode(e) => e.clone(),
            ENodeOrVar::Var(_) => unreachable!("variables were rejected by build"),
        })
        .collect();
    Ok(RecExpr::from(nodes))
}

fn build(src: &Src, sx: &Sx, out: &mut PatternAst<Expr>, allow_vars: bool) -> Result<Id, Diag> {
    match sx {
        Sx::Atom(a, span) => Ok(match leaf(src, a, span.clone(), allow_vars)? {
            Leaf::Var(v) => out.add(ENodeOrVar::Var(v)),
            Leaf::Node(n) => out.add(ENodeOrVar::ENode(n)),
        }),
        Sx::List(items, span) => {
            let Some(Sx::Atom(op, op_span)) = items.first() else {
                return Err(src.diag(span.clone(), "a list must start with an operator").hint(ops_hint()));
            };
            let mut kids = vec![];
            for it in &items[1..] {
                kids.push(build(src, it, out, allow_vars)?);
            }
            match Expr::from_op(op, kids.clone()) {
                Ok(Expr::Symbol(_)) | Err(_) => {
                    let known = Expr::from_op(op, vec![Id::from(0usize); 1]).is_ok()
                        || (0..5).any(|n| Expr::from_op(op, vec![Id::from(0usize); n]).is_ok_and(|e| !matches!(e, Expr::Symbol(_))));
                    if known {
                        Err(src.diag(op_span.clone(), format!("`{op}` does not take {} argument(s)", kids.len()))
                            .hint(arity_hint(op)))
                    } else {
                        Err(src.diag(op_span.clone(), format!("unknown operator `{op}`")).hint(ops_hint()))
                    }
                }
                Ok(n) => {
                    if matches!(n, Expr::Ix(_) | Expr::Tx(_)) && kids.len() < 2 {
                        return Err(src.diag(span.clone(), format!("`{op}` needs a name and at least one more argument"))
                            .hint(arity_hint(op)));
                    }
                    Ok(out.add(ENodeOrVar::ENode(n)))
                }
            }
        }
    }
}

fn arity_hint(op: &str) -> String {
    match op {
        "sum" => "(sum k n_h body): index, size, body".into(),
        "tsum" => "(tsum k 1 T body): index, first step, last step, body".into(),
        "d" => "(d expression quantity), e.g. (d L (ix W_r i p))".into(),
        "ix" => "(ix NAME i …), e.g. (ix W_r i p)".into(),
        "tx" => "(tx NAME time i …), e.g. (tx s 3 i)".into(),
        "+" | "-" | "*" | "pow" | "delta" => format!("({op} a b)"),
        _ => format!("({op} a)"),
    }
}
