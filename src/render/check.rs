//! The report of `bptt check`: the formula as read, the random test, the proof or the counterexample, the
//! diagnosis and the verdict — as text, or as one JSON object.
use super::report::{View, paint};
use crate::print::{Style, render};
use crate::check::chain::{Line, Status};
use crate::check::{Checked, Counterexample, FLOOR, Point, TOL, Verdict, Why};
use crate::session::Session;
use serde_json::{Value, json};
use std::fmt::Write;

fn sizes(s: &Session, p: &crate::params::Sizes) -> String {
    s.model.dims.iter().map(|(d, o)| format!("{o} {}", p.dims.get(d).copied().unwrap_or(0))).collect::<Vec<_>>().join(", ")
}

fn point(s: &Session, p: &Point) -> String {
    let from = match (&p.seed, &s.options.params) {
        (Some(seed), _) => format!("seed {seed}"),
        (None, Some((f, _))) => format!("params {f}"),
        (None, None) => "the default numbers".into(),
    };
    format!("{from}, T={}, {}", p.sizes.steps, sizes(s, &p.sizes))
}

fn entry(c: &Counterexample) -> String {
    c.entry.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

/// A value with 10 significant digits.
fn val(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (9 - v.abs().log10().floor() as i32).clamp(0, 20) as usize;
    if v.abs() >= 1e-4 { format!("{v:.digits$}") } else { format!("{v:.9e}") }
}

fn rules(r: &[(String, usize)]) -> String {
    if r.is_empty() {
        return "nothing to expand".into();
    }
    r.iter().map(|(n, c)| if *c > 1 { format!("{n} ×{c}") } else { n.clone() }).collect::<Vec<_>>().join(", ")
}

fn counterexample(s: &Session, c: &Counterexample, v: &View, out: &mut String) {
    let cw = super::words::check_of(v.lang);
    let pad = super::words::pad;
    let _ = writeln!(out, "         {}", cw.counterexample.replace("{point}", &point(s, &c.point)).replace("{entry}", &entry(c)));
    let _ = writeln!(out, "           {}{}", pad(cw.yours_value, 11), val(c.yours));
    let _ = writeln!(out, "           {}{}", pad(cw.gradient_value, 11), val(c.truth));
    if let Some((d, b, n)) = c.difference {
        let _ = writeln!(out, "           yours − gradient   {}   (from the {n} {} in which the two expansions differ, with exact", val(d), crate::notation::plural(n, "product"));
        let _ = writeln!(out, "                              coefficients; its rounding is at most {}: it is not zero)", val(b));
    }
    if !c.yours.is_finite() {
        let _ = writeln!(out, "           {}", cw.not_a_number);
    }
    if let Some((k, y, t)) = c.first_step {
        let _ = writeln!(out, "         {}", cw.first_step.replace("{k}", &k.to_string()).replace("{yours}", &val(y)).replace("{true}", &val(t)));
    }
}

/// Which numbers a check tried, in words: "seeds 1–20", "the params file, then seed 2", "seed 5".
fn seed_words(params: bool, seed: u64, points: u64) -> String {
    let range = |from: u64, n: u64| match n {
        0 => String::new(),
        1 => format!("seed {from}"),
        _ => format!("seeds {from}–{}", from.saturating_add(n - 1)),
    };
    match (params, points) {
        (true, 0 | 1) => "the params file".into(),
        (true, n) => format!("the params file, then {}", range(seed.saturating_add(1), n - 1)),
        (false, n) => range(seed, n),
    }
}

/// The test line's sentence: agreeing at `n` points.
fn agrees_at(cw: &super::words::CheckWords, n: usize, seeds: &str, sizes: &str) -> String {
    cw.agrees_at
        .replace("{n}", &n.to_string())
        .replace("{points}", if n == 1 { cw.point } else { cw.points })
        .replace("{seeds}", seeds)
        .replace("{sizes}", sizes)
        .replace("{tol}", &format!("{TOL:e}"))
        .replace("{floor}", &format!("{FLOOR:e}"))
}

/// The body of a single check (without the header), in text.
pub fn checked(s: &Session, c: &Checked, v: &View, out: &mut String) {
    let ok = |t: &str| paint(t, "32", v.color);
    let bad = |t: &str| paint(t, "31", v.color);
    let cw = super::words::check_of(v.lang);
    let pad = |w: &str| super::words::pad(w, 9);
    let _ = writeln!(out, "{}{}", pad(cw.yours), render(&c.formula, v.style, v.width.saturating_sub(9).max(30)).replace('\n', "\n         "));
    let seeds = seed_words(s.options.params.is_some(), s.options.seed, c.points as u64);
    match &c.verdict {
        Verdict::Refuted { why, diagnosis } => {
            match why {
                Why::Value(ce) => {
                    let _ = writeln!(out, "{}{} {}", pad(cw.test), bad("✗"), cw.differs);
                    counterexample(s, ce, v, out);
                }
                Why::Shape { index, used_in, size, wanted, counterexample: ce } => {
                    let opt = |d: &egg::Symbol| s.model.dims.iter().find(|(x, _)| x == d).map(|(_, o)| o.clone()).unwrap_or_else(|| d.to_string());
                    let _ = writeln!(out, "test     {} the shapes do not match: `{index}` ranges over the {} size in the gradient, but over the {} size in {used_in}", bad("✗"), opt(wanted), opt(size));
                    if let Some(ce) = ce {
                        let _ = writeln!(out, "         with every size equal, so that it can be computed at all:");
                        counterexample(s, ce, v, out);
                    }
                }
                Why::Undefined(what) => {
                    let _ = writeln!(out, "{}{} {}", pad(cw.test), bad("✗"), cw.undefined.replace("{what}", what));
                }
            }
            let dpad = super::words::pad(cw.diagnosis, 11);
            if diagnosis.is_empty() {
                let _ = writeln!(out, "{dpad}{}", cw.none_explains);
            } else {
                let _ = writeln!(out, "{dpad}{}", if diagnosis.len() == 1 { cw.one_mistake } else { cw.any_mistake });
                for m in diagnosis {
                    let _ = writeln!(out, "           {}   ({}, {})", v.lang.pick(&m.words, m.words_ko.as_deref()), paint(&m.name, "36", v.color), m.at);
                }
            }
            let _ = writeln!(out, "{}{}", pad(cw.verdict), bad(cw.refuted));
        }
        Verdict::Agrees => {
            let _ = writeln!(out, "{}{} {}", pad(cw.test), ok("✓"), agrees_at(cw, c.points, &seeds, &sizes(s, &c.sizes)));
            let _ = writeln!(out, "{}{}", pad(cw.proof), cw.no_proof);
            let _ = writeln!(out, "{}{}", pad(cw.verdict), cw.verdict_agrees.replace("{n}", &c.points.to_string()).replace("{points}", if c.points == 1 { cw.point } else { cw.points }));
        }
        Verdict::Proved(p) => {
            let _ = writeln!(out, "{}{} {}", pad(cw.test), ok("✓"), agrees_at(cw, c.points, &seeds, &sizes(s, &c.sizes)));
            if let Some(x) = &p.exact {
                let _ = writeln!(out, "{}{}", pad(cw.proof), cw.proved_exact.replace("{x}", x));
                for (eq, r) in &p.chain {
                    let _ = writeln!(out, "           {eq:<5}{}", paint(&rules(r), "33", v.color));
                }
            } else {
                let reference = render(&p.reference, v.style, usize::MAX / 4);
                let _ = writeln!(out, "{}{}", pad(cw.proof), cw.proved_expanded.replace("{x}", &reference));
                let _ = writeln!(out, "         {}", cw.proved_products.replace("{n}", &p.products.to_string()));
                let _ = writeln!(out, "           {}  {}", cw.yours_rules, rules(&p.yours_rules));
                let _ = writeln!(out, "           {}  {}", cw.derived_rules, rules(&p.reference_rules));
                if v.trace {
                    for (who, steps) in [("yours", &p.yours_steps), ("derived", &p.reference_steps)] {
                        let _ = writeln!(out, "         {who}, step by step:");
                        for (rule, form) in steps.iter() {
                            let shown = render(form, v.style, v.width.saturating_sub(13).max(30)).replace('\n', "\n             ");
                            let _ = writeln!(out, "           {}: {shown}", paint(rule, "36", v.color));
                        }
                    }
                }
            }
            let _ = writeln!(out, "{}{}", pad(cw.verdict), ok(cw.proved));
        }
    }
}

/// The header line of a check.
pub fn header(s: &Session, v: &View, any_t: bool) -> String {
    let g = crate::check::gradient_name(s);
    let g = if v.style == Style::Ascii { crate::print::asciify(&g) } else { g };
    let t = if any_t { "T=1..8".to_string() } else { format!("T={}", s.sizes.steps) };
    let w = super::words::of(v.lang);
    let cw = super::words::check_of(v.lang);
    format!("{}{g} {} {}   {t}  {}  {}", super::words::pad(cw.check, 7), w.for_a, s.options.describe(s.model.cell()), super::report::sigma_is(s.options.activation, v.style), sizes(s, &s.sizes).replace(',', " "))
}

/// The verdict word, for JSON.
fn word(c: &Checked) -> &'static str {
    match c.verdict {
        Verdict::Proved(_) => "proved",
        Verdict::Agrees => "agrees",
        Verdict::Refuted { .. } => "refuted",
    }
}

