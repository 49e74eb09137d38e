//! A reader for formulas in the text syntax that `bptt` prints, in Unicode and in its ASCII spelling:
//! `W⁽ʳ⁾[i,p]` / `W_r[i,p]`, `s⁽ᵏ⁻¹⁾[p]` / `s^(k-1)[p]`, `tanh′(h⁽³⁾[a])` / `tanh'(h^(3)[a])`, `σ′(…)` /
//! `sigmoid'(…)`, `δ(a,i)` / `delta(a,i)`, `Σ_b …` / `sum_b …`, `Σ_{k=1}^{3} …`, `∂L/∂h⁽ᵏ⁾[i]` / `dL/dh^(k)[i]`,
//! `∂/∂W⁽ʳ⁾[i,p] (…)`, `*` / `·` or juxtaposition, `½`, `x²`.
use super::core::{Core, Dialect, R};
use crate::diag::Diag;
use crate::lang::{Expr, num};
use egg::{Id, RecExpr};
use std::ops::Range;
use std::sync::Arc;

/// The reader: the shared core over this dialect's tokens.
type P<'a> = Core<'a, Tok>;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Word(String),
    Num(f64),
    /// A superscript group ⁽…⁾ or ^(…), with its plain content.
    Sup(String),
    /// A superscript power: ², ³ or ^n.
    Pow(f64),
    Sym(char),
}

fn unsup(c: char) -> Option<char> {
    const PAIRS: &str = "0⁰1¹2²3³4⁴5⁵6⁶7⁷8⁸9⁹+⁺-⁻aᵃbᵇcᶜdᵈeᵉfᶠgᵍhʰiⁱjʲkᵏlˡmᵐnⁿoᵒpᵖrʳsˢtᵗuᵘvᵛwʷxˣyʸzᶻTᵀ";
    let v: Vec<char> = PAIRS.chars().collect();
    v.chunks(2).find(|p| p[1] == c).map(|p| p[0])
}

