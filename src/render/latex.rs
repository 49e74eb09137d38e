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

/// Prose written with the Unicode notation (titles) as LaTeX: the words stay text, the mathematics in them
/// (W⁽ʳ⁾[i,p], s⁽³⁾ = tanh(h⁽³⁾), ∂L/∂h⁽ᵏ⁾, Σ_m ȳ[m] = 1) is typeset as math, one `$…$` per run of math words.
/// A Korean particle written onto a symbol (s⁽³⁾까지) stays text.
pub fn prose(s: &str, markdown: bool) -> String {
    if markdown {
        return s.to_string();
    }
    // tokens: split at spaces and where Korean meets anything else (a particle written onto a symbol)
    let mut tokens: Vec<(bool, String)> = vec![];
    for (wi, w) in s.split(' ').enumerate() {
        let mut cur = String::new();
        let mut first = true;
        for c in w.chars() {
            if !cur.is_empty() && is_hangul(c) != cur.chars().last().is_some_and(is_hangul) {
                tokens.push((first && wi > 0, std::mem::take(&mut cur)));
                first = false;
            }
            cur.push(c);
        }
        tokens.push((first && wi > 0, cur));
    }
    let parts: Vec<(String, String, String)> = tokens.iter().map(|(_, w)| split_math(w)).collect();
    let mut out = String::new();
    let mut i = 0;
    while i < parts.len() {
        if tokens[i].0 {
            out.push(' ');
        }
        let (lead, math, trail) = &parts[i];
        out.push_str(&text_tex(lead));
        if math.is_empty() {
            out.push_str(&text_tex(trail));
            i += 1;
            continue;
        }
        // a run: this math token, then space-separated tokens that are wholly math (an operator between two
        // math tokens joins them)
        let mut run = vec![math.clone()];
        let mut last_trail = trail.clone();
        while last_trail.is_empty() && i + 1 < parts.len() && tokens[i + 1].0 {
            let (l, m, t) = &parts[i + 1];
            let operator = matches!(tokens[i + 1].1.as_str(), "=" | "+" | "−" | "-" | "·" | "×");
            let next_math = parts.get(i + 2).is_some_and(|p| p.0.is_empty() && !p.1.is_empty()) && tokens.get(i + 2).is_some_and(|t| t.0);
            if l.is_empty() && (!m.is_empty() || (operator && next_math)) {
                if m.is_empty() {
                    // the operator itself: nothing of it is left as text
                    run.push(tokens[i + 1].1.clone());
                    last_trail = String::new();
                } else {
                    run.push(m.clone());
                    last_trail = t.clone();
                }
                i += 1;
            } else {
                break;
            }
        }
        let _ = write!(out, "${}$", math_tex(&run.join(" ")));
        out.push_str(&text_tex(&last_trail));
        i += 1;
    }
    out
}

/// Does `c` only occur in mathematics?
fn is_math_char(c: char) -> bool {
    "⁽⁾∂Σσ′δᵀȳŷ½ℓ≥×·[]₀₁₂₃₄₅₆₇₈₉⁰¹²³⁴⁵⁶⁷⁸⁹".contains(c)
}

fn is_hangul(c: char) -> bool {
    ('\u{ac00}'..='\u{d7a3}').contains(&c) || ('\u{3130}'..='\u{318f}').contains(&c)
}

/// A word as (text before, math, text after): a math word sheds the punctuation and unmatched parentheses around
/// it and a Korean particle after it.
fn split_math(w: &str) -> (String, String, String) {
    if !w.chars().any(is_math_char) {
        return (String::new(), String::new(), w.to_string());
    }
    let (mut body, mut trail) = (w.to_string(), String::new());
    if let Some(b) = body.strip_suffix("'s") {
        body = b.to_string();
        trail.push_str("'s");
    }
    // a plural written onto a symbol (the δs): the s is a word's
    let mut rev = body.chars().rev();
    if let (Some('s'), Some(c)) = (rev.next(), rev.next())
        && !c.is_ascii()
        && is_math_char(c)
    {
        body.pop();
        trail.insert(0, 's');
    }
    let mut lead = String::new();
    loop {
        let opens = body.matches('(').count();
        let closes = body.matches(')').count();
        if body.ends_with([':', ',', ';', '.']) || (body.ends_with(')') && closes > opens) {
            let c = body.pop().unwrap_or(' ');
            trail.insert(0, c);
        } else if body.starts_with('(') && opens > closes {
            body.remove(0);
            lead.push('(');
        } else {
            break;
        }
    }
    if !body.chars().any(is_math_char) {
        return (String::new(), String::new(), w.to_string());
    }
    (lead, body, trail)
}

