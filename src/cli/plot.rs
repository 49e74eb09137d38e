//! `bptt plot`: the per-step terms of a gradient's final sum over time, as an SVG chart or CSV — one line per
//! activation, or with `--model a,b,…` one line per model (each its recurrent weights together), with a model's
//! knobs turned (`--forget-bias`).
use super::{LangArg, LimitArgs, MISMATCH, OK, activation_parser, output};
use crate::error::Error;
use crate::notation::Act;
use crate::print::Style;
use crate::session::Options;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum PlotFormat {
    Svg,
    Csv,
}

#[derive(Args, Debug)]
pub struct PlotArgs {
    /// The weight whose per-step terms are plotted (eq 12 for W_r, eq 23 for W_x: a parameter whose derivation
    /// ends in a sum over time; default: the model's first parameter)
    #[arg(long)]
    pub wrt: Option<String>,
    /// The network (models/NAME.model; rnn by default; with --rules DIR also one of your own). Several,
    /// comma-separated (--model rnn,lstm,gru): one line per model, each the terms of all its recurrent weights together
    /// (W⁽ʳ⁾; an LSTM's W⁽ⁱʳ⁾ W⁽ᶠʳ⁾ W⁽ᵒʳ⁾ W⁽ᵍʳ⁾), the vanilla RNN with the first --activation
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub model: Vec<String>,
    /// Set a model's knob: every entry of the LSTM's forget-gate bias b_f to B (with the biases), to show how a
    /// forget gate near 1 keeps the cell's path open (the model file's `knob forget-bias b_f` line)
    #[arg(long, value_name = "B", allow_negative_numbers = true)]
    pub forget_bias: Option<f64>,
    /// Read rule, model and plan files from DIR instead of the built-in set
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Number of time steps T
    #[arg(long, value_name = "T", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub steps: u64,
    /// Hidden size n
    #[arg(long, value_name = "n", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub hidden: u64,
    /// Input size d
    #[arg(long, value_name = "d", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub input: u64,
    /// Output size m
    #[arg(long, value_name = "m", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub output: u64,
    /// Rescale W⁽ʳ⁾ to this spectral radius (below 1: vanishing; above 1: exploding)
    #[arg(long, value_name = "ρ")]
    pub scale: Option<f64>,
    /// The activations to compare, one line each
    #[arg(long = "activation", value_name = "ACTIVATION", value_delimiter = ',', default_values = ["tanh", "sigmoid", "identity"], value_parser = activation_parser())]
    pub activations: Vec<Act>,
    /// Seed of the random parameters
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// svg (a chart) or csv (k,activation,norm)
    #[arg(long, value_enum, default_value_t = PlotFormat::Svg)]
    pub format: PlotFormat,
    /// Where to write (default: bptt-W_r.svg for svg, standard output for csv; - for standard output)
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The language of the title and the axis labels: en, or ko (한국어)
    #[arg(long, value_enum, default_value_t = LangArg::En)]
    pub lang: LangArg,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// The size flags given, by the model's words for them (filled by [`parse`]).
    #[arg(skip)]
    pub sizes: Vec<(String, usize)>,
}

/// The per-step series for each activation and their chart (SVG), titled in English or Korean.
/// (With `draw` false, only the series: the CSV needs no chart.)
pub(crate) fn chart(base: &Options, activations: &[Act], adjust: &crate::plot::Adjust, steps: u64, ko: bool, draw: bool) -> Result<(Vec<crate::plot::Series>, String), Error> {
    let mut series = vec![];
    for act in activations {
        series.push(crate::plot::series(base, *act, adjust)?);
    }
    if !draw {
        return Ok((series, String::new()));
    }
    let wrt = series.first().map(|s| s.wrt.clone()).unwrap_or_default();
    let eq = series.first().and_then(|s| s.eq).map(|e| if ko { format!(" (식 {e})") } else { format!(" (eq {e})") }).unwrap_or_default();
    let g = format!("∂L/∂{}{eq}", crate::print::name(&wrt, Style::Unicode));
    draw_chart(series, &g, adjust, steps, ko)
}

/// The chart of several models: one line per model, each its recurrent weights' terms together.
fn models_chart(base: &Options, models: &[String], adjust: &crate::plot::Adjust, steps: u64, ko: bool, draw: bool) -> Result<(Vec<crate::plot::Series>, String), Error> {
    let mut series = vec![];
    for m in models {
        let o = knobbed(Options { model: Some(m.clone()), ..base.clone() }, adjust)?;
        let mut one = crate::plot::recurrent_series(&o, adjust)?;
        if o.bias {
            for (w, v) in &adjust.knobs {
                one.activation = format!("{} ({w} {v})", one.activation);
            }
        }
        series.push(one);
    }
    if !draw {
        return Ok((series, String::new()));
    }
    let g = if ko { "∂L/∂(순환 가중치)".to_string() } else { "∂L/∂(recurrent weights)".to_string() };
    // the knobs are named in the legend, on the line they changed
    draw_chart(series, &g, &crate::plot::Adjust { knobs: vec![], ..adjust.clone() }, steps, ko)
}

