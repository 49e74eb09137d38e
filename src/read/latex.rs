//! A reader for formulas in the LaTeX subset people write in notes (and that `--format latex` prints):
//! `W^{(r)}_{ip}`, `s^{(k-1)}_p`, `\tanh'\left(h^{(3)}_{a}\right)`, `\delta_{ai}`, `\sum_{b}`, `\sum_{k=1}^{T}`,
//! `\frac{\partial L}{\partial h^{(k)}_{i}}`, `\frac{\partial}{\partial W^{(r)}_{ip}}\left(…\right)`, `\,`,
//! `\cdot`, `\left( \right)`, `\bigl( \bigr)`, `{}` groups. Errors carry the column and a hint.
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
    Cmd(String),
    Ident(char),
    Num(f64),
    Sym(char),
}

pub(super) fn tokenize(s: &str, src: &Arc<str>, file: &str) -> Result<Vec<(Tok, Range<usize>)>, Diag> {
    let mut out = vec![];
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = s[i..].chars().next().unwrap_or(' ');
        let start = i;
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        if c == '\\' {
            i += 1;
            let rest = &s[i..];
            let n = rest.chars().take_while(|c| c.is_ascii_alphabetic()).count();
            if n == 0 {
                let d = rest.chars().next().unwrap_or(' ');
                i += d.len_utf8();
                if d == ',' || d == ';' || d == '!' || d == ' ' {
                    continue; // thin spaces
                }
                out.push((Tok::Cmd(d.to_string()), start..i));
                continue;
            }
            out.push((Tok::Cmd(rest[..n].to_string()), start..i + n));
            i += n;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && s[i + 1..].starts_with(|d: char| d.is_ascii_digit())) {
            let n = s[i..].chars().take_while(|c| c.is_ascii_digit() || *c == '.').count();
            // finite here; exact (no digits lost) where it is used as a value, in `primary` — digits in an index
            // name (\sum_{k0000…}) are text, however many
            let v: f64 = s[i..i + n].parse().ok().filter(|v: &f64| v.is_finite()).ok_or_else(|| Diag::new(file, src, start..i + n, format!("`{}` is not a finite number", &s[i..i + n])).hint("write a number such as 0.5, 2 or 10^{-3}"))?;
            out.push((Tok::Num(v), start..i + n));
            i += n;
            continue;
        }
        if c.is_ascii_alphabetic() {
            out.push((Tok::Ident(c), start..i + 1));
            i += 1;
            continue;
        }
        if "+-()[]{}^_',=/|".contains(c) {
            out.push((Tok::Sym(c), start..i + 1));
            i += 1;
            continue;
        }
        return Err(Diag::new(file, src, start..start + c.len_utf8(), format!("unexpected `{c}`"))
            .hint("the LaTeX reader knows +, -, \\cdot, \\frac, \\partial, \\sum, \\delta, \\tanh, \\sigma, \\left( \\right), ^{}, _{}"));
    }
    Ok(out)
}


