//! Criterion benchmarks (run by hand: `cargo bench`; not part of CI). Derivations of ∂L/∂W⁽ʳ⁾ and of every
//! parameter at T = 3, 10, 30, 100; rendering as text and LaTeX; the fast evaluation of the derived gradient at
//! (n, d, T) = (8, 8, 100) and (64, 64, 1000); `check` at T = 3 and 10.
use bptt::check::mistakes::Catalogue;
use bptt::derive::derive;
use bptt::render::text::{Style, render};
use bptt::session::{Options, Session, targets_for};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn session(wrt: &str, steps: usize) -> Session {
    Session::load(Options { steps: Some(steps), wrt: Some(wrt.into()), ..Options::default() }).unwrap()
}

fn derivations(c: &mut Criterion) {
    let mut g = c.benchmark_group("derive");
    g.sample_size(10);
    for t in [3, 10, 30, 100] {
        g.bench_with_input(BenchmarkId::new("W_r", t), &t, |b, &t| {
            b.iter(|| {
                let s = session("W_r", t);
                black_box(derive(&s.plan, &s.rules, Default::default()).unwrap())
            })
        });
        g.bench_with_input(BenchmarkId::new("all", t), &t, |b, &t| {
            b.iter(|| {
                for wrt in targets_for(&Options::default()).unwrap() {
                    let s = session(&wrt, t);
                    black_box(derive(&s.plan, &s.rules, Default::default()).unwrap());
                }
            })
        });
    }
    g.finish();
}

fn rendering(c: &mut Criterion) {
    let mut g = c.benchmark_group("render");
    for t in [3, 10, 30, 100] {
        let s = session("W_r", t);
        let d = derive(&s.plan, &s.rules, Default::default()).unwrap();
        let forms: Vec<_> = d.beats.iter().map(|b| b.whole.clone()).collect();
        g.bench_with_input(BenchmarkId::new("text", t), &forms, |b, f| b.iter(|| f.iter().map(|e| render(e, Style::Unicode, 100).len()).sum::<usize>()));
        g.bench_with_input(BenchmarkId::new("latex", t), &forms, |b, f| b.iter(|| f.iter().map(|e| render(e, Style::Latex, 100).len()).sum::<usize>()));
    }
    g.finish();
}

fn evaluation(c: &mut Criterion) {
    let mut g = c.benchmark_group("evaluate");
    g.sample_size(20);
    for (n, d, t) in [(8, 8, 100), (64, 64, 1000)] {
        let s = Session::load(Options { steps: Some(t), sizes: vec![("hidden".into(), n), ("input".into(), d)], ..Options::default() }).unwrap();
        g.bench_function(format!("grad n={n} d={d} T={t}"), |b| b.iter(|| black_box(bptt::dense::closed_gradient(&s, Default::default()).unwrap())));
    }
    g.finish();
}

fn checking(c: &mut Criterion) {
    let mut g = c.benchmark_group("check");
    g.sample_size(20);
    for t in [3, 10] {
        let s = session("W_r", t);
        let d = derive(&s.plan, &s.rules, Default::default()).unwrap();
        let cat = Catalogue::load(&s).unwrap();
        let right = bptt::check::read_formula(&s, "sum_{k=1}^{T} dL/dh^(k)[i] * s^(k-1)[p]", "bench", false).unwrap();
        let wrong = bptt::check::read_formula(&s, "sum_{k=1}^{T} dL/dh^(k)[i] * s^(k)[p]", "bench", false).unwrap();
        g.bench_with_input(BenchmarkId::new("proved", t), &right, |b, f| b.iter(|| black_box(bptt::check::check(&s, &d, &cat, f, 20, Default::default()).unwrap())));
        g.bench_with_input(BenchmarkId::new("refuted+diagnosis", t), &wrong, |b, f| b.iter(|| black_box(bptt::check::check(&s, &d, &cat, f, 20, Default::default()).unwrap())));
    }
    g.finish();
}

criterion_group!(benches, derivations, rendering, evaluation, checking);
criterion_main!(benches);
