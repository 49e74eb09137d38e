//! A reader for formulas in the LaTeX subset people write in notes (and that `--format latex` prints):
//! `W^{(r)}_{ip}`, `s^{(k-1)}_p`, `\tanh'\left(h^{(3)}_{a}\right)`, `\delta_{ai}`, `\sum_{b}`, `\sum_{k=1}^{T}`,
//! `\frac{\partial L}{\partial h^{(k)}_{i}}`, `\frac{\partial}{\partial W^{(r)}_{ip}}\left(…\right)`, `\,`,
//! `\cdot`, `\left( \right)`, `\bigl( \bigr)`, `{}` groups. Errors carry the column and a hint.
use crate::diag::Diag;
use crate::lang::{Expr, num};
use egg::{Id, RecExpr};
use std::ops::Range;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Cmd(String),
    Ident(char),
    Num(f64),
    Sym(char),
}

fn tokenize(s: &str, src: &Arc<str>, file: &str) -> Result<Vec<(Tok, Range<usize>)>, Diag> {
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

struct P<'a> {
    toks: Vec<(Tok, Range<usize>)>,
    pos: usize,
    out: RecExpr<Expr>,
    file: &'a str,
    src: &'a Arc<str>,
    depth: usize,
    model: Option<&'a crate::model::Model>,
    /// The function \sigma stands for (the model's activation).
    sigma: crate::notation::Act,
}

use crate::read::Nesting;

type R<T> = Result<T, Diag>;

impl crate::read::Nesting for P<'_> {
    fn depth(&mut self) -> &mut usize {
        &mut self.depth
    }
    fn here(&self, msg: &str, hint: &str) -> Diag {
        Diag::new(self.file, self.src, self.span(), msg).hint(hint)
    }
}

