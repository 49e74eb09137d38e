//! Study notes: a derivation as a standalone LaTeX document (or only its math blocks, `--fragment`) or as
//! Markdown with `$$ … $$` blocks for KaTeX/MathJax (Obsidian, Jupyter, GitHub). Expressions use the blog's
//! notation through the shared printer ([`super::text`] in LaTeX style); long right-hand sides are broken at
//! their top-level + signs.
use crate::print::{Style, render};
use super::values::{err, num};
use crate::derive::Derivation;
use crate::lang::Expr;
use crate::session::Session;
use crate::options::Lang;
use crate::verify::Verified;
use egg::{Id, RecExpr};
use std::fmt::Write;

/// LaTeX or Markdown, whole document or fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Document,
    Fragment,
    Markdown,
}

/// Prose written with the Unicode notation (titles) as LaTeX text: s⁽³⁾ → s$^{(3)}$, σ′ → $\sigma'$.
pub fn prose(s: &str, markdown: bool) -> String {
    if markdown {
        return s.to_string();
    }
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '⁽' => {
                let inner = crate::print::sup_group(&mut chars);
                let _ = write!(out, "$^{{({inner})}}$");
            }
            'σ' => out.push_str("$\\sigma$"),
            '′' => out.push_str("$'$"),
            '∂' => out.push_str("$\\partial$"),
            'Σ' => out.push_str("$\\Sigma$"),
            'δ' => out.push_str("$\\delta$"),
            'ᵀ' => out.push_str("$^\\top$"),
            '—' => out.push_str("---"),
            '–' | '−' => out.push_str("--"),
            '≥' => out.push_str("$\\ge$"),
            '×' => out.push_str("$\\times$"),
            '½' => out.push_str("$\\frac12$"),
            'ȳ' => out.push_str("$\\bar y$"),
            'ŷ' => out.push_str("$\\hat y$"),
            'ℓ' => out.push_str("$\\ell$"),
            '…' => out.push_str("\\ldots{}"),
            '“' => out.push_str("``"),
            '”' => out.push_str("''"),
            '_' | '&' | '%' | '#' | '$' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '^' => out.push_str("\\^{}"),
            '~' => out.push_str("\\~{}"),
            '\\' => out.push_str("\\textbackslash{}"),
            c if c.is_ascii() => out.push(c),
            c => out.push_str(&crate::print::asciify(&c.to_string())),
        }
    }
    out
}

fn tex(e: &RecExpr<Expr>) -> String {
    render(e, Style::Latex, usize::MAX / 4).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The top-level terms of a sum, each with its sign.
fn terms(e: &RecExpr<Expr>, id: Id, sign: &'static str, out: &mut Vec<(&'static str, Id)>) {
    match &e[id] {
        Expr::Add([a, b]) => {
            terms(e, *a, sign, out);
            terms(e, *b, "+", out);
        }
        Expr::Sub([a, b]) if !matches!(&e[*b], Expr::Add(_) | Expr::Sub(_)) => {
            terms(e, *a, sign, out);
            out.push(("-", *b));
        }
        _ => out.push((sign, id)),
    }
}

/// A term as pieces that may go on separate lines: a long product ending in a parenthesised sum opens a
/// `\bigl(` that can span lines (a `\left(` cannot), and its inner terms are split the same way.
fn pieces(e: &RecExpr<Expr>, id: Id, width: usize) -> Vec<String> {
    let t = tex(&crate::lang::sub_expr(e, id));
    if t.len() <= width {
        return vec![t];
    }
    let prefixed = |head: String, mut ps: Vec<String>| {
        ps[0] = format!("{head}{}", ps[0]);
        ps
    };
    match &e[id] {
        Expr::Sum([k, _, body]) => prefixed(format!("\\sum_{{{}}} ", tex(&crate::lang::sub_expr(e, *k))), pieces(e, *body, width)),
        Expr::Mul([a, b]) => {
            let mut head = tex(&crate::lang::sub_expr(e, *a));
            if matches!(&e[*a], Expr::Sum(_) | Expr::TSum(_) | Expr::Add(_) | Expr::Sub(_)) {
                head = format!("\\left({head}\\right)");
            }
            if matches!(&e[*b], Expr::Add(_) | Expr::Sub(_)) {
                let mut ts = vec![];
                terms(e, *b, "", &mut ts);
                let mut inner: Vec<String> = vec![];
                for (sign, tid) in ts {
                    let ps = pieces(e, tid, width);
                    inner.extend(if sign.is_empty() { ps } else { prefixed(format!("{sign} "), ps) });
                }
                if let Some(last) = inner.last_mut() {
                    last.push_str(" \\bigr)");
                }
                prefixed(format!("{head} \\, \\bigl("), inner)
            } else {
                prefixed(format!("{head} \\, "), pieces(e, *b, width))
            }
        }
        _ => vec![t],
    }
}

