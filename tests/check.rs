//! `bptt check`: the corpus of hand-written formulas (tests/data/check/corpus.txt) with the verdict and diagnosis
//! each must get; every wrong form the mistake catalogue makes is refuted; derivation files; parse errors
//! (snapshotted); exit codes, JSON, --any-T, standard input and -f.
mod common;
use bptt::check::mistakes::{Catalogue, correct_forms};
use bptt::check::{Checked, Verdict, check, read_formula, reference};
use bptt::derive::{Derivation, derive};
use bptt::session::{Options, Session};
use common::*;
use std::collections::HashMap;

struct Ctx {
    s: Session,
    d: Derivation,
    cat: Catalogue,
}

/// `wrt` is a parameter of the default model, or `MODEL:wrt` / `MODEL+bias:wrt` (the gated cells' lines).
fn ctx(wrt: &str, steps: usize) -> Ctx {
    let (model, bias, wrt) = match wrt.split_once(':') {
        Some((m, w)) => (Some(m.trim_end_matches("+bias").to_string()), m.ends_with("+bias"), w),
        None => (None, false, wrt),
    };
    let s = Session::load(Options { model, bias, steps: Some(steps), wrt: Some(wrt.into()), ..Options::default() }).unwrap();
    let d = derive(&s.plan, &s.rules, Default::default()).unwrap();
    let cat = Catalogue::load(&s).unwrap();
    Ctx { s, d, cat }
}

fn verdict(c: &Checked) -> &'static str {
    match c.verdict {
        Verdict::Proved(_) => "proved",
        Verdict::Agrees => "agrees",
        Verdict::Refuted { .. } => "refuted",
    }
}

fn diagnosis(c: &Checked) -> Vec<String> {
    match &c.verdict {
        Verdict::Refuted { diagnosis, .. } => diagnosis.iter().map(|m| m.name.clone()).collect(),
        _ => vec![],
    }
}

#[test]
fn the_corpus_gets_the_expected_verdicts_and_diagnoses() {
    let text = std::fs::read_to_string(data("check/corpus.txt")).unwrap();
    let mut cache: HashMap<(String, usize), Ctx> = HashMap::new();
    let mut n = 0;
    let (mut latex, mut plain, mut wrong) = (0, 0, 0);
    let mut mistakes_named = std::collections::BTreeSet::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let f: Vec<&str> = line.splitn(6, '|').map(str::trim).collect();
        let (wrt, steps, flags, want, mistake, formula) = (f[0], f[1].parse::<usize>().unwrap(), f[2], f[3], f[4], f[5]);
        let c = cache.entry((wrt.into(), steps)).or_insert_with(|| ctx(wrt, steps));
        let read = read_formula(&c.s, formula, "<corpus>", flags == "einstein").unwrap_or_else(|e| panic!("{formula}: {e}"));
        let got = check(&c.s, &c.d, &c.cat, &read, 20, Default::default()).unwrap();
        assert_eq!(verdict(&got), want, "{wrt} T={steps}: {formula}");
        if want == "refuted" {
            wrong += 1;
            let diag = diagnosis(&got);
            if mistake == "-" {
                assert!(diag.is_empty(), "{formula}: no mistake of the catalogue explains it, got {diag:?}");
            } else {
                assert!(diag.contains(&mistake.to_string()), "{formula}: expected the diagnosis {mistake}, got {diag:?}");
                mistakes_named.insert(mistake.to_string());
            }
        }
        if formula.contains('\\') { latex += 1 } else { plain += 1 }
        n += 1;
    }
    assert!(n >= 30 && latex >= 10 && plain >= 10, "{n} formulas, {latex} LaTeX, {plain} text");
    // one wrong formula for every mistake of the catalogue
    let all: std::collections::BTreeSet<String> = cache.values().next().unwrap().cat.mistakes.iter().map(|m| m.name.clone()).collect();
    assert_eq!(mistakes_named, all, "every catalogue entry has a wrong formula in the corpus");
    assert!(wrong >= 20);
}

/// Every wrong form the catalogue makes from the derivation (every beat, every mistake) is refuted: never proved
/// and never agreeing.
#[test]
fn no_wrong_formula_is_ever_proved_or_agreeing() {
    let mut tried = 0;
    for (wrt, steps) in [("W_r", 2), ("W_r", 3), ("W_x", 3)] {
        let c = ctx(wrt, steps);
        let forms = correct_forms(&c.d, &[reference(&c.s, &c.d)]);
        for w in c.cat.wrong_forms(&forms, Default::default()) {
            let got = check(&c.s, &c.d, &c.cat, &w.form, 10, Default::default()).unwrap();
            let shown = bptt::render::text::render(&w.form, bptt::render::text::Style::Ascii, 1000);
            assert_eq!(verdict(&got), "refuted", "{wrt} T={steps}, {}: {shown}", c.cat.mistakes[w.mistake].name);
            tried += 1;
        }
    }
    assert!(tried >= 60, "{tried} wrong forms");
}

