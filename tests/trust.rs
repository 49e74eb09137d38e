//! `check` never accepts a wrong gradient; nothing panics, aborts or loses output; limits hold (issue 14).
//! Each test is a reproducer of a way the checker or the binary once failed, and more of the same class.
mod common;
use common::*;
use std::process::Output;

const G: &str = "sum_{k=1}^{T} dL/dh^(k)[i] s^(k-1)[p]";

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn no_crash(o: &Output, what: &str) {
    let err = stderr(o);
    assert!(o.status.code().is_some(), "{what}: killed by a signal: {err}");
    assert!(!err.contains("panicked") && !err.contains("internal failure") && !err.contains("memory allocation"), "{what}: {err}");
}

/// Every right formula of the corpus is proved or agrees (exit 0), every wrong one is refuted (exit 1): 0 false
/// PROVED, 0 false AGREES, no right formula refuted.
#[test]
fn the_trust_corpus_has_no_false_verdict() {
    let text = std::fs::read_to_string(data("check/trust-corpus.tsv")).unwrap();
    let rows: Vec<(String, String, String, String)> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.splitn(4, '\t').collect();
            (f[0].to_string(), f[1].to_string(), f[2].to_string(), f[3].to_string())
        })
        .collect();
    let count = |exp: &str, wx: bool| rows.iter().filter(|r| r.0 == exp && r.2.contains("--wrt W_x") == wx).count();
    assert!(count("right", false) + count("right", true) >= 100 && count("wrong", false) + count("wrong", true) >= 100, "at least 100 right and 100 wrong formulas");
    assert!(count("right", true) >= 10 && count("wrong", true) >= 10, "W_x has its own share");
    let chunks: Vec<Vec<(String, String, String, String)>> = rows.chunks(rows.len().div_ceil(2)).map(|c| c.to_vec()).collect();
    let bad: Vec<String> = std::thread::scope(|s| {
        let hs: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                s.spawn(move || {
                    let mut bad = vec![];
                    for (exp, class, flags, formula) in chunk {
                        let mut args: Vec<&str> = vec!["check"];
                        args.extend(flags.split_whitespace());
                        args.push(formula);
                        let o = run(&args);
                        let want = if exp == "right" { 0 } else { 1 };
                        if code(&o) != want {
                            bad.push(format!("{exp} [{class}] {flags} {formula}: exit {:?}\n{}{}", o.status.code(), stdout(&o), stderr(&o)));
                        }
                    }
                    bad
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert!(bad.is_empty(), "{} wrong verdicts:\n{}", bad.len(), bad.join("\n"));
}

#[test]
fn proofs_are_exact() {
    for f in [format!("{G} + 0.000000000001*W_r[i,p]"), format!("1.0000000000001*({G})"), format!("{G} + 1e-30*W_r[i,p]")] {
        let o = run(&["check", &f]);
        let out = stdout(&o);
        assert_eq!(code(&o), 1, "{f}: {out}");
        assert!(!out.contains("PROVED") && !out.contains("AGREES"), "{out}");
    }
    // the exact difference is what refutes a coefficient 1 + 1e-13: it is shown, with its rounding bound
    let out = stdout(&run(&["check", &format!("1.0000000000001*({G})")]));
    assert!(out.contains("yours − gradient") && out.contains("it is not zero"), "{out}");
    // a literal a 64-bit float cannot hold exactly is refused where it stands
    let o = run(&["check", &format!("1.00000000000000000001*({G})")]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains("has more digits than a 64-bit number holds") && err.contains("^^^^"), "{err}");
    // the rewriting folds constants in f64, the proof must not: 1.0000000000000002 × 0.9999999999999998 is 1 in
    // f64 and 1 − 4e-32 exactly; and 1/3 · 3 is 1 exactly, 0.1 · 3 + 0.7 is 1 exactly
    let o = run(&["check", &format!("1.0000000000000002 * 0.9999999999999998 * ({G})")]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    for f in [r"\sum_{k=1}^{T} \frac{1}{3} \cdot 3 \frac{\partial L}{\partial h^{(k)}_i} s^{(k-1)}_p".to_string(), format!("0.1*3*({G}) + 0.7*({G})")] {
        let o = run(&["check", &f]);
        assert!(stdout(&o).contains("✓ PROVED"), "{f}: {}", stdout(&o));
    }
    // 1e-13 reads as a number (it once read as `1e` then `-13`)
    assert_eq!(code(&run(&["check", &format!("{G} + 0*1e-13")])), 0);
}

#[test]
fn vanishing_terms_are_seen() {
    let o = run(&["check", "--steps", "30", "--activation", "sigmoid", "sum_{k=2}^{T} dL/dh^(k)[i] s^(k-1)[p]"]);
    let out = stdout(&o);
    assert_eq!(code(&o), 1, "{out}");
    assert!(out.contains("the first time step whose term differs: k=1"), "{out}");
    assert!(out.contains("mistake-range-misses-first"), "{out}");
    let o = run(&["check", "--steps", "40", "--activation", "sigmoid", "--wrt", "W_x", "sum_{k=T-20}^{T} dL/dh^(k)[i] x^(k)[q]"]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    // the tolerance is said
    let out = stdout(&run(&["check", G]));
    assert!(out.contains("per entry within 1e-12 relative + 1e-13 of the largest entry"), "{out}");
}

#[test]
fn nan_is_never_equal() {
    for f in [format!("{G} + (delta(i,p) - 1)^0.5"), format!("{G} * (1 + 0*(delta(i,p)-1)^0.5)"), format!("{G} + 0*(W_r[i,p] - 5)^0.5")] {
        let o = run(&["check", &f]);
        assert_eq!(code(&o), 1, "{f}: {}", stdout(&o));
        assert!(stdout(&o).contains("not a number"), "{}", stdout(&o));
    }
}

#[test]
fn values_that_do_not_exist_refute() {
    for (wrt, f) in [
        ("W_r", format!("{G} + dL/dh^(0)[i] W_r[i,p]")),
        ("W_r", "sum_{k=1}^{T+1} dL/dh^(k)[i] s^(k-1)[p]".to_string()),
        ("W_r", format!("{G} + dL/dh^(T+1)[i] s^(T)[p]")),
        ("W_x", "sum_{k=1}^{T} dL/dh^(k)[i] x^(k)[q] + dL/dx^(0)[q] W_x[i,q]".to_string()),
        ("W_r", format!("{G} + ds^(4)[i]/dW_r[i,p]")),
    ] {
        let o = run(&["check", "--wrt", wrt, &f]);
        let out = stdout(&o);
        assert_eq!(code(&o), 1, "{f}: {out}");
        assert!(out.contains("reads a value that does not exist"), "{out}");
    }
}

#[test]
fn a_sum_index_cannot_capture_a_name() {
    for f in ["sum_{L=1}^{T} dL/dh^(L)[i] s^(L-1)[p]", "sum_L dL/dh^(1)[i] s^(0)[p]", "sum_{T=1}^{3} dL/dh^(T)[i] s^(T-1)[p]", r"\sum_{L=1}^{T} \frac{\partial L}{\partial h^{(L)}_i} s^{(L-1)}_p"] {
        let o = run(&["check", f]);
        assert_eq!(code(&o), 2, "{f}");
        assert!(stderr(&o).contains("is a name of the model") && stderr(&o).contains("hint: use another letter"), "{}", stderr(&o));
    }
    // an indexed name (the bias b) is never read bare: b stays a fine index, as the derivation itself uses it
    let o = run(&["check", "--bias", "sum_{k=1}^{T} sum_b dL/dh^(k)[b] delta(b,i) s^(k-1)[p]"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn bounds_must_be_whole() {
    for (f, at) in [("sum_{k=0.5}^{T} dL/dh^(k)[i] s^(k-1)[p]", "0.5"), ("sum_{k=1}^{3.5} dL/dh^(k)[i] s^(k-1)[p]", "3.5"), (r"\sum_{k=1}^{2.5} \frac{\partial L}{\partial h^{(k)}_i} s^{(k-1)}_p", "2.5")] {
        let o = run(&["check", f]);
        assert_eq!(code(&o), 2, "{f}");
        let err = stderr(&o);
        assert!(err.contains(&format!("the bound {at} of a Σ over time is not a whole number")) && err.contains('^'), "{err}");
    }
}

#[test]
fn rules_check_sees_small_and_shape_errors() {
    let off = copy_rules("trust-off-by-1e-10", &[("calculus.rules", "d-half-square: (d (* 0.5 (pow ?a 2)) ?w) => (* ?a (d ?a ?w))", "d-half-square: (d (* 0.5 (pow ?a 2)) ?w) => (* 1.0000000001 (* ?a (d ?a ?w)))")]);
    let o = run(&["rules", "--check", "--rules", off.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(stdout(&o).contains("UNSOUND   d-half-square"), "{}", stdout(&o));
    // and a check under those rules still refutes a wrong formula
    let o = run(&["check", "--rules", off.to_str().unwrap(), &format!("1.0000000001*({G})")]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let sizes = copy_rules("trust-size", &[("algebra.rules", "# 0 a = 0\n", "# Σ over the hidden size is Σ over the input size (wrong)\nsum-wrong-size: (sum ?k n_h ?a) => (sum ?k n_x ?a)\n\n# 0 a = 0\n")]);
    let o = run(&["rules", "--check", "--rules", sizes.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(stdout(&o).contains("UNSOUND   sum-wrong-size"), "{}", stdout(&o));
    // the shipped rules are all sound under the tighter test
    let o = run(&["rules", "--check"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

#[test]
fn time_steps_are_affine_and_sigma_is_the_activation() {
    let o = run(&["check", "sum_{k=1}^{T} dL/dh^(T-k+1)[i] s^(T-k)[p]"]);
    assert!(stdout(&o).contains("✓ PROVED"), "{}", stdout(&o));
    let o = run(&["check", &format!("sum_{{k=1}}^{{T}} dL/ds^(k)[i] σ'(h^(k)[i]) s^(k-1)[p] + 0*sigmoid(W_r[i,p])")]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

#[test]
fn no_panic_no_abort() {
    // a timeout beyond the clock's range
    let o = run(&["derive", "--timeout", "18446744073709551615"]);
    no_crash(&o, "timeout");
    assert_eq!(code(&o), 0);
    // 1 000 000 nested ∂ prefixes (12 MB): refused by the input cap, and by the depth guard below it
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp/trust");
    std::fs::create_dir_all(&dir).unwrap();
    let deep = dir.join("deep.txt");
    std::fs::write(&deep, format!("{}W_r[i,p]", "d/dW_r[i,p] ".repeat(1_000_000))).unwrap();
    let o = run(&["check", "-f", deep.to_str().unwrap()]);
    no_crash(&o, "deep file");
    assert_eq!(code(&o), 2);
    let o = run(&["check", "-f", deep.to_str().unwrap(), "--max-input", "100000000"]);
    no_crash(&o, "deep file, no cap");
    assert!(stderr(&o).contains("nests too deeply"), "{}", stderr(&o));
    // a model whose definitions go round in a circle, under every command that loads it
    for (case, from, to) in [
        ("self", "unfold-s: (tx s ?t ?i) := ({act} (tx h ?t ?i)) if ?t > 0", "unfold-s: (tx s ?t ?i) := ({act} (tx s ?t ?i)) if ?t > 0"),
        ("mutual", "(tx s (- ?t 1) ?p)", "(tx s ?t ?p)"),
    ] {
        let dir = copy_rules(&format!("trust-cycle-{case}"), &[("models/rnn.model", from, to)]);
        for args in [vec!["derive"], vec!["grad"], vec!["rules", "--check"], vec!["check", G]] {
            let mut a = args.clone();
            a.extend(["--rules", dir.to_str().unwrap()]);
            let o = run(&a);
            no_crash(&o, case);
            assert_eq!(code(&o), 2, "{case} {args:?}");
            assert!(stderr(&o).contains("the definitions go round in a circle"), "{}", stderr(&o));
        }
    }
}

fn sh(cmd: &str) -> Output {
    std::process::Command::new("bash").arg("-c").arg(cmd).env("BPTT", env!("CARGO_BIN_EXE_bptt")).output().unwrap()
}

#[test]
fn writes_are_checked() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    for cmd in ["derive", "grad --format csv", "completions bash", "man", "rules", "--help"] {
        let o = sh(&format!("\"$BPTT\" {cmd} > /dev/full"));
        no_crash(&o, cmd);
        assert_eq!(code(&o), 2, "{cmd}");
        assert!(stderr(&o).contains("cannot write standard output"), "{cmd}: {}", stderr(&o));
    }
    // a closed pipe ends the run quietly
    for cmd in ["derive", "completions bash", "derive --format latex"] {
        let o = sh(&format!("set -o pipefail; \"$BPTT\" {cmd} | head -c 10 > /dev/null"));
        no_crash(&o, cmd);
        assert_eq!(code(&o), 0, "{cmd}: {}", stderr(&o));
        assert!(stderr(&o).is_empty(), "{cmd}: {}", stderr(&o));
    }
}

#[test]
fn dash_o_is_whole_or_nothing() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp/trust-out");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("notes.md");
    let f = file.to_str().unwrap().to_string();
    // four runs writing one file at once, two different outputs: the file is one of them, whole
    let a = stdout(&run(&["derive", "--format", "markdown"]));
    let b = stdout(&run(&["derive", "--format", "markdown", "--wrt", "W_x"]));
    for _ in 0..5 {
        std::thread::scope(|s| {
            for k in 0..4 {
                let f = f.clone();
                s.spawn(move || {
                    let wrt = if k % 2 == 0 { "W_r" } else { "W_x" };
                    assert_eq!(code(&run(&["derive", "--format", "markdown", "--wrt", wrt, "-o", &f])), 0);
                });
            }
        });
        let got = std::fs::read_to_string(&file).unwrap();
        assert!(got == a || got == b, "a mixed file");
    }
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 1, "no temporary files left: {left:?}");
    // a place that cannot be written: exit 2, the word is `write`, nothing half-written
    let o = run(&["derive", "-o", "/proc/version/notes.tex"]);
    no_crash(&o, "-o unwritable");
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("cannot write"), "{}", stderr(&o));
}

/// Every command under a small address-space limit, with inputs far too big: exit 2 with a message naming the
/// limit, never a crash.
#[test]
fn limits_hold_under_a_small_memory_limit() {
    let huge = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp/trust/huge-steps.json");
    std::fs::create_dir_all(huge.parent().unwrap()).unwrap();
    let rows = vec!["[0.5]"; 200_000].join(",");
    std::fs::write(&huge, format!(r#"{{"W_r": [[0.1]], "W_x": [[0.2]], "W_y": [[1.0]], "s0": [0.0], "x": [{rows}], "target": [0.5]}}"#)).unwrap();
    let cases = [
        // (without --trace a derivation keeps no step's term and derive --steps 1000 fits in about 130 MB)
        ("derive --steps 1000 --trace", "memory"),
        ("derive --hidden 200 --steps 30", "memory"),
        ("check --steps 2000 'sum_{k=1}^{T} dL/dh^(k)[i] s^(k-1)[p]'", "memory"),
        ("grad --steps 100000 --hidden 4096 --input 4096", "memory"),
        ("grad --steps 100000 --hidden 1000 --input 10", "memory"),
        ("plot --steps 1000 --hidden 256 --input 256 --timeout 5 -o -", "stopped"),
        ("check -f /dev/zero", "--max-input"),
        ("derive --params /dev/zero", "--max-input"),
        ("derive --params HUGE", "at most 100000"),
    ];
    for (cmd, needle) in cases {
        let cmd = cmd.replace("HUGE", huge.to_str().unwrap());
        let o = sh(&format!("ulimit -v 1500000; exec \"$BPTT\" {cmd} > /dev/null"));
        no_crash(&o, &cmd);
        assert_eq!(code(&o), 2, "{cmd}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{cmd}: says {needle}: {}", stderr(&o));
    }
}

#[test]
fn numbers_that_are_not_numbers_fail() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp/trust");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("overflow.json");
    std::fs::write(&p, r#"{"W_r": [[1e308, 1e308],[1e308,1e308]], "W_x": [[1e308],[1e308]], "W_y": [[1,1]], "s0": [0,0], "x": [[1],[1],[1]], "target": [1]}"#).unwrap();
    let o = run(&["grad", "--params", p.to_str().unwrap(), "--activation", "identity"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("the gradient is not finite: entry i=1, p=1"), "{}", stderr(&o));
    let o = run(&["derive", "--params", p.to_str().unwrap(), "--activation", "identity"]);
    assert_eq!(code(&o), 1);
    assert!(!stdout(&o).contains("✓ (change inf)") && !stdout(&o).contains("✓ (change NaN)"), "{}", stdout(&o));
    let o = run(&["plot", "--scale", "1e308", "--steps", "20", "-o", "-"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("not finite"), "{}", stderr(&o));
    // the default weights of a large network are scaled, and the header says so
    let o = run(&["grad", "--steps", "200", "--hidden", "64", "--input", "64", "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let big = v["gradient"].as_array().unwrap().iter().flat_map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap().abs())).fold(0.0, f64::max);
    assert!(big < 1e3, "the scaled default weights keep the gradient tame: {big}");
    assert!(stdout(&run(&["derive", "--hidden", "5", "--steps", "2"])).contains("scaled by √(3/columns)"));
}

#[test]
fn smaller_things() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp/trust");
    std::fs::create_dir_all(&dir).unwrap();
    // invisible characters are written out in errors
    let o = run(&["check", &format!("{G} \u{200b}+ 1")]);
    assert!(stderr(&o).contains("<U+200B>"), "{}", stderr(&o));
    // a BOM starts a formula file and a params file fine
    let f = dir.join("bom.txt");
    std::fs::write(&f, format!("\u{feff}{G}")).unwrap();
    assert_eq!(code(&run(&["check", "-f", f.to_str().unwrap()])), 0);
    let p = dir.join("bom.json");
    std::fs::write(&p, format!("\u{feff}{}", std::fs::read_to_string(data("fixture.json")).unwrap())).unwrap();
    assert_eq!(code(&run(&["derive", "--params", p.to_str().unwrap()])), 0);
    // a JSON key given twice is refused; an empty array blames itself
    let p = dir.join("dup.json");
    std::fs::write(&p, r#"{"W_r": [[0.1]], "W_r": [[0.2]], "W_x": [[1]], "W_y": [[1]], "s0": [0], "x": [[1]], "target": [1]}"#).unwrap();
    let o = run(&["derive", "--params", p.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("the key `W_r` is given twice"), "{}", stderr(&o));
    let p = dir.join("empty.json");
    std::fs::write(&p, r#"{"W_r": [], "W_x": [[1]], "W_y": [[1]], "s0": [0], "x": [[1]], "target": [1]}"#).unwrap();
    assert!(stderr(&run(&["derive", "--params", p.to_str().unwrap()])).contains("`W_r` is empty"));
    // a long line is shown around its column, with the real column named
    let f = dir.join("long.txt");
    std::fs::write(&f, format!("{} ) + 1", "W_r[i,p] + ".repeat(40_000))).unwrap();
    let err = stderr(&run(&["check", "-f", f.to_str().unwrap()]));
    assert!(err.len() < 2000 && err.contains("column 440002"), "{}", &err[..err.len().min(3000)]);
    // one point is one point
    let out = stdout(&run(&["check", "--params", data("fixture.json").to_str().unwrap(), "--points", "1", G]));
    assert!(out.contains("at 1 point (the params file;"), "{out}");
    // a plan with no beats is an error
    let d = copy_rules("trust-empty-plan", &[]);
    std::fs::write(d.join("plans/W_r.plan"), "# nothing\ngoal (d L (ix W_r i p))\n").unwrap();
    let o = run(&["derive", "--rules", d.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no `beat` line"), "{}", stderr(&o));
    // ∂/∂(an index) says where
    let o = run(&["check", &format!("{G} * d/dp W_r[i,p]")]);
    assert!(stderr(&o).contains("cannot differentiate with respect to `p`") && stderr(&o).contains('^'), "{}", stderr(&o));
}

/// What the fuzzers found (tests/data/fuzz-findings): each stays fixed.
#[test]
fn fuzz_findings_stay_fixed() {
    use bptt::lang::normal_form;
    use bptt::render::text::{Style, render};
    // an affine time of two names (c…c − c…cx) printed with parentheses that did not read back
    let text = std::fs::read_to_string(data("fuzz-findings/text-affine-time.txt")).unwrap();
    let e = bptt::read::text::read(&text, "fuzz", None).unwrap();
    for style in [Style::Unicode, Style::Ascii] {
        let printed = render(&e, style, 80);
        let back = bptt::read::text::read(&printed, "printed", None).unwrap_or_else(|d| panic!("{printed}: {d}"));
        assert_eq!(normal_form(&back), normal_form(&e), "{printed}");
    }
    // spaces and line breaks inside a superscript group (⁽ˣ\n\n⁾) are not part of the name
    let text = std::fs::read_to_string(data("fuzz-findings/text-space-in-superscript.txt")).unwrap();
    let e = bptt::read::text::read(&text, "fuzz", None).unwrap();
    let back = bptt::read::text::read(&render(&e, Style::Unicode, 80), "printed", None).unwrap();
    assert_eq!(normal_form(&back), normal_form(&e));
    // LaTeX indices m and 2 were printed glued together (m_{m2}) and read back as one index
    let text = std::fs::read_to_string(data("fuzz-findings/latex-digit-index.txt")).unwrap();
    let e = bptt::read::latex::read(&text, "fuzz", None).unwrap();
    let printed = render(&e, Style::Latex, 80);
    let back = bptt::read::latex::read(&printed, "printed", None).unwrap();
    assert_eq!(normal_form(&back), normal_form(&e), "{printed}");
    // an index name with many digits (\sum_{k000007…}) is text, not a number a float must hold
    let text = std::fs::read_to_string(data("fuzz-findings/latex-frac-one.txt")).unwrap();
    let e = bptt::read::latex::read(&text, "fuzz", None).unwrap();
    let back = bptt::read::latex::read(&render(&e, Style::Latex, 80), "printed", None).unwrap();
    assert_eq!(normal_form(&back), normal_form(&e), "\\frac{{1}}{{b}} reads back as 1/b");
    let text = std::fs::read_to_string(data("fuzz-findings/latex-long-index.txt")).unwrap();
    let e = bptt::read::latex::read(&text, "fuzz", None).unwrap();
    let printed = render(&e, Style::Latex, 80);
    let back = bptt::read::latex::read(&printed, "printed", None).unwrap_or_else(|d| panic!("{printed}: {d}"));
    assert_eq!(normal_form(&back), normal_form(&e), "{printed}");
    // a decimal number inside a LaTeX index list (0.0700 and 801891.000 glued into one index) is refused
    let text = std::fs::read_to_string(data("fuzz-findings/latex-decimal-index.txt")).unwrap();
    let err = bptt::read::latex::read(&text, "fuzz", None).unwrap_err().to_string();
    assert!(err.contains("not a decimal number"), "{err}");
    // a capital name at a one-letter time step, (tx W p), prints W^{({p})}: W^{(p)} would read back as the name W_p
    let text = std::fs::read_to_string(data("fuzz-findings/latex-capital-timed.txt")).unwrap();
    let e = bptt::read::latex::read(&text, "fuzz", None).unwrap();
    let printed = render(&e, Style::Latex, 80);
    assert!(printed.contains("W^{({p})}"), "{printed}");
    let back = bptt::read::latex::read(&printed, "printed", None).unwrap_or_else(|d| panic!("{printed}: {d}"));
    assert_eq!(normal_form(&back), normal_form(&e), "{printed}");
    // a decimal number as a Σ index (\sum_{p.5 0.5 …}) is refused, not glued into a name that cannot print back
    let text = std::fs::read_to_string(data("fuzz-findings/latex-decimal-sum-index.txt")).unwrap();
    let err = bptt::read::latex::read(&text, "fuzz", None).unwrap_err().to_string();
    assert!(err.contains("a summation index is letters and digits, not a decimal number"), "{err}");
    // Einstein sums over a long Σ with a hundred repeated indices: ends within --timeout, no crash
    for name in ["check-slow-einstein.txt", "check-slow-einstein-2.txt"] {
        let f = data(&format!("fuzz-findings/{name}"));
        let o = run(&["check", "--einstein", "--steps", "2", "--timeout", "5", "-f", f.to_str().unwrap()]);
        no_crash(&o, name);
        assert!(matches!(code(&o), 0..=2));
    }
}

/// Every formula the text fuzzer found that did not read back after printing (tests/data/fuzz-findings/
/// text-roundtrip): a printed power `^(…)` read as a time superscript.
#[test]
fn text_fuzz_findings_read_back() {
    use bptt::lang::normal_form;
    use bptt::render::text::{Style, render};
    let dir = data("fuzz-findings/text-roundtrip");
    let (mut n, mut bad) = (0, vec![]);
    for f in std::fs::read_dir(&dir).unwrap() {
        let path = f.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let Ok(text) = String::from_utf8(bytes) else { continue };
        let Ok(e) = bptt::read::text::read(&text, "fuzz", None) else { continue };
        for style in [Style::Unicode, Style::Ascii] {
            let printed = render(&e, style, 80);
            match bptt::read::text::read(&printed, "printed", None) {
                Ok(back) if normal_form(&back) == normal_form(&e) => {}
                _ => bad.push(format!("{}: {printed}", name)),
            }
        }
        n += 1;
    }
    assert!(n >= 5, "the findings are there ({n})");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