fn ce_json(c: &Counterexample) -> Value {
    json!({
        "seed": c.point.seed, "steps": c.point.sizes.steps,
        "sizes": c.point.sizes.dims.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "entry": c.entry.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "yours": c.yours, "gradient": c.truth,
        "first_differing_step": c.first_step.map(|(k, y, t)| json!({"k": k, "yours": y, "gradient": t})),
        "difference": c.difference.map(|(d, b, n)| json!({"value": d, "rounding_bound": b, "products": n})),
    })
}

/// One check as JSON.
pub fn checked_json(c: &Checked) -> Value {
    let mut o = json!({
        "verdict": word(c), "steps": c.steps, "points": c.points, "tolerance": TOL,
        "formula": render(&c.formula, Style::Ascii, usize::MAX / 4),
    });
    match &c.verdict {
        Verdict::Proved(p) => {
            o["proof"] = json!({"exact": p.exact, "reference": render(&p.reference, Style::Ascii, usize::MAX / 4), "products": p.products,
                "yours_rules": p.yours_rules, "reference_rules": p.reference_rules});
        }
        Verdict::Agrees => {}
        Verdict::Refuted { why, diagnosis } => {
            o["refutation"] = match why {
                Why::Value(ce) => json!({"kind": "value", "counterexample": ce_json(ce)}),
                Why::Shape { index, used_in, size, wanted, counterexample } => json!({"kind": "shape", "index": index.as_str(), "used_in": used_in, "size": size.as_str(), "wanted": wanted.as_str(), "counterexample": counterexample.as_ref().map(ce_json)}),
                Why::Undefined(m) => json!({"kind": "undefined", "reason": m}),
            };
            o["diagnosis"] = json!(diagnosis.iter().map(|m| json!({"mistake": m.name, "words": m.words, "at": m.at})).collect::<Vec<_>>());
        }
    }
    o
}

