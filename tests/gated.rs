//! The gated cells (issue 16) against an independent numeric oracle: an LSTM and a GRU written here from the
//! issue's equations (not from the model files, not from the derivation), their gradients by central differences.
//! Every parameter × all eight variants (loss at the last or every step, both losses, with and without biases) × T = 1..5:
//! `bptt grad` where the derivation ends in a closed form, `bptt derive` for the others.
mod common;
use common::*;
use std::collections::BTreeMap;

#[derive(Clone, Copy, PartialEq)]
enum Cell {
    Lstm,
    Gru,
}

#[derive(Clone, Copy)]
struct Variant {
    m2m: bool,
    softmax: bool,
    bias: bool,
}

const N: usize = 3; // hidden
const D: usize = 2; // input
const M: usize = 2; // output

/// A parameter: its values (row-major) and shape.
#[derive(Clone)]
struct P {
    v: Vec<f64>,
    shape: Vec<usize>,
}

type Params = BTreeMap<String, P>;

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// W x (+ b) for a named matrix and vector.
fn affine(p: &Params, w: &str, x: &[f64], rows: usize) -> Vec<f64> {
    let w = &p[w].v;
    let cols = x.len();
    (0..rows).map(|i| (0..cols).map(|j| w[i * cols + j] * x[j]).sum()).collect()
}