/// Text as LaTeX text (special characters escaped; a stray symbol as math).
fn text_tex(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '—' => out.push_str("---"),
            '–' | '−' => out.push_str("--"),
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
            c if is_math_char(c) => {
                let _ = write!(out, "${}$", math_tex(&c.to_string()));
            }
            c => out.push(c),
        }
    }
    out
}

/// Mathematics written in the Unicode notation as LaTeX math: W⁽ʳ⁾[i,p] → W^{(r)}[i,p], ∂L/∂h⁽ᵏ⁾ →
/// \partial L/\partial h^{(k)}, tanh′ → \tanh'.
fn math_tex(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.is_empty() {
            return;
        }
        let w = std::mem::take(word);
        match crate::notation::Act::named(&w) {
            Some(a) if w.len() > 1 => out.push_str(a.row().latex),
            _ if matches!(w.as_str(), "exp" | "log" | "diag") => {
                let _ = write!(out, "\\{}", if w == "diag" { "operatorname{diag}".to_string() } else { w.clone() });
            }
            _ if w.len() > 1 && w.chars().all(|c| c.is_ascii_alphabetic()) => {
                let _ = write!(out, "\\mathrm{{{w}}}");
            }
            _ => out.push_str(&w),
        }
    };
    while let Some(c) = chars.next() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
            continue;
        }
        flush(&mut word, &mut out);
        match c {
            '⁽' => {
                let inner = crate::print::sup_group(&mut chars);
                let _ = write!(out, "^{{({inner})}}");
            }
            'σ' => out.push_str("\\sigma "),
            '′' => out.push('\''),
            '∂' => out.push_str("\\partial "),
            'Σ' => out.push_str("\\sum "),
            'δ' => out.push_str("\\delta "),
            // after a superscript group the transpose joins it: W^{(r)\top}
            'ᵀ' if out.ends_with(")}") => {
                out.pop();
                out.push_str("\\top}");
            }
            'ᵀ' => out.push_str("^{\\top}"),
            'ȳ' => out.push_str("\\bar{y}"),
            'ŷ' => out.push_str("\\hat{y}"),
            '½' => out.push_str("\\tfrac{1}{2}"),
            'ℓ' => out.push_str("\\ell "),
            '≥' => out.push_str("\\ge "),
            '×' => out.push_str("\\times "),
            '·' => out.push_str("\\cdot "),
            '−' => out.push('-'),
            '…' => out.push_str("\\ldots "),
            // braces group (Σ_{k=1}^{T}); the others are escaped
            '&' | '%' | '#' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c if "⁰¹²³⁴⁵⁶⁷⁸⁹".contains(c) => {
                let _ = write!(out, "^{{{}}}", crate::print::asciify(&c.to_string()).trim_start_matches('^'));
            }
            c if "₀₁₂₃₄₅₆₇₈₉".contains(c) => {
                let _ = write!(out, "_{{{}}}", (c as u32 - '₀' as u32));
            }
            c if c.is_ascii() => out.push(c),
            c => out.push_str(&crate::print::asciify(&c.to_string())),
        }
    }
    flush(&mut word, &mut out);
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

/// One piece of a broken formula: its nesting depth, its LaTeX, and (when asked for) the same piece as MathML.
/// The breaks are decided on the LaTeX alone, so the HTML page breaks where the notes do.
#[derive(Clone)]
pub(super) struct Piece {
    pub depth: usize,
    pub tex: String,
    pub mml: String,
}

fn piece(e: &RecExpr<Expr>, id: Id, mml: bool) -> Piece {
    let t = tex(&crate::lang::sub_expr(e, id));
    Piece { depth: 0, tex: t, mml: if mml { super::mathml::node(e, id) } else { String::new() } }
}