#[test]
fn a_refutation_names_seed_sizes_entry_values_and_the_first_differing_step() {
    let o = run(&["check", "sum_{k=1}^{T} dL/dh^(k)[i] * s^(k)[p]"]);
    assert_eq!(o.status.code(), Some(1), "refuted is exit 1");
    let out = stdout(&o);
    assert!(out.contains("counterexample at seed 1, T=3, hidden 3, input 2, output 2, entry i="), "{out}");
    assert!(out.contains("the first time step whose term differs: k=1"), "{out}");
    assert!(out.contains("time index off by one: s⁽ᵏ⁾ written for s⁽ᵏ⁻¹⁾"), "{out}");
    assert!(out.contains("mistake-state-off-by-one, rules/mistakes.catalogue:"), "{out}");
    assert!(out.trim_end().ends_with("✗ REFUTED"), "{out}");
    // the numbers are the real ones: the gradient entry equals the derivation's
    let j = run(&["check", "--format", "json", "sum_{k=1}^{T} dL/dh^(k)[i] * s^(k)[p]"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&j)).unwrap();
    let ce = &v["checks"][0]["refutation"]["counterexample"];
    let (i, p) = (ce["entry"]["i"].as_u64().unwrap() as usize, ce["entry"]["p"].as_u64().unwrap() as usize);
    let (s, _, n) = derive_and_verify(Options::default());
    let truth = n.gradient.data[(i - 1) * s.size("hidden") + (p - 1)];
    assert!((ce["gradient"].as_f64().unwrap() - truth).abs() < 1e-15);
    assert_ne!(ce["yours"].as_f64().unwrap(), truth);
}

