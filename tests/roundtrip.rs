//! Every expression bptt prints — LaTeX, Unicode text and ASCII text — reads back (with the readers that `check`
//! will use) to the same expression, up to the associativity of + and × that printing does not show.
mod common;
use bptt::lang::{Expr, normal_form};
use bptt::render::text::{Style, render};
use common::*;
use egg::RecExpr;

fn round_trip(e: &RecExpr<Expr>, model: &bptt::model::Model, what: &str) {
    let tex = render(e, Style::Latex, usize::MAX / 4);
    let back = bptt::read::latex::read(&tex, "printed", Some(model)).unwrap_or_else(|d| panic!("{what}: {tex}\ndoes not read back:\n{d}"));
    assert_eq!(normal_form(&back), normal_form(e), "{what}: {tex}");
    for style in [Style::Unicode, Style::Ascii] {
        // at a narrow width too: line breaks must not matter
        for width in [40, 100] {
            let text = render(e, style, width);
            let back = bptt::read::text::read(&text, "printed", Some(model)).unwrap_or_else(|d| panic!("{what}: {text}\ndoes not read back:\n{d}"));
            assert_eq!(normal_form(&back), normal_form(e), "{what} ({style:?}, width {width}): {text}");
        }
    }
}

#[test]
fn every_printed_expression_reads_back() {
    let mut count = 0;
    for wrt in ["W_r", "W_x", "W_y", "s0", "b", "c"] {
        for steps in 1..=4 {
            for act in ["tanh", "sigmoid", "relu", "identity"] {
                let o = bptt::session::Options { wrt: Some(wrt.into()), steps: Some(steps), activation: bptt::notation::Act::named(act).unwrap(), bias: true, ..Default::default() };
                let (s, d, _) = derive_and_verify(o);
                let mut all: Vec<RecExpr<Expr>> = vec![d.goal.clone()];
                for b in &d.beats {
                    all.push(b.whole.clone());
                    all.extend(b.part_lhs.iter().cloned());
                    all.extend(b.part.iter().cloned());
                    all.extend(b.trace.iter().map(|t| t.whole()));
                    for w in &b.wheres {
                        all.push(w.lhs.clone());
                        all.push(w.rhs.clone());
                    }
                }
                for def in &s.model.defs {
                    all.push(def.lhs_shown.clone());
                }
                for e in &all {
                    round_trip(e, &s.model, &format!("{wrt} T={steps} {act}"));
                    count += 1;
                }
            }
        }
    }
    assert!(count > 1000, "{count} expressions");
}

#[test]
fn reader_errors_point_at_the_column() {
    let cases = [
        ("\\frac{\\partial L}{\\partial W^{(r)}_{ip} + 1", "expected `}`"),
        ("\\sum_{k=1}^{T} \\frac{\\partial L}{h^{(k)}_i}", "expected \\partial in the denominator"),
        ("W^{(r)}_{ip} \\foo", "unknown command \\foo"),
        ("\\delta_{a}", "\\delta takes two indices"),
        ("x @ y", "unexpected `@`"),
    ];
    for (text, msg) in cases {
        let d = bptt::read::latex::read(text, "formula", None).expect_err(text);
        let shown = d.to_string();
        assert!(shown.contains(msg), "{text}: {shown}");
        assert!(shown.contains("formula:1:"), "{text}: the message has a position: {shown}");
    }
}

#[test]
fn fuzz_regressions_read_back() {
    // Inputs the fuzzers found (tests/data/fuzz-regressions): each must read, print and read back unchanged.
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz-regressions");
    let mut n = 0;
    for f in std::fs::read_dir(&dir).unwrap() {
        let p = f.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        let latex = p.extension().is_some_and(|x| x == "tex");
        let read = |t: &str| if latex { bptt::read::latex::read(t, "regression", None) } else { bptt::read::text::read(t, "regression", None) };
        match read(&text) {
            Ok(e) => {
                let styles = if latex { vec![Style::Latex] } else { vec![Style::Unicode, Style::Ascii] };
                for style in styles {
                    let printed = render(&e, style, 80);
                    let back = read(&printed).unwrap_or_else(|d| panic!("{}: {printed}\n{d}", p.display()));
                    assert_eq!(normal_form(&back), normal_form(&e), "{}: {printed}", p.display());
                }
            }
            Err(d) => assert!(!d.to_string().is_empty()),
        }
        n += 1;
    }
    assert!(n >= 2);
}