/// `lhs = rhs` as the lines of an align row, broken at + signs (also inside long parenthesised sums) when
/// longer than `width` characters of LaTeX source.
fn aligned(lhs: &str, rhs: &RecExpr<Expr>, width: usize) -> String {
    let mut ts = vec![];
    terms(rhs, rhs.root(), "", &mut ts);
    let mut lines: Vec<String> = vec![];
    let mut cur = String::new();
    let all: Vec<String> = ts
        .into_iter()
        .flat_map(|(sign, id)| {
            let mut ps = pieces(rhs, id, width);
            if !sign.is_empty() {
                ps[0] = format!("{sign} {}", ps[0]);
            }
            ps
        })
        .collect();
    for piece in all {
        if !cur.is_empty() && cur.len() + piece.len() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&piece);
    }
    lines.push(cur);
    let mut out = format!("{lhs} &= {}", lines[0]);
    for l in &lines[1..] {
        let _ = write!(out, " \\notag\\\\\n  &\\quad {l}");
    }
    out
}

/// A display block: an align environment (LaTeX) or `$$\begin{aligned}…\end{aligned}\tag{n}$$` (Markdown).
fn block(kind: Kind, rows: &[String], tag: Option<u32>) -> String {
    let tag_tex = tag.map(|t| format!(" \\tag{{{t}}}")).unwrap_or_default();
    match kind {
        Kind::Markdown => format!("$$\n\\begin{{aligned}}\n{}\n\\end{{aligned}}{tag_tex}\n$$\n", rows.join(" \\\\\n").replace(" \\notag", "")),
        _ => {
            // the tag goes on the step's own equation (the first row); side equations are not numbered
            let own = |r: &str, t: String| if r.ends_with('}') && r.rsplit_once("\\tag{").is_some_and(|(_, x)| !x.contains("\\notag")) { r.to_string() } else { format!("{r}{t}") };
            let first = own(&rows[0], if tag.is_some() { tag_tex } else { " \\notag".into() });
            let rest: Vec<String> = rows[1..].iter().map(|r| own(r, " \\notag".into())).collect();
            let body = std::iter::once(first).chain(rest).collect::<Vec<_>>().join("\\\\\n");
            format!("\\begin{{align}}\n{body}\n\\end{{align}}\n")
        }
    }
}

/// Rows of the notation map: this tool (the blog), d2l, and the row-vector convention (Keras, mmuratarat).