impl P<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }
    fn span(&self) -> Range<usize> {
        self.toks.get(self.pos).map(|t| t.1.clone()).unwrap_or(self.src.len()..self.src.len())
    }
    fn err<T>(&self, msg: impl Into<String>, hint: impl AsRef<str>) -> R<T> {
        Err(Diag::new(self.file, self.src, self.span(), msg).hint(hint.as_ref()))
    }
    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn need(&mut self, t: Tok, what: &str) -> R<()> {
        if self.eat(&t) { Ok(()) } else { self.err(format!("expected {what}"), "check the braces and parentheses") }
    }
    fn is_cmd(&self, name: &str) -> bool {
        matches!(self.peek(), Some(Tok::Cmd(c)) if c == name)
    }
    fn sym(&mut self, s: &str) -> Id {
        self.out.add(Expr::Symbol(s.into()))
    }

    fn expr(&mut self) -> R<Id> {
        self.depth += 1;
        if self.depth > crate::read::MAX_DEPTH {
            return self.err("the formula nests too deeply", "split it into smaller parts");
        }
        let mut acc = self.term()?;
        loop {
            if self.eat(&Tok::Sym('+')) {
                let t = self.term()?;
                acc = self.out.add(Expr::Add([acc, t]));
            } else if self.eat(&Tok::Sym('-')) {
                let t = self.term()?;
                acc = self.out.add(Expr::Sub([acc, t]));
            } else {
                break;
            }
        }
        self.depth -= 1;
        Ok(acc)
    }

    fn starts_factor(&self) -> bool {
        match self.peek() {
            Some(Tok::Ident(_) | Tok::Num(_)) => true,
            Some(Tok::Sym('(' | '{')) => true,
            Some(Tok::Cmd(c)) => !matches!(c.as_str(), "right" | "bigr" | "Bigr" | "end" | "\\" | "tag" | "notag" | "quad" | "qquad"),
            _ => false,
        }
    }

    fn term(&mut self) -> R<Id> {
        // -x y is (-x) y, as the printer writes it; -(x y) keeps its parentheses
        let mut acc = if self.eat(&Tok::Sym('-')) {
            let f = self.factor()?;
            self.out.add(Expr::Neg(f))
        } else {
            self.factor()?
        };
        loop {
            if self.is_cmd("cdot") || self.is_cmd("times") {
                self.pos += 1;
            } else if !self.starts_factor() {
                break;
            }
            let f = self.factor()?;
            acc = self.out.add(Expr::Mul([acc, f]));
        }
        Ok(acc)
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

    fn primary(&mut self) -> R<Id> {
        // every path of recursion passes here (a chain of ∂ prefixes does not pass through `expr`)
        self.deeper(Self::primary_inner)
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
            if self.eat(&Tok::Sym('_')) && self.eat(&Tok::Sym('{'))
                && let Some(Tok::Num(n)) = self.peek().cloned() {
                    self.pos += 1;
                    if self.eat(&Tok::Sym('}')) && self.eat(&Tok::Sym('}')) {
                        return Some(format!("{c}{}", crate::print::fmt_num(n)));
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
        let idx = if self.eat(&Tok::Sym('_')) { self.indices()? } else { vec![] };
        if time.is_none() && idx.is_empty() {
            return Ok(self.sym(&name));
        }
        let mut kids = vec![self.sym(&name)];
        if let Some(t) = time {
            kids.push(t);
        }
        for i in idx {
            kids.push(self.sym(&i));
        }
        Ok(self.out.add(if time.is_some() { Expr::Tx(kids.into()) } else { Expr::Ix(kids.into()) }))
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
        let name = if name == "sigma" { self.sigma.name() } else { name.as_str() };
        match crate::lang::activation(name, prime, arg) {
            Some(n) => Ok(self.out.add(n)),
            None => self.err(format!("unknown function `{name}`"), format!("known: \\sigma (the model's activation), {}, each optionally with '", crate::notation::ACTIVATIONS.iter().map(|a| a.latex).collect::<Vec<_>>().join(", "))),
        }
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
            let dim = self.sym("n_h");
            return Ok(self.out.add(Expr::Sum([kid, dim, body])));
        }
        self.need(Tok::Sym('{'), "`{` after \\sum_")?;
        let Some(Tok::Ident(k)) = self.peek().cloned() else { return self.err("expected the summation index", "write \\sum_{b} or \\sum_{k=1}^{T}") };
        self.pos += 1;
        let mut k = k.to_string();
        while let Some(Tok::Num(_)) = self.peek().cloned() {
            k.push_str(&self.src[self.span()]);
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
        // the size a bound index ranges over is taken from where it is used, when the expression is evaluated;
        // the reader writes n_h, the size of the hidden state, which every index of the blog's sums has
        let dim = self.sym("n_h");
        Ok(self.out.add(Expr::Sum([kid, dim, body])))
    }

    /// A bound index must not be a name of the model: \sum_{L} … \partial L would capture the loss.
    fn not_a_name(&self, k: &str) -> R<()> {
        match self.model {
            Some(m) if m.captures(k.into()) => self.err(format!("the summation index `{k}` is a name of the model (a sum over it would capture the name)"), "use another letter for the index, such as k or a"),
            _ => Ok(()),
        }
    }

    /// A bound of a Σ over time (`group`: the upper one, in braces): whole numbers only.
    fn time_bound(&mut self, group: bool) -> R<Id> {
        let start = self.span().start;
        let e = if group { self.group()? } else { self.expr()? };
        let end = self.toks.get(self.pos.saturating_sub(1)).map(|t| t.1.end).unwrap_or(start);
        crate::read::whole_bound(&self.out, e).map_err(|v| {
            Diag::new(self.file, self.src, start..end.max(start), format!("the bound {v} of a Σ over time is not a whole number")).hint("time steps are whole numbers: write 1, T, T-1 …")
        })?;
        Ok(e)
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

/// Read a LaTeX formula. `file` names the source in error messages. With a model, the size each Σ runs over
/// is taken from where its index is used (W⁽ʸ⁾[m,a]: m over n_y), otherwise it is n_h.
pub fn read(text: &str, file: &str, model: Option<&crate::model::Model>) -> Result<RecExpr<Expr>, Diag> {
    read_with(text, file, model, crate::notation::Act::sigma())
}

/// [`read`], with \sigma standing for the activation `sigma`.
pub fn read_with(text: &str, file: &str, model: Option<&crate::model::Model>, sigma: crate::notation::Act) -> Result<RecExpr<Expr>, Diag> {
    let src: Arc<str> = Arc::from(text);
    let toks = tokenize(text, &src, file)?;
    let mut p = P { toks, pos: 0, out: RecExpr::default(), file, src: &src, depth: 0, model, sigma };
    p.expr()?;
    if p.pos < p.toks.len() {
        return p.err("unexpected text after the formula", "check for a missing operator or an extra brace");
    }
    Ok(match model {
        Some(m) => sizes_from_use(&p.out, m),
        None => p.out,
    })
}

/// Give every Σ the size of the first declared quantity slot its index occupies.
pub(crate) fn sizes_from_use(e: &RecExpr<Expr>, m: &crate::model::Model) -> RecExpr<Expr> {
    fn slot(e: &RecExpr<Expr>, id: Id, k: egg::Symbol, m: &crate::model::Model) -> Option<egg::Symbol> {
        let (ch, first) = match &e[id] {
            Expr::Ix(ch) => (ch, 1),
            Expr::Tx(ch) => (ch, 2),
            n => return egg::Language::children(n).iter().find_map(|c| slot(e, *c, k, m)),
        };
        let Expr::Symbol(name) = &e[ch[0]] else { return None };
        let d = m.decls.get(name)?;
        ch[first..].iter().zip(&d.dims).find_map(|(c, dim)| matches!(&e[*c], Expr::Symbol(s) if *s == k).then_some(*dim))
    }
    let mut out = RecExpr::default();
    let mut map: Vec<Id> = vec![];
    for n in e.as_ref() {
        let new = match n {
            Expr::Sum([k, _, body]) => {
                let dim = match &e[*k] {
                    Expr::Symbol(k) => slot(e, *body, *k, m),
                    _ => None,
                };
                let kk = map[usize::from(*k)];
                let d = match dim {
                    Some(d) => out.add(Expr::Symbol(d)),
                    None => out.add(Expr::Symbol("n_h".into())),
                };
                Expr::Sum([kk, d, map[usize::from(*body)]])
            }
            n => egg::Language::map_children(n.clone(), |c| map[usize::from(c)]),
        };
        map.push(out.add(new));
    }
    out
}
