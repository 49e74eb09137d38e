//! The model as data: a model file declares sizes, parameters, data and defined quantities, and defines each
//! quantity by an equation (`unfold-h: (tx h ?t ?i) := … if ?t > 0`). Each definition becomes an unfold rule
//! `(d X ?wrt) => (d RHS ?wrt)` for the rewriter and a formula for the numeric evaluator.
use crate::diag::Diag;
use crate::lang::Expr;
use crate::rules::apply::Cond;
use crate::rules::parse::Rhs;
use crate::rules::{Kind, Line, Rule, lines, read_rules};
use crate::sexp::Src;
use egg::{ENodeOrVar, Id, PatternAst, RecExpr, Symbol};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What kind of name a declaration introduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclKind {
    /// A parameter: a gradient can be taken with respect to it; never rewritten.
    Param,
    /// Given data (inputs, targets): independent, never differentiated against.
    Data,
    /// A quantity defined by an equation of the model (h, s, y, L).
    Quantity,
}

/// A declared name: its kind, whether it is indexed by time, the sizes of its indices, and its JSON key.
#[derive(Debug, Clone)]
pub struct Decl {
    pub kind: DeclKind,
    pub timed: bool,
    pub dims: Vec<Symbol>,
    pub json: String,
    /// Declared `… distribution`: along its last index the entries are ≥ 0 and sum to 1 (a softmax target).
    pub distribution: bool,
}

/// The time slot of a definition's left-hand side.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeSlot {
    Var(Symbol),
    Fixed(f64),
}

/// One definition: `name[time][idx…] = rhs`, with pattern variables written as symbols `?t`, `?i`.
#[derive(Debug, Clone)]
pub struct Def {
    pub rule: String,
    pub comment: String,
    pub name: Symbol,
    pub time: Option<TimeSlot>,
    pub idx: Vec<Symbol>,
    pub rhs: RecExpr<Expr>,
    pub lhs_shown: RecExpr<Expr>,
    /// `?t > N` guards.
    pub guards: Vec<(Symbol, f64)>,
    /// The blog's equation number(s), from a trailing `[eq N]` in the comment.
    pub eq: Option<String>,
}

/// A loaded model.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Size names and the command-line option that sets each (n_h → hidden).
    pub dims: Vec<(Symbol, String)>,
    pub decls: BTreeMap<Symbol, Decl>,
    /// Declaration order of parameters and data (the order of the JSON `params` object).
    pub order: Vec<Symbol>,
    pub defs: Vec<Def>,
    /// The name of the number of time steps (`steps T`): a symbol in closed forms and Σ bounds.
    pub steps: Option<Symbol>,
    /// The quantity every gradient is of (`loss L`).
    pub loss: Option<Symbol>,
    /// The output the loss reads (`out y`; `{out}` in rule and plan files).
    pub output: Option<Symbol>,
    /// Knobs a chart may turn (`knob forget-bias b_f`: `bptt plot --forget-bias 3` sets every entry of b_f to 3).
    pub knobs: Vec<(String, Symbol)>,
    /// Where each knob line is (for the error when it names no parameter).
    knob_at: Vec<std::ops::Range<usize>>,
    /// What the network is called in titles (`cell LSTM`; RNN when not given).
    pub cell: Option<String>,
    /// The activation the model fixes (`activation sigmoid`): σ in its formulas, whatever --activation says.
    pub activation: Option<crate::notation::Act>,
    /// Default sizes (`dim n_h hidden 3`; 2 when not given).
    pub default_sizes: Vec<(Symbol, usize)>,
    /// The notation map of the study notes (`notation THIS TOOL | D2L | ROW VECTORS`, LaTeX), in order.
    pub notation: Vec<[String; 3]>,
    /// The model's own rule files (`rules rnn-backprop.rules`, in `models/`): read with this model only.
    pub rule_files: Vec<String>,
}

const DECL_WORDS: &[&str] = &["activation", "cell", "knob", "dim", "param", "data", "quantity", "steps", "loss", "out", "notation", "rules"];

fn is_decl(line: &str) -> bool {
    line.split_whitespace().next().is_some_and(|first| DECL_WORDS.contains(&first))
}