pub(super) fn tokenize(s: &str, src: &Arc<str>, file: &str) -> Result<Vec<(Tok, Range<usize>)>, Diag> {
    let mut out = vec![];
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let end = |it: &mut std::iter::Peekable<std::str::CharIndices>| it.peek().map(|x| x.0).unwrap_or(s.len());
        match c {
            c if c.is_whitespace() => {}
            '⁽' => {
                let mut inner = String::new();
                for (_, d) in it.by_ref() {
                    if d == '⁾' {
                        break;
                    }
                    // spaces and line breaks inside a superscript group mean nothing
                    if !d.is_whitespace() {
                        inner.push(unsup(d).unwrap_or(d));
                    }
                }
                out.push((Tok::Sup(inner), i..end(&mut it)));
            }
            '^' if it.peek().map(|x| x.1) == Some('(') => {
                it.next();
                let mut inner = String::new();
                for (_, d) in it.by_ref() {
                    if d == ')' {
                        break;
                    }
                    if !d.is_whitespace() {
                        inner.push(d);
                    }
                }
                out.push((Tok::Sup(inner), i..end(&mut it)));
            }
            c if "⁰¹²³⁴⁵⁶⁷⁸⁹".contains(c) => {
                let mut t: String = unsup(c).into_iter().collect();
                while let Some(&(_, d)) = it.peek() {
                    match unsup(d).filter(|x| x.is_ascii_digit()) {
                        Some(x) if "⁰¹²³⁴⁵⁶⁷⁸⁹".contains(d) => {
                            t.push(x);
                            it.next();
                        }
                        _ => break,
                    }
                }
                out.push((Tok::Pow(t.parse().unwrap_or(0.0)), i..end(&mut it)));
            }
            c if c.is_ascii_digit() || c == '.' && it.peek().is_some_and(|d| d.1.is_ascii_digit()) => {
                let mut t = c.to_string();
                while let Some(&(_, d)) = it.peek() {
                    let exp = t.contains(['e', 'E']);
                    if d.is_ascii_digit() || d == '.' && !exp || ((d == 'e' || d == 'E') && !exp) {
                        t.push(d);
                        it.next();
                    } else if (d == '-' || d == '+') && t.ends_with(['e', 'E']) {
                        // 1e-13: the sign of an exponent belongs to the number
                        t.push(d);
                        it.next();
                    } else {
                        break;
                    }
                }
                let v = crate::read::number(&t).map_err(|m| Diag::new(file, src, i..end(&mut it), m).hint("write a number such as 0.5, 2 or 1e-3"))?;
                out.push((Tok::Num(v), i..end(&mut it)));
            }
            c if c.is_ascii_alphabetic() => {
                let mut t = c.to_string();
                while let Some(&(_, d)) = it.peek() {
                    if d.is_ascii_alphanumeric() || d == '_' && !t.ends_with("sum") {
                        t.push(d);
                        it.next();
                    } else {
                        break;
                    }
                }
                out.push((Tok::Word(t), i..end(&mut it)));
            }
            '½' => out.push((Tok::Num(0.5), i..end(&mut it))),
            c if let Some(name) = crate::notation::unaccented(c) => out.push((Tok::Word(name), i..end(&mut it))),
            'σ' => out.push((Tok::Word("σ".into()), i..end(&mut it))),
            'δ' => out.push((Tok::Word("delta".into()), i..end(&mut it))),
            'Σ' => out.push((Tok::Word("sum".into()), i..end(&mut it))),
            '∂' => out.push((Tok::Sym('∂'), i..end(&mut it))),
            '′' => out.push((Tok::Sym('\''), i..end(&mut it))),
            '−' => out.push((Tok::Sym('-'), i..end(&mut it))),
            '·' => out.push((Tok::Sym('*'), i..end(&mut it))),
            c if "+-*/()[]{},_=^'".contains(c) => out.push((Tok::Sym(c), i..end(&mut it))),
            c => {
                return Err(Diag::new(file, src, i..i + c.len_utf8(), format!("unexpected `{c}`"))
                    .hint("write formulas like sum_{k=1}^{T} dL/dh^(k)[i] * s^(k-1)[p]"));
            }
        }
    }
    Ok(out)
}