fn notation_map(rows: &[[String; 3]], md: bool) -> String {
    let mut out = String::new();
    if md {
        out.push_str("## Notation map

| this tool (the blog) | d2l | row vectors (Keras) |
|---|---|---|
");
        for [a, b, c] in rows {
            let _ = writeln!(out, "| {a} | {b} | {c} |");
        }
    } else {
        out.push_str("\\subsection*{Notation map}
\\begin{tabular}{lll}
this tool (the blog) & d2l & row vectors (Keras) \\\\
\\hline
");
        for [a, b, c] in rows {
            let _ = writeln!(out, "{a} & {b} & {c} \\\\");
        }
        out.push_str("\\end{tabular}

");
    }
    out
}

/// The fixed words of the notes in one language.
struct NotesWords {
    title: &'static str,
    activation: &'static str,
    size: &'static str,
    with_biases: &'static str,
    every_step: &'static str,
    every_step_md: &'static str,
    the_model: &'static str,
    the_derivation: &'static str,
    rules: &'static str,
    down_to: &'static str,
    any_t: &'static str,
    checked: &'static str,
    not_confirmed: &'static str,
    seed: &'static str,
    from_params: &'static str,
    sizes: &'static str,
    gradient: &'static str,
    largest_change: &'static str,
    fd: &'static str,
    all_checks: &'static str,
    passed: &'static str,
    the_numbers: &'static str,
}

fn notes_words(lang: Lang) -> &'static NotesWords {
    const EN: NotesWords = NotesWords {
        title: "Backpropagation through time: ${goal}$ for a {model}",
        activation: "activation",
        size: "size",
        with_biases: ", with biases",
        every_step: "Every step below was produced by the rewrite rules named beside it and checked numerically: its value equals the previous step's, and the result equals finite differences.",
        every_step_md: "Every step was produced by the rewrite rules named beside it and checked numerically.",
        the_model: "The model",
        the_derivation: "The derivation",
        rules: "rules:",
        down_to: "{k} = {hi} \\text{ down to } {lo}",
        any_t: "for any number of steps T ({verdict} the rules derive exactly this form for T = {first}, \\ldots, {last})",
        checked: "checked:",
        not_confirmed: "NOT confirmed:",
        seed: "seed",
        from_params: "from a params file",
        sizes: "sizes",
        gradient: "the gradient",
        largest_change: "largest change between steps (relative)",
        fd: "finite differences, max abs error",
        all_checks: "all checks",
        passed: "passed",
        the_numbers: "The numbers",
    };
    const KO: NotesWords = NotesWords {
        title: "BPTT (시간에 따른 역전파): {model}의 ${goal}$",
        activation: "활성화 함수",
        size: "크기",
        with_biases: ", 편향 포함",
        every_step: "아래의 모든 단계는 옆에 적힌 재작성 규칙으로 만들어졌고 수치로 검증되었다: 각 단계의 값은 이전 단계의 값과 같고, 결과는 유한 차분과 같다.",
        every_step_md: "모든 단계는 옆에 적힌 재작성 규칙으로 만들어졌고 수치로 검증되었다.",
        the_model: "모델",
        the_derivation: "유도",
        rules: "규칙:",
        down_to: "{k} = {hi} \\text{부터 } {lo} \\text{까지 (거슬러)}",
        any_t: "임의의 시점 수 T에 대해 ({verdict} T = {first}, \\ldots, {last}에서 규칙이 정확히 이 식을 유도한다)",
        checked: "검증됨:",
        not_confirmed: "확인되지 않음:",
        seed: "시드",
        from_params: "파라미터 파일에서",
        sizes: "크기",
        gradient: "기울기",
        largest_change: "단계 사이의 가장 큰 (상대) 변화",
        fd: "유한 차분, 최대 절대 오차",
        all_checks: "모든 검증",
        passed: "통과",
        the_numbers: "수치",
    };
    match lang {
        Lang::En => &EN,
        Lang::Ko => &KO,
    }
}

/// A standalone document around the notes of one or more derivations.
/// (with Korean notes, `kotex` typesets the Hangul: Debian's texlive-lang-korean, pdflatex as it is)
pub fn document(bodies: &[String], lang: Lang) -> String {
    let korean = if lang == Lang::Ko { "\\usepackage{kotex}\n" } else { "" };
    let mut out = format!("\\documentclass[11pt]{{article}}\n\\usepackage[a4paper,margin=2cm]{{geometry}}\n\\usepackage{{amsmath}}\n{korean}\\allowdisplaybreaks\n\\begin{{document}}\n");
    out.push_str(&bodies.join("\n\\clearpage\n"));
    out.push_str("\\end{document}\n");
    out
}

/// The notes for one derivation (for [`Kind::Document`], the body that [`document`] wraps).
pub fn notes(s: &Session, d: &Derivation, n: &Verified, closed: Option<&(RecExpr<Expr>, Vec<crate::closed::AtT>)>, kind: Kind, with_map: bool, lang: Lang) -> String {
    let md = kind == Kind::Markdown;
    let nw = notes_words(lang);
    let width = 80;
    let mut out = String::new();
    let goal = tex(&d.goal);
    let title = nw.title.replace("{goal}", &goal).replace("{model}", &s.options.title_words());
    let h = s.header();
    let facts = format!(
        "T = {}, {} {}, {}{}.",
        h.steps,
        nw.activation,
        h.activation,
        h.sizes.iter().map(|(word, n)| format!("{word} {} {n}", nw.size)).collect::<Vec<_>>().join(", "),
        if h.bias { nw.with_biases } else { "" }
    );
    match kind {
        Kind::Document => {
            let _ = writeln!(out, "\\section*{{{}}}\n{}\n{}\n", title, facts, nw.every_step);
            let _ = writeln!(out, "\\subsection*{{{}}}", nw.the_model);
        }
        Kind::Markdown => {
            let _ = writeln!(out, "# {title}\n\n{facts} {}\n\n## {}\n", nw.every_step_md, nw.the_model);
        }
        Kind::Fragment => {}
    }
    let model_rows: Vec<String> = s
        .model
        .defs
        .iter()
        .map(|def| {
            let row = aligned(&tex(&def.lhs_shown), &crate::model::Model::shown_rhs(def), width);
            match (&def.eq, md) {
                (Some(e), false) => format!("{row} \\tag{{{}}}", e.replace('–', "--")),
                (Some(e), true) => format!("{row} && \\text{{({})}}", e.replace('–', "--")),
                (None, _) => row,
            }
        })
        .collect();
    out.push_str(&block(kind, &model_rows, None));
    match kind {
        Kind::Document => {
            let _ = writeln!(out, "\n\\subsection*{{{}}}", nw.the_derivation);
        }
        Kind::Markdown => {
            let _ = write!(out, "\n## {}\n\n", nw.the_derivation);
        }
        Kind::Fragment => {}
    }
    for b in &d.beats {
        let tag = b.eq.map(|e| format!("({e}) ")).unwrap_or_default();
        let rules: Vec<&str> = b.rules.iter().map(|r| r.0.as_str()).collect();
        let rules_text = if rules.is_empty() { String::new() } else { format!("{} {}", nw.rules, rules.join(", ")) };
        let title = lang.pick(&b.title, b.title_ko.as_deref());
        match kind {
            Kind::Document => {
                let _ = write!(out, "\\noindent\\textbf{{{tag}}}{}", prose(title, false));
                if rules.is_empty() {
                    out.push('\n');
                } else {
                    let _ = writeln!(out, "\\\\\n{{\\small\\textit{{{}}}}}", prose(&rules_text, false));
                }
            }
            Kind::Markdown => {
                // CommonMark: `**(13)** title` (a closing ** after a space is not a delimiter), no empty emphasis
                let head = match b.eq {
                    Some(e) => format!("**({e})** {title}"),
                    None => title.to_string(),
                };
                if rules.is_empty() {
                    let _ = writeln!(out, "{head}\n");
                } else {
                    let _ = writeln!(out, "{head}  \n*{rules_text}*\n");
                }
            }
            Kind::Fragment => {
                let _ = writeln!(out, "% {tag}{title} — {rules_text}");
            }
        }
        let row = match (&b.part_lhs, &b.part) {
            (Some(l), Some(p)) => aligned(&tex(l), p, width),
            _ if b.rules.is_empty() => format!("& {}", tex(&b.whole)),
            _ => aligned(&goal, &b.whole, width),
        };
        let mut rows = vec![row];
        for w in &b.wheres {
            // the recursion's range stays with it in every format (under the k = T line it seemed to reach h⁽ᵀ⁺¹⁾)
            let range = match w.k_range {
                Some((k, lo, hi)) if lo == hi => format!(" \\qquad {k} = {lo}"),
                Some((k, lo, hi)) => format!(" \\qquad {}", nw.down_to.replace("{k}", k.as_str()).replace("{hi}", &hi.to_string()).replace("{lo}", &lo.to_string())),
                None => String::new(),
            };
            rows.push(aligned(&tex(&w.lhs), &w.rhs, width) + &range);
        }
        out.push_str(&block(kind, &rows, b.eq));
        out.push('\n');
    }
    if let Some((form, checks)) = closed {
        let ok = crate::render::report::closed_ok(checks);
        let first = checks.first().map(|a| a.steps).unwrap_or(0);
        let last = checks.last().map(|a| a.steps).unwrap_or(0);
        let text = nw.any_t.replace("{verdict}", if ok { nw.checked } else { nw.not_confirmed }).replace("{first}", &first.to_string()).replace("{last}", &last.to_string());
        match kind {
            Kind::Document => {
                let _ = writeln!(out, "\\noindent {text}");
            }
            Kind::Markdown => {
                let _ = writeln!(out, "{}\n", text.replace("\\ldots", "…"));
            }
            Kind::Fragment => {
                let _ = writeln!(out, "% {text}");
            }
        }
        out.push_str(&block(kind, &[aligned(&goal, form, width)], None));
        out.push('\n');
    }
    if with_map && kind != Kind::Fragment {
        out.push_str(&notation_map(&s.model.notation, md));
    }
    if kind != Kind::Fragment {
        let rows = [
            (nw.seed, s.options.params.as_ref().map(|_| nw.from_params.to_string()).unwrap_or_else(|| s.options.seed.to_string())),
            (nw.sizes, format!("T = {}, {}", s.sizes.steps, s.header().sizes_words(", "))),
            ("loss L", num(n.loss)),
            (nw.gradient, super::values::tensor(&n.gradient).replace('‖', "|")),
            (nw.largest_change, err(n.worst_step)),
            (nw.fd, err(n.fd_error)),
            (nw.all_checks, if n.ok() { nw.passed.to_string() } else { "FAILED".to_string() }),
        ];
        if md {
            let _ = write!(out, "## {}\n\n| | |\n|---|---|\n", nw.the_numbers);
            for (k, v) in rows {
                let _ = writeln!(out, "| {k} | {v} |");
            }
        } else {
            let _ = writeln!(out, "\\subsection*{{{}}}\n\\begin{{tabular}}{{lp{{9cm}}}}", nw.the_numbers);
            for (k, v) in rows {
                let _ = writeln!(out, "{} & {} \\\\", prose(k, false), prose(&v, false));
            }
            out.push_str("\\end{tabular}\n");
        }
    }
    out
}