/// A derivation file's report.
pub fn chain(s: &Session, lines: &[Line], file: &str, v: &View, out: &mut String) {
    let cw = super::words::check_of(v.lang);
    let broken = lines.iter().find(|l| matches!(&l.status, Status::Checked(c) if c.refuted()));
    for l in lines {
        let f = render(&l.formula, v.style, usize::MAX / 4);
        let mark = match &l.status {
            Status::Checked(c) => match &c.verdict {
                Verdict::Proved(_) => paint(cw.line_proved, "32", v.color),
                Verdict::Agrees => paint(cw.line_agrees, "32", v.color),
                Verdict::Refuted { .. } => paint(cw.line_breaks, "31", v.color),
            },
            Status::FollowsPrevious(true) => cw.line_follows.into(),
            Status::FollowsPrevious(false) => cw.line_differs_too.into(),
        };
        let head = super::words::pad(&format!("{} {}", cw.line, l.number), 8);
        let _ = writeln!(out, "{head} {f}\n          {mark}");
    }
    let pad = |w: &str| super::words::pad(w, 9);
    match broken {
        Some(l) => {
            let first = lines.first().is_some_and(|f| f.number == l.number);
            let why = if first { cw.first_not_gradient } else { cw.first_not_previous };
            let _ = writeln!(out, "\n{file}:{} {why}:", l.number);
            if let Status::Checked(c) = &l.status {
                checked(s, c, v, out);
            }
        }
        None => {
            let proved: Vec<String> = lines.iter().filter(|l| matches!(&l.status, Status::Checked(c) if matches!(c.verdict, Verdict::Proved(_)))).map(|l| l.number.to_string()).collect();
            let agrees: Vec<String> = lines.iter().filter(|l| matches!(&l.status, Status::Checked(c) if matches!(c.verdict, Verdict::Agrees))).map(|l| l.number.to_string()).collect();
            if agrees.is_empty() {
                let _ = writeln!(out, "\n{}{}", pad(cw.verdict), paint(cw.all_proved, "32", v.color));
            } else {
                let list = |xs: &[String]| if xs.is_empty() { cw.none.to_string() } else { xs.join(", ") };
                let lines_word = |n: usize| if v.lang == crate::options::Lang::Ko { String::new() } else { crate::notation::plural(n, "line") };
                let _ = writeln!(out, "\n{}", cw.proved_lines.replace("{lines}", &lines_word(proved.len())).replace("{list}", &list(&proved)));
                let _ = writeln!(out, "{}", cw.agreeing_lines.replace("{lines}", &lines_word(agrees.len())).replace("{list}", &list(&agrees)));
                let _ = writeln!(out, "{}{}", pad(cw.verdict), paint(cw.none_differs, "32", v.color));
            }
        }
    }
}