fn prefixed(tex: String, mml: String, mut ps: Vec<Piece>) -> Vec<Piece> {
    ps[0].tex = format!("{tex}{}", ps[0].tex);
    ps[0].mml = format!("{mml}{}", ps[0].mml);
    ps
}

/// A term as pieces that may go on separate lines, each with its nesting depth: a long product ending in a
/// parenthesised sum opens a `\bigl(` that can span lines (a `\left(` cannot), and its inner terms are split
/// the same way, one level deeper (a line that starts inside it is indented more, so that nested terms never
/// look like top-level ones).
fn pieces(e: &RecExpr<Expr>, id: Id, width: usize, mml: bool) -> Vec<Piece> {
    use super::mathml::{mo, node};
    let whole = tex(&crate::lang::sub_expr(e, id));
    if whole.len() <= width {
        return vec![piece(e, id, mml)];
    }
    let m = |f: &dyn Fn() -> String| if mml { f() } else { String::new() };
    match &e[id] {
        Expr::Sum([k, _, body]) => prefixed(
            format!("\\sum_{{{}}} ", tex(&crate::lang::sub_expr(e, *k))),
            m(&|| format!("<munder>{}<mrow>{}</mrow></munder>", mo("∑", false), node(e, *k))),
            pieces(e, *body, width, mml),
        ),
        Expr::Mul([a, b]) => {
            let mut head = tex(&crate::lang::sub_expr(e, *a));
            let sumlike = matches!(&e[*a], Expr::Sum(_) | Expr::TSum(_) | Expr::Add(_) | Expr::Sub(_));
            if sumlike {
                head = format!("\\left({head}\\right)");
            }
            let head_mml = m(&|| if sumlike { format!("<mrow>{}{}{}</mrow>", mo("(", false), node(e, *a), mo(")", false)) } else { node(e, *a) });
            const THIN: &str = "<mspace width=\"0.1667em\"></mspace>";
            if matches!(&e[*b], Expr::Add(_) | Expr::Sub(_)) {
                let mut ts = vec![];
                terms(e, *b, "", &mut ts);
                let mut inner: Vec<Piece> = vec![];
                for (sign, tid) in ts {
                    let ps: Vec<Piece> = pieces(e, tid, width, mml).into_iter().map(|p| Piece { depth: p.depth + 1, ..p }).collect();
                    inner.extend(if sign.is_empty() { ps } else { prefixed(format!("{sign} "), m(&|| mo(if sign == "-" { "−" } else { sign }, false)), ps) });
                }
                if let Some(last) = inner.last_mut() {
                    last.tex.push_str(" \\bigr)");
                    last.mml.push_str(&m(&|| mo(")", false)));
                }
                // the first inner piece stays on the head's line, at the head's depth, unless the two are too long
                // together (nested chains: each level's head would pile up on one line)
                let opener = format!("{head} \\, \\bigl(");
                let opener_mml = m(&|| format!("{head_mml}{THIN}{}", mo("(", false)));
                if opener.len() + inner[0].tex.len() > width {
                    let mut out = vec![Piece { depth: 0, tex: opener, mml: opener_mml }];
                    out.extend(inner);
                    return out;
                }
                let mut out = prefixed(opener, opener_mml, inner);
                out[0].depth = 0;
                out
            } else {
                prefixed(format!("{head} \\, "), m(&|| format!("{head_mml}{THIN}")), pieces(e, *b, width, mml))
            }
        }
        _ => vec![piece(e, id, mml)],
    }
}

