//! The HTML study pages: `derive --format html` (one page per run), and `bptt site DIR`, a small static site —
//! an index linking the derivation of every parameter of every model variant, in English and Korean, each page
//! with its `plot` chart inline — that any static host serves as it is.
use super::output;
use crate::error::Error;
use crate::notation::Act;
use crate::options::{Lang, Options};
use crate::pipeline::Checked;
use crate::render::html::{Part, page};
use crate::render::mathml::esc;
use clap::Args;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The number of steps of the inline chart: long enough to show gradients vanish.
const CHART_STEPS: u64 = 100;

/// The `plot` chart for a derivation, when its result is a sum over time (else none).
fn plot_for(c: &Checked, lang: Lang) -> Option<String> {
    let o = &c.session.options;
    // the page's own model and variant, at the chart's T (a params file fixes T: the chart draws seeded numbers)
    let base = Options { steps: Some(CHART_STEPS as usize), params: None, ..o.clone() };
    c.closed.as_ref()?;
    // the activations `bptt plot` compares by default; a model that fixes its activation (a gated cell) has one
    let acts: Vec<Act> = match (c.session.model.activation, super::parse_from(["bptt", "plot"]).ok()?.command) {
        (Some(fixed), _) => vec![fixed],
        (None, super::Command::Plot(p)) => p.activations,
        _ => return None,
    };
    super::plot::chart(&base, &acts, &Default::default(), CHART_STEPS, lang == Lang::Ko, true).ok().map(|(_, svg)| svg)
}

/// The page for the derivations of one `derive` run.
pub fn derive_page(done: &[Checked], lang: Lang, trace: bool) -> String {
    let plots: Vec<Option<String>> = done.iter().map(|c| plot_for(c, lang)).collect();
    let parts: Vec<Part> = done
        .iter()
        .zip(plots)
        .map(|(c, plot)| Part { session: &c.session, derivation: &c.derivation, numbers: &c.numbers, closed: c.closed.as_ref(), plot })
        .collect();
    page(&parts, lang, trace)
}

#[derive(Args, Debug)]
pub struct SiteArgs {
    /// The folder to write the site into (created if missing; its index.html and pages are overwritten)
    pub dir: PathBuf,
    /// Number of time steps T of every derivation
    #[arg(long, value_name = "T", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=20))]
    pub steps: u64,
    /// A modified copy of the rules/ folder
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    #[command(flatten)]
    pub limits: super::LimitArgs,
}

/// One page of the site: its file name, the variant's words, the parameter, the language.
struct Page {
    file: String,
    variant: &'static str,
    model: Option<&'static str>,
    wrt: String,
    lang: Lang,
}

/// The model variants the site covers: (words, --model, --bias); the vanilla RNN first, then the gated cells.
const VARIANTS: [(&str, Option<&str>, bool); 6] = [
    ("many-to-one", None, false),
    ("many-to-one, with biases", None, true),
    ("LSTM, many-to-one", Some("lstm"), false),
    ("LSTM, many-to-one, with biases", Some("lstm"), true),
    ("GRU, many-to-one", Some("gru"), false),
    ("GRU, many-to-one, with biases", Some("gru"), true),
];

pub fn run_site(a: &SiteArgs) -> Result<u8, Error> {
    std::fs::create_dir_all(&a.dir).map_err(|e| Error::Write { path: a.dir.display().to_string(), reason: e.to_string() })?;
    let limits = crate::stepper::Limits { keep_every_step: false, ..a.limits.engine(std::time::Instant::now()) };
    let mut pages: Vec<Page> = vec![];
    for (variant, model, bias) in VARIANTS {
        let base = Options { model: model.map(str::to_string), steps: Some(a.steps as usize), bias, rules_dir: a.rules.clone(), ..Options::default() };
        for wrt in crate::session::targets_for(&base)? {
            // a variant with biases adds only the bias pages of its model
            if bias && pages.iter().any(|p| p.model == model && p.wrt == wrt) {
                continue;
            }
            let o = Options { wrt: Some(wrt.clone()), ..base.clone() };
            let done = crate::pipeline::derive_checked(o, limits, false, &mut |_| {})?;
            for lang in [Lang::En, Lang::Ko] {
                let prefix = model.map(|m| format!("{m}-")).unwrap_or_default();
                let file = format!("{prefix}{}-{}{}.html", wrt, lang.code(), if bias { "-bias" } else { "" });
                let html = derive_page(std::slice::from_ref(&done), lang, false);
                output::to_file(&a.dir.join(&file), html.as_bytes())?;
                pages.push(Page { file, variant, model, wrt: wrt.clone(), lang });
            }
        }
    }
    output::to_file(&a.dir.join("index.html"), index(&pages, a.steps).as_bytes())?;
    output::note(&format!("wrote {} pages and index.html to {}", pages.len(), a.dir.display()));
    Ok(super::OK)
}

fn index(pages: &[Page], steps: u64) -> String {
    let mut rows = String::new();
    let mut variants: Vec<&str> = pages.iter().map(|p| p.variant).collect();
    variants.dedup();
    for v in variants {
        let _ = writeln!(rows, "<h2>{}</h2>\n<table><tr><th></th><th>English</th><th>한국어</th></tr>", esc(v));
        let mut wrts: Vec<&str> = pages.iter().filter(|p| p.variant == v).map(|p| p.wrt.as_str()).collect();
        wrts.dedup();
        for w in wrts {
            let link = |lang: Lang| {
                pages.iter().find(|p| p.variant == v && p.wrt == w && p.lang == lang).map(|p| format!("<a href=\"{}\">∂L/∂{}</a>", esc(&p.file), esc(&crate::print::name(w, crate::print::Style::Unicode)))).unwrap_or_default()
            };
            let _ = writeln!(rows, "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>", esc(w), link(Lang::En), link(Lang::Ko));
        }
        rows.push_str("</table>\n");
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>bptt — backpropagation through time, step by step</title>\n<style>body{{font-family:'Noto Sans','DejaVu Sans','NanumGothic',sans-serif;max-width:900px;margin:2em auto;padding:0 1em}}td,th{{padding:.3em 1em;text-align:left}}</style>\n</head>\n<body>\n<h1>Backpropagation through time, step by step</h1>\n<p>Every gradient of a vanilla RNN, an LSTM and a GRU derived by rules, one named rule at a time, every step checked with numbers (T = {steps}). vanilla RNN, LSTM, GRU의 모든 기울기를 규칙으로 한 단계씩 유도하고, 모든 단계를 수치로 확인한다.</p>\n{rows}</body>\n</html>\n"
    )
}
