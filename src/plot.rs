//! The vanishing/exploding-gradient picture: for each time step k, the size (Frobenius norm) of its term in the
//! final sum of eq 12 (∂L/∂W⁽ʳ⁾) or eq 23 (∂L/∂W⁽ˣ⁾), per activation, with W⁽ʳ⁾ rescaled to a chosen spectral
//! radius. The terms are the derived closed form's, evaluated; the closed form is checked first (T = 1..8).
use crate::closed;
use crate::error::{Error, Result};
use crate::eval::Numeric;
use crate::lang::Expr;
use crate::session::Options;
use crate::stepper::Limits;
use egg::{RecExpr, Symbol};
use plotters::prelude::*;

/// One line of the plot.
#[derive(Debug, Clone)]
pub struct Series {
    pub activation: String,
    /// The parameter, and the blog's number of the final sum's equation (from the plan).
    pub wrt: String,
    pub eq: Option<u32>,
    /// The spectral radius of the recurrent matrix (after any rescaling), when the model has one.
    pub rho: Option<f64>,
    /// (k, ‖term k‖)
    pub points: Vec<(i64, f64)>,
}

/// The growth rate of ‖Wⁿ x‖, i.e. the spectral radius of W (power iteration with renormalisation).
pub fn spectral_radius(w: &[f64], n: usize) -> f64 {
    let mut x: Vec<f64> = (0..n).map(|i| 1.0 + 0.1 * i as f64).collect();
    let mut log_growth = 0.0;
    let (burn, iters) = (200, 400);
    for it in 0..burn + iters {
        let y: Vec<f64> = (0..n).map(|i| (0..n).map(|j| w[i * n + j] * x[j]).sum()).collect();
        let norm = y.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm == 0.0 || !norm.is_finite() {
            return 0.0;
        }
        if it >= burn {
            log_growth += norm.ln();
        }
        x = y.iter().map(|v| v / norm).collect();
    }
    (log_growth / iters as f64).exp()
}

/// What a chart changes in the drawn parameters: the recurrent matrices rescaled to a spectral radius, and a
/// model's knobs (`knob forget-bias b_f` in a model file: `--forget-bias 3` sets every entry of b_f to 3).
#[derive(Debug, Clone, Default)]
pub struct Adjust {
    pub scale: Option<f64>,
    pub knobs: Vec<(String, f64)>,
}

/// The terms of the closed form for one activation.
pub fn series(base: &Options, activation: crate::notation::Act, adjust: &Adjust) -> Result<Series> {
    let (mut s, closed_form) = crate::pipeline::closed_form(Options { activation, ..base.clone() }, Limits::default(), true)?;
    for (word, value) in &adjust.knobs {
        if let Some(p) = s.model.knob(word)
            && let Some(w) = s.params.values.get_mut(&p)
        {
            w.data.iter_mut().for_each(|v| *v = *value);
        }
    }
    if let Some(target) = adjust.scale {
        // every recurrent matrix: a square parameter over the state's size (W⁽ʳ⁾ in the blog's model)
        let recurrent: Vec<Symbol> = s.model.recurrent_params().collect();
        if recurrent.is_empty() {
            return Err(Error::Usage("--scale needs a recurrent matrix (a square parameter over the state's size); the model has none".into()));
        }
        for p in recurrent {
            let Some(w) = s.params.values.get_mut(&p) else { continue };
            let n = w.shape.first().copied().unwrap_or(0);
            let rho = spectral_radius(&w.data, n);
            if rho > 0.0 {
                w.data.iter_mut().for_each(|v| *v *= target / rho);
            }
        }
    }
    let inst = closed::instantiate(&closed_form, &s.model, s.sizes.steps);
    let Expr::TSum([k, _, _, body]) = &inst[inst.root()] else {
        return Err(Error::Usage("the closed form is not a Σ over time".into()));
    };
    let Expr::Symbol(k) = &inst[*k] else { return Err(Error::Usage("the closed form's time index is not a symbol".into())) };
    let body: RecExpr<Expr> = crate::lang::sub_expr(&inst, *body);
    let mut num = Numeric::new(&s.model, &s.sizes, &s.params);
    let goal = num.tensor(&s.plan.goal)?;
    let mut points = vec![];
    for step in 1..=s.sizes.steps as i64 {
        let t = num.tensor_with(&body, &goal.indices, &goal.dims, &[(*k, step)])?;
        points.push((step, t.data.iter().map(|v| v * v).sum::<f64>().sqrt()));
    }
    let eq = s.plan.items.iter().rev().find_map(|i| match i {
        crate::plan::Item::Beat { eq, .. } => *eq,
        _ => None,
    });
    // the spectral radius the title states, when there is one recurrent matrix (a gated cell has one per gate)
    let rho = match s.model.recurrent_params().collect::<Vec<_>>()[..] {
        [p] => s.params.values.get(&p).map(|w| spectral_radius(&w.data, w.shape.first().copied().unwrap_or(0))),
        _ => None,
    };
    Ok(Series { activation: activation.name().to_string(), wrt: s.wrt.to_string(), eq, rho, points })
}