/// The options with the model's variant that has the adjusted knobs (the LSTM's forget-gate bias is in its
/// variant with biases), or unchanged.
fn knobbed(o: Options, adjust: &crate::plot::Adjust) -> Result<Options, Error> {
    if adjust.knobs.is_empty() || o.bias {
        return Ok(o);
    }
    let with = Options { bias: true, ..o.clone() };
    // no variant with biases: the options as they are (the caller says what has no knob)
    let names = crate::rules::Sources::names(o.rules_dir.as_deref())?;
    if !names.iter().any(|n| *n == crate::session::model_file(&with)) {
        return Ok(o);
    }
    let s = crate::session::Session::load(with.clone())?;
    Ok(if adjust.knobs.iter().any(|(w, _)| s.model.knob(w).is_some()) { with } else { o })
}

/// The SVG of `series`, titled with the gradient `g`, the steps and what was adjusted.
fn draw_chart(series: Vec<crate::plot::Series>, g: &str, adjust: &crate::plot::Adjust, steps: u64, ko: bool) -> Result<(Vec<crate::plot::Series>, String), Error> {
    let rho = series.first().and_then(|s| s.rho);
    let mut scale = match (adjust.scale, rho, ko) {
        (Some(s), _, false) => format!(", W⁽ʳ⁾ scaled to spectral radius {s}"),
        (Some(s), _, true) => format!(", W⁽ʳ⁾의 스펙트럼 반지름 {s}"),
        (None, Some(r), false) if series.len() == 1 || series.iter().all(|s| s.wrt == series[0].wrt) => format!(", spectral radius of W⁽ʳ⁾ {r:.2} (as drawn)"),
        (None, Some(r), true) if series.len() == 1 || series.iter().all(|s| s.wrt == series[0].wrt) => format!(", W⁽ʳ⁾의 스펙트럼 반지름 {r:.2} (무작위 값 그대로)"),
        _ => String::new(),
    };
    for (w, v) in &adjust.knobs {
        scale.push_str(&format!(", {w} {v}"));
    }
    let (title, x, y) = if ko {
        (format!("{g}의 시점별 항의 크기, T = {steps}{scale}"), "시점 k", "‖k번째 항‖ (프로베니우스 노름, 로그 스케일)")
    } else {
        (format!("size of each time step's term in {g}, T = {steps}{scale}"), "time step k", "‖term k‖ (Frobenius norm, log scale)")
    };
    let svg = crate::plot::svg(&series, &title, x, y)?;
    Ok((series, svg))
}

pub(super) fn run_plot(a: &PlotArgs, out: &mut dyn Write) -> Result<u8, Error> {
    let base = Options { model: a.model.first().cloned(), rules_dir: a.rules.clone(), steps: Some(a.steps as usize), sizes: a.sizes.clone(), wrt: a.wrt.clone(), seed: a.seed, ..Options::default() };
    if let Some(s) = a.scale
        && !(s.is_finite() && s > 0.0) {
            return Err(Error::Usage(format!("--scale must be a positive number (a spectral radius), not {s}")));
        }
    if let Some(b) = a.forget_bias
        && !b.is_finite() {
            return Err(Error::Usage(format!("--forget-bias must be a number, not {b}")));
        }
    let adjust = crate::plot::Adjust { scale: a.scale, knobs: a.forget_bias.map(|b| ("forget-bias".to_string(), b)).into_iter().collect() };
    let ko = a.lang == LangArg::Ko;
    let draw = a.format == PlotFormat::Svg;
    let several = a.model.len() > 1;
    let (series, svg) = if several {
        if a.wrt.is_some() {
            return Err(Error::Usage("--wrt names one model's parameter; with several models each line is that model's recurrent weights together (leave --wrt out)".into()));
        }
        models_chart(&base, &a.model, &adjust, a.steps, ko, draw)?
    } else {
        // a model that fixes its activation (the gated cells) is drawn with it, once
        let base = knobbed(base, &adjust)?;
        let probe = crate::session::Session::load(base.clone())?;
        if !adjust.knobs.is_empty() && !adjust.knobs.iter().any(|(w, _)| probe.model.knob(w).is_some()) {
            return Err(Error::Usage("--forget-bias: this model has no forget-gate bias to set (the LSTM has one; or plot --model rnn,lstm,gru)".into()));
        }
        let acts = match probe.model.activation {
            Some(fixed) => vec![fixed],
            None => a.activations.clone(),
        };
        chart(&base, &acts, &adjust, a.steps, ko, draw)?
    };
    let wrt = series.first().map(|s| s.wrt.clone()).unwrap_or_default();
    let text = match a.format {
        PlotFormat::Csv => crate::plot::csv(&series, if several { "model" } else { "activation" }),
        PlotFormat::Svg => svg,
    };
    let bad: Vec<String> = series.iter().filter_map(|s| s.points.iter().find(|p| !p.1.is_finite()).map(|p| format!("{} at k={} ({})", s.activation, p.0, p.1))).collect();
    let default = (a.format == PlotFormat::Svg).then(|| PathBuf::from(if several { format!("bptt-{}.svg", a.model.join("-")) } else { format!("bptt-{wrt}.svg") }));
    match a.out.clone().or(default) {
        Some(p) if p.as_os_str() != "-" => {
            output::to_file(&p, text.as_bytes())?;
            output::note(&format!("wrote {}", p.display()));
        }
        _ => output::to_stream(text.as_bytes(), out)?,
    }
    if !bad.is_empty() {
        output::note(&format!("✗ some terms are not finite numbers and are missing from the chart: {} (they overflow f64; use a smaller --scale)", bad.join(", ")));
        return Ok(MISMATCH);
    }
    Ok(OK)
}