pub use crate::rules::parse::{WRT, definition_to_unfold};

/// A pattern as an expression whose variables are symbols named `?x`.
pub fn pattern_to_expr(p: &PatternAst<Expr>) -> RecExpr<Expr> {
    RecExpr::from(
        p.as_ref()
            .iter()
            .map(|n| match n {
                ENodeOrVar::ENode(e) => e.clone(),
                ENodeOrVar::Var(v) => Expr::Symbol(v.to_string().into()),
            })
            .collect::<Vec<_>>(),
    )
}

/// The sub-expression `(d X ?wrt)` → `X`.
fn under_d(e: &RecExpr<Expr>) -> RecExpr<Expr> {
    match &e[e.root()] {
        Expr::D([x, _]) => crate::lang::sub_expr(e, *x),
        _ => e.clone(),
    }
}

fn strip_q(e: &RecExpr<Expr>) -> RecExpr<Expr> {
    RecExpr::from(
        e.as_ref()
            .iter()
            .map(|n| match n {
                Expr::Symbol(s) if s.as_str().starts_with('?') => Expr::Symbol(s.as_str()[1..].into()),
                n => n.clone(),
            })
            .collect::<Vec<_>>(),
    )
}

/// One place an index symbol is used in an indexed name: the node, the name (W_r), the index (i) and the size
/// that position ranges over (n_h).
pub struct IndexUse {
    pub node: usize,
    pub name: Symbol,
    pub index: Symbol,
    pub dim: Symbol,
}

impl Model {
    /// The parameter a knob word sets (`knob forget-bias b_f`), if the model has that knob.
    pub fn knob(&self, word: &str) -> Option<Symbol> {
        self.knobs.iter().find(|(w, _)| w == word).map(|(_, p)| *p)
    }

    /// What the network is called in titles: the model's `cell` line, else RNN.
    pub fn cell(&self) -> &str {
        self.cell.as_deref().unwrap_or("RNN")
    }

    /// Is `s` a name rather than an index: a declared name, a size, or the number of steps T?
    pub fn is_name(&self, s: Symbol) -> bool {
        self.decls.contains_key(&s) || self.dims.iter().any(|(d, _)| *d == s) || self.steps == Some(s)
    }

