//! Text rendering of expressions in the blog's notation (Unicode, or an ASCII spelling), one function per node
//! kind, line breaking by `pretty`: W⁽ʳ⁾[i,p], s⁽ᵗ⁻¹⁾[p], tanh′(h⁽³⁾[a]), Σ_b, δ(a,i), ∂L/∂h⁽ᵏ⁾[i].
use crate::lang::{Expr, num};
use egg::{Id, RecExpr};
use pretty::RcDoc;

type Doc = RcDoc<'static, ()>;

/// Unicode (the default), plain ASCII, or LaTeX math (the same layout decisions, other tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Unicode,
    Ascii,
    Latex,
}

pub use crate::notation::{fmt_num, sup_char};

fn sup(s: &str) -> Option<String> {
    let out: String = s.chars().map(sup_char).collect();
    (out.chars().zip(s.chars()).all(|(a, b)| a != b || !b.is_alphanumeric())).then_some(out)
}

/// W_r → (W, r), W_fr → (W, fr): an upper-case name with a tag of one or two lower-case letters, shown as a
/// superscript (W⁽ʳ⁾, W⁽ᶠʳ⁾); other names with an underscore are shown as they are, so that every name reads back.
fn tagged(n: &str) -> Option<(&str, &str)> {
    n.split_once('_').filter(|(base, tag)| !base.is_empty() && base.chars().all(|c| c.is_ascii_uppercase()) && is_tag(tag))
}

/// A name's tag: one or two lower-case letters (W_r's r, W_fr's fr, h_f's f).
pub fn is_tag(t: &str) -> bool {
    (1..=2).contains(&t.len()) && t.chars().all(|c| c.is_ascii_lowercase())
}

/// h_f → (h, f): one lower-case letter with a tag of one or two lower-case letters (an LSTM gate's
/// pre-activation), shown in LaTeX with the tag upright in the subscript, before the indices: h^{(k)}_{\mathrm{f},j}.
pub fn sub_tagged(n: &str) -> Option<(&str, &str)> {
    n.split_once('_').filter(|(a, t)| a.len() == 1 && a.chars().all(|c| c.is_ascii_lowercase()) && is_tag(t))
}

/// How a name is shown: W_r → W⁽ʳ⁾, ybar → ȳ (Unicode); unchanged in ASCII.
pub fn name(n: &str, style: Style) -> String {
    if style == Style::Ascii {
        return n.to_string();
    }
    if style == Style::Latex {
        return match n {
            _ if let Some((base, accent, _)) = crate::notation::accented(n) => format!("\\{accent}{{{base}}}"),
            _ => match tagged(n) {
                Some((base, tag)) => format!("{base}^{{({tag})}}"),
                // h_f → h_{\mathrm{f}}: one lower-case letter with an upright subscript tag (indices follow it)
                None if let Some((a, t)) = sub_tagged(n) => format!("{a}_{{\\mathrm{{{t}}}}}"),
                None if n.contains('_') => format!("\\mathrm{{{}}}", n.replace('_', "\\_")),
                None if let Some((a, t)) = given(n) => format!("{a}^{{({t})}}"),
                // grouped, so that the indices can follow as a second subscript: {s_{0}}_{i}
                None if let Some((a, t)) = at_step(n) => format!("{{{a}_{{{t}}}}}"),
                None if n.len() > 1 => format!("\\mathrm{{{n}}}"),
                None => n.to_string(),
            },
        };
    }
    if let Some((_, _, c)) = crate::notation::accented(n) {
        return c.to_string();
    }
    match tagged(n) {
        Some((base, tag)) => format!("{base}⁽{}⁾", sup(tag).unwrap_or_default()),
        None if let Some((a, t)) = given(n) => format!("{a}⁽{}⁾", sup(t).unwrap_or_default()),
        None => n.to_string(),
    }
}

/// `s0` → (`s`, `0`): a parameter named by one lower-case letter and a step number, which the model gives as that
/// quantity's value at that step (s⁽⁰⁾[i] := s0[i]), is shown as the quantity is there (s⁽⁰⁾, `s^{(0)}`): one
/// symbol for one thing, as the blog writes it. Only names the shown model gives ([`Shown::given`]); `check`
/// proves the two spellings equal by the model's rule that says so.
pub fn at_step(n: &str) -> Option<(&str, &str)> {
    let (a, t) = n.split_at_checked(1)?;
    (a.chars().all(|c| c.is_ascii_lowercase()) && !t.is_empty() && t.chars().all(|c| c.is_ascii_digit())).then_some((a, t))
}

