//! The fast evaluator (`bptt::dense`) computes the same gradient as the entry-by-entry evaluator and as an
//! independent BPTT: for the unrolled derivation, and for the closed form at a T far beyond any unrolling.
mod common;
use bptt::session::{Options, Session};
use common::*;

#[test]
fn the_fast_evaluator_agrees_with_the_reference_evaluator() {
    for act in ["tanh", "sigmoid", "relu", "identity"] {
        for (wrt, bias) in [("W_r", false), ("W_x", false), ("W_y", false), ("s0", false), ("b", true), ("c", true)] {
            for steps in 1..=4 {
                let o = Options { steps: Some(steps), sizes: vec![("hidden".into(), 3), ("input".into(), 2), ("output".into(), 2)], activation: bptt::notation::Act::named(act).unwrap(), wrt: Some(wrt.into()), bias, seed: steps as u64, ..Options::default() };
                let (s, d, v) = derive_and_verify(o);
                let fast = bptt::dense::gradient(&s, &d).unwrap();
                assert_eq!(fast.dims, v.gradient.dims, "{wrt} {act} T={steps}");
                let diff = fast.rel_diff(&v.gradient);
                assert!(diff <= 1e-12, "{wrt} {act} T={steps}: fast differs by {diff}");
            }
        }
    }
}

#[test]
fn the_closed_form_at_large_t_matches_an_independent_bptt() {
    for (wrt, steps, n, dx) in [("W_r", 50, 4, 3), ("W_x", 50, 4, 3), ("W_r", 200, 8, 8), ("W_x", 120, 6, 5)] {
        let o = Options { steps: Some(steps), sizes: vec![("hidden".into(), n), ("input".into(), dx), ("output".into(), 2)], wrt: Some(wrt.into()), seed: 7, ..Options::default() };
        let s = Session::load(o).unwrap();
        let fast = bptt::dense::closed_gradient(&s, Default::default()).unwrap();
        let net = Net::from_json(&s.params.to_json(&s.model), "tanh");
        let want = net.grad_of(wrt);
        assert_eq!(fast.data.len(), want.len());
        for (k, (a, b)) in fast.data.iter().zip(&want).enumerate() {
            assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{wrt} T={steps}: entry {k}: {a} vs oracle {b}");
        }
    }
}

#[test]
fn the_fast_closed_form_of_every_variant_matches_the_derivation() {
    for (many_to_many, loss) in [(true, "mse"), (false, "softmax-ce"), (true, "softmax-ce")] {
        for wrt in ["W_r", "W_x", "b"] {
            for steps in [1, 4, 7] {
                let o = Options { steps: Some(steps), wrt: Some(wrt.into()), bias: true, many_to_many, loss: bptt::options::Loss::named(loss).unwrap(), seed: 11, ..Options::default() };
                let (s, _, v) = derive_and_verify(o);
                let fast = bptt::dense::closed_gradient(&s, Default::default()).unwrap();
                let case = format!("{wrt} T={steps} many-to-many={many_to_many} {loss}");
                assert_eq!(fast.dims, v.gradient.dims, "{case}");
                assert!(fast.rel_diff(&v.gradient) <= 1e-12, "{case}: differs by {}", fast.rel_diff(&v.gradient));
            }
        }
    }
    // and `bptt grad` prints a vector as a JSON vector
    let o = run(&["grad", "--bias", "--wrt", "b", "--many-to-many", "--format", "json"]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["gradient"].as_array().map(|a| a.iter().all(|x| x.is_f64())), Some(true), "{j}");
}

#[test]
fn grad_repeat_gives_the_same_numbers_and_a_steady_state_figure() {
    let once = run(&["grad", "--steps", "40", "--hidden", "6", "--format", "json"]);
    let many = run(&["grad", "--steps", "40", "--hidden", "6", "--format", "json", "--repeat", "3", "--stats"]);
    assert_eq!(once.status.code(), Some(0));
    assert_eq!(many.status.code(), Some(0));
    assert_eq!(stdout(&once), stdout(&many), "the same gradient, to the byte");
    let err = stderr(&many);
    assert!(err.contains("evaluate ") && err.contains(" ms, then ") && err.contains("(the median of 2 more)"), "{err}");
    let bad = run(&["grad", "--repeat", "0"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}
