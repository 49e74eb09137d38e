//! `bptt check`: its flags, where the formula comes from (an argument, `-f FILE`, standard input, or a whole
//! derivation with `--steps-file`), the loop over T for `--any-T`, and the exit code (0 proved or agrees,
//! 1 refuted, 2 error).
use super::{ERROR, MISMATCH, ModelArgs, OK, model_options, output};
use crate::check::chain::check_chain;
use crate::check::mistakes::Catalogue;
use crate::check::{Checked, DEFAULT_POINTS, Verdict};
use crate::error::Error;
use crate::render::check as show;
use crate::render::report::View;
use crate::print::Style;
use crate::session::{Options, Session};
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum CheckFormat {
    Text,
    Json,
    /// one self-contained HTML page: the formula as MathML, the verdict, the report
    Html,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The formula: the text syntax bptt prints (Unicode or ASCII: W_r[i,p], s^(k-1)[p], dL/dh^(k)[i],
    /// sum_{k=1}^{T} …, tanh'(…), delta(a,i)) or LaTeX (\sum_{k=1}^{T} \frac{\partial L}{\partial h^{(k)}_i} …);
    /// `-` reads standard input
    #[arg(value_name = "FORMULA", allow_hyphen_values = true)]
    pub formula: Option<String>,
    /// Read the formula from FILE
    #[arg(short = 'f', long = "file", value_name = "FILE", conflicts_with = "formula")]
    pub file: Option<PathBuf>,
    /// A whole hand derivation: one expression per line (# comments, a leading = is fine); finds the first line
    /// that breaks the chain
    #[arg(long, value_name = "FILE", conflicts_with_all = ["formula", "file"])]
    pub steps_file: Option<PathBuf>,
    /// The gradient the formula claims to be: ∂L/∂W_r[i,p] (free indices i,p; the default, the model's first parameter), ∂L/∂W_x[i,q] (i,q), …
    #[arg(long)]
    pub wrt: Option<String>,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Sum over indices repeated in a product (Einstein's convention, as the blog writes), except the gradient's
    #[arg(long)]
    pub einstein: bool,
    /// Check for every T = 1..8 (write the number of steps as T: sum_{k=1}^{T} …)
    #[arg(long = "any-T", visible_alias = "any-t", conflicts_with = "steps")]
    pub any_t: bool,
    /// Random points (parameter draws) to test at
    #[arg(long, default_value_t = DEFAULT_POINTS as u64, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub points: u64,
    /// Output format
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Plain ASCII instead of Unicode
    #[arg(long)]
    pub ascii: bool,
    /// The language of the verdict, the report's words and the diagnosis: en, or ko (한국어)
    #[arg(long, value_enum, default_value_t = super::LangArg::En)]
    pub lang: super::LangArg,
    /// With a proof by expansion: every rule application on both sides, with the form after it
    #[arg(long)]
    pub trace: bool,
    /// Line width for expressions
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(20..=100_000))]
    pub width: u64,
    /// Read rule, model, plan and mistake files from DIR instead of the built-in set (same file names as rules/)
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    #[command(flatten)]
    pub limits: super::LimitArgs,
}

fn read_text(path: &std::path::Path) -> Result<String, Error> {
    let bytes = crate::limits::read_file(path)?;
    String::from_utf8(bytes).map_err(|_| Error::Io { path: path.display().to_string(), reason: "not UTF-8 text".into() })
}

fn stdin_text() -> Result<String, Error> {
    let bytes = crate::limits::read_capped(&mut std::io::stdin(), "standard input")?;
    String::from_utf8(bytes).map_err(|_| Error::Io { path: "standard input".into(), reason: "not UTF-8 text".into() })
}

/// The formula and the name errors call it by.
fn formula(a: &CheckArgs) -> Result<(String, String), Error> {
    let (text, name) = formula_source(a)?;
    if text.trim().is_empty() {
        return Err(Error::Usage(format!("{name}: the formula is empty; write it like sum_{{k=1}}^{{T}} dL/dh^(k)[i] * s^(k-1)[p]")));
    }
    Ok((text, name))
}

fn formula_source(a: &CheckArgs) -> Result<(String, String), Error> {
    match (&a.formula, &a.file) {
        (Some(f), _) if f == "-" => Ok((stdin_text()?.trim().to_string(), "<stdin>".into())),
        (Some(f), _) => Ok((f.clone(), "<formula>".into())),
        (None, Some(p)) => Ok((read_text(p)?.trim().to_string(), p.display().to_string())),
        (None, None) => Err(Error::Usage(
            "give the formula to check: bptt check \"sum_{k=1}^{T} dL/dh^(k)[i] * s^(k-1)[p]\", or -f FILE, or - for standard input, or --steps-file FILE for a whole derivation".into(),
        )),
    }
}

struct AtT {
    session: Session,
    result: Result<Checked, Error>,
}

