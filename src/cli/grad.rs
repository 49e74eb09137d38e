//! `bptt grad`: the derived gradient evaluated at any size — the closed form (checked for T = 1..8 against the
//! unrolled derivations) with the backward recursion the rules derive at this T, computed array by array.
use super::{ModelArgs, OK, model_options};
use crate::error::Error;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum GradFormat {
    Text,
    Json,
    Csv,
}

#[derive(Args, Debug)]
pub struct GradArgs {
    /// The parameter: one whose derivation ends in a closed form for any T (W_r, the default; W_x; with --bias
    /// also b)
    #[arg(long)]
    pub wrt: Option<String>,
    #[command(flatten)]
    pub model: ModelArgs,
    /// text (the matrix), json ({"wrt", "steps", "gradient"}) or csv (one row per line)
    #[arg(long, value_enum, default_value_t = GradFormat::Text)]
    pub format: GradFormat,
    /// Print the time the evaluation took to stderr
    #[arg(long)]
    pub stats: bool,
    /// Evaluate N times (the same numbers each time); with --stats, report the first evaluation and the median of
    /// the others: a steady-state figure, comparable to a jit-compiled library's call after its compilation
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    /// Read rule, model and plan files from DIR instead of the built-in set
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    #[command(flatten)]
    pub limits: super::LimitArgs,
}

pub fn run_grad(a: &GradArgs, out: &mut dyn Write) -> Result<u8, Error> {
    let started = std::time::Instant::now();
    // a rules folder of one's own gets its closed form checked for T = 1..8 first; the built-in one is checked
    // by every `derive` and by the tests
    let (s, _) = crate::pipeline::closed_form(model_options(&a.model, a.wrt.as_deref(), &a.rules)?, Default::default(), a.rules.is_some())?;
    let loaded = started.elapsed();
    let mut g = crate::dense::closed_gradient(&s, Default::default())?;
    let first = started.elapsed() - loaded;
    let mut again = vec![];
    for _ in 1..a.repeat {
        let t0 = std::time::Instant::now();
        g = crate::dense::closed_gradient(&s, Default::default())?;
        again.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    if a.stats {
        again.sort_by(f64::total_cmp);
        let steady = again.get(again.len() / 2).map(|m| format!(", then {m:.1} ms (the median of {} more)", again.len())).unwrap_or_default();
        super::output::note(&format!(
            "stats grad {}: T={} sizes {:?}: load {:.1} ms, evaluate {:.1} ms{steady}",
            s.wrt,
            s.sizes.steps,
            g.dims,
            loaded.as_secs_f64() * 1e3,
            first.as_secs_f64() * 1e3
        ));
    }
    let cols = g.dims.last().copied().unwrap_or(1).max(1);
    let rows: Vec<&[f64]> = g.data.chunks(cols).collect();
    let text = match a.format {
        GradFormat::Json => {
            // the JSON array has the gradient's shape: a vector for b, a matrix for W_r and W_x
            let gradient = if g.dims.len() == 1 { serde_json::json!(g.data) } else { serde_json::json!(rows) };
            format!("{}\n", serde_json::json!({"wrt": s.wrt.as_str(), "steps": s.sizes.steps, "indices": g.indices.iter().map(|x| x.as_str()).collect::<Vec<_>>(), "shape": g.dims, "gradient": gradient}))
        }
        GradFormat::Csv => rows.iter().map(|r| r.iter().map(|v| format!("{v}")).collect::<Vec<_>>().join(",") + "\n").collect(),
        GradFormat::Text => {
            let head = format!("∂L/∂{} (T={}, from the closed form and the derived recursion)\n", crate::print::name(s.wrt.as_str(), crate::print::Style::Unicode), s.sizes.steps);
            head + &rows.iter().map(|r| r.iter().map(|v| format!("{v:>12.6e}")).collect::<Vec<_>>().join(" ") + "\n").collect::<String>()
        }
    };
    super::output::to_stream(text.as_bytes(), out)?;
    // numbers that are not numbers are a failed check, named where
    if let Some(at) = g.first_non_finite() {
        let entry: Vec<String> = g.indices.iter().zip(&at).map(|(k, v)| format!("{k}={}", v + 1)).collect();
        let v = g.data.iter().find(|v| !v.is_finite()).copied().unwrap_or(f64::NAN);
        super::output::note(&format!("✗ the gradient is not finite: entry {} is {v} (the numbers overflow f64; use smaller weights, e.g. a params file, or fewer --steps)", entry.join(", ")));
        return Ok(super::MISMATCH);
    }
    if let Some(w) = ill_conditioned(&g) {
        super::output::note(&w);
    }
    Ok(OK)
}

/// A warning when the gradient is so large that its digits mean little (an exploding regime).
fn ill_conditioned(g: &crate::eval::Tensor) -> Option<String> {
    let big = g.data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    (big > 1e12).then(|| format!("warning: the gradient's entries reach {big:.1e}: the network is in an exploding regime where a tiny change of a weight changes them completely; few of the digits shown are meaningful"))
}