/// How a model's expressions are shown while a derivation is printed: a renderer's choice, not a property of the
/// expression.
#[derive(Clone, Debug, Default)]
pub struct Shown {
    /// The activation printed as σ (σ′ for its derivative), as the blog writes it; the header says which it is.
    pub sigma: Option<crate::notation::Act>,
    /// The parameters shown as a quantity at a step ([`at_step`]).
    pub given: Vec<String>,
}

thread_local! {
    static SHOWN: std::cell::RefCell<Shown> = std::cell::RefCell::new(Shown::default());
}

/// Run `f` with expressions shown as `shown` says. Scoped to this thread and restored afterwards (the matrix
/// form, computed outside, keeps the activation's own name).
pub fn with_shown<R>(shown: &Shown, f: impl FnOnce() -> R) -> R {
    let before = SHOWN.with(|s| s.replace(shown.clone()));
    let r = f();
    SHOWN.with(|s| *s.borrow_mut() = before);
    r
}

/// The activation shown as σ, if any ([`with_shown`]).
pub fn shown_sigma() -> Option<crate::notation::Act> {
    SHOWN.with(|s| s.borrow().sigma)
}

/// A name as its base and the superscript tag it is shown with: W_r → (W, r), s0 → (s, 0) where the shown model
/// gives it, ybar → (ȳ, none); what [`name`] shows in Unicode, in parts (for MathML).
pub fn name_parts(n: &str) -> (String, Option<String>) {
    if let Some((_, _, c)) = crate::notation::accented(n) {
        return (c.to_string(), None);
    }
    match tagged(n).or_else(|| given(n)) {
        Some((base, tag)) => (base.to_string(), Some(tag.to_string())),
        None => (n.to_string(), None),
    }
}

fn given(n: &str) -> Option<(&str, &str)> {
    at_step(n).filter(|_| SHOWN.with(|s| s.borrow().given.iter().any(|g| g == n)))
}

pub fn render(e: &RecExpr<Expr>, style: Style, width: usize) -> String {
    let p = Printer { e, style, sigma: SHOWN.with(|s| s.borrow().sigma) };
    let mut out = String::new();
    let doc = p.doc(e.root(), 0);
    let _ = doc.render_fmt(width.max(20), &mut out);
    out
}

struct Printer<'a> {
    e: &'a RecExpr<Expr>,
    style: Style,
    sigma: Option<crate::notation::Act>,
}

/// Does the printed form of `id` end with a binder whose body would swallow what follows?
pub fn open_right(e: &RecExpr<Expr>, id: Id) -> bool {
    match &e[id] {
        Expr::Sum(_) | Expr::TSum(_) => true,
        Expr::D([x, _]) => !matches!(&e[*x], Expr::Symbol(_) | Expr::Ix(_) | Expr::Tx(_)),
        Expr::Mul([_, b]) => open_right(e, *b),
        Expr::Neg(a) => open_right(e, *a),
        _ => false,
    }
}

/// Does the printed form of `id` begin with a digit (so that juxtaposition would glue two numbers)?
pub fn starts_with_number(e: &RecExpr<Expr>, id: Id) -> bool {
    match &e[id] {
        Expr::Num(v) => v.into_inner() >= 0.0,
        Expr::Mul([a, _]) | Expr::Pow([a, _]) => starts_with_number(e, *a),
        _ => false,
    }
}

/// The factors of a product chain, in order, whatever its association.
pub fn factors(e: &RecExpr<Expr>, id: Id, out: &mut Vec<Id>) {
    match &e[id] {
        Expr::Mul([a, b]) => {
            factors(e, *a, out);
            factors(e, *b, out);
        }
        _ => out.push(id),
    }
}

/// Does the printed form of `id` begin with a minus sign?
pub fn starts_with_minus(e: &RecExpr<Expr>, id: Id) -> bool {
    match &e[id] {
        Expr::Neg(_) => true,
        Expr::Num(v) => v.into_inner() < 0.0,
        Expr::Mul([a, _]) => starts_with_minus(e, *a),
        _ => false,
    }
}