#[test]
fn a_proof_names_the_rules_that_connect_the_two() {
    let o = run(&["check", "dL/dh^(3)[i] s^(2)[p] + dL/dh^(2)[i] s^(1)[p] + dL/dh^(1)[i] s^(0)[p]"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("agrees with the gradient at 20 random points (seeds 1–20; hidden 3, input 2, output 2; per entry within 1e-12 relative + 1e-13 of the largest entry, the rounding of f64)"), "{out}");
    assert!(out.contains("yours:    backprop-h ×3, backprop-s ×2, backprop-s-last"), "{out}");
    assert!(out.contains("derived:  time-sum-unroll, backprop-h ×3, backprop-s ×2, backprop-s-last"), "{out}");
    assert!(out.trim_end().ends_with("✓ PROVED"), "{out}");
    // every expansion step on request, each with its rule
    let o = run(&["check", "--steps", "2", "--trace", "dL/dh^(2)[i] s^(1)[p] + dL/dh^(1)[i] s^(0)[p]"]);
    let out = stdout(&o);
    assert!(out.contains("derived, step by step:\n           time-sum-unroll: ∂L/∂h⁽¹⁾[i] s⁽⁰⁾[p] + ∂L/∂h⁽²⁾[i] s⁽¹⁾[p]"), "{out}");
    // a form of the derivation itself: the beats that lead to it, with their rules
    let o = run(&["check", "sum_a dL/ds^(3)[a] * ds^(3)[a]/dW_r[i,p]"]);
    let out = stdout(&o);
    assert!(out.contains("it is eq 7 of the derivation, up to the order of terms and factors; the rules from the goal to it:"), "{out}");
    assert!(out.contains("(5)  chain-output\n           (6)  unfold-loss, d-sum, d-half-square, d-sub, d-leaf, sub-zero, delta-contract\n           (7)  unfold-y,"), "{out}");
    // an agreeing form the rules cannot expand is never called proved
    let o = run(&["check", "--steps", "2", "sum_a dL/dh^(2)[a] (delta(a,i) s^(1)[p] + sum_b W_r[a,b] ds^(1)[b]/dW_r[i,p])"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("AGREES at 20 random points, not proved") && !out.contains("PROVED"), "{out}");
}

#[test]
fn the_diagnosis_comes_from_the_catalogue_file() {
    // reword one entry and remove another: the output follows the file
    let dir = copy_rules(
        "check-catalogue",
        &[
            ("mistakes.catalogue", "# time index off by one: s⁽ᵏ⁾ written for s⁽ᵏ⁻¹⁾ (h⁽ᵏ⁾ reads the state of the step before)", "# the state is one step too late"),
            ("mistakes.catalogue", "mistake-only-last-step: (tsum ?k ?lo ?hi ?b) => (tsum ?k ?hi ?hi ?b)", ""),
        ],
    );
    let r = dir.to_str().unwrap();
    let out = stdout(&run(&["check", "--rules", r, "sum_{k=1}^{T} dL/dh^(k)[i] * s^(k)[p]"]));
    assert!(out.contains("the state is one step too late   (mistake-state-off-by-one"), "{out}");
    let out = stdout(&run(&["check", "--rules", r, "dL/dh^(3)[i] * s^(2)[p]"]));
    assert!(out.contains("no single mistake of the catalogue"), "{out}");
}

#[test]
fn a_derivation_file_reports_the_first_broken_line() {
    let f = data("check/derivation-broken.txt");
    let o = run(&["check", "--steps", "2", "--steps-file", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o).replace(f.to_str().unwrap(), "FILE");
    insta::assert_snapshot!("check-derivation-broken", out);
    assert!(out.contains("FILE:6 is the first line that is not equal to the one before it"), "{out}");
    assert!(out.contains("mistake-transposed-weight"), "{out}");
    let good = data("check/derivation-good.txt");
    let o = run(&["check", "--steps", "2", "--steps-file", good.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // which lines are proved and which only agree at the random points is said, never lumped together
    assert!(stdout(&o).contains("proved   lines 2, 3, 4, 6, 7\nagrees   line 5 (at the random points only, not proved)\nverdict  ✓ no line differs from the gradient; not every line is proved"), "{}", stdout(&o));
}

#[test]
fn any_t_checks_every_t_from_1_to_8() {
    let o = run(&["check", "--any-T", "sum_{k=1}^{T} dL/dh^(k)[i] s^(k-1)[p]"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    for t in 1..=8 {
        assert!(out.contains(&format!("T={t}   ✓ proved")), "{out}");
    }
    // right at T = 3 by accident is still wrong: written out for T = 3 only
    let o = run(&["check", "--any-T", "dL/dh^(T)[i] s^(T-1)[p] + dL/dh^(T-1)[i] s^(T-2)[p] + dL/dh^(T-2)[i] s^(T-3)[p]"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("T=1   ✗ refuted"), "{}", stdout(&o));
}

#[test]
fn formulas_come_from_an_argument_a_file_or_standard_input() {
    use std::io::Write;
    let f = "sum_{k=1}^{T} dL/dh^(k)[i] * s^(k-1)[p]";
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp/check-formula.tex");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "\\sum_{k=1}^{T} \\frac{\\partial L}{\\partial h^{(k)}_i} s^{(k-1)}_p\n").unwrap();
    let a = run(&["check", f]);
    let b = run(&["check", "-f", path.to_str().unwrap()]);
    let mut child = bin().args(["check", "-"]).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(f.as_bytes()).unwrap();
    let c = child.wait_with_output().unwrap();
    for o in [&a, &b, &c] {
        assert_eq!(o.status.code(), Some(0));
        assert!(stdout(o).contains("✓ PROVED"));
    }
    assert_eq!(stdout(&a), stdout(&c), "same input, same output");
}

#[test]
fn bad_formulas_are_errors_with_a_position_and_a_hint() {
    let cases = [
        ("unclosed-time", "sum_{k=1}^{T} dL/dh^(k)[i] * s^(k-1[p]"),
        ("latex-unclosed-frac", "\\sum_{k=1}^{T} \\frac{\\partial L}{\\partial h^{(k)}_i s^{(k-1)}_p"),
        ("unknown-name", "sum_{k=1}^{T} dL/dh^(k)[i] * q^(k-1)[p]"),
        ("dangling-operator", "sum_{k=1}^{T} dL/dh^(k)[i] *"),
        ("free-index-left", "dL/dh^(3)[a] s^(2)[p]"),
        ("wrong-target-indices", "sum_{k=1}^{T} dL/dh^(k)[i] x^(k)[q]"),
        ("empty", ""),
    ];
    for (name, f) in cases {
        let o = run(&["check", f]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{name}: no partial output");
        insta::assert_snapshot!(format!("check-error-{name}"), stderr(&o));
    }
}

#[test]
fn check_output_is_deterministic() {
    let f = "sum_{k=1}^{T} dL/ds^(k)[i] * s^(k-1)[p]";
    assert_eq!(run(&["check", f]).stdout, run(&["check", f]).stdout);
}

#[test]
fn check_works_for_the_model_variants() {
    // many-to-many: the Σₖ form is proved from the m2m derivation; a time slip is refuted and diagnosed
    let o = run(&["check", "--many-to-many", "sum_{k=1}^{T} dL/dh^(k)[i] * s^(k-1)[p]"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("PROVED") && stdout(&o).contains("many-to-many RNN"), "{}", stdout(&o));
    let o = run(&["check", "--many-to-many", "sum_{k=1}^{T} dL/dh^(k)[i] * s^(k)[p]"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("mistake-state-off-by-one"), "{}", stdout(&o));
    // softmax cross-entropy: the output gradient is ŷ − ȳ; written with y − ȳ (the squared error's) it is refuted
    let o = run(&["check", "--loss", "softmax-ce", "--wrt", "W_y", "(ŷ[o] - ȳ[o]) * s^(3)[j]"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = run(&["check", "--loss", "softmax-ce", "--wrt", "W_y", "(y[o] - ȳ[o]) * s^(3)[j]"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("mistake-softmax-residual"), "{}", stdout(&o));
}