/// The right-hand side of `lhs = rhs` as lines, broken at + signs (also inside long parenthesised sums) when
/// longer than `width` characters of LaTeX source, each with the depth of the piece that starts it.
pub(super) fn broken(rhs: &RecExpr<Expr>, width: usize, mml: bool) -> Vec<Piece> {
    let mut ts = vec![];
    terms(rhs, rhs.root(), "", &mut ts);
    let all: Vec<Piece> = ts
        .into_iter()
        .flat_map(|(sign, id)| {
            let ps = pieces(rhs, id, width, mml);
            if sign.is_empty() { ps } else { prefixed(format!("{sign} "), if mml { super::mathml::mo(if sign == "-" { "−" } else { sign }, false) } else { String::new() }, ps) }
        })
        .collect();
    let mut lines: Vec<Piece> = vec![];
    let mut cur = Piece { depth: 0, tex: String::new(), mml: String::new() };
    for p in all {
        if !cur.tex.is_empty() && cur.tex.len() + p.tex.len() > width {
            lines.push(std::mem::replace(&mut cur, Piece { depth: 0, tex: String::new(), mml: String::new() }));
        }
        if cur.tex.is_empty() {
            cur.depth = p.depth;
        } else {
            cur.tex.push(' ');
        }
        cur.tex.push_str(&p.tex);
        cur.mml.push_str(&p.mml);
    }
    lines.push(cur);
    lines
}

/// `lhs = rhs` as the lines of an align row, broken as [`broken`] says.
fn aligned(lhs: &str, rhs: &RecExpr<Expr>, width: usize) -> String {
    let lines = broken(rhs, width, false);
    let mut out = format!("{lhs} &= {}", lines[0].tex);
    for l in &lines[1..] {
        // one \qquad per level of nesting, at most two: a deep chain (W⁽ˣ⁾'s (21) at large T) must still fit the page
        let _ = write!(out, " \\notag\\\\\n  &\\quad {}{}", "\\qquad ".repeat(l.depth.min(2)), l.tex);
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

/// The notation map (the model file's `notation` rows): this tool (the blog), d2l, and the row-vector convention.
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
    matrix_form: &'static str,
    matrix_form_note: &'static str,
    per_step: &'static str,
    summary: &'static str,
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
        matrix_form: "Matrix form",
        matrix_form_note: "Column vectors; a gradient has the shape of its parameter (the denominator layout). In the row-vector convention of d2l and Keras, $W_{hh} = W^{(r)\\top}$ and every gradient is transposed. Each line is evaluated against the index form.",
        per_step: "Each time step's term",
        summary: "Summary: the final form of every gradient",
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
        matrix_form: "행렬 형태",
        matrix_form_note: "열벡터; 기울기는 파라미터와 같은 모양이다 (분모 레이아웃). d2l과 Keras의 행벡터 관례에서는 $W_{hh} = W^{(r)\\top}$이고 모든 기울기가 전치된다. 각 줄은 인덱스 형태와 수치로 비교했다.",
        per_step: "시점별 항",
        summary: "요약: 모든 기울기의 최종 형태",
    };
    match lang {
        Lang::En => &EN,
        Lang::Ko => &KO,
    }
}

/// A matrix-form line too long for the page (a gated cell's state recursion, four gates wide) broken before
/// its top-level + signs, two terms a line; a short line unchanged.
fn wrap_sum(eq: &str) -> String {
    if eq.len() <= 160 {
        return eq.to_string();
    }
    let (mut depth, mut terms, mut start) = (0i32, vec![], 0);
    let b = eq.as_bytes();
    for (i, c) in eq.char_indices() {
        match c {
            '(' | '{' => depth += 1,
            ')' | '}' => depth -= 1,
            '+' if depth == 0 && i > 0 && b[i - 1] == b' ' && b.get(i + 1) == Some(&b' ') => {
                terms.push(eq[start..i - 1].to_string());
                start = i + 2;
            }
            _ => {}
        }
    }
    terms.push(eq[start..].to_string());
    let lines: Vec<String> = terms.chunks(2).map(|c| c.join(" + ")).collect();
    lines.join(" \\notag\\\\\n&\\quad + ")
}