impl P<'_> {
    fn need(&mut self, t: Tok, what: &str) -> R<()> {
        if self.eat(&t) { Ok(()) } else { self.err(format!("expected {what}"), "check the braces and parentheses") }
    }
    fn is_cmd(&self, name: &str) -> bool {
        matches!(self.peek(), Some(Tok::Cmd(c)) if c == name)
    }
    /// `{expr}` or a single token.
    fn group(&mut self) -> R<Id> {
        if self.eat(&Tok::Sym('{')) {
            let e = self.expr()?;
            self.need(Tok::Sym('}'), "`}`")?;
            Ok(e)
        } else {
            self.primary()
        }
    }

    fn parens(&mut self) -> R<Id> {
        let close = match self.peek() {
            Some(Tok::Cmd(c)) if c == "left" => "right",
            Some(Tok::Cmd(c)) if c == "bigl" || c == "Bigl" => "bigr",
            _ => "",
        };
        self.pos += 1;
        if !close.is_empty() {
            self.need(Tok::Sym('('), "`(` after \\left")?;
        }
        let e = self.expr()?;
        if !close.is_empty() {
            if !(self.is_cmd(close) || self.is_cmd("Bigr")) {
                return self.err(format!("expected \\{close})"), "every \\left( needs a \\right)");
            }
            self.pos += 1;
        }
        self.need(Tok::Sym(')'), "`)`")?;
        Ok(e)
    }


    fn group_or_name(&mut self) -> R<Id> {
        // {s_{0}}_{i}: a name with a subscript of its own
        match self.name_group() {
            Some(n) => self.quantity_rest(n),
            None => self.group(),
        }
    }

    fn indices(&mut self) -> R<Vec<String>> {
        if !self.eat(&Tok::Sym('{')) {
            return match self.peek().cloned() {
                Some(Tok::Ident(c)) => {
                    self.pos += 1;
                    Ok(vec![c.to_string()])
                }
                _ => self.err("expected an index", "write _{ip} or _i"),
            };
        }
        let mut out = vec![];
        let mut cur = String::new();
        // \mathrm{f} first: a name's tag (marked with #, which no index has)
        if matches!(self.peek(), Some(Tok::Cmd(c)) if c == "mathrm") {
            self.pos += 1;
            self.need(Tok::Sym('{'), "`{` after \\mathrm")?;
            cur.push('#');
            while let Some(Tok::Ident(c)) = self.peek().cloned() {
                self.pos += 1;
                cur.push(c);
            }
            self.need(Tok::Sym('}'), "`}` closing \\mathrm{…}")?;
            if cur.len() == 1 {
                return self.err("expected a tag inside \\mathrm{…}", "write e.g. h^{(k)}_{\\mathrm{f},j}");
            }
            if self.eat(&Tok::Sym(',')) {
                out.push(std::mem::take(&mut cur));
            }
        }
        loop {
            match self.peek().cloned() {
                Some(Tok::Sym('}')) => {
                    self.pos += 1;
                    break;
                }
                Some(Tok::Sym(',')) => {
                    self.pos += 1;
                    out.push(std::mem::take(&mut cur));
                }
                Some(Tok::Ident(c)) => {
                    self.pos += 1;
                    cur.push(c);
                }
                Some(Tok::Num(_)) => {
                    // the digits as written (an f64 would round long ones); an index has no decimal point
                    let digits = &self.src[self.span()];
                    if digits.contains('.') {
                        return self.err("an index is letters and digits, not a decimal number", "write indices such as {ip} or {a1,b}");
                    }
                    cur.push_str(digits);
                    self.pos += 1;
                }
                _ => return self.err("expected indices such as {ip} or {a1,b}", "indices are letters (and digits), separated by commas when longer than one letter"),
            }
        }
        out.push(cur);
        if out.iter().any(String::is_empty) {
            return self.err("an index is empty", "write indices such as {ip} or {a1,b}");
        }
        let has_comma = out.len() > 1;
        if !has_comma && out[0].chars().all(|c| c.is_ascii_alphabetic()) {
            return Ok(out[0].chars().map(|c| c.to_string()).collect());
        }
        Ok(out)
    }

    fn time(&mut self) -> R<Id> {
        // ^{(k-1)}
        self.need(Tok::Sym('{'), "`{` of ^{(…)}")?;
        self.need(Tok::Sym('('), "`(` of ^{(…)}")?;
        let e = self.expr()?;
        self.need(Tok::Sym(')'), "`)` of ^{(…)}")?;
        self.need(Tok::Sym('}'), "`}` of ^{(…)}")?;
        Ok(e)
    }

    fn quantity(&mut self) -> R<Id> {
        let name = match self.peek().cloned() {
            Some(Tok::Cmd(accent)) if accent == "bar" || accent == "hat" => {
                self.pos += 1;
                self.need(Tok::Sym('{'), "`{` after the accent")?;
                let Some(Tok::Ident(c)) = self.peek().cloned() else { return self.err("expected a letter", "write \\bar{y} or \\hat{y}") };
                self.pos += 1;
                self.need(Tok::Sym('}'), "`}`")?;
                format!("{c}{accent}")
            }
            Some(Tok::Ident(c)) => {
                self.pos += 1;
                c.to_string()
            }
            Some(Tok::Sym('{')) => match self.name_group() {
                Some(n) => n,
                None => return self.err("expected a quantity", "such as W^{(r)}_{ip}, s^{(t-1)}_{p} or L"),
            },
            _ => return self.err("expected a quantity", "such as W^{(r)}_{ip}, s^{(t-1)}_{p} or L"),
        };
        self.quantity_rest(name)
    }

    /// `{s_{0}}`: a name with a numbered subscript of its own (the initial state s0); None (nothing consumed)
    /// if the group is something else.
    fn name_group(&mut self) -> Option<String> {
        let save = self.pos;
        self.pos += 1;
        if let Some(Tok::Ident(c)) = self.peek().cloned() {
            self.pos += 1;
            if self.eat(&Tok::Sym('_')) && self.eat(&Tok::Sym('{')) {
                // {s_{0}}: the initial state; {h_{f}}: a letter with a subscript tag (an LSTM gate's h_f)
                let name = match self.peek().cloned() {
                    Some(Tok::Num(n)) => Some(format!("{c}{}", crate::notation::fmt_num(n))),
                    Some(Tok::Ident(t)) => Some(format!("{c}_{t}")),
                    _ => None,
                };
                if let Some(name) = name {
                    self.pos += 1;
                    if self.eat(&Tok::Sym('}')) && self.eat(&Tok::Sym('}')) {
                        return Some(name);
                    }
                }
            }
        }
        self.pos = save;
        None
    }

    fn quantity_rest(&mut self, mut name: String) -> R<Id> {
        let mut time = None;
        if self.peek() == Some(&Tok::Sym('^')) && self.toks.get(self.pos + 2).map(|t| &t.0) == Some(&Tok::Sym('(')) {
            self.pos += 1;
            // W^{(r)}: a single letter after an upper-case base is part of the name
            if let (Some(Tok::Ident(tag)), Some(Tok::Sym(')'))) = (self.toks.get(self.pos + 2).map(|t| t.0.clone()), self.toks.get(self.pos + 3).map(|t| t.0.clone())) {
                if name.chars().all(|c| c.is_ascii_uppercase()) {
                    self.pos += 4;
                    self.need(Tok::Sym('}'), "`}`")?;
                    name = format!("{name}_{tag}");
                } else {
                    time = Some(self.time()?);
                }
            } else {
                time = Some(self.time()?);
            }
        }
        let mut idx = if self.eat(&Tok::Sym('_')) { self.indices()? } else { vec![] };
        // h^{(k)}_{\mathrm{f},j}: an upright first subscript is part of the name (h_f, a gate's pre-activation)
        if let Some(tag) = idx.first().and_then(|i| i.strip_prefix('#')).map(str::to_string) {
            name = format!("{name}_{tag}");
            idx.remove(0);
        }
        Ok(self.quantity_node(&name, time, &idx))
    }

    fn function(&mut self) -> R<Id> {
        let Some(Tok::Cmd(c)) = self.peek().cloned() else { return self.err("expected a function", "") };
        self.pos += 1;
        let name = if c == "mathrm" || c == "operatorname" {
            self.need(Tok::Sym('{'), "`{`")?;
            let mut n = String::new();
            loop {
                match self.peek().cloned() {
                    Some(Tok::Ident(ch)) => n.push(ch),
                    Some(Tok::Num(_)) => n.push_str(&self.src[self.span()]),
                    Some(Tok::Cmd(c)) if c == "_" => n.push('_'),
                    _ => break,
                }
                self.pos += 1;
            }
            self.need(Tok::Sym('}'), "`}`")?;
            if n.is_empty() {
                return self.err("expected a name inside \\mathrm{…}", "");
            }
            if crate::notation::Act::named(&n).is_none() {
                return self.quantity_rest(n);
            }
            n
        } else {
            c
        };
        let prime = self.eat(&Tok::Sym('\''));
        let arg = if self.is_cmd("left") || self.peek() == Some(&Tok::Sym('(')) { self.parens()? } else { self.factor()? };
        self.activation(&name, prime, arg, &format!("known: \\sigma (the model's activation), {}, each optionally with '", crate::notation::ACTIVATIONS.iter().map(|a| a.latex).collect::<Vec<_>>().join(", ")))
    }

    fn sum(&mut self) -> R<Id> {
        self.pos += 1;
        self.need(Tok::Sym('_'), "`_{k}` after \\sum")?;
        // \sum_m …: a one-letter index without braces
        if let Some(Tok::Ident(k)) = self.peek().cloned() {
            self.not_a_name(&k.to_string())?;
            self.pos += 1;
            let kid = self.sym(&k.to_string());
            let body = self.term()?;
            return Ok(self.sum_node(kid, body));
        }
        self.need(Tok::Sym('{'), "`{` after \\sum_")?;
        let Some(Tok::Ident(k)) = self.peek().cloned() else { return self.err("expected the summation index", "write \\sum_{b} or \\sum_{k=1}^{T}") };
        self.pos += 1;
        let mut k = k.to_string();
        while let Some(Tok::Num(_)) = self.peek().cloned() {
            // digits belong to the index's name (k1); a decimal point does not
            let digits = &self.src[self.span()];
            if digits.contains('.') {
                return self.err("a summation index is letters and digits, not a decimal number", "write \\sum_{b}, \\sum_{k1} or \\sum_{k=1}^{T}");
            }
            k.push_str(digits);
            self.pos += 1;
        }
        self.not_a_name(&k)?;
        let kid = self.sym(&k);
        if self.eat(&Tok::Sym('=')) {
            let lo = self.time_bound(false)?;
            self.need(Tok::Sym('}'), "`}`")?;
            self.need(Tok::Sym('^'), "`^{T}` after \\sum_{k=…}")?;
            let hi = self.time_bound(true)?;
            let body = self.term()?;
            return Ok(self.out.add(Expr::TSum([kid, lo, hi, body])));
        }
        self.need(Tok::Sym('}'), "`}`")?;
        let body = self.term()?;
        Ok(self.sum_node(kid, body))
    }

    /// A bound index must not be a name of the model: \sum_{L} … \partial L would capture the loss.
    fn not_a_name(&self, k: &str) -> R<()> {
        self.bound_index_ok(k, self.span())
    }

    /// A bound of a Σ over time (`group`: the upper one, in braces): whole numbers only.
    fn time_bound(&mut self, group: bool) -> R<Id> {
        let start = self.span().start;
        let e = if group { self.group()? } else { self.expr()? };
        self.whole(e, start)
    }

    fn frac(&mut self) -> R<Id> {
        self.pos += 1;
        self.need(Tok::Sym('{'), "`{` after \\frac")?;
        if self.is_cmd("partial") {
            self.pos += 1;
            let top = if self.peek() == Some(&Tok::Sym('}')) { None } else { Some(self.quantity()?) };
            self.need(Tok::Sym('}'), "`}`")?;
            self.need(Tok::Sym('{'), "`{` of the denominator")?;
            if !self.is_cmd("partial") {
                return self.err("expected \\partial in the denominator", "write \\frac{\\partial L}{\\partial h^{(k)}_{i}}");
            }
            self.pos += 1;
            let w = self.quantity()?;
            self.need(Tok::Sym('}'), "`}`")?;
            let x = match top {
                Some(x) => x,
                None => self.factor()?,
            };
            return Ok(self.out.add(Expr::D([x, w])));
        }
        let a = self.expr()?;
        self.need(Tok::Sym('}'), "`}`")?;
        self.need(Tok::Sym('{'), "`{` of the denominator")?;
        let b = self.expr()?;
        self.need(Tok::Sym('}'), "`}`")?;
        match (&self.out[a], &self.out[b]) {
            // a numeric fraction is a number when a float holds it exactly (\frac{1}{2} = 0.5); otherwise it stays a
            // fraction, a · (1/b), so that a proof sees 1/3 exactly
            (Expr::Num(x), Expr::Num(y)) if y.into_inner() != 0.0 => {
                let (x, y) = (x.into_inner(), y.into_inner());
                let exact = match (crate::exact::of_f64(x), crate::exact::of_f64(y), crate::exact::of_f64(x / y)) {
                    (Some(p), Some(q), Some(v)) => p / q == v,
                    _ => false,
                };
                if exact {
                    return Ok(self.out.add(num(x / y)));
                }
                let r = self.out.add(Expr::Recip(b));
                // \frac{1}{b} is 1/b itself, as the printer writes it back
                if x == 1.0 {
                    return Ok(r);
                }
                Ok(self.out.add(Expr::Mul([a, r])))
            }
            _ => self.err("only numeric fractions and \\frac{\\partial …}{\\partial …} are understood", "write a product instead of a division"),
        }
    }
}

