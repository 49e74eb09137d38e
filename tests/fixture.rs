//! The T=3 numeric fixture of the reference (blog-equations.md §3): L, δ⁽ᵏ⁾ = ∂L/∂h⁽ᵏ⁾ and every per-k entry of
//! ∂L/∂W⁽ʳ⁾, to 1e-12, from the derived expressions.
mod common;
use bptt::eval::Numeric;
use bptt::sexp::{Src, parse_one, to_expr};
use common::*;
use std::sync::Arc;

fn expr(s: &str) -> egg::RecExpr<bptt::lang::Expr> {
    let text: Arc<str> = Arc::from(s);
    let src = Src { file: "test", text: &text };
    to_expr(&src, &parse_one(&src, 0..s.len()).unwrap()).unwrap()
}

const L: f64 = 0.002463622209065352;
const DELTA: [[f64; 2]; 3] = [
    [-2.071294275354e-4, 1.6205121999327e-2],
    [-1.9308767438172e-2, 4.6394552090584e-2],
    [-6.7629214386854e-2, 7.0089512475719e-2],
];
// rows: W11 W12 W21 W22; columns k = 1, 2, 3, sum
const PER_K: [[f64; 4]; 4] = [
    [-2.071294275354e-05, -1.292896260184e-02, -1.061744161844e-02, -2.356711716303e-02],
    [4.142588550709e-05, 1.116748463722e-02, -1.351546331055e-02, -2.306552787824e-03],
    [1.620512199933e-03, 3.106534017923e-02, 1.100369586609e-02, 4.368954824525e-02],
    [-3.241024399865e-03, -2.683291149378e-02, 1.400714532778e-02, -1.606679056587e-02],
];

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= 1e-12, "{what}: got {a:e}, the fixture says {b:e} (diff {:e})", (a - b).abs());
}

#[test]
fn loss_and_deltas_match_the_fixture() {
    let (s, _, v) = derive_and_verify(fixture_options());
    close(v.loss, L, "L");
    let mut num = Numeric::new(&s.model, &s.sizes, &s.params);
    for k in 1..=3 {
        let t = num.tensor(&expr(&format!("(d L (tx h {k} i))"))).unwrap();
        for i in 0..2 {
            close(t.data[i], DELTA[k - 1][i], &format!("δ⁽{k}⁾[{}]", i + 1));
        }
    }
}

#[test]
fn every_per_step_term_and_the_sum_match_the_fixture() {
    let (_, d, v) = derive_and_verify(fixture_options());
    assert!(v.ok(), "all checks pass on the fixture");
    assert_eq!(v.per_time.len(), 3, "eq 12 ends in a Σ over k = 1..3: {:?}", d.beats.last().map(|b| b.whole.to_string()));
    for (col, (k, t)) in v.per_time.iter().enumerate() {
        assert_eq!(*k as usize, col + 1);
        for row in 0..4 {
            close(t.data[row], PER_K[row][col], &format!("k={k} entry {row}"));
        }
    }
    for row in 0..4 {
        close(v.gradient.data[row], PER_K[row][3], &format!("∂L/∂W⁽ʳ⁾ entry {row}"));
    }
    assert!(v.fd_error < 1e-8, "finite differences agree: {}", v.fd_error);
}