pub fn run_check(a: &CheckArgs, color: bool, out: &mut dyn Write) -> Result<u8, Error> {
    let view = View { style: if a.ascii { Style::Ascii } else { Style::Unicode }, width: a.width as usize, trace: a.trace, color: color && a.format == CheckFormat::Text, lang: a.lang.into() };
    let base = model_options(&a.model, a.wrt.as_deref(), &a.rules)?;
    let limits = a.limits.engine(std::time::Instant::now());
    let n = a.points as usize;
    if let Some(path) = &a.steps_file {
        let text = read_text(path)?;
        let s = Session::load(base)?;
        let d = crate::derive::derive(&s.plan, &s.rules, limits)?;
        let cat = Catalogue::load(&s)?;
        let file = path.display().to_string();
        let lines = check_chain(&s, &d, &cat, &text, &file, a.einstein, n, limits)?;
        let broken = lines.iter().any(|l| matches!(&l.status, crate::check::chain::Status::Checked(c) if c.refuted()));
        let body = match a.format {
            CheckFormat::Text => {
                crate::print::with_shown(&s.shown(), || {
                    let mut t = format!("{}\n\n", show::header(&s, &view, false));
                    show::chain(&s, &lines, &file, &view, &mut t);
                    t
                })
            }
            CheckFormat::Html => crate::print::with_shown(&s.shown(), || {
                let mut t = String::new();
                show::chain(&s, &lines, &file, &view, &mut t);
                let verdict = if broken { "bad" } else { "ok" };
                crate::render::html::check_page(&show::header(&s, &view, false), &format!("<pre class=\"{verdict}-chain\">{}</pre>\n", crate::render::mathml::esc(&t)), view.lang)
            }),
            CheckFormat::Json => {
                let v: Vec<serde_json::Value> = lines
                    .iter()
                    .map(|l| match &l.status {
                        crate::check::chain::Status::Checked(c) => serde_json::json!({"line": l.number, "check": show::checked_json(c)}),
                        crate::check::chain::Status::FollowsPrevious(f) => serde_json::json!({"line": l.number, "follows_previous": f}),
                    })
                    .collect();
                format!("{}\n", serde_json::to_string_pretty(&serde_json::json!({"gradient": s.wrt.as_str(), "lines": v})).unwrap_or_default())
            }
        };
        output::to_stream(body.as_bytes(), out)?;
        return Ok(if broken { MISMATCH } else { OK });
    }
    let (text, file) = formula(a)?;
    let steps: Vec<Option<usize>> = if a.any_t { crate::closed::CHECK_STEPS.map(Some).collect() } else { vec![base.steps] };
    let mut runs = vec![];
    for t in steps {
        let (session, result) = crate::pipeline::check_formula(Options { steps: t, ..base.clone() }, &text, &file, a.einstein, n, limits)?;
        let stop = matches!(&result, Ok(c) if c.refuted()) || result.is_err();
        runs.push(AtT { session, result });
        if stop {
            break;
        }
    }
    let mut checked = vec![];
    for r in &runs {
        match &r.result {
            Ok(c) => checked.push((&r.session, c)),
            Err(e) => return Err(Error::Usage(format!("at T={}: {e}", r.session.sizes.steps))),
        }
    }
    let refuted = checked.iter().any(|(_, c)| c.refuted());
    let body = match a.format {
        CheckFormat::Json => {
            let v: Vec<serde_json::Value> = checked.iter().map(|(_, c)| show::checked_json(c)).collect();
            let all = if refuted { "refuted" } else if checked.iter().all(|(_, c)| matches!(c.verdict, Verdict::Proved(_))) { "proved" } else { "agrees" };
            format!("{}\n", serde_json::to_string_pretty(&serde_json::json!({"gradient": checked.first().map(|(s, _)| s.wrt.as_str()), "verdict": all, "checks": v})).unwrap_or_default())
        }
        CheckFormat::Text | CheckFormat::Html => {
            let (Some((s0, _)), Some((last_s, last_c))) = (checked.first(), checked.last()) else { return Ok(ERROR) };
            // with --any-T: each T's verdict, then the last check in full
            let verdicts: Vec<(usize, bool, &str)> = checked
                .iter()
                .map(|(s, c)| match c.verdict {
                    Verdict::Proved(_) => (s.sizes.steps, true, "proved"),
                    Verdict::Agrees => (s.sizes.steps, true, "agrees (not proved)"),
                    Verdict::Refuted { .. } => (s.sizes.steps, false, "refuted"),
                })
                .collect();
            let header = crate::print::with_shown(&s0.shown(), || show::header(s0, &view, a.any_t));
            if a.format == CheckFormat::Html {
                let mut body = String::new();
                if a.any_t {
                    body.push_str("<table class=\"numbers\">");
                    for (t, ok, w) in &verdicts {
                        let mark = if *ok { "<span class=\"ok\">✓</span>" } else { "<span class=\"bad\">✗</span>" };
                        body.push_str(&format!("<tr><th>T={t}</th><td>{mark} {w}</td></tr>"));
                    }
                    body.push_str("</table>\n");
                }
                crate::print::with_shown(&last_s.shown(), || {
                    body.push_str(&show::checked_html(last_s, last_c, view.lang));
                    crate::render::html::check_page(&header, &body, view.lang)
                })
            } else {
                let mut t = format!("{header}\n\n");
                if a.any_t {
                    for (steps, ok, w) in &verdicts {
                        t.push_str(&format!("T={steps}   {} {w}\n", if *ok { "✓" } else { "✗" }));
                    }
                    t.push_str(&format!("\nat T={}:\n", last_s.sizes.steps));
                }
                crate::print::with_shown(&last_s.shown(), || show::checked(last_s, last_c, &view, &mut t));
                t
            }
        }
    };
    output::to_stream(body.as_bytes(), out)?;
    Ok(if refuted { MISMATCH } else { OK })
}