/// A tensor as a LaTeX matrix in math mode (a vector as a column; numbers with a real minus sign, aligned in their
/// columns), or, past 16 entries, its norm and first entries.
fn matrix_tex(t: &crate::eval::Tensor) -> String {
    let n = super::values::num;
    // 5 significant digits, a power of ten written as one (−4.6365 × 10⁻⁴)
    let entry = |v: f64| {
        let t = n(v);
        match t.split_once('e') {
            Some((m, e)) => format!("{m} \\times 10^{{{}}}", e.trim_start_matches('+')),
            None => t,
        }
    };
    match t.dims.as_slice() {
        [] => format!("${}$", entry(t.data.first().copied().unwrap_or(0.0))),
        _ if t.data.len() > 16 => {
            let norm = t.data.iter().map(|v| v * v).sum::<f64>().sqrt();
            let first: Vec<String> = t.data.iter().take(4).map(|v| entry(*v)).collect();
            format!("$\\|\\cdot\\| = {}$, {} entries, first ${}, \\ldots$", entry(norm), t.data.len(), first.join(",\\ "))
        }
        [_] => format!("$\\begin{{pmatrix}} {} \\end{{pmatrix}}$", t.data.iter().map(|v| entry(*v)).collect::<Vec<_>>().join(" \\\\ ")),
        [_, c] => {
            let rows: Vec<String> = t.data.chunks((*c).max(1)).map(|r| r.iter().map(|v| entry(*v)).collect::<Vec<_>>().join(" & ")).collect();
            format!("$\\begin{{pmatrix}} {} \\end{{pmatrix}}$", rows.join(" \\\\ "))
        }
        _ => format!("${}$", t.data.iter().map(|v| entry(*v)).collect::<Vec<_>>().join(",\\ ")),
    }
}

/// A recursion's time steps after its equation: ` \qquad k = 1`, or ` \qquad k = 2 \text{ down to } 1`.
fn range_tex(nw: &NotesWords, r: Option<(egg::Symbol, i64, i64)>) -> String {
    match r {
        Some((k, lo, hi)) if lo == hi => format!(" \\qquad {k} = {lo}"),
        Some((k, lo, hi)) => format!(" \\qquad {}", super::words::fill_range(nw.down_to, k, lo, hi)),
        None => String::new(),
    }
}

/// The table of final forms for `--wrt all`: each gradient, its final form, and whether every check passed.
pub fn summary(rows: &[(String, String, bool)], kind: Kind, lang: Lang) -> String {
    let nw = notes_words(lang);
    let lines: Vec<String> = rows.iter().map(|(g, f, ok)| format!("{g} &= {f} \\qquad {}", if *ok { "\\checkmark" } else { "\\times" })).collect();
    let head = match kind {
        Kind::Markdown => format!("## {}\n\n", nw.summary),
        Kind::Document => format!("\\section*{{{}}}\n", nw.summary),
        Kind::Fragment => format!("% {}\n", nw.summary),
    };
    format!("{head}{}", block(kind, &lines, None))
}

/// A derivation's goal and final form in LaTeX, for [`summary`].
pub fn final_form(d: &Derivation) -> (String, String) {
    (tex(&d.goal), tex(d.final_form()))
}

