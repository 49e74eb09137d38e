//! The text report of `bptt derive`: header, the model, every beat (equation number, title, rules, expression,
//! value and check), side equations, per-time-step terms, and the closing check.
use crate::print::{Style, name, render};
use super::values::{err, num, tensor};
use crate::closed::AtT;
use crate::derive::Derivation;
use crate::model::Model;
use crate::session::Session;
use crate::verify::{FD_H, Verified};
use std::fmt::Write;

/// How to show a report.
#[derive(Debug, Clone, Copy)]
pub struct View {
    pub style: Style,
    pub width: usize,
    pub trace: bool,
    /// ANSI colours for equation numbers, rule names and check marks.
    pub color: bool,
    /// The language of the words and titles.
    pub lang: crate::options::Lang,
}

/// `s` in the ANSI colour `code` when `on`.
pub(crate) fn paint(s: &str, code: &str, on: bool) -> String {
    if on { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() }
}

const INDENT: &str = "       ";

fn expr(e: &egg::RecExpr<crate::lang::Expr>, v: &View, indent: usize) -> String {
    let body = render(e, v.style, v.width.saturating_sub(indent).max(30));
    body.replace('\n', &format!("\n{}", " ".repeat(indent + 2)))
}

/// The gradient's name without its indices: ∂L/∂W⁽ʳ⁾.
fn gradient_name(d: &Derivation, v: &View) -> String {
    let g = render(&d.goal, v.style, 1000);
    match g.rfind('[') {
        Some(i) if g.ends_with(']') => g[..i].to_string(),
        _ => g,
    }
}

/// `σ = tanh`: which function σ stands for in the formulas.
pub fn sigma_is(act: crate::notation::Act, style: Style) -> String {
    match style {
        Style::Ascii => format!("sigma = {act}"),
        _ => format!("σ = {act}"),
    }
}

/// The header line: what is derived, for which model and numbers.
pub fn header(s: &Session, v: &View) -> String {
    let wrt = name(s.wrt.as_str(), v.style);
    let d = if v.style == Style::Unicode { "∂" } else { "d" };
    let w = super::words::of(v.lang);
    let numbers = match &s.options.params {
        Some((f, _)) => format!("{} {f}", w.params),
        None if crate::params::Params::scaled(&s.model, &s.sizes) => format!("{} {} ({})", w.seed, s.options.seed, w.seed_scaled),
        None => format!("{} {}", w.seed, s.options.seed),
    };
    format!(
        "{d}L/{d}{wrt} {} {}   T={}  {}  {}  {numbers}",
        w.for_a,
        s.options.describe(s.model.cell()),
        s.sizes.steps,
        sigma_is(s.options.activation, v.style),
        s.header().sizes_words("  ")
    )
}

/// The parameter a definition only names, when it is shown as that quantity too (s⁽⁰⁾ for s0): the model
/// block then says "given" instead of "s⁽⁰⁾[i] = s⁽⁰⁾[i]". In ASCII the two spellings differ and the equation stays.
pub fn shown_as_given(d: &crate::model::Def, style: Style) -> Option<egg::Symbol> {
    Model::given_param(d).filter(|_| render(&Model::shown_rhs(d), style, 1000) == render(&d.lhs_shown, style, 1000))
}

fn model_lines(m: &Model, v: &View, out: &mut String) {
    let w = super::words::of(v.lang);
    let _ = writeln!(out, "{}", w.model);
    for d in &m.defs {
        let lhs = render(&d.lhs_shown, v.style, 1000);
        let rhs = render(&Model::shown_rhs(d), v.style, 1000);
        let guard = if d.guards.is_empty() { String::new() } else { format!("   {}", w.for_t_ge_1).replace('≥', if v.style == Style::Unicode { "≥" } else { ">=" }) };
        let tag = d.eq.as_ref().map(|e| format!("({e})")).unwrap_or_default();
        match shown_as_given(d, v.style) {
            Some(p) => {
                let _ = writeln!(out, "{tag:<7}{lhs}   {}", w.given.replace("{p}", p.as_str()));
            }
            _ => {
                let _ = writeln!(out, "{tag:<7}{lhs} = {rhs}{guard}");
            }
        }
    }
}

type Closed = (egg::RecExpr<crate::lang::Expr>, Vec<AtT>);

