//! The activation table: each row is an activation the whole tool knows (derive, check, the numbers, the
//! readers and printers), and its chain rule in rules/calculus.rules is all the rules need. softplus, the fifth
//! row, was added that way and is derived, checked and proved here like the others.
mod common;
use bptt::notation::{ACTIVATIONS, Act};
use common::run;

#[test]
fn every_row_has_its_chain_rule() {
    let rules = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/calculus.rules")).unwrap();
    for a in ACTIVATIONS {
        let want = format!("d-{}: (d ({} ?a) ?w) => (* ({} ?a) (d ?a ?w))", a.name, a.name, a.prime);
        assert!(rules.lines().any(|l| l.trim() == want), "rules/calculus.rules needs the chain rule `{want}`");
    }
    assert_eq!(ACTIVATIONS.len(), 5);
}

#[test]
fn every_rows_derivatives_are_the_derivatives_of_its_function() {
    for a in ACTIVATIONS {
        // away from relu's kink
        for x in [-2.3, -0.7, 0.4, 1.9] {
            let h = 1e-5;
            let df = ((a.f)(x + h) - (a.f)(x - h)) / (2.0 * h);
            let ddf = ((a.df)(x + h) - (a.df)(x - h)) / (2.0 * h);
            assert!((df - (a.df)(x)).abs() < 1e-8, "{}′({x}) = {} but the function's slope is {df}", a.name, (a.df)(x));
            assert!((ddf - (a.ddf)(x)).abs() < 1e-8, "{}″({x}) = {} but σ′'s slope is {ddf}", a.name, (a.ddf)(x));
        }
    }
    // softplus is log(1 + eˣ), without overflow far out
    let sp = Act::named("softplus").unwrap();
    assert!((sp.eval(0.3).0 - (1.0 + 0.3f64.exp()).ln()).abs() < 1e-15);
    assert_eq!(sp.eval(800.0).0, 800.0);
    assert!(sp.eval(-800.0).0 >= 0.0 && sp.eval(-800.0).0 < 1e-300);
}

#[test]
fn a_derivative_from_the_value_gives_the_same_bits_as_the_derivative() {
    // the fast evaluator computes σ′(x) as df_of_value(σ(x)) where a row has it: it must be the same number
    let mut rows = 0;
    for a in ACTIVATIONS {
        let Some(dv) = a.df_of_value else { continue };
        rows += 1;
        for i in -400..=400 {
            let x = f64::from(i) * 0.05 + 0.013;
            assert_eq!(dv((a.f)(x)).to_bits(), (a.df)(x).to_bits(), "{}′({x}) from σ({x})", a.name);
        }
        for x in [0.0, -0.0, 1e-300, -1e-300, 40.0, -40.0, 800.0, -800.0] {
            assert_eq!(dv((a.f)(x)).to_bits(), (a.df)(x).to_bits(), "{}′({x}) from σ({x})", a.name);
        }
    }
    assert_eq!(rows, 2, "tanh and the logistic sigmoid have σ′ in σ's value");
}

#[test]
fn softplus_is_derived_checked_and_proved_like_every_activation() {
    for wrt in ["W_r", "W_x", "W_y", "s0"] {
        let o = run(&["derive", "--activation", "softplus", "--wrt", wrt]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(0), "{wrt}: {out}{}", String::from_utf8_lossy(&o.stderr));
        assert!(out.contains("✓ finite differences agree"), "{wrt}: {out}");
        assert!(out.contains("✓ every step equal to the one before"), "{wrt}: {out}");
    }
    let o = run(&["derive", "--activation", "softplus"]);
    let out = String::from_utf8_lossy(&o.stdout);
    // σ is softplus here: the header says so, the formulas write σ′, the matrix form the function's own name
    assert!(out.lines().next().unwrap().contains("σ = softplus"), "{out}");
    assert!(out.contains("∂L/∂h⁽ᵏ⁾[i] = (Σ_a ∂L/∂h⁽ᵏ⁺¹⁾[a] W⁽ʳ⁾[a,i]) σ′(h⁽ᵏ⁾[i])"), "{out}");
    assert!(out.contains("∂L/∂h⁽ᵏ⁾ = diag(softplus′(h⁽ᵏ⁾)) W⁽ʳ⁾ᵀ ∂L/∂h⁽ᵏ⁺¹⁾"), "{out}");
    let o = run(&["check", "--activation", "softplus", "--any-T", "sum_{k=1}^{T} dL/dh^(k)[i] * s^(k-1)[p]"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
    // a softplus′ dropped from the chain is refuted
    let o = run(&["check", "--activation", "softplus", "--steps", "2", "dL/ds^(2)[i] * s^(1)[p] + sum_a dL/ds^(2)[a] * softplus'(h^(2)[a]) * W_r[a,i] * softplus'(h^(1)[i]) * s^(0)[p]"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stdout));
    let o = run(&["rules", "--check"]);
    assert!(String::from_utf8_lossy(&o.stdout).lines().any(|l| l.starts_with("ok") && l.contains("d-softplus")));
    // and the grad command's fast numbers know it too
    let o = run(&["grad", "--activation", "softplus", "--steps", "50", "--hidden", "8", "--input", "4"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}