/// One check as an HTML section for the check page (`--format html`): the formula as MathML, the random test,
/// the counterexample as a small table, the diagnosis, the proof, and the verdict — the text report's parts.
pub fn checked_html(s: &Session, c: &Checked, lang: crate::options::Lang) -> String {
    use super::mathml::{esc, expr, math};
    let cw = super::words::check_of(lang);
    let mut out = String::new();
    let yes = "<span class=\"ok\">✓</span>";
    let no = "<span class=\"bad\">✗</span>";
    let _ = writeln!(out, "<h2>{}</h2>\n{}", esc(cw.yours.trim()), math(&expr(&c.formula), true));
    let seeds = seed_words(s.options.params.is_some(), s.options.seed, c.points as u64);
    let test_ok = |out: &mut String| {
        let _ = writeln!(out, "<p>{yes} {}</p>", esc(&agrees_at(cw, c.points, &seeds, &sizes(s, &c.sizes))));
    };
    let ce_table = |ce: &Counterexample, out: &mut String| {
        let _ = writeln!(out, "<p>{}</p>", esc(&cw.counterexample.replace("{point}", &point(s, &ce.point)).replace("{entry}", &entry(ce))));
        let _ = writeln!(out, "<table class=\"numbers\"><tr><th>{}</th><td>{}</td></tr><tr><th>{}</th><td>{}</td></tr></table>", esc(cw.yours_value.trim()), esc(&val(ce.yours)), esc(cw.gradient_value.trim()), esc(&val(ce.truth)));
        if let Some((k, y, t)) = ce.first_step {
            let _ = writeln!(out, "<p>{}</p>", esc(&cw.first_step.replace("{k}", &k.to_string()).replace("{yours}", &val(y)).replace("{true}", &val(t))));
        }
        if !ce.yours.is_finite() {
            let _ = writeln!(out, "<p>{}</p>", esc(cw.not_a_number));
        }
    };
    let verdict = match &c.verdict {
        Verdict::Refuted { why, diagnosis } => {
            let _ = writeln!(out, "<h2>{}</h2>", esc(cw.test.trim()));
            match why {
                Why::Value(ce) => {
                    let _ = writeln!(out, "<p>{no} {}</p>", esc(cw.differs));
                    ce_table(ce, &mut out);
                }
                Why::Shape { index, used_in, counterexample: ce, .. } => {
                    let _ = writeln!(out, "<p>{no} the shapes do not match: <code>{}</code> in {}</p>", esc(index.as_str()), esc(used_in));
                    if let Some(ce) = ce {
                        ce_table(ce, &mut out);
                    }
                }
                Why::Undefined(what) => {
                    let _ = writeln!(out, "<p>{no} {}</p>", esc(&cw.undefined.replace("{what}", what)));
                }
            }
            let _ = writeln!(out, "<h2>{}</h2>", esc(cw.diagnosis.trim()));
            if diagnosis.is_empty() {
                let _ = writeln!(out, "<p>{}</p>", esc(cw.none_explains));
            } else {
                let _ = writeln!(out, "<p>{}</p>\n<ul>", esc(if diagnosis.len() == 1 { cw.one_mistake } else { cw.any_mistake }));
                for m in diagnosis {
                    let _ = writeln!(out, "<li>{} <span class=\"side\">(<code>{}</code>, {})</span></li>", esc(lang.pick(&m.words, m.words_ko.as_deref())), esc(&m.name), esc(&m.at));
                }
                out.push_str("</ul>\n");
            }
            format!("<span class=\"bad\">{}</span>", esc(cw.refuted))
        }
        Verdict::Agrees => {
            test_ok(&mut out);
            let _ = writeln!(out, "<p>{}</p>", esc(cw.no_proof));
            esc(&cw.verdict_agrees.replace("{n}", &c.points.to_string()).replace("{points}", if c.points == 1 { cw.point } else { cw.points }))
        }
        Verdict::Proved(p) => {
            test_ok(&mut out);
            let _ = writeln!(out, "<h2>{}</h2>", esc(cw.proof.trim()));
            match &p.exact {
                Some(x) => {
                    let _ = writeln!(out, "<p>{}</p>\n<ul>", esc(&cw.proved_exact.replace("{x}", x)));
                    for (eq, r) in &p.chain {
                        let _ = writeln!(out, "<li>{} <code>{}</code></li>", esc(eq.trim()), esc(&rules(r)));
                    }
                    out.push_str("</ul>\n");
                }
                None => {
                    let _ = writeln!(out, "<p>{}</p>\n{}", esc(&cw.proved_expanded.replace("{x}", "")), math(&expr(&p.reference), true));
                    let _ = writeln!(out, "<p>{}</p>", esc(&cw.proved_products.replace("{n}", &p.products.to_string())));
                    let _ = writeln!(out, "<p class=\"side\">{} <code>{}</code><br>{} <code>{}</code></p>", esc(cw.yours_rules), esc(&rules(&p.yours_rules)), esc(cw.derived_rules), esc(&rules(&p.reference_rules)));
                }
            }
            format!("<span class=\"ok\">{}</span>", esc(cw.proved))
        }
    };
    let _ = writeln!(out, "<p class=\"verdict\"><b>{}</b> {verdict}</p>", esc(cw.verdict.trim()));
    out
}