impl Dialect for P<'_> {
    type Tok = Tok;
    const PLUS: Tok = Tok::Sym('+');
    const MINUS: Tok = Tok::Sym('-');
    fn eat_times(&mut self) -> bool {
        if self.is_cmd("cdot") || self.is_cmd("times") {
            self.pos += 1;
            return true;
        }
        false
    }
    fn starts_factor(&self) -> bool {
        match self.peek() {
            Some(Tok::Ident(_) | Tok::Num(_)) => true,
            Some(Tok::Sym('(' | '{')) => true,
            Some(Tok::Cmd(c)) => !matches!(c.as_str(), "right" | "bigr" | "Bigr" | "end" | "\\" | "tag" | "notag" | "quad" | "qquad"),
            _ => false,
        }
    }
    fn factor(&mut self) -> R<Id> {
        let base = self.primary()?;
        if self.peek() == Some(&Tok::Sym('^')) {
            self.pos += 1;
            let e = self.group()?;
            return Ok(self.out.add(Expr::Pow([base, e])));
        }
        Ok(base)
    }
    fn primary_inner(&mut self) -> R<Id> {
        match self.peek().cloned() {
            None => self.err("the formula ends too early", "something is missing at the end"),
            Some(Tok::Num(v)) => {
                if let Err(m) = crate::read::number(&self.src[self.span()]) {
                    return self.err(m, "write a number such as 0.5, 2 or 10^{-3}");
                }
                self.pos += 1;
                Ok(self.out.add(num(v)))
            }
            Some(Tok::Sym('(')) => self.parens(),
            Some(Tok::Sym('{')) => {
                // a group: either {s_{0}} (a name) or {expr}
                self.group_or_name()
            }
            Some(Tok::Cmd(c)) => match c.as_str() {
                "left" | "bigl" | "Bigl" => self.parens(),
                "sum" => self.sum(),
                "frac" | "tfrac" | "dfrac" => self.frac(),
                "delta" => {
                    self.pos += 1;
                    self.need(Tok::Sym('_'), "`_{ai}` after \\delta")?;
                    let idx = self.indices()?;
                    if idx.len() != 2 {
                        return self.err("\\delta takes two indices", "write \\delta_{ai}");
                    }
                    let (a, b) = (self.sym(&idx[0]), self.sym(&idx[1]));
                    Ok(self.out.add(Expr::Delta([a, b])))
                }
                "mathrm" | "operatorname" => self.function(),
                c if crate::notation::Act::named(c).is_some() => self.function(),
                "bar" | "hat" | "partial" => self.quantity(),
                _ => self.err(format!("unknown command \\{c}"), "the LaTeX reader knows \\frac, \\partial, \\sum, \\delta, \\tanh, \\sigma, \\left( \\right), \\cdot"),
            },
            Some(Tok::Ident(_)) => self.quantity(),
            Some(_) => self.err(format!("unexpected `{}`", &self.src[self.span()]), "expected a number, a symbol or a parenthesis"),
        }
    }
}

/// Read a LaTeX formula. `file` names the source in error messages. With a model, the size each Σ runs over
/// is taken from where its index is used (W⁽ʸ⁾[m,a]: m over n_y), otherwise it is n_h.
pub fn read(text: &str, file: &str, model: Option<&crate::model::Model>) -> Result<RecExpr<Expr>, Diag> {
    super::read_with(super::Syntax::Latex, text, file, model, crate::notation::Act::sigma())
}