fn text(s: impl Into<String>) -> Doc {
    RcDoc::text(s.into())
}

impl Printer<'_> {
    fn u(&self) -> bool {
        self.style == Style::Unicode
    }

    fn tex(&self) -> bool {
        self.style == Style::Latex
    }

    fn paren(&self, d: Doc, need: bool) -> Doc {
        match (need, self.tex()) {
            (false, _) => d,
            (true, false) => text("(").append(d.nest(1)).append(text(")")),
            (true, true) => text("\\left(").append(d.nest(1)).append(text("\\right)")),
        }
    }

    fn open_right(&self, id: Id) -> bool {
        open_right(self.e, id)
    }

    fn starts_with_number(&self, id: Id) -> bool {
        starts_with_number(self.e, id)
    }

    fn factors(&self, id: Id, out: &mut Vec<Id>) {
        factors(self.e, id, out)
    }

    fn starts_with_minus(&self, id: Id) -> bool {
        starts_with_minus(self.e, id)
    }

    fn is_leaf(&self, id: Id) -> bool {
        matches!(&self.e[id], Expr::Symbol(_) | Expr::Ix(_) | Expr::Tx(_))
    }

    /// A time expression as a superscript: 3 → ⁽³⁾, (- k 1) → ⁽ᵏ⁻¹⁾; ASCII ^(k-1).
    fn time(&self, id: Id) -> String {
        let flat = self.flat(id);
        match (self.style, sup(&flat)) {
            (Style::Unicode, Some(s)) => format!("⁽{s}⁾"),
            (Style::Latex, _) => format!("^{{({flat})}}"),
            _ => format!("^({flat})"),
        }
    }

    fn simple(&self, id: Id) -> bool {
        matches!(&self.e[id], Expr::Symbol(_) | Expr::Num(_))
    }

    /// Time arithmetic as the readers read it, left to right with no parentheses: k, 3, k-1, T-k+1, -k
    /// (names and whole numbers joined by + and −).
    fn affine(&self, id: Id) -> Option<String> {
        let leaf = |id: Id| match &self.e[id] {
            Expr::Symbol(s) => Some(s.to_string()),
            Expr::Num(v) if v.fract() == 0.0 && (0.0..4e9).contains(&v.into_inner()) => Some(fmt_num(v.into_inner())),
            _ => None,
        };
        match &self.e[id] {
            Expr::Add([a, b]) => Some(format!("{}+{}", self.affine(*a)?, leaf(*b)?)),
            Expr::Sub([a, b]) => Some(format!("{}-{}", self.affine(*a)?, leaf(*b)?)),
            Expr::Neg(a) => Some(format!("-{}", leaf(*a)?)),
            _ => leaf(id),
        }
    }

    /// A compact one-line form for indices and times.
    fn flat(&self, id: Id) -> String {
        if let Some(a) = self.affine(id).filter(|_| matches!(&self.e[id], Expr::Add(_) | Expr::Sub(_) | Expr::Neg(_))) {
            return a;
        }
        match &self.e[id] {
            Expr::Num(v) => fmt_num(v.into_inner()),
            Expr::Symbol(s) => s.to_string(),
            // the compact k+1, k-1 of time steps; anything more complex keeps its parentheses
            Expr::Add([a, b]) if matches!(&self.e[*b], Expr::Num(_)) && self.simple(*a) => format!("{}+{}", self.flat(*a), self.flat(*b)),
            Expr::Sub([a, b]) if matches!(&self.e[*b], Expr::Num(_)) && self.simple(*a) => format!("{}-{}", self.flat(*a), self.flat(*b)),
            _ => {
                let mut s = String::new();
                let _ = self.doc(id, 2).render_fmt(10_000, &mut s);
                s
            }
        }
    }

    fn quantity(&self, id: Id) -> Option<String> {
        let (ch, timed) = match &self.e[id] {
            Expr::Symbol(s) => return Some(name(s.as_str(), self.style)),
            Expr::Ix(ch) => (ch, false),
            Expr::Tx(ch) => (ch, true),
            _ => return None,
        };
        // h_f in LaTeX: h, its tag first among the subscripts (h^{(k)}_{\mathrm{f},j})
        let sub = match &self.e[ch[0]] {
            Expr::Symbol(s) if self.tex() => sub_tagged(s.as_str()),
            _ => None,
        };
        let tag = sub.map(|(_, t)| t);
        let nm = match (&self.e[ch[0]], sub) {
            (_, Some((base, _))) => base.to_string(),
            (Expr::Symbol(s), None) => name(s.as_str(), self.style),
            _ => self.flat(ch[0]),
        };
        let (mut time, rest) = if timed { (self.time(ch[1]), &ch[2..]) } else { (String::new(), &ch[1..]) };
        // W^{(p)} reads back as the name W_p (the W⁽ʳ⁾ convention): a capital name's one-letter time step is
        // braced, W^{({p})}, which reads as a time
        if timed && self.tex() && nm.chars().all(|c| c.is_ascii_uppercase()) && matches!(&self.e[ch[1]], Expr::Symbol(t) if t.as_str().len() == 1) {
            time = format!("^{{({{{}}})}}", self.flat(ch[1]));
        }
        let idx: Vec<String> = rest.iter().map(|c| self.flat(*c)).collect();
        let idx = match (idx.is_empty(), self.tex()) {
            _ if let Some(t) = tag => format!("_{{\\mathrm{{{t}}}{}}}", idx.iter().map(|i| format!(",{i}")).collect::<String>()),
            (true, _) => String::new(),
            (false, false) => format!("[{}]", idx.join(",")),
            // one letter each: _{ip}; a digit among them would read back glued to its neighbour (m, 2 → m2)
            (false, true) if idx.iter().all(|x| x.chars().count() == 1 && x.chars().all(|c| c.is_ascii_alphabetic())) => format!("_{{{}}}", idx.concat()),
            (false, true) => format!("_{{{}}}", idx.join(",")),
        };
        // a name that already has a superscript gets the time inside the same group: W^{(r)} has no time
        Some(format!("{nm}{time}{idx}"))
    }

    fn func(&self, f: &str, a: Id) -> Doc {
        if self.tex() {
            return text(f.to_string()).append(self.paren(self.doc(a, 0), true));
        }
        text(format!("{f}(")).append(self.doc(a, 0).nest(f.chars().count() as isize + 1)).append(text(")"))
    }

    /// The name of an activation (or its derivative) in the current style.
    fn act(&self, a: crate::notation::Act, deriv: bool) -> String {
        let row = a.row();
        let (base, prime) = match (self.style, self.sigma == Some(a)) {
            (Style::Latex, true) => ("\\sigma", "'"),
            (Style::Unicode, true) => ("σ", "′"),
            (Style::Ascii, true) => ("sigma", "'"),
            (Style::Latex, false) => (row.latex, "'"),
            (Style::Unicode, false) => (row.unicode, "′"),
            (Style::Ascii, false) => (row.ascii, "'"),
        };
        if deriv { format!("{base}{prime}") } else { base.to_string() }
    }

    fn doc(&self, id: Id, prec: u8) -> Doc {
        let u = self.u();
        match &self.e[id] {
            Expr::Num(v) if v.into_inner() < 0.0 => {
                // written like a negation, −1.5, so that it reads back the same way
                let minus = if u { "−" } else { "-" };
                let mut pos = RecExpr::default();
                pos.add(num(-v.into_inner()));
                let inner = Printer { e: &pos, style: self.style, sigma: self.sigma }.doc(pos.root(), 2);
                self.paren(text(minus).append(inner), prec > 1)
            }
            Expr::Num(v) => {
                let v = v.into_inner();
                let s = if u && v == 0.5 {
                    "½".to_string()
                } else if self.tex() && v == 0.5 {
                    "\\tfrac{1}{2}".to_string()
                } else {
                    fmt_num(v)
                };
                self.paren(text(s), v < 0.0 && prec > 0)
            }
            Expr::Symbol(_) | Expr::Ix(_) | Expr::Tx(_) => text(self.quantity(id).unwrap_or_default()),
            Expr::Add([a, b]) | Expr::Sub([a, b]) => {
                let op = match (&self.e[id], u) {
                    (Expr::Add(_), _) => "+ ",
                    (_, true) => "− ",
                    _ => "- ",
                };
                let op = if self.tex() { &op.replace('−', "-") } else { op };
                let right_prec = if matches!(&self.e[id], Expr::Sub(_)) { 1 } else { 0 };
                let d = self.doc(*a, 0).append(RcDoc::line()).append(text(op)).append(self.doc(*b, right_prec));
                self.paren(d.group(), prec > 0)
            }
            Expr::Mul(_) => {
                // a product prints the same however it is associated: its factors in order, each in parentheses
                // when it would swallow what follows (a Σ that is not last) or start with a minus (not first)
                let mut fs = vec![];
                self.factors(id, &mut fs);
                let last = fs.len() - 1;
                let mut d = RcDoc::nil();
                for (k, f) in fs.iter().enumerate() {
                    // a · (1/c) reads a / c (in LaTeX it stays a \frac{1}{c} factor)
                    if let (true, false, Expr::Recip(c)) = (k > 0, self.tex(), &self.e[*f]) {
                        let simple = self.is_leaf(*c) || matches!(&self.e[*c], Expr::Exp(_) | Expr::Log(_));
                        d = d.append(text(" / ")).append(self.paren(self.doc(*c, 1), !simple));
                        continue;
                    }
                    if k > 0 {
                        let sep = match (self.starts_with_number(*f), self.style) {
                            (true, Style::Unicode) => " · ",
                            (true, Style::Latex) => " \\cdot ",
                            (false, Style::Unicode) => " ",
                            (false, Style::Latex) => " \\, ",
                            (_, Style::Ascii) => " * ",
                        };
                        d = d.append(text(sep));
                    }
                    let wrap = (k < last && self.open_right(*f)) || (k > 0 && self.starts_with_minus(*f));
                    d = d.append(self.paren(self.doc(*f, 1), wrap));
                }
                self.paren(d, prec > 1)
            }
            Expr::Neg(a) => {
                let inner = self.doc(*a, 2);
                self.paren(text(if u { "−" } else { "-" }).append(inner), prec > 1)
                    .nest(0)
            }
            Expr::Pow([a, b]) => {
                // a power of a power, a negation or a negative number keeps its parentheses: (x²)², (−x)²
                let wrap = matches!(&self.e[*a], Expr::Pow(_) | Expr::Neg(_)) || matches!(&self.e[*a], Expr::Num(v) if v.into_inner() < 0.0);
                let base = self.paren(self.doc(*a, 2), wrap && !matches!(&self.e[*a], Expr::Neg(_) | Expr::Num(_)));
                match (&self.e[*b], self.style) {
                    // x² for whole exponents; x^1.5 otherwise (a superscript dot would not read back)
                    (Expr::Num(v), Style::Unicode) if v.into_inner() >= 0.0 && v.into_inner().fract() == 0.0 && v.into_inner() < 1e15 => {
                        base.append(text(sup(&fmt_num(v.into_inner())).unwrap_or_default()))
                    }
                    (_, Style::Latex) => base.append(text("^{")).append(self.doc(*b, 0)).append(text("}")),
                    // `^(` would read as a time superscript: a parenthesised exponent is written `^ (…)`
                    _ if !self.is_leaf(*b) && !matches!(&self.e[*b], Expr::Num(_)) => base.append(text("^ ")).append(self.doc(*b, 2)),
                    _ => base.append(text("^")).append(self.doc(*b, 2)),
                }
            }
            Expr::Exp(a) => self.func(if self.tex() { "\\exp" } else { "exp" }, *a),
            Expr::Log(a) => self.func(if self.tex() { "\\log" } else { "log" }, *a),
            Expr::Recip(a) if self.tex() => text("\\frac{1}{").append(self.doc(*a, 0)).append(text("}")),
            Expr::Recip(a) => {
                let leaf = self.is_leaf(*a) || matches!(&self.e[*a], Expr::Exp(_) | Expr::Log(_));
                self.paren(text("1/").append(self.paren(self.doc(*a, 0), !leaf)), prec > 2)
            }
            Expr::Act(f, a) => self.func(&self.act(*f, false), *a),
            Expr::DAct(f, a) => self.func(&self.act(*f, true), *a),
            Expr::D([x, w]) if self.tex() => {
                let wq = self.quantity(*w).unwrap_or_else(|| self.flat(*w));
                match self.quantity(*x) {
                    Some(xq) => text(format!("\\frac{{\\partial {xq}}}{{\\partial {wq}}}")),
                    None => {
                        let body = self.paren(self.doc(*x, 0), true);
                        self.paren(text(format!("\\frac{{\\partial}}{{\\partial {wq}}} ")).append(body), prec > 1)
                    }
                }
            }
            Expr::D([x, w]) => {
                let (p, wq) = (if u { "∂" } else { "d" }, self.quantity(*w).unwrap_or_else(|| self.flat(*w)));
                match self.quantity(*x) {
                    Some(xq) => text(format!("{p}{xq}/{p}{wq}")),
                    None => {
                        let body = self.paren(self.doc(*x, 0), true);
                        self.paren(text(format!("{p}/{p}{wq} ")).append(body), prec > 1)
                    }
                }
            }
            Expr::Sum([k, _, body]) => {
                let head = match self.style {
                    Style::Latex => format!("\\sum_{{{}}} ", self.flat(*k)),
                    _ => format!("{}_{} ", if u { "Σ" } else { "sum" }, self.flat(*k)),
                };
                let b = self.doc(*body, 1);
                self.paren(text(head).append(b), prec > 1)
            }
            Expr::TSum([k, lo, hi, body]) => {
                let sigma = match self.style {
                    Style::Latex => "\\sum",
                    Style::Unicode => "Σ",
                    Style::Ascii => "sum",
                };
                let head = format!("{sigma}_{{{}={}}}^{{{}}} ", self.flat(*k), self.flat(*lo), self.flat(*hi));
                let b = self.doc(*body, 1);
                self.paren(text(head).append(b), prec > 1)
            }
            Expr::Delta([a, b]) if self.tex() => {
                let (a, b) = (self.flat(*a), self.flat(*b));
                let sep = if a.chars().count() == 1 && b.chars().count() == 1 { "" } else { "," };
                text(format!("\\delta_{{{a}{sep}{b}}}"))
            }
            Expr::Delta([a, b]) => text(format!("{}({},{})", if u { "δ" } else { "delta" }, self.flat(*a), self.flat(*b))),
        }
    }
}