impl P<'_> {
    fn eat_c(&mut self, c: char) -> bool {
        self.eat(&Tok::Sym(c))
    }
    fn need(&mut self, c: char) -> R<()> {
        if self.eat_c(c) { Ok(()) } else { self.err(format!("expected `{c}`"), "check the parentheses and brackets") }
    }

    /// ASCII `dL/dX` or `d/dX (…)`: a word starting with d, then (after an optional quantity tail) `/d…`.
    fn is_derivative(&self) -> bool {
        let mut k = self.pos + 1;
        while let Some((t, _)) = self.toks.get(k) {
            match t {
                Tok::Sym('/') => {
                    return matches!(self.toks.get(k + 1).map(|t| &t.0), Some(Tok::Word(w)) if w.len() > 1 && w.starts_with('d') && w[1..].starts_with(|c: char| c.is_ascii_alphabetic()))
                }
                Tok::Sup(_) => k += 1,
                Tok::Sym('[') => {
                    while !matches!(self.toks.get(k).map(|t| &t.0), Some(Tok::Sym(']')) | None) {
                        k += 1;
                    }
                    k += 1;
                }
                _ => return false,
            }
        }
        false
    }

    fn index(&mut self) -> R<String> {
        match self.peek().cloned() {
            Some(Tok::Word(w)) => {
                self.pos += 1;
                Ok(w)
            }
            _ => self.err("expected an index", "indices are names such as i, p, a1"),
        }
    }

    fn time_expr(&mut self, text: &str) -> R<Id> {
        // an affine time: k, 3, k-1, T-k+1, k+2 — names and whole numbers joined by + and -
        let bad = |this: &Self, hint: &str| this.err(format!("`{text}` is not a time step"), hint);
        let hint = if text.contains('[') { "the time step's `)` is missing: write s^(k-1)[p]" } else { "a time is a number, a letter, or sums such as k-1, T-k+1" };
        let mut acc: Option<Id> = None;
        let mut rest = text.trim();
        let mut op = '+';
        loop {
            let end = rest.find(['-', '+']).unwrap_or(rest.len());
            let part = rest[..end].trim();
            let leaf = if let Ok(v) = part.parse::<u32>() {
                self.out.add(num(v as f64))
            } else if !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && part.starts_with(|c: char| c.is_ascii_alphabetic()) {
                self.sym(part)
            } else {
                return bad(self, hint);
            };
            acc = Some(match acc {
                None if op == '-' => self.out.add(Expr::Neg(leaf)),
                None => leaf,
                Some(a) if op == '-' => self.out.add(Expr::Sub([a, leaf])),
                Some(a) => self.out.add(Expr::Add([a, leaf])),
            });
            if end == rest.len() {
                break;
            }
            op = rest[end..].chars().next().unwrap_or('+');
            rest = &rest[end + 1..];
        }
        match acc {
            Some(a) => Ok(a),
            None => bad(self, hint),
        }
    }

    /// A quantity: NAME, NAME⁽tag⁾ (W⁽ʳ⁾ = W_r), NAME⁽time⁾, then optional [indices].
    fn quantity_from(&mut self, mut name: String) -> R<Id> {
        let mut time = None;
        if let Some(Tok::Sup(s)) = self.peek().cloned() {
            if name.chars().all(|c| c.is_ascii_uppercase()) && crate::print::is_tag(&s) {
                name = format!("{name}_{s}");
            } else {
                time = Some(self.time_expr(&s)?);
            }
            self.pos += 1;
        }
        let mut idx = vec![];
        if self.eat_c('[') {
            loop {
                idx.push(self.index()?);
                if self.eat_c(']') {
                    break;
                }
                self.need(',')?;
            }
        }
        Ok(self.quantity_node(&name, time, &idx))
    }

    fn quantity(&mut self) -> R<Id> {
        let Some(Tok::Word(w)) = self.peek().cloned() else { return self.err("expected a quantity", "such as W_r[i,p] or s^(k-1)[p]") };
        self.pos += 1;
        self.quantity_from(w)
    }

    fn derivative(&mut self, unicode: bool) -> R<Id> {
        // ∂X/∂Y, ∂/∂Y (X), dX/dY, d/dY (X)
        let top = if unicode {
            self.pos += 1;
            if self.peek() == Some(&Tok::Sym('/')) { None } else { Some(self.quantity()?) }
        } else {
            let Some(Tok::Word(w)) = self.peek().cloned() else { return self.err("expected d", "") };
            self.pos += 1;
            if w == "d" { None } else { Some(self.quantity_from(w[1..].to_string())?) }
        };
        self.need('/')?;
        let w = if unicode {
            if !self.eat_c('∂') {
                return self.err("expected ∂ after /", "write ∂L/∂h⁽ᵏ⁾[i]");
            }
            self.quantity()?
        } else {
            let Some(Tok::Word(w)) = self.peek().cloned() else { return self.err("expected d… after /", "write dL/dh^(k)[i]") };
            if !w.starts_with('d') || w.len() < 2 {
                return self.err("expected d… after /", "write dL/dh^(k)[i]");
            }
            self.pos += 1;
            self.quantity_from(w[1..].to_string())?
        };
        let x = match top {
            Some(x) => x,
            None => self.factor()?,
        };
        Ok(self.out.add(Expr::D([x, w])))
    }

    fn function(&mut self, name: &str) -> R<Id> {
        self.pos += 1;
        let prime = self.eat_c('\'');
        self.need('(')?;
        let a = self.expr()?;
        self.need(')')?;
        self.activation(name, prime, a, &format!("known: σ (the model's activation), {}", crate::notation::activation_names()))
    }

    /// A bound index must not be a name of the model: Σ_L … ∂L/∂… would capture the loss.
    fn bound_index(&mut self) -> R<String> {
        let at = self.span();
        let k = self.index()?;
        self.bound_index_ok(&k, at)?;
        Ok(k)
    }

    /// A bound of a Σ over time: a whole number, or time arithmetic over whole numbers.
    fn time_bound(&mut self) -> R<Id> {
        let start = self.span().start;
        let e = self.expr()?;
        self.whole(e, start)
    }

    fn sum(&mut self) -> R<Id> {
        self.pos += 1;
        self.need('_')?;
        if self.eat_c('{') {
            let k = self.bound_index()?;
            let kid = self.sym(&k);
            self.need('=')?;
            let lo = self.time_bound()?;
            self.need('}')?;
            self.need('^')?;
            self.need('{')?;
            let hi = self.time_bound()?;
            self.need('}')?;
            let body = self.term()?;
            return Ok(self.out.add(Expr::TSum([kid, lo, hi, body])));
        }
        let k = self.bound_index()?;
        let kid = self.sym(&k);
        let body = self.term()?;
        Ok(self.sum_node(kid, body))
    }
}

