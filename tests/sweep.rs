//! For every parameter (W⁽ʳ⁾, W⁽ˣ⁾, W⁽ʸ⁾, s0), T = 1..6, hidden n ∈ {1,2,3}, input d ∈ {1,2}, output m ∈ {1,2}, tanh and sigmoid: every shown step equals
//! the previous one, every side equation holds, and the final gradient equals an independent numeric BPTT and
//! central finite differences. The same for every parameter × activation × loss × {many-to-one, many-to-many}
//! × T = 1..5 at small sizes.
mod common;
use bptt::session::Options;
use common::*;

fn check(steps: usize, n: usize, d: usize, m: usize, act: &str, wrt: &str) {
    check_model(steps, n, d, m, act, wrt, false)
}

fn check_model(steps: usize, n: usize, d: usize, m: usize, act: &str, wrt: &str, bias: bool) {
    check_variant(steps, n, d, m, act, wrt, bias, false, "mse")
}

#[allow(clippy::too_many_arguments)]
fn check_variant(steps: usize, n: usize, d: usize, m: usize, act: &str, wrt: &str, bias: bool, many_to_many: bool, loss: &str) {
    let o = Options {
        steps: Some(steps),
        sizes: vec![("hidden".into(), n), ("input".into(), d), ("output".into(), m)],
        activation: bptt::notation::Act::named(act).unwrap(),
        wrt: Some(wrt.into()),
        seed: (steps * 100 + n * 10 + d + m) as u64,
        bias,
        many_to_many,
        loss: bptt::options::Loss::named(loss).unwrap(),
        ..Options::default()
    };
    let (s, der, v) = derive_and_verify(o);
    let case = format!("∂L/∂{wrt} T={steps} n={n} d={d} m={m} {act} bias={bias} many-to-many={many_to_many} {loss}");
    assert!(v.broken.is_none(), "{case}: a step changed the value: {:?}", v.broken);
    assert!(v.worst_step <= 1e-9, "{case}: worst step change {}", v.worst_step);
    assert!(v.bad_where.is_none(), "{case}: a side equation is off: {:?}", v.bad_where);
    assert!(v.fd_ok, "{case}: finite differences disagree by {}", v.fd_error);
    assert_eq!(v.beats.len(), der.beats.len());
    let net = Net::variant(&s.params.to_json(&s.model), act, loss);
    let (loss, _, _) = net.bptt();
    assert!((loss - v.loss).abs() <= 1e-12 * loss.abs().max(1.0), "{case}: loss {loss} vs {}", v.loss);
    let want = net.grad_of(wrt);
    assert_eq!(want.len(), v.gradient.data.len(), "{case}: shape");
    for (k, (ours, theirs)) in v.gradient.data.iter().zip(&want).enumerate() {
        assert!((ours - theirs).abs() <= 1e-12, "{case}: entry {k} = {ours}, oracle {theirs}");
    }
    if wrt == "W_r" || wrt == "W_x" || wrt == "b" || (many_to_many && (wrt == "W_y" || wrt == "c")) {
        assert_eq!(v.per_time.len(), steps, "{case}: the final form is a Σ over k = 1..T");
    }
}

#[test]
fn every_parameter_activation_loss_and_output_shape_checks_out() {
    for loss in ["mse", "softmax-ce"] {
        for many_to_many in [false, true] {
            for act in ["tanh", "sigmoid", "relu", "identity"] {
                for steps in 1..=5 {
                    for wrt in ["W_r", "W_x", "W_y", "s0", "b", "c"] {
                        let bias = wrt == "b" || wrt == "c" || steps == 3;
                        check_variant(steps, 2, 1 + steps % 2, 3, act, wrt, bias, many_to_many, loss);
                    }
                }
            }
        }
    }
}

#[test]
fn many_to_many_reproduces_the_d2l_recurrence() {
    // ∂L/∂h⁽ᵏ⁾ = diag(σ′(h⁽ᵏ⁾)) (W⁽ʳ⁾ᵀ ∂L/∂h⁽ᵏ⁺¹⁾ + W⁽ʸ⁾ᵀ ∂ℓ⁽ᵏ⁾/∂y⁽ᵏ⁾): the side equation the derivation shows
    let o = Options { steps: Some(4), many_to_many: true, ..Options::default() };
    let (s, der, v) = derive_and_verify(o);
    assert!(v.bad_where.is_none() && v.fd_ok);
    let text = bptt::render::text::render(&der.beats.last().unwrap().wheres.last().unwrap().rhs, bptt::render::text::Style::Ascii, 1000);
    assert_eq!(text, "(sum_a dL/dh^(k+1)[a] * W_r[a,i] + sum_m (y^(k)[m] - ybar^(k)[m]) * W_y[m,i]) * tanh'(h^(k)[i])");
    // and the oracle's δ⁽ᵏ⁾ (written with the recurrence directly) is the derived per-step gradient's source
    let net = Net::variant(&s.params.to_json(&s.model), "tanh", "mse");
    let (_, delta, wr) = net.bptt();
    assert_eq!(delta.len(), 5);
    for (k, (ours, theirs)) in v.gradient.data.iter().zip(wr.concat()).enumerate() {
        assert!((ours - theirs).abs() <= 1e-12, "entry {k}: {ours} vs {theirs}");
    }
}

#[test]
fn every_size_and_activation_checks_out() {
    for act in ["tanh", "sigmoid"] {
        for steps in 1..=6 {
            for n in 1..=3 {
                for d in 1..=2 {
                    for m in 1..=2 {
                        for wrt in ["W_r", "W_x", "W_y", "s0"] {
                            check(steps, n, d, m, act, wrt);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn relu_and_identity_check_out() {
    for act in ["relu", "identity"] {
        for steps in 1..=5 {
            for n in 1..=2 {
                for d in 1..=2 {
                    for wrt in ["W_r", "W_x", "W_y", "s0"] {
                        check(steps, n, d, 1, act, wrt);
                    }
                }
            }
        }
    }
}

#[test]
fn the_model_with_biases_checks_out() {
    for act in ["tanh", "sigmoid"] {
        for steps in 1..=4 {
            for n in 1..=2 {
                for m in 1..=2 {
                    for wrt in ["W_r", "W_x", "W_y", "s0", "b", "c"] {
                        check_model(steps, n, 1, m, act, wrt, true);
                    }
                }
            }
        }
    }
}

#[test]
fn a_long_unrolling_checks_out() {
    for wrt in ["W_r", "W_x", "W_y", "s0"] {
        check(20, 2, 1, 1, "tanh", wrt);
    }
}