#[test]
fn the_json_output_carries_the_fixture_numbers() {
    let o = run(&["derive", "--params", data("fixture.json").to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    close(j["loss"].as_f64().unwrap(), L, "loss");
    assert_eq!(j["model"]["steps"], 3);
    assert_eq!(j["model"]["hidden"], 2);
    assert_eq!(j["model"]["input"], 1);
    assert_eq!(j["model"]["output"], 1);
    assert_eq!(j["model"]["activation"], "tanh");
    assert_eq!(j["wrt"], "W_r");
    assert_eq!(j["params"]["W_r"], serde_json::json!([[0.5, -0.3], [0.2, 0.4]]));
    assert_eq!(j["params"]["x"], serde_json::json!([[1.0], [-0.5], [0.25]]));
    let g = j["gradient"].as_array().unwrap();
    close(g[1][0].as_f64().unwrap(), PER_K[2][3], "gradient[2][1]");
    let fd = j["finite_difference"].as_array().unwrap();
    assert!((fd[0][0].as_f64().unwrap() - PER_K[0][3]).abs() < 1e-8);
    let steps = j["steps"].as_array().unwrap();
    let eqs: Vec<serde_json::Value> = steps.iter().map(|s| s["eq"].clone()).collect();
    assert_eq!(eqs, serde_json::json!([4, 5, 6, 7, 8, null, 9, 10, 11, 12]).as_array().unwrap().clone());
    for s in steps {
        assert!(s["value"].is_array(), "every step has a value");
        assert!(!s["text"].as_str().unwrap().is_empty());
    }
    assert_eq!(steps.last().unwrap()["text"], "Σ_{k=1}^{3} ∂L/∂h⁽ᵏ⁾[i] s⁽ᵏ⁻¹⁾[p]");
}

#[test]
fn the_independent_bptt_oracle_agrees_with_the_fixture() {
    let p: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(data("fixture.json")).unwrap()).unwrap();
    let (loss, delta, g) = Net::from_json(&p, "tanh").bptt();
    close(loss, L, "oracle L");
    close(delta[2][1], DELTA[1][1], "oracle δ⁽²⁾[2]");
    close(g[1][1], PER_K[3][3], "oracle ∂L/∂W⁽ʳ⁾[2,2]");
}

#[test]
fn the_w_x_column_of_the_fixture() {
    // rows: W⁽ˣ⁾11, W⁽ˣ⁾21; columns k = 1, 2, 3, sum
    const WX: [[f64; 4]; 2] = [
        [-2.071294275354e-04, 9.654383719086e-03, -1.690730359671e-02, -7.460049305163e-03],
        [1.620512199933e-02, -2.319727604529e-02, 1.752237811893e-02, 1.053022407297e-02],
    ];
    let (_, d, v) = derive_and_verify(bptt::session::Options { wrt: Some("W_x".into()), ..fixture_options() });
    assert!(v.ok());
    // every blog equation 13–23 is a beat, once, in order (between (14)'s chain and (15), an unnumbered beat folds
    // the chain into ∂L/∂h⁽ᵀ⁾)
    let eqs: Vec<u32> = d.beats.iter().filter_map(|b| b.eq).collect();
    assert_eq!(eqs, (13..=23).collect::<Vec<_>>(), "every blog equation 13–23 is a beat");
    assert_eq!(d.beats.iter().filter(|b| b.eq.is_none()).count(), 1, "one unnumbered beat: the fold after (14)");
    for (col, (_, t)) in v.per_time.iter().enumerate() {
        for row in 0..2 {
            close(t.data[row], WX[row][col], &format!("W_x k={} row {row}", col + 1));
        }
    }
    for row in 0..2 {
        close(v.gradient.data[row], WX[row][3], "W_x sum");
    }
}

#[test]
fn the_matrix_form_is_shown_and_checked() {
    let (_, _, v) = derive_and_verify(fixture_options());
    // the equation, then the time steps a recursion holds for, as the English report writes it
    let texts: Vec<String> = v.matrix.iter().map(|m| format!("{}{}", m.text, bptt::render::words::range(bptt::options::Lang::En, m.range))).collect();
    assert_eq!(
        texts,
        [
            "∂L/∂W⁽ʳ⁾ = Σ_{k=1}^{3} ∂L/∂h⁽ᵏ⁾ s⁽ᵏ⁻¹⁾ᵀ",
            "∂L/∂h⁽³⁾ = diag(tanh′(h⁽³⁾)) ∂L/∂s⁽³⁾",
            "∂L/∂s⁽³⁾ = W⁽ʸ⁾ᵀ (y − ȳ)",
            "∂L/∂h⁽ᵏ⁾ = diag(tanh′(h⁽ᵏ⁾)) W⁽ʳ⁾ᵀ ∂L/∂h⁽ᵏ⁺¹⁾   for k = 2 down to 1",
        ]
    );
    assert_eq!(v.matrix[3].range.map(|(k, lo, hi)| (k.to_string(), lo, hi)), Some(("k".to_string(), 1, 2)));
    for m in &v.matrix {
        assert!(m.error.is_some_and(|x| x <= 1e-12), "{}: {:?}", m.text, m.error);
    }
}