fn closed_lines(d: &Derivation, c: &Closed, v: &View, out: &mut String) {
    let (expr, checks) = c;
    let tag = d.beats.last().and_then(|b| b.eq).map(|e| format!("({e})")).unwrap_or_else(|| "  ·".into());
    let w = super::words::of(v.lang);
    let _ = writeln!(out, "\n{tag:<5}{}", w.any_t);
    let goal = render(&d.goal, v.style, 1000);
    let _ = writeln!(out, "{INDENT}{goal} = {}", render(expr, v.style, 1000));
    let first = checks.first().map(|a| a.steps).unwrap_or(0);
    let last = checks.last().map(|a| a.steps).unwrap_or(0);
    let worst = checks.iter().fold(0.0f64, |m, a| m.max(a.rel_error));
    if crate::closed::holds(checks) {
        let _ = writeln!(out, "{INDENT}✓ {}", w.any_t_ok.replace("{first}", &first.to_string()).replace("{last}", &last.to_string()).replace("{err}", &err(worst)));
    } else {
        let bad: Vec<String> = checks.iter().filter(|a| !a.same_form || a.rel_error > crate::verify::STEP_TOL).map(|a| a.steps.to_string()).collect();
        let _ = writeln!(out, "{INDENT}✗ {}", w.any_t_bad.replace("{bad}", &bad.join(", ")));
    }
}

