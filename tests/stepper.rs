//! The stepper's pool (one e-graph per run, only what a step changed is added) takes exactly the steps of the
//! reference stepper (a fresh e-graph of the whole term for every step): same rules, same counts, same
//! expressions, for every plan, variant and activation.
use bptt::derive::{Derivation, derive};
use bptt::render::text::{Style, render};
use bptt::session::{Options, Session, targets_for};
use bptt::stepper::with_reference_steps;
mod common;

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

/// A rule whose applier works on the outermost of nested matches (`@sum-collect`) keeps its misses at an inner
/// `+` while the `+` above it is tried instead. Here the `+` above is taken away after a change below the inner
/// one made a pair to collect there, before the rule is tried again: the inner `+` is now outermost and must be
/// tried (the pool forgets its misses where its parents change), as the reference step, which starts afresh,
/// does. Two test rules beside the built-in ones: `t-enable` makes the second sum's derivative the first's (and
/// the last term's), `t-drop` takes the last term away.
#[test]
fn an_inner_chain_that_becomes_outermost_is_tried_again() {
    let header = "# Algebra: the 0 and 1 laws that tidy what the calculus rules leave behind.\n";
    let rules = "\n# test: Q in place of R\nt-enable: (tx R ?k) => (tx Q ?k)\n\n# test: the last term dropped\nt-drop: (+ ?x (tx Q c)) => ?x\n";
    let dir = common::copy_rules("outermost-reparented", &[("algebra.rules", header, &format!("{header}{rules}"))]);
    let s = Session::load(Options { rules_dir: Some(dir), ..Default::default() }).unwrap();
    let term: egg::RecExpr<bptt::lang::Expr> = "(+ (+ (sum a n (* g (d (tx Q a) w))) (sum b n (* h (d (tx R b) w)))) (tx R c))".parse().unwrap();
    let uses: Vec<bptt::plan::RuleUse> = ["t-drop", "sum-collect", "t-enable"].iter().map(|n| bptt::plan::RuleUse { name: n.to_string(), limit: None }).collect();
    let run = || {
        let mut stats = Default::default();
        let reserved = bptt::lang::Reserved::default();
        let steps = bptt::stepper::run(&term, &uses, &s.rules, &reserved, Default::default(), &mut stats, "test").unwrap();
        let show = |e: &egg::RecExpr<bptt::lang::Expr>| render(e, Style::Ascii, usize::MAX / 4);
        (steps.iter().map(|t| format!("{} x{}: {}", t.rule, t.count, show(&t.term))).collect::<Vec<_>>(), stats)
    };
    let (pool, stats) = run();
    let (reference, _) = with_reference_steps(run);
    assert_eq!(pool, reference);
    assert_eq!(stats.fresh_steps, 0, "the pool took the steps");
    // t-enable, t-drop, then the two sums collected into one
    assert_eq!(pool.iter().map(|l| l.split(' ').next().unwrap_or("")).collect::<Vec<_>>(), ["t-enable", "t-drop", "sum-collect"], "{pool:#?}");
}