fn add(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

/// h_gate = W_gate_r s + W_gate_x x (+ b_gate).
fn pre(p: &Params, g: &str, s: &[f64], x: &[f64], bias: bool) -> Vec<f64> {
    let h = add(&affine(p, &format!("W_{g}r"), s, N), &affine(p, &format!("W_{g}x"), x, N));
    if bias { add(&h, &p[&format!("b_{g}")].v) } else { h }
}

/// The loss of one output y against its target.
fn loss_of(y: &[f64], target: &[f64], softmax: bool) -> f64 {
    if softmax {
        let mx = y.iter().cloned().fold(f64::MIN, f64::max);
        let lse = mx + y.iter().map(|v| (v - mx).exp()).sum::<f64>().ln();
        (0..y.len()).map(|m| target[m] * (lse - y[m])).sum()
    } else {
        (0..y.len()).map(|m| 0.5 * (y[m] - target[m]).powi(2)).sum()
    }
}

/// The forward pass and the loss, from the issue's equations.
fn loss(cell: Cell, p: &Params, x: &[Vec<f64>], target: &[Vec<f64>], v: Variant) -> f64 {
    let mut s = p["s0"].v.clone();
    let mut c = if cell == Cell::Lstm { p["c0"].v.clone() } else { vec![] };
    let out = |s: &[f64]| {
        let y = affine(p, "W_y", s, M);
        if v.bias { add(&y, &p["b_y"].v) } else { y }
    };
    let mut total = 0.0;
    for (t, xt) in x.iter().enumerate() {
        match cell {
            Cell::Lstm => {
                let i: Vec<f64> = pre(p, "i", &s, xt, v.bias).into_iter().map(sigmoid).collect();
                let f: Vec<f64> = pre(p, "f", &s, xt, v.bias).into_iter().map(sigmoid).collect();
                let o: Vec<f64> = pre(p, "o", &s, xt, v.bias).into_iter().map(sigmoid).collect();
                let g: Vec<f64> = pre(p, "g", &s, xt, v.bias).into_iter().map(f64::tanh).collect();
                c = (0..N).map(|a| f[a] * c[a] + i[a] * g[a]).collect();
                s = (0..N).map(|a| o[a] * c[a].tanh()).collect();
            }
            Cell::Gru => {
                let r: Vec<f64> = pre(p, "r", &s, xt, v.bias).into_iter().map(sigmoid).collect();
                let z: Vec<f64> = pre(p, "z", &s, xt, v.bias).into_iter().map(sigmoid).collect();
                let rs: Vec<f64> = (0..N).map(|a| r[a] * s[a]).collect();
                let mut hn = add(&affine(p, "W_nr", &rs, N), &affine(p, "W_nx", xt, N));
                if v.bias {
                    hn = add(&hn, &p["b_n"].v);
                }
                let n: Vec<f64> = hn.into_iter().map(f64::tanh).collect();
                s = (0..N).map(|a| z[a] * s[a] + (1.0 - z[a]) * n[a]).collect();
            }
        }
        if v.m2m {
            total += loss_of(&out(&s), &target[t], v.softmax);
        }
    }
    if !v.m2m {
        total = loss_of(&out(&s), &target[0], v.softmax);
    }
    total
}

/// A small deterministic generator (no shared code with the engine's ChaCha parameters).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

fn names(cell: Cell, bias: bool) -> Vec<(String, Vec<usize>)> {
    let gates: &[&str] = if cell == Cell::Lstm { &["i", "f", "o", "g"] } else { &["r", "z", "n"] };
    let mut out = vec![];
    for g in gates {
        out.push((format!("W_{g}r"), vec![N, N]));
        out.push((format!("W_{g}x"), vec![N, D]));
    }
    out.push(("W_y".into(), vec![M, N]));
    out.push(("s0".into(), vec![N]));
    if cell == Cell::Lstm {
        out.push(("c0".into(), vec![N]));
    }
    if bias {
        for g in gates {
            out.push((format!("b_{g}"), vec![N]));
        }
        out.push(("b_y".into(), vec![M]));
    }
    out
}

fn json_of(p: &P) -> serde_json::Value {
    if p.shape.len() == 2 {
        serde_json::json!(p.v.chunks(p.shape[1]).map(|r| r.to_vec()).collect::<Vec<_>>())
    } else {
        serde_json::json!(p.v)
    }
}

/// The central-difference gradient of the loss with respect to every entry of `wrt`.
fn oracle(cell: Cell, p: &Params, x: &[Vec<f64>], target: &[Vec<f64>], v: Variant, wrt: &str) -> Vec<f64> {
    let h = 1e-6;
    (0..p[wrt].v.len())
        .map(|e| {
            let mut q = p.clone();
            q.get_mut(wrt).unwrap().v[e] += h;
            let up = loss(cell, &q, x, target, v);
            q.get_mut(wrt).unwrap().v[e] -= 2.0 * h;
            let down = loss(cell, &q, x, target, v);
            (up - down) / (2.0 * h)
        })
        .collect()
}

fn flat(v: &serde_json::Value) -> Vec<f64> {
    match v {
        serde_json::Value::Array(a) => a.iter().flat_map(flat).collect(),
        other => vec![other.as_f64().expect("a number")],
    }
}

fn check_cell(cell: Cell) {
    let model = if cell == Cell::Lstm { "lstm" } else { "gru" };
    let dir = std::env::temp_dir().join(format!("bptt-gated-{model}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Lcg(if cell == Cell::Lstm { 17 } else { 29 });
    let mut compared = 0;
    // every variant: loss at the last or every step × squared error or softmax cross-entropy × with or without biases
    for (m2m, softmax, bias) in [false, true].into_iter().flat_map(|m| [false, true].into_iter().flat_map(move |s| [false, true].map(|b| (m, s, b)))) {
        let v = Variant { m2m, softmax, bias };
        for t in 1..=5usize {
            let mut p = Params::new();
            for (name, shape) in names(cell, bias) {
                let k: usize = shape.iter().product();
                p.insert(name, P { v: (0..k).map(|_| 0.8 * rng.next()).collect(), shape });
            }
            let x: Vec<Vec<f64>> = (0..t).map(|_| (0..D).map(|_| rng.next()).collect()).collect();
            let one_target = |rng: &mut Lcg| -> Vec<f64> {
                if softmax {
                    let w: Vec<f64> = (0..M).map(|_| rng.next() + 1.5).collect();
                    let s: f64 = w.iter().sum();
                    w.iter().map(|x| x / s).collect()
                } else {
                    (0..M).map(|_| rng.next()).collect()
                }
            };
            let target: Vec<Vec<f64>> = (0..if m2m { t } else { 1 }).map(|_| one_target(&mut rng)).collect();
            let mut j = serde_json::Map::new();
            for (k, q) in &p {
                j.insert(k.clone(), json_of(q));
            }
            j.insert("x".into(), serde_json::json!(x));
            j.insert("target".into(), if m2m { serde_json::json!(target) } else { serde_json::json!(target[0]) });
            let file = dir.join(format!("p-{m2m}-{softmax}-{bias}-{t}.json"));
            std::fs::write(&file, serde_json::Value::Object(j).to_string()).unwrap();
            let f = file.to_str().unwrap();
            let mut flags = vec!["--model", model, "--params", f, "--format", "json"];
            if m2m {
                flags.push("--many-to-many");
            }
            if softmax {
                flags.extend(["--loss", "softmax-ce"]);
            }
            if bias {
                flags.push("--bias");
            }
            for (wrt, _) in names(cell, bias) {
                let want = oracle(cell, &p, &x, &target, v, &wrt);
                // the closed form at any size where there is one; otherwise the derivation itself
                let mut args = vec!["grad", "--wrt", &wrt];
                args.extend(flags.iter().copied());
                let mut o = run(&args);
                if o.status.code() == Some(2) && stderr(&o).contains("no closed form") {
                    args[0] = "derive";
                    o = run(&args);
                }
                let what = format!("{model} {wrt} T={t} m2m={m2m} softmax={softmax} bias={bias}");
                assert_eq!(o.status.code(), Some(0), "{what}: {}", stderr(&o));
                let out: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{what}: {e}"));
                let got = flat(&out["gradient"]);
                assert_eq!(got.len(), want.len(), "{what}");
                for (g, w) in got.iter().zip(&want) {
                    assert!((g - w).abs() <= 1e-8 + 1e-6 * w.abs(), "{what}: bptt {g} vs oracle {w}\n{got:?}\n{want:?}");
                }
                compared += 1;
            }
        }
    }
    // every parameter of every variant at every T was compared
    let per = |b| names(cell, b).len();
    assert_eq!(compared, 5 * 4 * (per(false) + per(true)));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn lstm_gradients_match_an_independent_lstm() {
    check_cell(Cell::Lstm);
}

#[test]
fn gru_gradients_match_an_independent_gru() {
    check_cell(Cell::Gru);
}

/// The ratio of the term at step `a` to the term at step `b`, per model line of a `plot --format csv`.
fn ratios(csv: &str, a: i64, b: i64) -> BTreeMap<String, f64> {
    let mut at: BTreeMap<(String, i64), f64> = BTreeMap::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        at.insert((f[1].to_string(), f[0].parse().unwrap()), f[2].parse().unwrap());
    }
    let models: Vec<String> = at.keys().map(|k| k.0.clone()).collect();
    models.into_iter().map(|m| (m.clone(), at[&(m.clone(), a)] / at[&(m, b)])).collect()
}

#[test]
fn the_picture_that_explains_it() {
    // one line per cell, each its recurrent weights together: the vanilla RNN's early terms vanish geometrically
    let o = run(&["plot", "--model", "rnn,lstm,gru", "--format", "csv"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("k,model,norm\n"));
    let plain = ratios(&stdout(&o), 10, 100);
    assert_eq!(plain.keys().cloned().collect::<Vec<_>>(), ["GRU", "LSTM", "RNN"]);
    assert!(plain["RNN"] < 1e-15, "{plain:?}");
    // a forget gate near 1 (b_f = 3) keeps the cell's path open: the LSTM's early terms stay within a few decades
    let o = run(&["plot", "--model", "rnn,lstm,gru", "--format", "csv", "--forget-bias", "3"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let open = ratios(&stdout(&o), 10, 100);
    let lstm = open["LSTM (forget-bias 3)"];
    assert!(lstm > 1e-7, "{open:?}");
    assert!(lstm > 1e6 * plain["LSTM"] && lstm > 1e10 * open["RNN"], "{open:?} {plain:?}");
    assert_eq!(open["RNN"], plain["RNN"], "the knob changes only the model that has it");
    // one gated cell alone is drawn with its own activation, once
    let o = run(&["plot", "--model", "lstm", "--steps", "20", "--format", "csv"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).lines().skip(1).all(|l| l.split(',').nth(1) == Some("sigmoid")), "{}", stdout(&o));
    // the LSTM alone with its forget-gate bias: the knob is in its variant with biases
    let o = run(&["plot", "--model", "lstm", "--forget-bias", "3", "--steps", "20", "--format", "csv"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // a knob that names no parameter is an error at its line
    let dir = copy_rules("bad-knob", &[("models/lstm-bias.model", "knob forget-bias b_f", "knob forget-bias b_q")]);
    let o = run(&["plot", "--rules", dir.to_str().unwrap(), "--model", "lstm", "--forget-bias", "3", "--format", "csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("sets `b_q`, which is not a parameter") && stderr(&o).contains("lstm-bias.model:14"), "{}", stderr(&o));
    // what cannot be drawn is said
    let o = run(&["plot", "--model", "rnn", "--forget-bias", "3", "--format", "csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no forget-gate bias"), "{}", stderr(&o));
    let o = run(&["plot", "--model", "rnn,lstm", "--wrt", "W_r", "--format", "csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("leave --wrt out"), "{}", stderr(&o));
}

/// `bptt check` with the arguments, its exit code and its report.
fn check(args: &[&str]) -> (Option<i32>, String) {
    let mut a = vec!["check"];
    a.extend_from_slice(args);
    let o = run(&a);
    (o.status.code(), stdout(&o) + &stderr(&o))
}

#[test]
fn check_proves_hand_derived_gated_cell_gradients_for_any_t() {
    for (args, formula) in [
        (&["--model", "lstm", "--wrt", "W_fr"][..], "sum_{k=1}^{T} dL/dh_f^(k)[j] * s^(k-1)[p]"),
        // the gate's gradient written out by hand: proved as well
        (&["--model", "lstm", "--wrt", "W_fr"][..], "sum_{k=1}^{T} dL/dc^(k)[j] * c^(k-1)[j] * sigmoid'(h_f^(k)[j]) * s^(k-1)[p]"),
        (&["--model", "lstm", "--wrt", "W_ox"][..], "sum_{k=1}^{T} dL/ds^(k)[j] * tanh(c^(k)[j]) * sigmoid'(h_o^(k)[j]) * x^(k)[q]"),
        (&["--model", "lstm", "--wrt", "c0"][..], "dL/dc^(1)[j] * f^(1)[j]"),
        (&["--model", "gru", "--wrt", "W_nr"][..], "sum_{k=1}^{T} dL/dh_n^(k)[j] * r^(k)[p] * s^(k-1)[p]"),
        (&["--model", "gru", "--wrt", "b_n", "--bias"][..], "sum_{k=1}^{T} dL/ds^(k)[j] * (1 - z^(k)[j]) * tanh'(h_n^(k)[j])"),
    ] {
        let mut a = args.to_vec();
        a.extend(["--any-T", formula]);
        let (code, out) = check(&a);
        assert_eq!(code, Some(0), "{formula}: {out}");
        assert!(out.contains("PROVED") && !out.contains("REFUTED"), "{formula}: {out}");
    }
}

#[test]
fn the_notes_latex_of_a_gated_cell_reads_back() {
    // the final form as the LaTeX notes write it (the gate's tag upright before the index) is what check reads
    let o = run(&["derive", "--model", "lstm", "--wrt", "W_fr", "--format", "latex", "--fragment"]);
    let tex = stdout(&o);
    let line = tex.lines().find(|l| l.contains("\\sum_{k=1}^{T}") && l.contains("h^{(k)}_{\\mathrm{f},j}")).unwrap_or_else(|| panic!("{tex}"));
    let mut rhs = line.split("&=").nth(1).unwrap();
    for end in ["\\qquad", "\\notag", "\\tag"] {
        rhs = rhs.split(end).next().unwrap();
    }
    let rhs = rhs.trim();
    let (code, out) = check(&["--model", "lstm", "--wrt", "W_fr", "--any-T", rhs]);
    assert_eq!(code, Some(0), "{rhs}: {out}");
    assert!(out.contains("PROVED"), "{out}");
}

#[test]
fn check_names_the_classic_gated_cell_mistakes() {
    for (args, formula, mistake) in [
        (&["--model", "lstm", "--wrt", "c0", "--steps", "2"][..], "(dL/ds^(1)[j] * o^(1)[j] * tanh'(c^(1)[j]) + dL/dc^(2)[j]) * f^(1)[j]", "mistake-cell-forget-missing"),
        (&["--model", "lstm", "--wrt", "W_ir", "--steps", "1"][..], "dL/ds^(1)[j] * o^(1)[j] * g^(1)[j] * sigmoid'(h_i^(1)[j]) * s^(0)[p]", "mistake-cell-tanh-derivative-missing"),
        (&["--model", "lstm", "--wrt", "W_fr"][..], "sum_{k=1}^{3} dL/dc^(k)[j] * s^(k-1)[j] * sigmoid'(h_f^(k)[j]) * s^(k-1)[p]", "mistake-cell-state-confused"),
        (&["--model", "lstm", "--wrt", "W_ir", "--steps", "1"][..], "dL/ds^(1)[j] * tanh'(c^(1)[j]) * g^(1)[j] * sigmoid'(h_i^(1)[j]) * s^(0)[p]", "mistake-output-gate-missing"),
        (&["--model", "gru", "--wrt", "b_n", "--bias", "--steps", "1"][..], "dL/ds^(1)[j] * z^(1)[j] * tanh'(h_n^(1)[j])", "mistake-gru-one-minus-z"),
        (&["--model", "gru", "--wrt", "b_z", "--bias", "--steps", "1"][..], "dL/ds^(1)[j] * (n^(1)[j] + s^(0)[j]) * sigmoid'(h_z^(1)[j])", "mistake-gru-update-sign"),
    ] {
        let mut a = args.to_vec();
        a.push(formula);
        let (code, out) = check(&a);
        assert_eq!(code, Some(1), "{formula}: {out}");
        assert!(out.contains("REFUTED") && out.contains(mistake), "{mistake}: {out}");
    }
    // and in Korean
    let (code, out) = check(&["--model", "gru", "--wrt", "b_n", "--bias", "--steps", "1", "--lang", "ko", "dL/ds^(1)[j] * z^(1)[j] * tanh'(h_n^(1)[j])"]);
    assert_eq!(code, Some(1));
    assert!(out.contains("후보 state는 (1 − z⁽ᵏ⁾)와"), "{out}");
}
