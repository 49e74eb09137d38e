//! The study page (`--format html`): one self-contained HTML file — no request of any kind, no script needed to
//! read it — with the math as MathML Core ([`super::mathml`]), broken into lines where the LaTeX notes break
//! ([`super::latex::broken`]), each step's value as a small heat map with its ✓ and change, the per-time-step
//! terms as an inline SVG bar chart, the `plot` chart inline, the model, the matrix form, the final checks and an
//! appendix with the text of every rule that fired (each rule name in a step links to it).
//!
//! Invariants: deterministic (no dates, no random ids); every text escaped; the only script is a small inline
//! convenience (copy a form in the text syntax `bptt check` reads), never needed to read the page.
use super::latex::broken;
use super::mathml::{esc, math, mo};
use super::report::{View, header};
use super::values::{err, num};
use crate::derive::Derivation;
use crate::eval::Tensor;
use crate::lang::Expr;
use crate::options::Lang;
use crate::print::{Style, render};
use crate::session::Session;
use crate::verify::Verified;
use egg::RecExpr;
use std::collections::BTreeSet;
use std::fmt::Write;

/// The width (in characters of LaTeX source) at which a formula is broken: the notes' width.
const WIDTH: usize = 80;

/// One derivation on the page, with the `plot` chart for it (an SVG document) when there is one.
pub struct Part<'a> {
    pub session: &'a Session,
    pub derivation: &'a Derivation,
    pub numbers: &'a Verified,
    pub closed: Option<&'a (RecExpr<Expr>, Vec<crate::closed::AtT>)>,
    pub plot: Option<String>,
}

/// The fixed words of the page.
struct PageWords {
    model: &'static str,
    derivation: &'static str,
    any_t: &'static str,
    matrix_form: &'static str,
    numbers: &'static str,
    per_step: &'static str,
    plot: &'static str,
    rules_appendix: &'static str,
    rules_note: &'static str,
    trace: &'static str,
    copy: &'static str,
    copy_title: &'static str,
    summary: &'static str,
    contents: &'static str,
}

const EN: PageWords = PageWords {
    model: "The model",
    derivation: "The derivation",
    any_t: "For any number of steps T",
    matrix_form: "Matrix form",
    numbers: "The numbers",
    per_step: "Each time step's term of the sum (Frobenius norm): how far back the gradient reaches",
    plot: "The size of each time step's term at a larger T, for three activations (bptt plot)",
    rules_appendix: "The rules that fired",
    rules_note: "Every step above is these rules applied one at a time (rules/*.rules and the model file).",
    trace: "every rule application",
    copy: "copy",
    copy_title: "copy this form in the text syntax bptt check reads",
    summary: "Summary: the final form of every gradient",
    contents: "Contents",
};

const KO: PageWords = PageWords {
    model: "모델",
    derivation: "유도 과정",
    any_t: "임의의 시점 수 T에 대해",
    matrix_form: "행렬 형태",
    numbers: "수치",
    per_step: "시간 합의 시점별 항 (프로베니우스 노름): 기울기가 얼마나 먼 과거까지 닿는가",
    plot: "더 긴 T에서 시점별 항의 크기, 세 가지 활성화 함수 (bptt plot)",
    rules_appendix: "적용된 규칙",
    rules_note: "위의 모든 단계는 이 규칙들을 하나씩 적용한 것이다 (rules/*.rules와 모델 파일).",
    trace: "모든 규칙 적용",
    copy: "복사",
    copy_title: "bptt check가 읽는 텍스트 문법으로 이 식을 복사",
    summary: "요약: 각 기울기의 최종 형태",
    contents: "목차",
};

fn words(lang: Lang) -> &'static PageWords {
    match lang {
        Lang::En => &EN,
        Lang::Ko => &KO,
    }
}

