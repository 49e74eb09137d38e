//! The derivation really comes from the rule files: a changed rule set changes the derivation, a broken rule is
//! reported by name with exit code 1, a missing rule stops the derivation with a clear error.
mod common;
use common::*;

#[test]
fn renaming_a_rule_in_the_files_renames_it_in_the_output() {
    let dir = copy_rules("renamed", &[
        ("calculus.rules", "d-mul:", "d-product:"),
        ("plans/W_r.plan", " d-mul ", " d-product "),
    ]);
    let o = run(&["derive", "--rules", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("d-product"), "{out}");
    assert!(!out.contains("d-mul"), "{out}");
}

#[test]
fn a_different_rule_gives_a_different_but_equal_step() {
    // Write the δ-contracting product the other way round: the shown expression changes, the value does not.
    let dir = copy_rules("reordered", &[("calculus.rules", "(+ (* (d ?a ?w) ?b) (* ?a (d ?b ?w)))", "(+ (* ?a (d ?b ?w)) (* (d ?a ?w) ?b))")]);
    let base = stdout(&run(&["derive"]));
    let o = run(&["derive", "--rules", dir.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_ne!(out, base, "the output follows the rules");
    assert!(out.contains("Σ_b W⁽ʳ⁾[a,b] ∂s⁽²⁾[b]/∂W⁽ʳ⁾[i,p] + δ(a,i) s⁽²⁾[p]"), "{out}");
}

#[test]
fn an_unsound_rule_fails_the_step_check_naming_the_step_and_rule() {
    let dir = copy_rules("unsound", &[("calculus.rules", "(+ (* (d ?a ?w) ?b) (* ?a (d ?b ?w)))", "(+ (* (d ?a ?w) ?b) (* ?b (d ?b ?w)))")]);
    let o = run(&["derive", "--rules", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "a mismatch exits 1: {}", stderr(&o));
    let out = stdout(&o);
    let line = out.lines().find(|l| l.starts_with("check")).unwrap_or_default();
    assert!(line.contains("✗ step (7) changed the value") && line.contains("rule `d-mul`") && line.contains("calculus.rules:"), "{line}");
}

#[test]
fn a_missing_rule_stops_with_a_clear_error() {
    let dir = copy_rules("missing", &[("plans/W_r.plan", " d-leaf ", " ")]);
    let o = run(&["derive", "--rules", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "an error exits 2");
    assert!(stdout(&o).is_empty(), "no partial output");
    let err = stderr(&o);
    assert!(err.starts_with("error: the derivation ended with a derivative the rules could not resolve"), "{err}");
    assert!(err.contains("dW_r[a,b]/dW_r[i,p]") || err.contains("dW_"), "{err}");
}

#[test]
fn a_wrong_closed_form_is_refuted_for_every_t() {
    let dir = copy_rules("wrong-closed", &[("plans/W_r.plan", "closed (tsum k 1 T (* (d L (tx h k i)) (tx s (- k 1) p)))", "closed (tsum k 1 T (* (d L (tx h k i)) (tx s k p)))")]);
    let o = run(&["derive", "--rules", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("✗ this form does not match the derivation for T = 1, 2, 3, 4, 5, 6, 7, 8"), "{out}");
}

#[test]
fn the_closed_form_holds_for_t_1_to_8_for_both_weights_and_activations() {
    for act in ["tanh", "sigmoid", "relu", "identity"] {
        for wrt in ["W_r", "W_x"] {
            let o = bptt::session::Options { wrt: Some(wrt.into()), activation: bptt::notation::Act::named(act).unwrap(), ..Default::default() };
            let s = bptt::session::Session::load(o.clone()).unwrap();
            let checks = bptt::closed::check(&o, s.plan.closed.as_ref().unwrap(), Default::default()).unwrap();
            assert_eq!(checks.len(), 8);
            for c in checks {
                assert!(c.same_form, "{wrt} {act}: the derivation at T={} ends in the closed form", c.steps);
                assert!(c.rel_error <= 1e-9, "{wrt} {act}: T={} value differs by {}", c.steps, c.rel_error);
            }
        }
    }
}

#[test]
fn the_closed_form_holds_for_t_1_to_8_for_every_variant() {
    for loss in ["mse", "softmax-ce"] {
        for many_to_many in [false, true] {
            for wrt in ["W_r", "W_x", "b", "W_y", "c"] {
                let o = bptt::session::Options { wrt: Some(wrt.into()), bias: true, many_to_many, loss: bptt::options::Loss::named(loss).unwrap(), ..Default::default() };
                let s = bptt::session::Session::load(o.clone()).unwrap();
                let case = format!("{wrt} {loss} many-to-many={many_to_many}");
                // many-to-one W⁽ʸ⁾ and c have no Σ over time: their result at T is the closed form already
                let Some(closed) = s.plan.closed.as_ref() else {
                    assert!(!many_to_many && (wrt == "W_y" || wrt == "c"), "{case}: a plan without a closed form");
                    continue;
                };
                let checks = bptt::closed::check(&o, closed, Default::default()).unwrap();
                assert_eq!(checks.len(), 8, "{case}");
                for c in checks {
                    assert!(c.same_form, "{case}: the derivation at T={} ends in the closed form", c.steps);
                    assert!(c.rel_error <= 1e-9, "{case}: T={} value differs by {}", c.steps, c.rel_error);
                }
            }
        }
    }
}

#[test]
fn the_many_to_many_derivation_comes_from_its_rules() {
    // the many-to-many fold names ∂L/∂s⁽ᵗ⁾ where the path from step t+1 meets the output at t; make the rule name
    // the wrong step and the derivation shows it, and the numbers catch it at the step that used the rule
    let dir = copy_rules("m2m-wrong-fold", &[("models/rnn-backprop.rules", "=> (d L (tx s ?t ?b)) if adjacent ?t ?u", "=> (d L (tx s ?u ?b)) if adjacent ?t ?u")]);
    let o = run(&["derive", "--many-to-many", "--steps", "3", "--rules", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("∂L/∂s⁽³⁾[b] ∂s⁽²⁾[b]/∂W⁽ʳ⁾[i,p]"), "{out}");
    let beat = out.split("\n\n").find(|b| b.contains("sum-merge, fold-s\n") && b.contains("✗ (change")).unwrap_or("");
    assert!(!beat.is_empty(), "the beat that used fold-s is marked wrong: {out}");
}

/// `derive` at a T of 1..8 with seeded parameters hands its own derivation to the any-T check for that T (the
/// check's session there is the same): the outcome must be exactly what the check derives on its own, bit for bit.
#[test]
fn derive_s_own_t_counts_for_the_any_t_check_exactly_as_the_check_derives_it() {
    let cases: [(&str, &[&str], bool, bool); 5] = [
        ("rnn", &["W_r", "W_x"], false, false),
        ("rnn", &["b", "W_y"], true, true),
        ("lstm", &["W_fr", "c0"], false, false),
        ("gru", &["W_zx", "W_rx"], false, false),
        ("gru", &["W_nr", "b_z"], true, true),
    ];
    for (model, wrts, bias, many_to_many) in cases {
        for wrt in wrts {
            for steps in [1, 3, 8] {
                let o = bptt::session::Options { model: Some(model.into()), wrt: Some(wrt.to_string()), bias, many_to_many, steps: Some(steps), seed: 5, ..Default::default() };
                let case = format!("{model} {wrt} bias={bias} m2m={many_to_many} T={steps}");
                let c = bptt::pipeline::derive_checked(o.clone(), Default::default(), false, &mut |_| {}).unwrap_or_else(|e| panic!("{case}: {e}"));
                let (form, own) = c.closed.unwrap_or_else(|| panic!("{case}: no closed form"));
                let alone = bptt::closed::check(&bptt::session::Options { steps: None, ..o }, &form, Default::default()).unwrap();
                assert_eq!(own.len(), 8, "{case}");
                for (a, b) in own.iter().zip(&alone) {
                    assert_eq!((a.steps, a.same_form, a.rel_error.to_bits()), (b.steps, b.same_form, b.rel_error.to_bits()), "{case}");
                    assert!(a.same_form && a.rel_error <= 1e-9, "{case}: T = {} fails", a.steps);
                }
            }
        }
    }
}

/// A model file with a broken declaration and a broken definition: both are told at once, each at its line (the
/// sizes are read from the declarations alone first; with a problem there the whole file is read for the report).
#[test]
fn a_model_file_s_problems_are_all_told_at_once() {
    let dir = copy_rules(
        "model-two-problems",
        &[
            ("models/rnn.model", "dim n_h hidden 3", "dim n_h hidden three"),
            ("models/rnn.model", "unfold-s: (tx s ?t ?i) := ({act} (tx h ?t ?i)) if ?t > 0", "unfold-s: (tx s ?t ?i) := ({act} (tx h ?t ?i) if ?t > 0"),
        ],
    );
    let o = run(&["derive", "--rules", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("rnn.model:24:"), "the declaration's line: {err}");
    assert!(err.contains("rnn.model:50:"), "the definition's line: {err}");
    assert!(err.contains("is never closed"), "{err}");
}