fn unsup(c: char) -> char {
    const PAIRS: &str = "0⁰1¹2²3³4⁴5⁵6⁶7⁷8⁸9⁹+⁺-⁻aᵃbᵇcᶜdᵈeᵉfᶠgᵍhʰiⁱjʲkᵏlˡmᵐnⁿoᵒpᵖrʳsˢtᵗuᵘvᵛwʷxˣyʸzᶻTᵀ";
    let v: Vec<char> = PAIRS.chars().collect();
    v.chunks(2).find(|p| p[1] == c).map(|p| p[0]).unwrap_or(c)
}

/// After a `⁽`: the superscript group up to its `⁾`, in plain characters (⁽ᵏ⁻¹⁾ → k-1).
pub fn sup_group(chars: &mut impl Iterator<Item = char>) -> String {
    chars.take_while(|d| *d != '⁾').map(unsup).collect()
}

/// An ASCII spelling of prose written with the Unicode notation (titles, labels): W⁽ʳ⁾ → W_r, s⁽³⁾ → s^(3),
/// ∂ → d, σ′ → sigma', Σ → sum, δ → delta.
pub fn asciify(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '⁽' => {
                let inner = sup_group(&mut chars);
                if out.ends_with('W') && inner.chars().all(|x| x.is_ascii_alphabetic()) {
                    out.push('_');
                    out.push_str(&inner);
                } else {
                    out.push_str(&format!("^({inner})"));
                }
            }
            '∂' => out.push('d'),
            'σ' => out.push_str("sigma"),
            '′' => out.push('\''),
            'Σ' => out.push_str("sum"),
            'δ' => out.push_str("delta"),
            '–' | '−' => out.push('-'),
            '—' => out.push_str("--"),
            '·' => out.push('*'),
            '×' => out.push('x'),
            '≥' => out.push_str(">="),
            '≤' => out.push_str("<="),
            '✓' => out.push_str("ok"),
            '✗' => out.push_str("FAILED"),
            '“' | '”' => out.push('"'),
            '½' => out.push_str("1/2"),
            c if let Some(name) = crate::notation::unaccented(c) => out.push_str(&name),
            'ℓ' => out.push('l'),
            '…' => out.push_str("..."),
            '‖' => out.push('|'),
            'ᵀ' => out.push_str("^T"),
            c if c.is_ascii() => out.push(c),
            c => out.push(unsup(c)),
        }
    }
    out
}
