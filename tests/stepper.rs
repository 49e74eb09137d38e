//! The stepper's pool (one e-graph per run, only what a step changed is added) takes exactly the steps of the
//! reference stepper (a fresh e-graph of the whole term for every step): same rules, same counts, same
//! expressions, for every plan, variant and activation.
use bptt::derive::{Derivation, derive};
use bptt::render::text::{Style, render};
use bptt::session::{Options, Session, targets_for};
use bptt::stepper::with_reference_steps;

/// Every step of a derivation, written out: rule, count, whole expression; the side equations.
fn steps(d: &Derivation) -> Vec<String> {
    let show = |e: &egg::RecExpr<bptt::lang::Expr>| render(e, Style::Ascii, usize::MAX / 4);
    let mut out = vec![];
    for b in &d.beats {
        out.push(format!("beat {:?} {}", b.eq, b.title));
        for t in &b.trace {
            out.push(format!("  {} x{}: {}", t.rule, t.count, show(&t.whole())));
        }
        for w in &b.wheres {
            out.push(format!("  where {} = {}", show(&w.lhs), show(&w.rhs)));
        }
    }
    out
}

fn same_steps(o: Options) {
    let case = format!("{:?} T={:?} {} bias={} many-to-many={} {}", o.wrt, o.steps, o.activation, o.bias, o.many_to_many, o.loss);
    let s = Session::load(o).unwrap();
    let pool = derive(&s.plan, &s.rules, Default::default()).unwrap();
    let reference = with_reference_steps(|| derive(&s.plan, &s.rules, Default::default())).unwrap();
    let (a, b) = (steps(&pool), steps(&reference));
    assert!(a.len() > 3, "{case}: a derivation with steps");
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "{case}: line {i} differs (pool, then reference)");
    }
    assert_eq!(a.len(), b.len(), "{case}");
    assert_eq!(pool.stats.steps, reference.stats.steps, "{case}");
    // the comparison means something only if the pool took the steps
    assert!(pool.stats.fresh_steps * 10 <= pool.stats.steps, "{case}: {} of {} steps fell back to a fresh e-graph", pool.stats.fresh_steps, pool.stats.steps);
    assert_eq!(reference.stats.fresh_steps, reference.stats.steps, "{case}: the reference took every step on a fresh e-graph");
}

#[test]
fn the_pool_takes_the_reference_steps_for_every_variant() {
    for loss in ["mse", "softmax-ce"] {
        for many_to_many in [false, true] {
            for bias in [false, true] {
                let base = Options { bias, many_to_many, loss: bptt::options::Loss::named(loss).unwrap(), ..Default::default() };
                for wrt in targets_for(&base).unwrap() {
                    for steps in [1, 2, 3, 5] {
                        same_steps(Options { wrt: Some(wrt.clone()), steps: Some(steps), ..base.clone() });
                    }
                }
            }
        }
    }
}

#[test]
fn the_pool_takes_the_reference_steps_for_every_activation() {
    for act in ["sigmoid", "relu", "identity"] {
        for wrt in targets_for(&Options { bias: true, ..Default::default() }).unwrap() {
            same_steps(Options { wrt: Some(wrt.clone()), activation: bptt::notation::Act::named(act).unwrap(), bias: true, steps: Some(4), ..Default::default() });
        }
    }
}

#[test]
fn the_pool_takes_the_reference_steps_at_a_larger_t() {
    same_steps(Options { steps: Some(12), ..Default::default() });
    same_steps(Options { steps: Some(9), many_to_many: true, wrt: Some("W_x".into()), ..Default::default() });
}

#[test]
fn the_pool_takes_the_reference_steps_for_the_gated_cells() {
    for model in ["lstm", "gru"] {
        for (bias, many_to_many, loss) in [(false, false, "mse"), (true, true, "softmax-ce")] {
            let base = Options { model: Some(model.into()), bias, many_to_many, loss: bptt::options::Loss::named(loss).unwrap(), ..Default::default() };
            for wrt in targets_for(&base).unwrap() {
                same_steps(Options { wrt: Some(wrt.clone()), steps: Some(3), ..base.clone() });
            }
        }
    }
}
