//! MathML Core from the expression tree, for the HTML page (`--format html`): what the LaTeX printer writes,
//! as elements a browser lays out natively (Chromium, Firefox and Safari; screen readers read it; it prints).
//!
//! Invariants: the same parentheses, factor order and names as [`crate::print`] (its helpers decide where a
//! factor needs parentheses); every operator inside a superscript or subscript is tight (`lspace`/`rspace` 0),
//! so s⁽ᵏ⁻¹⁾ has no stray space around its parentheses; the output is well-formed XML (every text escaped).
use crate::lang::Expr;
use crate::print::{factors, name_parts, open_right, starts_with_minus, starts_with_number, sub_tagged};
use egg::{Id, RecExpr};

/// `<math>` around MathML children: a display block, or inline.
pub fn math(children: &str, block: bool) -> String {
    if block { format!("<math display=\"block\">{children}</math>") } else { format!("<math>{children}</math>") }
}

/// The whole expression as MathML children (put them in [`math`]).
pub fn expr(e: &RecExpr<Expr>) -> String {
    Mml { e, sigma: crate::print::shown_sigma() }.node(e.root(), 0, false)
}

/// The sub-expression at `id` as MathML children.
pub fn node(e: &RecExpr<Expr>, id: Id) -> String {
    Mml { e, sigma: crate::print::shown_sigma() }.node(id, 0, false)
}

/// Text escaped for XML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// An identifier set upright (a name's tag, not an index).
fn upright(s: &str) -> String {
    format!("<mi mathvariant=\"normal\">{}</mi>", esc(s))
}

pub fn mi(s: &str) -> String {
    format!("<mi>{}</mi>", esc(s))
}

/// An operator; `tight` sets its spacing to zero (inside scripts, and for fences).
pub fn mo(s: &str, tight: bool) -> String {
    // a fence is stretchy by default, and a stretchy parenthesis takes space of its own even with lspace and
    // rspace 0 (s⁽ ᵏ ⁾): in scripts it is not stretchy
    if tight { format!("<mo lspace=\"0\" rspace=\"0\" stretchy=\"false\">{}</mo>", esc(s)) } else { format!("<mo>{}</mo>", esc(s)) }
}

fn row(s: String) -> String {
    format!("<mrow>{s}</mrow>")
}

/// The thin space between factors (LaTeX's `\,`).
const THIN: &str = "<mspace width=\"0.1667em\"></mspace>";

struct Mml<'a> {
    e: &'a RecExpr<Expr>,
    sigma: Option<crate::notation::Act>,
}