    /// The parameters, in declaration order (the `--wrt` choices).
    pub fn params(&self) -> impl Iterator<Item = Symbol> + '_ {
        self.order.iter().copied().filter(|n| self.is_param(*n))
    }

    pub fn is_param(&self, s: Symbol) -> bool {
        self.decls.get(&s).is_some_and(|d| d.kind == DeclKind::Param)
    }

    /// The size a `dim` line gives by default.
    pub fn default_size(&self, dim: Symbol) -> usize {
        self.default_sizes.iter().find(|d| d.0 == dim).map(|d| d.1).unwrap_or(2)
    }

    /// The recurrent matrices: square parameters over the state's size (the first `dim`), W⁽ʳ⁾ in the blog's model.
    pub fn recurrent_params(&self) -> impl Iterator<Item = Symbol> + '_ {
        let state = self.sum_dim();
        self.params().filter(move |p| state.is_some_and(|d| self.decls[p].dims == [d, d]))
    }

    /// The size a Σ ranges over when its index is used nowhere (the readers need one): the first `dim`.
    pub fn sum_dim(&self) -> Option<Symbol> {
        self.dims.first().map(|d| d.0)
    }

    /// The loss's name (the model file's `loss` line; checked when the model is read).
    pub fn loss(&self) -> Symbol {
        self.loss.unwrap_or_else(|| Symbol::from("?"))
    }

    /// The value of the step count's symbol `T` at `steps` steps, if `s` is that symbol.
    pub fn steps_value(&self, s: Symbol, steps: usize) -> Option<usize> {
        (self.steps == Some(s)).then_some(steps)
    }

    /// Would a bound index named `s` capture a name: a scalar of the model (L, whose ∂L/∂… reads it bare), a
    /// size, or the number of steps T? (An indexed name such as the bias b is never read bare, so `b` is a fine
    /// index.)
    pub fn captures(&self, s: Symbol) -> bool {
        self.decls.get(&s).is_some_and(|d| d.dims.is_empty() && !d.timed) || self.dims.iter().any(|(d, _)| *d == s) || self.steps == Some(s)
    }

    /// Every use of a plain index symbol in a declared indexed name of `e` (`W_r[i,p]` gives i and p, over n_h).
    pub fn index_uses(&self, e: &egg::RecExpr<crate::lang::Expr>) -> Vec<IndexUse> {
        use crate::lang::Expr;
        let mut out = vec![];
        for (node, n) in e.as_ref().iter().enumerate() {
            let (ch, first) = match n {
                Expr::Ix(ch) => (ch, 1),
                Expr::Tx(ch) => (ch, 2),
                _ => continue,
            };
            let Expr::Symbol(name) = &e[ch[0]] else { continue };
            let Some(d) = self.decls.get(name) else { continue };
            for (c, dim) in ch[first..].iter().zip(&d.dims) {
                if let Expr::Symbol(index) = &e[*c] {
                    out.push(IndexUse { node, name: *name, index: *index, dim: *dim });
                }
            }
        }
        out
    }

    /// The declarations of a model file alone (its sizes, names, parameters, loss, output, step count, rule
    /// files), with their problems: what is known before the rules are read (the sizes fix T, and T the rules).
    /// Its definitions are left unread: [`Model::read`] reads them.
    pub fn read_decls(file: &str, text: &Arc<str>, diags: &mut Vec<Diag>) -> Model {
        let src = Src { file, text };
        let mut m = Model::default();
        for (_, l) in lines(text) {
            let Line::Content(r) = l else { continue };
            let line = text[r.clone()].trim();
            if !is_decl(line) {
                continue;
            }
            if let Err(d) = m.read_decl(&src, line, r.clone()) {
                diags.push(d);
            }
        }
        let start = text.len() - text.trim_start_matches(|c: char| c.is_whitespace()).len();
        if m.steps.is_none() {
            diags.push(src.diag(start..start, "the model does not name its number of time steps").hint("add a line `steps T`: the name closed forms and Σ bounds use for it"));
        }
        for ((word, p), at) in m.knobs.iter().zip(&m.knob_at) {
            if !m.is_param(*p) {
                diags.push(src.diag(at.clone(), format!("the knob `{word}` sets `{p}`, which is not a parameter of this model")).hint(format!("declare it (`param {p} …`) or name one of the model's parameters in `knob {word} NAME`")));
            }
        }
        match m.loss {
            None => diags.push(src.diag(start..start, "the model does not say which quantity is the loss").hint("add a line `loss L`, after `quantity L`")),
            Some(l) if !m.decls.get(&l).is_some_and(|d| d.kind == DeclKind::Quantity && d.dims.is_empty() && !d.timed) => {
                diags.push(src.diag(start..start, format!("the loss `{l}` is not declared as a scalar quantity")).hint(format!("declare it first: `quantity {l}`")))
            }
            Some(_) => {}
        }
        m
    }

    /// Read a model file: declarations first, then definitions (each a rule). Returns the model and the unfold
    /// rules; problems go to `diags`.
    pub fn read(file: &str, text: &Arc<str>, ctx: &Arc<crate::rules::apply::Ctx>, diags: &mut Vec<Diag>) -> (Model, Vec<Rule>) {
        let src = Src { file, text };
        let mut m = Model::read_decls(file, text, diags);
        let rules = read_rules(file, text, ctx, Kind::Definition, &is_decl, diags);
        for r in &rules {
            match m.def_of(r) {
                Ok(d) => m.defs.push(d),
                Err(msg) => {
                    let at = crate::rules::line_start_of(text, r.line);
                    diags.push(src.diag(at..at + r.name.len(), msg));
                }
            }
        }
        if let Some((def, cycle)) = m.cycle() {
            let at = crate::rules::line_start_of(text, rules.iter().find(|r| r.name == m.defs[def].rule).map(|r| r.line).unwrap_or(1));
            diags.push(src.diag(at..at + m.defs[def].rule.len(), format!("the definitions go round in a circle: {cycle}")).hint("a quantity may read only earlier time steps of itself (s⁽ᵗ⁻¹⁾), never its own value"));
        }
        (m, rules)
    }

    /// A circle of definitions that never reaches a base case (s⁽ᵗ⁾ reading s⁽ᵗ⁾, or h reading s reading h at
    /// the same step): the definition it starts at and the circle in words. Each read steps back in time by a
    /// whole number of steps (s⁽ᵗ⁻¹⁾: 1); a circle whose steps add up to 0 or less never ends.
    fn cycle(&self) -> Option<(usize, String)> {
        // edges: definition → (quantity read, steps back)
        let mut edges: Vec<(Symbol, Symbol, i64, usize)> = vec![];
        for (di, d) in self.defs.iter().enumerate() {
            let var = match d.time {
                Some(TimeSlot::Var(v)) => Some(v),
                _ => None,
            };
            // the name slot of (tx s …) is a symbol node too: only a bare name is a read of a scalar quantity
            let name_slots: Vec<Id> = d.rhs.as_ref().iter().filter_map(|n| match n {
                Expr::Tx(ch) | Expr::Ix(ch) => ch.first().copied(),
                _ => None,
            }).collect();
            for (at, n) in d.rhs.as_ref().iter().enumerate() {
                let (Expr::Tx(ch) | Expr::Ix(ch)) = n else {
                    if let Expr::Symbol(x) = n
                        && !name_slots.contains(&Id::from(at))
                        && self.decls.get(x).is_some_and(|q| q.kind == DeclKind::Quantity)
                    {
                        edges.push((d.name, *x, 0, di));
                    }
                    continue;
                };
                let Expr::Symbol(x) = &d.rhs[ch[0]] else { continue };
                if !self.decls.get(x).is_some_and(|q| q.kind == DeclKind::Quantity) {
                    continue;
                }
                let back = if matches!(n, Expr::Tx(_)) {
                    let t = &d.rhs[ch[1]];
                    let is_var = |id: Id| matches!(&d.rhs[id], Expr::Symbol(s) if Some(*s) == var);
                    let num = |id: Id| match &d.rhs[id] {
                        Expr::Num(v) if v.fract() == 0.0 => Some(v.into_inner() as i64),
                        _ => None,
                    };
                    match t {
                        Expr::Symbol(_) if is_var(ch[1]) => Some(0),
                        Expr::Sub([a, b]) if is_var(*a) => num(*b),
                        Expr::Add([a, b]) if is_var(*a) => num(*b).map(|v| -v),
                        // a fixed step read from a definition over all steps: no relation to follow
                        Expr::Num(_) if var.is_some() => None,
                        _ => Some(0),
                    }
                } else {
                    Some(0)
                };
                if let Some(b) = back {
                    edges.push((d.name, *x, b, di));
                }
            }
        }
        let names: Vec<Symbol> = self.defs.iter().map(|d| d.name).collect();
        let mut budget = 200_000usize;
        fn walk(edges: &[(Symbol, Symbol, i64, usize)], start: Symbol, at: Symbol, total: i64, path: &mut Vec<(Symbol, usize)>, budget: &mut usize) -> Option<Vec<(Symbol, usize)>> {
            for e in edges.iter().filter(|e| e.0 == at) {
                if *budget == 0 {
                    return None;
                }
                *budget -= 1;
                let total = total + e.2;
                if e.1 == start {
                    if total <= 0 {
                        let mut p = path.clone();
                        p.push((e.1, e.3));
                        return Some(p);
                    }
                    continue;
                }
                if path.iter().any(|(n, _)| *n == e.1) {
                    continue;
                }
                path.push((e.1, e.3));
                let r = walk(edges, start, e.1, total, path, budget);
                path.pop();
                if r.is_some() {
                    return r;
                }
            }
            None
        }
        for n in names {
            let mut path = vec![(n, usize::MAX)];
            if let Some(p) = walk(&edges, n, n, 0, &mut path, &mut budget) {
                let words: Vec<String> = p.iter().map(|(x, _)| x.to_string()).collect();
                let def = p.get(1).map(|x| x.1).unwrap_or(0);
                return Some((def, format!("{} (each reads the next at the same time step or a later one)", words.join(" → "))));
            }
        }
        None
    }

    fn read_decl(&mut self, src: &Src, line: &str, r: std::ops::Range<usize>) -> Result<(), Diag> {
        let w: Vec<&str> = line.split_whitespace().collect();
        let bad = |msg: String, hint: &str| src.diag(r.clone(), msg).hint(hint.to_string());
        if let Some(row) = line.strip_prefix("notation ") {
            let cells: Vec<String> = row.split(" | ").map(|c| c.trim().to_string()).collect();
            let Ok(cells) = <[String; 3]>::try_from(cells) else {
                return Err(bad("a notation row has three cells".into(), "write `notation THIS TOOL | D2L | ROW VECTORS` (LaTeX in each cell)"));
            };
            self.notation.push(cells);
            return Ok(());
        }
        match w.as_slice() {
            ["dim", name, option] => {
                self.dims.push((Symbol::from(*name), option.to_string()));
                Ok(())
            }
            ["dim", name, option, default] => {
                let n = default.parse::<usize>().ok().filter(|n| (1..=64).contains(n)).ok_or_else(|| bad(format!("the default size `{default}` is not a whole number from 1 to 64"), "write e.g. `dim n_h hidden 3`"))?;
                self.dims.push((Symbol::from(*name), option.to_string()));
                self.default_sizes.push((Symbol::from(*name), n));
                Ok(())
            }
            ["knob", word, param] => {
                self.knobs.push((word.to_string(), Symbol::from(*param)));
                self.knob_at.push(r.clone());
                Ok(())
            }
            ["cell", name] => {
                self.cell = Some(name.to_string());
                Ok(())
            }
            ["activation", name] => {
                self.activation = Some(crate::notation::Act::named(name).ok_or_else(|| bad(format!("no activation `{name}`"), &format!("the activations are {}", crate::notation::activation_names())))?);
                Ok(())
            }
            ["out", name] => {
                self.output = Some(Symbol::from(*name));
                Ok(())
            }
            ["rules", file] if file.ends_with(".rules") && !file.contains('/') && !file.starts_with('.') => {
                self.rule_files.push(file.to_string());
                Ok(())
            }
            ["rules", ..] => Err(bad("a model's rule file is named by one word ending in .rules".into(), "write e.g. `rules rnn-backprop.rules` (a file beside the model file, in models/)")),
            ["steps", name] => {
                self.steps = Some(Symbol::from(*name));
                Ok(())
            }
            ["loss", name] => {
                self.loss = Some(Symbol::from(*name));
                Ok(())
            }
            [kw @ ("param" | "data" | "quantity"), name, rest @ ..] => {
                let kind = match *kw {
                    "param" => DeclKind::Param,
                    "data" => DeclKind::Data,
                    _ => DeclKind::Quantity,
                };
                let mut rest = rest.to_vec();
                let distribution = rest.last() == Some(&"distribution");
                if distribution {
                    rest.pop();
                }
                let mut json = name.to_string();
                if let [.., "as", key] = rest.as_slice() {
                    json = key.to_string();
                    rest.truncate(rest.len() - 2);
                }
                let timed = rest.first() == Some(&"time");
                if timed {
                    rest.remove(0);
                }
                let mut dims = vec![];
                for d in rest {
                    if !self.dims.iter().any(|(n, _)| n.as_str() == d) {
                        return Err(bad(format!("unknown size `{d}`"), "declare it first with `dim NAME option`, e.g. `dim n_h hidden`"));
                    }
                    dims.push(Symbol::from(d));
                }
                let sym = Symbol::from(*name);
                if self.decls.contains_key(&sym) {
                    return Err(bad(format!("`{name}` is declared twice"), "declare each name once"));
                }
                if kind != DeclKind::Quantity {
                    self.order.push(sym);
                }
                self.decls.insert(sym, Decl { kind, timed, dims, json, distribution });
                Ok(())
            }
            _ => Err(bad(
                format!("cannot read the declaration `{line}`"),
                "declarations are `steps T`, `loss L`, `dim n_h hidden`, `param W_r n_h n_h`, `data x time n_x`, `data ybar n_y as target` (add `distribution` for a target that sums to 1), `quantity h time n_h`",
            )),
        }
    }

    fn def_of(&self, r: &Rule) -> Result<Def, String> {
        let lhs = under_d(&pattern_to_expr(&r.lhs));
        let rhs = match &r.rhs {
            Rhs::Pattern(p) => under_d(&pattern_to_expr(p)),
            Rhs::Applier(..) => return Err("a definition's right-hand side must be an expression".into()),
        };
        let var = |id: Id| match &lhs[id] {
            Expr::Symbol(s) if s.as_str().starts_with('?') => Ok(*s),
            _ => Err(format!("in `{}`, the indices on the left must be ?variables", r.name)),
        };
        let (name, time, idx) = match &lhs[lhs.root()] {
            Expr::Symbol(s) => (*s, None, vec![]),
            Expr::Ix(ch) | Expr::Tx(ch) => {
                let Expr::Symbol(name) = &lhs[ch[0]] else { return Err("the quantity's name must be a symbol".into()) };
                let timed = matches!(&lhs[lhs.root()], Expr::Tx(_));
                let time = if timed {
                    Some(match &lhs[ch[1]] {
                        Expr::Num(v) => TimeSlot::Fixed(v.into_inner()),
                        _ => TimeSlot::Var(var(ch[1])?),
                    })
                } else {
                    None
                };
                let first = if timed { 2 } else { 1 };
                let idx = ch[first..].iter().map(|c| var(*c)).collect::<Result<Vec<_>, _>>()?;
                (*name, time, idx)
            }
            _ => return Err(format!("`{}` must define a quantity: (tx NAME ?t ?i), (ix NAME ?i) or NAME", r.name)),
        };
        match self.decls.get(&name) {
            Some(d) if d.kind == DeclKind::Quantity => {
                if d.timed != time.is_some() || d.dims.len() != idx.len() {
                    return Err(format!("`{}` does not match the declaration of `{name}`", r.name));
                }
            }
            _ => return Err(format!("`{name}` is not declared as a quantity (add `quantity {name} …`)")),
        }
        let mut guards = vec![];
        for c in &r.conds {
            match c {
                Cond::Gt(v, n) => guards.push((Symbol::from(v.to_string()), *n)),
                Cond::NotSelf(_) => {}
                _ => return Err(format!("`{}`: a definition may only be guarded by `?t > N`", r.name)),
            }
        }
        let eq = r.comment.rsplit_once("[eq ").and_then(|(_, t)| t.strip_suffix(']')).map(|t| t.trim().to_string());
        Ok(Def { rule: r.name.clone(), comment: r.comment.clone(), name, time, idx, lhs_shown: strip_q(&lhs), rhs, guards, eq })
    }

    /// Is `s` a parameter or data (independent of everything), rather than a defined quantity?
    pub fn is_independent(&self, s: Symbol) -> bool {
        self.decls.get(&s).is_some_and(|d| d.kind != DeclKind::Quantity)
    }

    /// The definition's right-hand side with the variables shown as plain letters, for display.
    /// The parameter a definition only gives a name to (`s⁽⁰⁾[i] := s0[i]`), if that is all it does.
    pub fn given_param(d: &Def) -> Option<Symbol> {
        match d.rhs.as_ref().last()? {
            Expr::Ix(ch) => match &d.rhs[ch[0]] {
                Expr::Symbol(p) => Some(*p),
                _ => None,
            },
            Expr::Symbol(p) => Some(*p),
            _ => None,
        }
    }

    pub fn shown_rhs(d: &Def) -> RecExpr<Expr> {
        strip_q(&d.rhs)
    }
}

/// The words the `dim` lines of model files give their sizes (`dim n_h hidden 3` → `hidden`), in order, each
/// once: the size flags of the command line.
pub fn size_words<'a>(texts: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for t in texts {
        for line in t.lines() {
            let line = line.trim_start();
            let line = if line.starts_with('[') { line.split_once(']').map(|x| x.1.trim_start()).unwrap_or(line) } else { line };
            // (most lines are not `dim` lines: skipped before splitting, at every start of the program)
            if !line.starts_with("dim") {
                continue;
            }
            if let ["dim", _, word, ..] = line.split_whitespace().collect::<Vec<_>>().as_slice()
                && !out.iter().any(|w| w == word)
            {
                out.push(word.to_string());
            }
        }
    }
    out
}