impl Dialect for P<'_> {
    type Tok = Tok;
    const PLUS: Tok = Tok::Sym('+');
    const MINUS: Tok = Tok::Sym('-');
    fn eat_times(&mut self) -> bool {
        self.eat(&Tok::Sym('*'))
    }
    fn starts_factor(&self) -> bool {
        matches!(self.peek(), Some(Tok::Word(_) | Tok::Num(_) | Tok::Sym('(' | '∂')))
    }
    fn factor(&mut self) -> R<Id> {
        let base = self.primary()?;
        match self.peek().cloned() {
            Some(Tok::Pow(v)) => {
                self.pos += 1;
                let e = self.out.add(num(v));
                Ok(self.out.add(Expr::Pow([base, e])))
            }
            Some(Tok::Sym('^')) => {
                self.pos += 1;
                let e = self.primary()?;
                Ok(self.out.add(Expr::Pow([base, e])))
            }
            _ => Ok(base),
        }
    }
    fn primary_inner(&mut self) -> R<Id> {
        match self.peek().cloned() {
            None => self.err("the formula ends too early", "something is missing at the end"),
            Some(Tok::Num(v)) => {
                self.pos += 1;
                Ok(self.out.add(num(v)))
            }
            Some(Tok::Sym('(')) => {
                self.pos += 1;
                let e = self.expr()?;
                self.need(')')?;
                Ok(e)
            }
            Some(Tok::Sym('∂')) => self.derivative(true),
            Some(Tok::Word(w)) => match w.as_str() {
                "sum" => self.sum(),
                "delta" if self.peek_at(1) == Some(&Tok::Sym('(')) => {
                    self.pos += 2;
                    let a = self.index()?;
                    self.need(',')?;
                    let b = self.index()?;
                    self.need(')')?;
                    let (a, b) = (self.sym(&a), self.sym(&b));
                    Ok(self.out.add(Expr::Delta([a, b])))
                }
                w if crate::notation::Act::named(w).is_some() && matches!(self.peek_at(1), Some(Tok::Sym('(' | '\''))) => self.function(w),
                w if w.starts_with('d') && (w == "d" || w[1..].starts_with(|c: char| c.is_ascii_alphabetic())) && self.is_derivative() => self.derivative(false),
                _ => self.quantity(),
            },
            Some(_) => self.err(format!("unexpected `{}`", &self.src[self.span()]), "expected a number, a quantity or a parenthesis"),
        }
    }
}

/// Read a formula in the text syntax (Unicode or ASCII). With a model, each Σ gets the size its index is used
/// with (as for LaTeX).
pub fn read(text: &str, file: &str, model: Option<&crate::model::Model>) -> Result<RecExpr<Expr>, Diag> {
    super::read_with(super::Syntax::Text, text, file, model, crate::notation::Act::sigma())
}