/// A standalone document around the notes of one or more derivations.
/// (with Korean notes, `kotex` typesets the Hangul: Debian's texlive-lang-korean, pdflatex as it is)
pub fn document(bodies: &[String], lang: Lang) -> String {
    let korean = if lang == Lang::Ko { "\\usepackage{kotex}\n" } else { "" };
    // \checkmark (amssymb) marks a checked line
    // \keeptogether{h}: start a new page unless h of space is left on this one (what needspace.sty does, written
    // out: it is not in Debian's texlive-latex-base)
    let keep = "\\makeatletter\n\\newcommand{\\keeptogether}[1]{\\par\\penalty-100\\begingroup\\setlength{\\dimen@}{#1}\\dimen@ii\\pagegoal\\advance\\dimen@ii-\\pagetotal\\ifdim\\dimen@>\\dimen@ii\\ifdim\\dimen@ii>\\z@\\vfil\\fi\\penalty-10000\\fi\\endgroup}\n\\makeatother\n";
    let mut out = format!("\\documentclass[11pt]{{article}}\n\\usepackage[a4paper,margin=2cm]{{geometry}}\n\\usepackage{{amsmath,amssymb}}\n{korean}{keep}\\allowdisplaybreaks\n\\begin{{document}}\n");
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
    let title = nw.title.replace("{goal}", &goal).replace("{model}", &s.options.title_words(s.model.cell()));
    let h = s.header();
    let facts = format!(
        "T = {}, {} $\\sigma$ = {}, {}{}.",
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
            let shown = crate::model::Model::shown_rhs(def);
            let row = match super::report::shown_as_given(def, Style::Latex) {
                Some(p) => {
                    let given = super::words::of(lang).given.replace("{p}", &format!("\\texttt{{{}}}", p.as_str().replace('_', "\\_")));
                    format!("{} &\\quad \\text{{{given}}}", tex(&def.lhs_shown))
                }
                _ if def.guards.is_empty() => aligned(&tex(&def.lhs_shown), &shown, width),
                // the definition's range, as the text report says it ("for t ≥ 1")
                _ => format!("{} \\qquad \\text{{{}}}", aligned(&tex(&def.lhs_shown), &shown, width), super::words::of(lang).for_t_ge_1.replace("t ≥ 1", "$t \\geq 1$")),
            };
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
                // the step's title, rules and formula stay on one page (a break before them if they would not fit)
                let lines = 3 + b.wheres.len() * 2 + [&b.part, &Some(b.whole.clone())].iter().flat_map(|x| x.iter()).map(|e| tex(e).len() / 70 + 1).max().unwrap_or(1) * 2;
                let _ = writeln!(out, "\\keeptogether{{{lines}\\baselineskip}}");
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
            let range = range_tex(nw, w.k_range);
            rows.push(aligned(&tex(&w.lhs), &w.rhs, width) + &range);
        }
        out.push_str(&block(kind, &rows, b.eq));
        out.push('\n');
    }
    if let Some((form, checks)) = closed {
        let ok = crate::closed::holds(checks);
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
    if kind != Kind::Fragment && !n.matrix.is_empty() {
        // the matrix form, each line checked against the index form (as in the text report)
        let rows: Vec<String> = n
            .matrix
            .iter()
            .map(|m| {
                let range = range_tex(nw, m.range);
                let mark = if m.error.is_some_and(|x| x <= crate::verify::STEP_TOL) { "\\checkmark" } else { "\\times" };
                let eq = wrap_sum(&math_tex(&m.text).replacen(" = ", " &= ", 1));
                format!("{eq}{range} \\qquad {mark}")
            })
            .collect();
        match kind {
            Kind::Document => {
                let _ = writeln!(out, "\\subsection*{{{}}}\n{}\n", nw.matrix_form, nw.matrix_form_note);
            }
            _ => {
                let _ = writeln!(out, "## {}\n\n{}\n", nw.matrix_form, nw.matrix_form_note);
            }
        }
        out.push_str(&block(kind, &rows, None));
        out.push('\n');
    }
    if kind != Kind::Fragment && !n.per_time.is_empty() {
        // each time step's term of the final sum: the vanishing-gradient story in numbers
        let _ = if md { writeln!(out, "## {}\n\n| k | |\n|---|---|", nw.per_step) } else { writeln!(out, "\\subsection*{{{}}}\n\\begin{{tabular}}{{ll}}", nw.per_step) };
        for (k, t) in &n.per_time {
            let _ = if md { writeln!(out, "| {k} | {} |", matrix_tex(t)) } else { writeln!(out, "$k = {k}$ & {} \\\\[2pt]", matrix_tex(t)) };
        }
        out.push_str(if md { "\n" } else { "\\end{tabular}\n\n" });
    }
    if with_map && kind != Kind::Fragment {
        out.push_str(&notation_map(&s.model.notation, md));
    }
    if kind != Kind::Fragment {
        let rows = [
            (nw.seed, s.options.params.as_ref().map(|_| nw.from_params.to_string()).unwrap_or_else(|| s.options.seed.to_string())),
            (nw.sizes, format!("T = {}, {}", s.sizes.steps, s.header().sizes_words(", "))),
            ("loss L", num(n.loss)),
            (nw.gradient, matrix_tex(&n.gradient)),
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
                // a matrix is already LaTeX; every other value is prose
                let v = if v.starts_with("$\\begin") { v } else { prose(&v, false) };
                let _ = writeln!(out, "{} & {} \\\\", prose(k, false), v);
            }
            out.push_str("\\end{tabular}\n");
        }
    }
    out
}
