//! Every shipped rule is numerically sound at random points, and a deliberately wrong rule is caught.
mod common;
use bptt::session::{Options, Session};
use bptt::soundness::{Verdict, check_rule};
use common::*;

#[test]
fn every_shipped_rule_is_sound_at_random_points() {
    // every variant: the rules tagged [m2m] replace some tagged [m2o], and both must be sound for their model
    // and every built-in model: the gated cells' rules are checked with their own names
    for model in ["rnn", "lstm", "gru"] {
    for (many_to_many, loss, bias) in [(false, "mse", false), (false, "mse", true), (true, "mse", true), (false, "softmax-ce", true), (true, "softmax-ce", true)] {
        let s = Session::load(Options { model: Some(model.into()), many_to_many, loss: bptt::options::Loss::named(loss).unwrap(), bias, ..Options::default() }).unwrap();
        assert!(s.rules.rules.len() >= 40, "the built-in set has {} rules", s.rules.rules.len());
        for r in &s.rules.rules {
            match check_rule(&s, r, 7, 60, 2) {
                Verdict::Sound(n) => assert!(n > 0),
                other => panic!("rule {} ({}:{}, model {model}, many-to-many {many_to_many}, loss {loss}, bias {bias}) is not shown sound: {other:?}", r.name, r.file, r.line),
            }
        }
    }
    }
}

#[test]
fn a_wrong_rule_is_caught_by_the_soundness_check() {
    let dir = copy_rules("wrong-product-rule", &[("calculus.rules", "(+ (* (d ?a ?w) ?b) (* ?a (d ?b ?w)))", "(+ (* (d ?a ?w) ?b) (* ?b (d ?b ?w)))")]);
    let s = Session::load(Options { rules_dir: Some(dir.clone()), ..Options::default() }).unwrap();
    let rule = s.rules.get("d-mul").unwrap();
    assert!(matches!(check_rule(&s, rule, 7, 60, 2), Verdict::Unsound { .. }), "the wrong product rule is reported unsound");
    let o = run(&["rules", "--check", "--rules", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.lines().any(|l| l.starts_with("UNSOUND   d-mul")), "{out}");
}