/// One model's line: the per-step terms of the gradient of all its recurrent weights together (W⁽ʳ⁾; an LSTM's
/// W⁽ⁱʳ⁾, W⁽ᶠʳ⁾, W⁽ᵒʳ⁾, W⁽ᵍʳ⁾): at each k the norm of all their terms at k, labelled by the model's cell name.
pub fn recurrent_series(base: &Options, adjust: &Adjust) -> Result<Series> {
    let probe = crate::session::Session::load(base.clone())?;
    let recurrent: Vec<Symbol> = probe.model.recurrent_params().collect();
    if recurrent.is_empty() {
        return Err(Error::Usage(format!("the {} model has no recurrent matrix (a square parameter over the state's size) to plot", probe.model.cell())));
    }
    let mut total: Vec<(i64, f64)> = vec![];
    let mut rho = None;
    for p in &recurrent {
        let one = series(&Options { wrt: Some(p.to_string()), ..base.clone() }, base.activation, adjust)?;
        rho = rho.or(one.rho);
        if total.is_empty() {
            total = one.points.iter().map(|(k, v)| (*k, v * v)).collect();
        } else {
            total.iter_mut().zip(&one.points).for_each(|(a, b)| a.1 += b.1 * b.1);
        }
    }
    let points = total.into_iter().map(|(k, v)| (k, v.sqrt())).collect();
    let wrt = recurrent.iter().map(|p| p.as_str()).collect::<Vec<_>>().join("+");
    Ok(Series { activation: probe.model.cell().to_string(), wrt, eq: None, rho, points })
}

/// CSV: `k,activation,norm` (`k,model,norm` for a chart of several models).
pub fn csv(series: &[Series], column: &str) -> String {
    let mut out = format!("k,{column},norm\n");
    for s in series {
        for (k, v) in &s.points {
            out.push_str(&format!("{k},{},{v:e}\n", s.activation));
        }
    }
    out
}

/// Colours readable on white and apart in grey scale (Okabe and Ito's colour-blind-safe set: blue, vermilion,
/// bluish green, reddish purple).
const PALETTE: [RGBColor; 4] = [RGBColor(0, 114, 178), RGBColor(213, 94, 0), RGBColor(0, 158, 115), RGBColor(204, 121, 167)];

/// Every decade from below `lo` to above `hi` (every second, third … when there are more than 16), so that the
/// smallest value plotted has a labelled decade under it.
fn decades(lo: f64, hi: f64) -> Vec<f64> {
    let (a, b) = (lo.log10().ceil() as i64, hi.log10().ceil() as i64);
    let step = ((b - a) / 16 + 1).max(1);
    // from the bottom up: the lowest label is the decade at or just below the smallest value
    (0..).map(|k| a + k * step).take_while(|e| *e <= b).filter(|e| (-300..=300).contains(e)).map(|e| 10f64.powi(e as i32)).collect()
}

/// An SVG line chart with a log-scale y axis, axis labels and a legend.
pub fn svg(series: &[Series], title: &str, x_label: &str, y_label: &str) -> Result<String> {
    let fail = |e: String| Error::Eval(format!("cannot draw the plot: {e}"));
    let positive: Vec<f64> = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|v| *v > 0.0 && v.is_finite()).collect();
    let (lo, hi) = positive.iter().fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(*v), b.max(*v)));
    // the axis starts at the decade at or below the smallest value, so that a labelled decade lies under it
    let (lo, hi) = if positive.is_empty() { (1e-10, 1.0) } else { (10f64.powf(lo.log10().floor()).min(lo / 2.0), hi * 2.0) };
    let last = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).max().unwrap_or(1).max(2);
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (900, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(80)
            .build_cartesian_2d(1i64..last, (lo..hi).log_scale().with_key_points(decades(lo, hi)))
            .map_err(|e| fail(e.to_string()))?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .y_label_formatter(&|v| format!("1e{}", v.log10().round() as i64))
            .draw()
            .map_err(|e| fail(e.to_string()))?;
        for (i, s) in series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let style = color.stroke_width(2);
            let pts: Vec<(i64, f64)> = s.points.iter().copied().filter(|p| p.1 > 0.0 && p.1.is_finite()).collect();
            // solid, dashed, dotted: the lines stay apart in grey-scale print too
            let drawn = match i % 3 {
                0 => chart.draw_series(LineSeries::new(pts, style)),
                1 => chart.draw_series(DashedLineSeries::new(pts, 10, 6, style)),
                _ => chart.draw_series(DashedLineSeries::new(pts, 3, 4, style)),
            };
            drawn.map_err(|e| fail(e.to_string()))?.label(s.activation.clone()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
        chart.configure_series_labels().position(SeriesLabelPosition::LowerRight).background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(|e| fail(e.to_string()))?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    Ok(buf)
}