impl Mml<'_> {
    fn paren(&self, d: String, need: bool, script: bool) -> String {
        if need { row(format!("{}{d}{}", mo("(", script), mo(")", script))) } else { d }
    }

    fn is_leaf(&self, id: Id) -> bool {
        matches!(&self.e[id], Expr::Symbol(_) | Expr::Ix(_) | Expr::Tx(_))
    }

    /// A name with its tag and time as a superscript in parentheses and its indices as a subscript.
    fn quantity(&self, id: Id) -> Option<String> {
        let (ch, timed): (&[Id], bool) = match &self.e[id] {
            // h_f: h with the tag upright in the subscript (as the LaTeX writes it)
            Expr::Symbol(s) if let Some((b, t)) = sub_tagged(s.as_str()) => return Some(format!("<msub>{}{}</msub>", mi(b), upright(t))),
            Expr::Symbol(s) => {
                let (base, tag) = name_parts(s.as_str());
                return Some(self.scripted(&base, tag.map(|t| mi(&t)), None));
            }
            Expr::Ix(ch) => (ch, false),
            Expr::Tx(ch) => (ch, true),
            _ => return None,
        };
        let sub_tag = match &self.e[ch[0]] {
            Expr::Symbol(s) => sub_tagged(s.as_str()),
            _ => None,
        };
        let (base, tag) = match (&self.e[ch[0]], sub_tag) {
            (_, Some((b, _))) => (b.to_string(), None),
            (Expr::Symbol(s), None) => name_parts(s.as_str()),
            _ => (String::new(), None),
        };
        let (time, rest) = if timed { (Some(self.node(ch[1], 0, true)), &ch[2..]) } else { (tag.map(|t| mi(&t)), &ch[1..]) };
        let idx: Vec<String> = rest.iter().map(|c| self.node(*c, 2, true)).collect();
        let one_letter = rest.iter().all(|c| matches!(&self.e[*c], Expr::Symbol(s) if s.as_str().chars().count() == 1));
        let sub = match sub_tag {
            // the tag first, then the indices after a comma: h^{(k)}_{f,j}
            Some((_, t)) => Some(row(std::iter::once(upright(t)).chain(idx).collect::<Vec<_>>().join(&mo(",", true)))),
            None => (!idx.is_empty()).then(|| row(if one_letter { idx.concat() } else { idx.join(&mo(",", true)) })),
        };
        Some(self.scripted(&base, time, sub))
    }

    fn scripted(&self, base: &str, sup: Option<String>, sub: Option<String>) -> String {
        let b = mi(base);
        let sup = sup.map(|s| row(format!("{}{s}{}", mo("(", true), mo(")", true))));
        match (sup, sub) {
            (None, None) => b,
            (Some(p), None) => format!("<msup>{b}{p}</msup>"),
            (None, Some(s)) => format!("<msub>{b}{s}</msub>"),
            (Some(p), Some(s)) => format!("<msubsup>{b}{s}{p}</msubsup>"),
        }
    }

    fn func(&self, name: String, a: Id, script: bool) -> String {
        row(format!("{name}{}", self.paren(self.node(a, 0, script), true, script)))
    }

    fn act(&self, a: crate::notation::Act, deriv: bool) -> String {
        let base = if self.sigma == Some(a) { "σ" } else { a.row().unicode };
        if deriv { format!("<msup>{}{}</msup>", mi(base), mo("′", true)) } else { mi(base) }
    }

    fn partial(&self) -> String {
        "<mi mathvariant=\"normal\">∂</mi>".to_string()
    }

    fn node(&self, id: Id, prec: u8, script: bool) -> String {
        let e = self.e;
        let minus = |s: bool| mo("−", s);
        match &e[id] {
            Expr::Num(v) if v.into_inner() < 0.0 => self.paren(row(format!("{}<mn>{}</mn>", minus(script), crate::notation::fmt_num(-v.into_inner()))), prec > 1, script),
            Expr::Num(v) if v.into_inner() == 0.5 => "<mfrac><mn>1</mn><mn>2</mn></mfrac>".to_string(),
            Expr::Num(v) => format!("<mn>{}</mn>", crate::notation::fmt_num(v.into_inner())),
            Expr::Symbol(_) | Expr::Ix(_) | Expr::Tx(_) => self.quantity(id).unwrap_or_default(),
            Expr::Add([a, b]) | Expr::Sub([a, b]) => {
                let sub = matches!(&e[id], Expr::Sub(_));
                let op = if sub { minus(script) } else { mo("+", script) };
                let d = row(format!("{}{op}{}", self.node(*a, 0, script), self.node(*b, u8::from(sub), script)));
                self.paren(d, prec > 0, script)
            }
            Expr::Mul(_) => {
                let mut fs = vec![];
                factors(e, id, &mut fs);
                let last = fs.len() - 1;
                let mut d = String::new();
                for (k, f) in fs.iter().enumerate() {
                    if k > 0 {
                        d.push_str(&if starts_with_number(e, *f) { mo("·", script) } else { THIN.to_string() });
                    }
                    let wrap = (k < last && open_right(e, *f)) || (k > 0 && starts_with_minus(e, *f));
                    d.push_str(&self.paren(self.node(*f, 1, script), wrap, script));
                }
                self.paren(row(d), prec > 1, script)
            }
            Expr::Neg(a) => self.paren(row(format!("{}{}", minus(script), self.node(*a, 2, script))), prec > 1, script),
            Expr::Pow([a, b]) => {
                // a power of a power keeps its parentheses; a negation or negative number brings its own
                let wrap = matches!(&e[*a], Expr::Pow(_));
                let base = self.paren(self.node(*a, 2, script), wrap, script);
                format!("<msup>{}{}</msup>", row(base), row(self.node(*b, 0, true)))
            }
            Expr::Exp(a) => self.func(mi("exp"), *a, script),
            Expr::Log(a) => self.func(mi("log"), *a, script),
            Expr::Recip(a) => format!("<mfrac><mn>1</mn>{}</mfrac>", row(self.node(*a, 0, script))),
            Expr::Act(f, a) => self.func(self.act(*f, false), *a, script),
            Expr::DAct(f, a) => self.func(self.act(*f, true), *a, script),
            Expr::D([x, w]) => {
                let wq = self.quantity(*w).unwrap_or_else(|| self.node(*w, 2, script));
                let den = row(format!("{}{wq}", self.partial()));
                match self.quantity(*x) {
                    Some(xq) if self.is_leaf(*x) => format!("<mfrac>{}{den}</mfrac>", row(format!("{}{xq}", self.partial()))),
                    _ => {
                        let body = self.paren(self.node(*x, 0, script), true, script);
                        self.paren(row(format!("<mfrac>{}{den}</mfrac>{body}", self.partial())), prec > 1, script)
                    }
                }
            }
            Expr::Sum([k, _, body]) => {
                let head = format!("<munder>{}{}</munder>", mo("∑", false), row(self.node(*k, 2, true)));
                self.paren(row(format!("{head}{}", self.node(*body, 1, script))), prec > 1, script)
            }
            Expr::TSum([k, lo, hi, body]) => {
                let under = row(format!("{}{}{}", self.node(*k, 2, true), mo("=", true), self.node(*lo, 2, true)));
                let head = format!("<munderover>{}{under}{}</munderover>", mo("∑", false), row(self.node(*hi, 2, true)));
                self.paren(row(format!("{head}{}", self.node(*body, 1, script))), prec > 1, script)
            }
            Expr::Delta([a, b]) => {
                let (a, b) = (self.node(*a, 2, true), self.node(*b, 2, true));
                let one = |id: &Id| matches!(&e[*id], Expr::Symbol(s) if s.as_str().chars().count() == 1);
                let sep = if let Expr::Delta([x, y]) = &e[id] && one(x) && one(y) { String::new() } else { mo(",", true) };
                format!("<msub>{}{}</msub>", mi("δ"), row(format!("{a}{sep}{b}")))
            }
        }
    }
}