/// The whole report.
pub fn report(s: &Session, d: &Derivation, n: &Verified, closed: Option<&Closed>, v: &View) -> String {
    let mut out = String::new();
    let w = super::words::of(v.lang);
    let ok = &paint(if v.style == Style::Unicode { "✓" } else { "ok" }, "32", v.color);
    let bad = &paint(if v.style == Style::Unicode { "✗" } else { "FAILED" }, "1;31", v.color);
    let _ = writeln!(out, "{}\n", header(s, v));
    model_lines(&s.model, v, &mut out);
    for (bi, b) in d.beats.iter().enumerate() {
        let tag = match b.eq {
            Some(e) => format!("({e})"),
            None => "  ·".into(),
        };
        let _ = writeln!(out, "\n{}{}", paint(&format!("{tag:<5}"), "1;36", v.color), v.lang.pick(&b.title, b.title_ko.as_deref()));
        if b.rules.is_empty() {
            let _ = writeln!(out, "{INDENT}{}", expr(&b.whole, v, INDENT.len()));
            let _ = writeln!(out, "{INDENT}{} {}", w.value, tensor(&n.beats[bi]));
            continue;
        }
        let rules: Vec<String> = b.rules.iter().map(|(r, c)| if *c > 1 { format!("{r} {}{c}", if v.style == Style::Unicode { '×' } else { 'x' }) } else { r.clone() }).collect();
        let _ = writeln!(out, "{INDENT}{} {}", w.rules, paint(&rules.join(", "), "33", v.color));
        if v.trace {
            for (si, st) in b.trace.iter().enumerate() {
                let whole;
                let shown = match &st.part {
                    Some(p) => p,
                    None => {
                        whole = st.whole();
                        &whole
                    }
                };
                let times = if st.count > 1 { format!(" (×{})", st.count) } else { String::new() };
                let _ = writeln!(out, "{INDENT}  {}{times}: {}", st.rule, expr(shown, v, INDENT.len() + 4));
                if let Some(val) = n.trace.get(bi).and_then(|t| t.get(si)) {
                    let _ = writeln!(out, "{INDENT}      {} {}", w.value, tensor(val));
                }
            }
        }
        match (&b.part_lhs, &b.part) {
            (Some(lhs), Some(part)) => {
                let l = render(lhs, v.style, 1000);
                let _ = writeln!(out, "{INDENT}{l} = {}", expr(part, v, INDENT.len() + l.chars().count() + 1));
            }
            _ => {
                let _ = writeln!(out, "{INDENT}= {}", expr(&b.whole, v, INDENT.len() + 2));
            }
        }
        if b.aside {
            let e = n.aside_errors.get(bi).copied().flatten().unwrap_or(0.0);
            let mark = if e > crate::verify::STEP_TOL { bad } else { ok };
            let _ = writeln!(out, "{INDENT}({})", w.aside.replace("{mark}", mark).replace("{err}", &err(e)));
            continue;
        }
        let rel = n.beats.get(bi).zip(if bi == 0 { Some(&n.goal) } else { n.beats.get(bi - 1) }).map(|(a, b)| a.rel_diff(b)).unwrap_or(0.0);
        // a value that is not a number (an overflow) is never a ✓
        let finite = rel.is_finite() && n.beats.get(bi).is_some_and(|t| t.first_non_finite().is_none());
        let check = if n.broken.as_ref().is_some_and(|x| x.beat == bi) || !finite { bad } else { ok };
        // under a part's formula (∂h⁽³⁾[a]/∂W⁽ʳ⁾[i,p] = …) the value is the whole gradient's: say so
        let value = if b.part_lhs.is_some() { w.value_of_whole.replace("{g}", &gradient_name(d, v)) } else { w.value.to_string() };
        let _ = writeln!(out, "{INDENT}{value} {}   {check} ({} {})", tensor(&n.beats[bi]), w.change, err(rel));
        for (wi, side) in b.wheres.iter().enumerate() {
            let werr = n.wheres.get(bi).and_then(|x| x.get(wi)).copied().unwrap_or(0.0);
            let mark = if werr > crate::verify::STEP_TOL { bad } else { ok };
            let range = super::words::range(v.lang, side.k_range);
            let l = render(&side.lhs, v.style, 1000);
            let rs: Vec<&str> = side.rules.iter().map(|r| r.0.as_str()).collect();
            let lead = format!("{} ", w.where_);
            let _ = writeln!(out, "{INDENT}  {lead}{l} = {}{range}   {mark} ({})", expr(&side.rhs, v, INDENT.len() + 3 + super::words::cols(&lead) + l.chars().count()), rs.join(", "));
        }
        if bi + 1 == d.beats.len() && !n.per_time.is_empty() {
            let _ = writeln!(out, "{INDENT}{}", w.per_step);
            for (k, t) in &n.per_time {
                let _ = writeln!(out, "{INDENT}  k={k:<3} {}", tensor(t));
            }
        }
    }
    if let Some(c) = closed {
        closed_lines(d, c, v, &mut out);
    }
    if !n.matrix.is_empty() {
        let _ = writeln!(out, "\n{}", w.matrix_form);
        for m in &n.matrix {
            let text = format!("{}{}", m.text, super::words::range(v.lang, m.range));
            let mark = match m.error {
                Some(x) if x <= crate::verify::STEP_TOL => format!("{ok} ({} {})", w.difference, err(x)),
                Some(x) => format!("{bad} ({} {})", w.difference, err(x)),
                None => format!("{bad} ({})", w.not_evaluated),
            };
            let _ = writeln!(out, "{INDENT}{text}   {mark}");
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{}L = {}", super::words::pad(w.loss, 7), num(n.loss));
    match &n.broken {
        None if n.non_finite.is_some() => {
            let _ = writeln!(out, "check  {bad} not every step could be compared (see below)");
        }
        None => {
            let _ = writeln!(out, "{}{ok} {}", super::words::pad(w.check, 7), w.steps_equal.replace("{err}", &err(n.worst_step)));
        }
        Some(b) => {
            let beat = &d.beats[b.beat];
            let at = beat.eq.map(|e| format!("({e})")).unwrap_or_else(|| format!("“{}”", beat.title));
            let rule = match &b.rule {
                Some(r) => {
                    let place = s.rules.get(r).map(|x| format!(" ({}:{})", x.file, x.line)).unwrap_or_default();
                    format!("; the value changed at rule `{r}`{place}")
                }
                None => String::new(),
            };
            let _ = writeln!(out, "check  {bad} step {at} changed the value by {} (relative){rule}", err(b.rel_change));
        }
    }
    if let Some((bi, _, e)) = n.bad_where {
        let _ = writeln!(out, "       {bad} a side equation of step {} is off by {} (relative)", d.beats[bi].eq.map(|x| x.to_string()).unwrap_or("·".into()), err(e));
    }
    if let Some((bi, at)) = &n.non_finite {
        let idx: Vec<String> = at.iter().map(|i| (i + 1).to_string()).collect();
        let _ = writeln!(
            out,
            "       {bad} the numbers overflow: step {} has a non-finite value (NaN or ∞) at [{}]; steps with non-finite values cannot be checked (try smaller parameters)",
            d.beats[*bi].eq.map(|x| format!("({x})")).unwrap_or("·".into()),
            idx.join(",")
        );
    }
    let fd_mark = if n.fd_ok { ok } else { bad };
    if n.non_finite.is_some() {
        let _ = writeln!(out, "       {bad} finite differences cannot be compared: the values are not finite");
        return if v.style == Style::Ascii { crate::print::asciify(&out) } else { out };
    }
    let _ = writeln!(
        out,
        "       {fd_mark} {}",
        w.fd.replace("{verdict}", if n.fd_ok { w.fd_agree } else { w.fd_disagree }).replace("{err}", &err(n.fd_error)).replace("{h}", &err(FD_H))
    );
    if v.style == Style::Ascii { crate::print::asciify(&out) } else { out }
}