/// The page's style sheet: system fonts only (a Korean one first for Hangul), print-friendly.
const STYLE: &str = "body{font-family:'Noto Sans','DejaVu Sans','NanumGothic','Nanum Gothic',sans-serif;max-width:1100px;margin:1.5em auto;padding:0 1em;line-height:1.45;color:#111}
math{font-family:'Latin Modern Math','STIX Two Math','DejaVu Math TeX Gyre',math}math[display=block]{display:inline math;math-style:normal;margin:.3em 0 .3em 1.5em}
h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;margin-top:2em}
.facts{color:#444}.step{margin:1.4em 0;break-inside:avoid}.step h3{margin:.2em 0;font-size:1.05em;font-weight:600}
.tag{color:#036;font-weight:700;margin-right:.4em}.rules{font-size:.85em;color:#555;margin:.1em 0 .3em}.rules a{color:#7a4b00}
.eq{display:flex;align-items:center;gap:1em;overflow-x:auto}.eq>.body{flex:1}.eq>.num{color:#036;white-space:nowrap}
mtable,mtd{math-style:normal}mtable mtd{text-align:left;padding:.15em 0}mtable mtd.lhs{text-align:right}
.value{display:flex;align-items:center;gap:.8em;font-size:.85em;margin:.2em 0 .2em 1.5em;flex-wrap:wrap}
table.heat{border-collapse:collapse;font-variant-numeric:tabular-nums}table.heat td{padding:1px 5px;text-align:right;border:1px solid #eee}
.ok{color:#1a7f37;font-weight:700}.bad{color:#c00;font-weight:700}
.where{margin:.1em 0 .1em 1.5em;font-size:.95em}.where .lead{color:#555;margin-right:.3em}
.side{color:#555;font-size:.9em}pre{white-space:pre-wrap;font-size:.85em}
dl.rules dt{font-family:monospace;font-weight:700;margin-top:.6em}dl.rules dd{margin-left:1.5em}dl.rules code{white-space:pre-wrap}
button.copy{font-size:.75em;margin-left:.6em}
@media print{button.copy,details{display:none}.step{break-inside:avoid}body{max-width:none}}";

/// The optional convenience: copy a step's form (data-text) to the clipboard. The page reads without it.
const SCRIPT: &str = "document.querySelectorAll('button.copy').forEach(function(b){b.addEventListener('click',function(){if(navigator.clipboard){navigator.clipboard.writeText(b.getAttribute('data-text'));}});});";

/// A display formula `lhs = rhs`, broken into rows where the notes break it, with its equation number.
fn equation(lhs: &RecExpr<Expr>, rhs: &RecExpr<Expr>, tag: Option<&str>, tail: &str) -> String {
    equation_mml(&super::mathml::expr(lhs), rhs, tag, tail)
}

fn equation_mml(lhs: &str, rhs: &RecExpr<Expr>, tag: Option<&str>, tail: &str) -> String {
    let lines = broken(rhs, WIDTH, true);
    let mut rows = String::new();
    for (i, l) in lines.iter().enumerate() {
        let indent = if i == 0 { String::new() } else { format!("<mspace width=\"{}em\"></mspace>", 1 + 2 * l.depth.min(2)) };
        let left = if i == 0 { lhs.to_string() } else { String::new() };
        let eq = if i == 0 && !lhs.is_empty() { mo("=", false) } else { String::new() };
        let end = if i + 1 == lines.len() { tail } else { "" };
        let _ = write!(rows, "<mtr><mtd class=\"lhs\">{left}</mtd><mtd><mrow>{eq}{indent}{}{end}</mrow></mtd></mtr>", l.mml);
    }
    let body = if lines.len() == 1 {
        let l = &lines[0];
        math(&format!("<mrow>{lhs}{}{}{tail}</mrow>", if lhs.is_empty() { String::new() } else { mo("=", false) }, l.mml), true)
    } else {
        math(&format!("<mtable>{rows}</mtable>"), true)
    };
    let num = tag.map(|t| format!("<span class=\"num\">({})</span>", esc(t))).unwrap_or_default();
    format!("<div class=\"eq\"><div class=\"body\">{body}</div>{num}</div>\n")
}

/// A tensor as a small heat map (blue negative, red positive), or its norm and size when it is large.
fn heat(t: &Tensor) -> String {
    if t.data.is_empty() {
        return String::new();
    }
    if t.data.len() > 64 {
        return esc(&super::values::tensor(t));
    }
    let max = t.data.iter().fold(0.0f64, |m, v| if v.is_finite() { m.max(v.abs()) } else { m });
    let cols = if t.dims.len() >= 2 { t.dims[1..].iter().product::<usize>().max(1) } else { t.data.len() };
    let mut out = String::from("<table class=\"heat\">");
    for r in t.data.chunks(cols) {
        out.push_str("<tr>");
        for v in r {
            let a = if max > 0.0 && v.is_finite() { (v.abs() / max * 0.6 * 100.0).round() / 100.0 } else { 0.0 };
            let color = if *v < 0.0 { format!("rgba(33,102,172,{a})") } else { format!("rgba(178,24,43,{a})") };
            let _ = write!(out, "<td style=\"background:{color}\">{}</td>", esc(&num(*v)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out
}

/// The per-time-step terms as an inline SVG bar chart (Frobenius norms, log scale when they span decades).
fn bars(per_time: &[(i64, Tensor)]) -> String {
    let norms: Vec<(i64, f64)> = per_time.iter().map(|(k, t)| (*k, t.data.iter().map(|v| v * v).sum::<f64>().sqrt())).collect();
    let max = norms.iter().fold(0.0f64, |m, (_, v)| if v.is_finite() { m.max(*v) } else { m });
    if norms.is_empty() || max <= 0.0 {
        return String::new();
    }
    let (bw, h, gap) = (if norms.len() > 40 { 8 } else { 36 }, 120.0, 6);
    let w = norms.len() * (bw + gap) + gap;
    let mut out = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"160\" viewBox=\"0 0 {w} 160\" role=\"img\"><title>‖term k‖</title>");
    for (i, (k, v)) in norms.iter().enumerate() {
        let bh = if v.is_finite() { (v / max * h).max(1.0) } else { 0.0 };
        let x = gap + i * (bw + gap);
        let _ = write!(out, "<rect x=\"{x}\" y=\"{:.1}\" width=\"{bw}\" height=\"{bh:.1}\" fill=\"#0072B2\"><title>k = {k}: {}</title></rect>", 10.0 + h - bh, esc(&num(*v)));
        if norms.len() <= 40 {
            let _ = write!(out, "<text x=\"{}\" y=\"148\" font-size=\"11\" text-anchor=\"middle\">{k}</text><text x=\"{}\" y=\"{:.1}\" font-size=\"9\" text-anchor=\"middle\">{}</text>", x + bw / 2, x + bw / 2, (10.0 + h - bh - 2.0).max(9.0), esc(&num(*v)));
        }
    }
    out.push_str("</svg>");
    out
}

fn mark(ok: bool) -> &'static str {
    if ok { "<span class=\"ok\">✓</span>" } else { "<span class=\"bad\">✗</span>" }
}

fn rule_links(rules: &[(String, usize)], used: &mut BTreeSet<String>) -> String {
    rules
        .iter()
        .map(|(r, c)| {
            used.insert(r.clone());
            let times = if *c > 1 { format!(" ×{c}") } else { String::new() };
            format!("<a href=\"#rule-{}\">{}</a>{times}", esc(r), esc(r))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The body of one derivation.
fn part(p: &Part, lang: Lang, trace: bool, used: &mut BTreeSet<String>, index: usize) -> String {
    let (s, d, n) = (p.session, p.derivation, p.numbers);
    let w = super::words::of(lang);
    let pw = words(lang);
    let v = View { style: Style::Unicode, width: 100, trace, color: false, lang };
    let mut out = String::new();
    let goal = &d.goal;
    // the text report's header line: what is derived, then the facts
    let head = header(s, &v);
    let (title, facts) = head.split_once("   ").unwrap_or((head.as_str(), ""));
    let _ = writeln!(out, "<section class=\"derivation\" id=\"d{index}\">\n<h1>{}</h1>", esc(title));
    let _ = writeln!(out, "<p class=\"facts\">{}</p>", esc(facts.trim()));
    let _ = writeln!(out, "<h2>{}</h2>", pw.model);
    for def in &s.model.defs {
        let shown = crate::model::Model::shown_rhs(def);
        let tag = def.eq.as_deref();
        match super::report::shown_as_given(def, Style::Unicode) {
            Some(param) => {
                let given = w.given.replace("{p}", param.as_str());
                out.push_str(&equation_mml("", &def.lhs_shown, tag, &format!("<mspace width=\"1em\"></mspace><mtext>{}</mtext>", esc(&given))));
            }
            _ => {
                let guard = if def.guards.is_empty() { String::new() } else { format!("<mspace width=\"1em\"></mspace><mtext>{}</mtext>", esc(w.for_t_ge_1)) };
                out.push_str(&equation(&def.lhs_shown, &shown, tag, &guard));
            }
        }
    }
    let _ = writeln!(out, "<h2>{}</h2>", pw.derivation);
    for (bi, b) in d.beats.iter().enumerate() {
        let eq = b.eq.map(|e| e.to_string());
        let title = lang.pick(&b.title, b.title_ko.as_deref());
        let _ = writeln!(out, "<section class=\"step\" id=\"d{index}-step{bi}\">");
        let tag = eq.as_ref().map(|e| format!("<span class=\"tag\">({e})</span>")).unwrap_or_else(|| "<span class=\"tag\">·</span>".into());
        let copy_text = crate::print::asciify(&render(b.part.as_ref().unwrap_or(&b.whole), Style::Ascii, 10_000));
        let _ = writeln!(
            out,
            "<h3>{tag}{}<button class=\"copy\" type=\"button\" title=\"{}\" data-text=\"{}\">{}</button></h3>",
            esc(title),
            esc(pw.copy_title),
            esc(&copy_text),
            pw.copy
        );
        if !b.rules.is_empty() {
            let _ = writeln!(out, "<p class=\"rules\">{} {}</p>", esc(w.rules), rule_links(&b.rules, used));
        }
        match (&b.part_lhs, &b.part) {
            (Some(l), Some(pt)) => out.push_str(&equation(l, pt, eq.as_deref(), "")),
            _ if b.rules.is_empty() => out.push_str(&equation_mml("", &b.whole, eq.as_deref(), "")),
            _ => out.push_str(&equation(goal, &b.whole, eq.as_deref(), "")),
        }
        if b.aside {
            let e = n.aside_errors.get(bi).copied().flatten().unwrap_or(0.0);
            let _ = writeln!(out, "<p class=\"side\">{}</p>", w.aside.replace("{mark}", mark(e <= crate::verify::STEP_TOL)).replace("{err}", &err(e)));
        } else if let Some(val) = n.beats.get(bi) {
            let prev = if bi == 0 { Some(&n.goal) } else { n.beats.get(bi - 1) };
            let rel = prev.map(|p| val.rel_diff(p)).unwrap_or(0.0);
            let ok = rel.is_finite() && rel <= crate::verify::STEP_TOL && val.first_non_finite().is_none() && n.broken.as_ref().is_none_or(|x| x.beat != bi);
            let label = if b.part_lhs.is_some() { w.value_of_whole.replace("{g}", &render(goal, Style::Unicode, 1000)) } else { w.value.to_string() };
            let change = if b.rules.is_empty() { String::new() } else { format!("{} ({} {})", mark(ok), esc(w.change), err(rel)) };
            let _ = writeln!(out, "<div class=\"value\"><span>{}</span>{}<span>{change}</span></div>", esc(&label), heat(val));
        }
        for (wi, side) in b.wheres.iter().enumerate() {
            let werr = n.wheres.get(bi).and_then(|x| x.get(wi)).copied().unwrap_or(0.0);
            let range = super::words::range(lang, side.k_range);
            let tail = format!("<mtext>{}</mtext>", esc(&range));
            let _ = write!(out, "<div class=\"where\"><span class=\"lead\">{}</span>{} <span class=\"rules\">({})</span>", esc(w.where_), mark(werr <= crate::verify::STEP_TOL), rule_links(&side.rules.iter().map(|r| (r.0.clone(), 1)).collect::<Vec<_>>(), used));
            out.push_str(&equation(&side.lhs, &side.rhs, None, &tail));
            out.push_str("</div>\n");
        }
        if bi + 1 == d.beats.len() && !n.per_time.is_empty() {
            let _ = writeln!(out, "<figure><figcaption>{}</figcaption>{}</figure>", esc(pw.per_step), bars(&n.per_time));
        }
        if trace && !b.trace.is_empty() {
            let _ = writeln!(out, "<details><summary>{} ({})</summary><ol>", pw.trace, b.trace.len());
            for st in &b.trace {
                let shown = st.part.clone().unwrap_or_else(|| st.whole());
                let _ = writeln!(out, "<li><code>{}</code> {}</li>", esc(&st.rule), math(&super::mathml::expr(&shown), false));
            }
            out.push_str("</ol></details>\n");
        }
        out.push_str("</section>\n");
    }
    if let Some((form, checks)) = p.closed {
        let ok = crate::closed::holds(checks);
        let first = checks.first().map(|a| a.steps).unwrap_or(0);
        let last = checks.last().map(|a| a.steps).unwrap_or(0);
        let worst = checks.iter().fold(0.0f64, |m, a| m.max(a.rel_error));
        let _ = writeln!(out, "<h2>{}</h2>", pw.any_t);
        out.push_str(&equation(goal, form, d.beats.last().and_then(|b| b.eq).map(|e| e.to_string()).as_deref(), ""));
        let text = if ok { w.any_t_ok.replace("{first}", &first.to_string()).replace("{last}", &last.to_string()).replace("{err}", &err(worst)) } else { w.any_t_bad.replace("{bad}", "?") };
        let _ = writeln!(out, "<p>{} {}</p>", mark(ok), esc(&text));
    }
    if !n.matrix.is_empty() {
        let _ = writeln!(out, "<h2>{}</h2>\n<p class=\"side\">{}</p>\n<ul>", pw.matrix_form, esc(&w.matrix_form.split_once('(').map(|x| format!("({}", x.1)).unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ")));
        for m in &n.matrix {
            let ok = m.error.is_some_and(|x| x <= crate::verify::STEP_TOL);
            let diff = m.error.map(|x| format!("{} {}", w.difference, err(x))).unwrap_or_else(|| w.not_evaluated.to_string());
            let _ = writeln!(out, "<li>{}{} {} ({})</li>", esc(&m.text), esc(&super::words::range(lang, m.range)), mark(ok), esc(&diff));
        }
        out.push_str("</ul>\n");
    }
    if let Some(svg) = &p.plot {
        let _ = writeln!(out, "<h2>{}</h2>\n<figure class=\"plot\">{}</figure>", pw.plot, inline_svg(svg));
    }
    let _ = writeln!(out, "<h2>{}</h2>\n<table class=\"numbers\">", pw.numbers);
    let fd = w.fd.replace("{verdict}", if n.fd_ok { w.fd_agree } else { w.fd_disagree }).replace("{err}", &err(n.fd_error)).replace("{h}", &err(crate::verify::FD_H));
    let rows = [
        (format!("{} L", w.loss), esc(&num(n.loss))),
        (render(goal, Style::Unicode, 1000), heat(&n.gradient)),
        (w.check.to_string(), format!("{} {}", mark(n.broken.is_none() && n.bad_where.is_none()), esc(&w.steps_equal.replace("{err}", &err(n.worst_step))))),
        (String::new(), format!("{} {}", mark(n.fd_ok), esc(&fd))),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "<tr><th>{}</th><td>{v}</td></tr>", esc(&k));
    }
    out.push_str("</table>\n</section>\n");
    out
}

/// An SVG document as an inline element: its XML declaration and doctype dropped.
fn inline_svg(svg: &str) -> String {
    let start = svg.find("<svg").unwrap_or(0);
    svg[start..].to_string()
}

/// The appendix: each rule that fired, with its one-line math comment and its text.
fn appendix(s: &Session, used: &BTreeSet<String>, lang: Lang) -> String {
    let pw = words(lang);
    let mut out = format!("<h2 id=\"rules\">{}</h2>\n<p class=\"side\">{}</p>\n<dl class=\"rules\">\n", pw.rules_appendix, pw.rules_note);
    for r in s.rules.rules.iter().filter(|r| used.contains(&r.name)) {
        let comment = lang.pick(&r.comment, r.comment_ko.as_deref());
        let _ = writeln!(out, "<dt id=\"rule-{0}\">{0}</dt><dd>{1}<br><code>{2}</code> <span class=\"side\">({3}:{4})</span></dd>", esc(&r.name), esc(comment), esc(r.text.split_once(':').map(|x| x.1.trim()).unwrap_or(&r.text)), esc(&r.file), r.line);
    }
    out.push_str("</dl>\n");
    out
}

/// The whole page for one or more derivations (`--wrt all`: one section each, and a summary).
pub fn page(parts: &[Part], lang: Lang, trace: bool) -> String {
    let pw = words(lang);
    let mut used = BTreeSet::new();
    let mut body = String::new();
    if parts.len() > 1 {
        let _ = writeln!(body, "<nav><h2>{}</h2><ol>", pw.contents);
        for (i, p) in parts.iter().enumerate() {
            let g = crate::print::with_shown(&p.session.shown(), || super::mathml::expr(&p.derivation.goal));
            let _ = writeln!(body, "<li><a href=\"#d{i}\">{}</a></li>", math(&g, false));
        }
        body.push_str("</ol></nav>\n");
    }
    for (i, p) in parts.iter().enumerate() {
        body.push_str(&crate::print::with_shown(&p.session.shown(), || part(p, lang, trace, &mut used, i)));
    }
    if parts.len() > 1 {
        let _ = writeln!(body, "<h2>{}</h2>", pw.summary);
        for p in parts {
            let row = crate::print::with_shown(&p.session.shown(), || equation(&p.derivation.goal, p.derivation.final_form(), None, ""));
            let _ = writeln!(body, "{row}<p>{}</p>", mark(p.numbers.ok()));
        }
    }
    if let Some(p) = parts.first() {
        body.push_str(&appendix(p.session, &used, lang));
    }
    let title = parts
        .first()
        .map(|p| crate::print::with_shown(&p.session.shown(), || format!("∂L/∂{} — bptt", crate::print::name(p.session.wrt.as_str(), Style::Unicode))))
        .unwrap_or_else(|| "bptt".into());
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\n{STYLE}\n</style>\n</head>\n<body>\n{body}<script>{SCRIPT}</script>\n</body>\n</html>\n",
        lang.code(),
        esc(&title)
    )
}

/// The page of `bptt check --format html`: its header line, then `sections` (HTML: each check as
/// [`super::check::checked_html`] writes it, or a hand derivation's report as preformatted text).
pub fn check_page(header: &str, sections: &str, lang: Lang) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>bptt check</title>\n<style>\n{STYLE}\n</style>\n</head>\n<body>\n<h1>bptt check</h1>\n<p class=\"facts\">{}</p>\n{sections}</body>\n</html>\n",
        lang.code(),
        esc(header.trim())
    )
}
