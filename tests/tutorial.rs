//! The tutorial "your own cell" (docs/tutorial/README.md) runs exactly as written: its model file, rule file and
//! plan, copied beside the built-in rules as the tutorial says, derive ∂L/∂W⁽ʳ⁾ of the new cell with every step
//! checked; `check` proves its closed form and refutes a wrong one; `grad` agrees with an independent linear
//! recurrence written here from the cell's equations; the built-in model is unaffected by the extra files.
mod common;
use common::*;
use std::path::PathBuf;

/// `cp -r rules my-rules && cp -r docs/tutorial/models docs/tutorial/plans my-rules/`, as the tutorial says.
/// (One folder per test: the tests run side by side.)
fn tutorial_rules(test: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target/tmp/tutorial-rules").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    let copy = |from: &std::path::Path, to: &std::path::Path| {
        for e in walk(from) {
            let rel = e.strip_prefix(from).unwrap();
            let dest = to.join(rel);
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(&e, &dest).unwrap();
        }
    };
    copy(&root.join("rules"), &dir);
    copy(&root.join("docs/tutorial/models"), &dir.join("models"));
    copy(&root.join("docs/tutorial/plans"), &dir.join("plans"));
    dir
}

fn walk(d: &std::path::Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out.sort();
    out
}

#[test]
fn the_tutorial_cell_derives_with_every_step_checked() {
    let dir = tutorial_rules("derive");
    let d = dir.to_str().unwrap();
    for steps in ["1", "3", "6"] {
        let o = run(&["derive", "--rules", d, "--model", "linrnn", "--steps", steps]);
        assert_eq!(o.status.code(), Some(0), "T={steps}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(out.contains("✓ every step equal to the one before") && out.contains("✓ finite differences agree"), "{out}");
        assert!(out.contains(&format!("= Σ_{{k=1}}^{{{steps}}} ∂L/∂s⁽ᵏ⁾[i] s⁽ᵏ⁻¹⁾[p]")), "T={steps}: {out}");
        assert!(out.contains("✓ the rules derive exactly this form for T = 1, …, 8"), "{out}");
        // the state path carries no σ′: the recursion is W⁽ʳ⁾ᵀ alone
        assert!(out.contains("∂L/∂s⁽ᵏ⁾ = W⁽ʳ⁾ᵀ ∂L/∂s⁽ᵏ⁺¹⁾") || steps == "1", "{out}");
        assert!(!out.contains("σ′(h"), "{out}");
    }
    let ko = stdout(&run(&["derive", "--rules", d, "--model", "linrnn", "--lang", "ko"]));
    assert!(ko.contains("vanilla RNN과 달리 σ′는 없다"), "{ko}");
    // the built-in model does not read the new cell's rules: the same output as without the folder
    assert_eq!(stdout(&run(&["derive", "--rules", d])), stdout(&run(&["derive"])).replace("rules/", &format!("{d}/")));
    // every rule read with the cell is sound at random points
    let o = run(&["rules", "--check", "--rules", d, "--model", "linrnn"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    for r in ["backprop-s ", "fold-s ", "unfold-u ", "unfold-s "] {
        assert!(stdout(&o).lines().any(|l| l.starts_with("ok") && l.contains(r) && l.contains("agree")), "{r}: {}", stdout(&o));
    }
    // a model that names a rule file that is not there
    let model = dir.join("models/linrnn.model");
    let text = std::fs::read_to_string(&model).unwrap();
    std::fs::write(&model, text.replace("rules linrnn-backprop.rules", "rules nope.rules")).unwrap();
    let o = run(&["derive", "--rules", d, "--model", "linrnn"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("names the rule file nope.rules") && stderr(&o).contains("no models/nope.rules"), "{}", stderr(&o));
    std::fs::write(&model, text).unwrap();
    // a variant the cell's files do not have is an error, not the default under another name
    for flag in ["--many-to-many", "--loss=softmax-ce"] {
        let o = run(&["derive", "--rules", d, "--model", "linrnn", flag]);
        assert_eq!(o.status.code(), Some(2), "{flag}: {}", stdout(&o));
        assert!(stderr(&o).contains("has no variant for"), "{flag}: {}", stderr(&o));
    }
    let o = run(&["derive", "--rules", d, "--model", "peephole"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no model `peephole`") && stderr(&o).contains("the models are rnn, lstm, gru, linrnn"), "{}", stderr(&o));
}

#[test]
fn check_proves_and_refutes_for_the_tutorial_cell() {
    let dir = tutorial_rules("check");
    let d = dir.to_str().unwrap();
    let o = run(&["check", "--rules", d, "--model", "linrnn", "--any-T", "sum_{k=1}^{T} dL/ds^(k)[i] * s^(k-1)[p]"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("✓ PROVED"), "{}", stdout(&o));
    let o = run(&["check", "--rules", d, "--model", "linrnn", "--steps", "3", "sum_{k=1}^{T} dL/ds^(k)[i] * s^(k)[p]"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("mistake-state-off-by-one"), "{}", stdout(&o));
}

#[test]
fn grad_of_the_tutorial_cell_matches_an_independent_linear_recurrence() {
    let dir = tutorial_rules("grad");
    let (n, dx, m, t) = (5usize, 3usize, 2usize, 40usize);
    // small weights, so that the linear recurrence neither explodes nor vanishes over 40 steps
    let v = |k: usize, scale: f64| -> Vec<f64> { (0..k).map(|j| scale * (((j * 7919 + k * 104_729) % 1000) as f64 / 500.0 - 1.0)).collect() };
    let (wr, wx, wy, s0, x, yb) = (v(n * n, 0.3), v(n * dx, 0.8), v(m * n, 0.9), v(n, 0.5), v(t * dx, 1.0), v(m, 0.7));
    let rows = |a: &[f64], c: usize| a.chunks(c).map(|r| format!("[{}]", r.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>().join(","))).collect::<Vec<_>>().join(",");
    let json = format!(
        r#"{{"W_r": [{}], "W_x": [{}], "W_y": [{}], "s0": [{}], "x": [{}], "target": [{}]}}"#,
        rows(&wr, n),
        rows(&wx, dx),
        rows(&wy, n),
        s0.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>().join(","),
        rows(&x, dx),
        yb.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>().join(",")
    );
    let p = dir.join("params.json");
    std::fs::write(&p, json).unwrap();
    // the oracle, from the cell's equations: u = tanh(W_x x), s⁽ᵗ⁾ = W_r s⁽ᵗ⁻¹⁾ + u⁽ᵗ⁾, y = W_y s⁽ᵀ⁾
    let mut s = vec![s0.clone()];
    for k in 0..t {
        let prev = &s[k];
        let next: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|q| wr[i * n + q] * prev[q]).sum::<f64>() + (0..dx).map(|q| wx[i * dx + q] * x[k * dx + q]).sum::<f64>().tanh())
            .collect();
        s.push(next);
    }
    let y: Vec<f64> = (0..m).map(|o| (0..n).map(|a| wy[o * n + a] * s[t][a]).sum()).collect();
    let mut g: Vec<f64> = (0..n).map(|a| (0..m).map(|o| wy[o * n + a] * (y[o] - yb[o])).sum()).collect();
    let mut want = vec![0.0; n * n];
    for k in (1..=t).rev() {
        for i in 0..n {
            for q in 0..n {
                want[i * n + q] += g[i] * s[k - 1][q];
            }
        }
        g = (0..n).map(|b| (0..n).map(|a| g[a] * wr[a * n + b]).sum()).collect();
    }
    let o = run(&["grad", "--rules", dir.to_str().unwrap(), "--model", "linrnn", "--params", p.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let got: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let got: Vec<f64> = got["gradient"].as_array().unwrap().iter().flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap())).collect();
    assert_eq!(got.len(), want.len());
    let big = want.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    assert!(big > 1e-6, "the test exercises a gradient that is not zero ({big})");
    for (k, (a, b)) in got.iter().zip(&want).enumerate() {
        assert!((a - b).abs() <= 1e-12 * big.max(1.0), "entry {k}: bptt {a} vs the oracle {b}");
    }
}

/// The tutorial's picture: with no σ′ on the way back, the per-step terms of the linear recurrence shrink as the
/// powers of W⁽ʳ⁾ alone — at spectral radius 0.5 over 30 steps by about 0.5²⁹ ≈ 2e-9.
#[test]
fn plot_of_the_tutorial_cell_shows_the_powers_of_w_r() {
    let dir = tutorial_rules("plot");
    let o = run(&["plot", "--rules", dir.to_str().unwrap(), "--model", "linrnn", "--steps", "30", "--scale", "0.5", "--format", "csv"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let norm = |k: &str| -> f64 {
        let out = stdout(&o);
        let line = out.lines().find(|l| l.starts_with(&format!("{k},tanh,"))).unwrap_or_else(|| panic!("no k={k}: {out}"));
        line.rsplit(',').next().unwrap().parse().unwrap()
    };
    let (first, last) = (norm("1"), norm("30"));
    assert!(last > 0.0 && first < 1e-6 * last && first > 1e-14 * last, "k=1: {first}, k=30: {last}");
}

