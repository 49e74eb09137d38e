//! No panic on hostile input: empty, huge, deeply nested, non-UTF-8, unknown symbols, out-of-range sizes,
//! overflowing numbers. Each gives a clear message and exit code 2 (1 when numbers fail a check).
mod common;
use common::*;

fn with_algebra(case: &str, bytes: &[u8]) -> std::process::Output {
    let dir = copy_rules(&format!("hostile-{case}"), &[]);
    std::fs::write(dir.join("algebra.rules"), bytes).unwrap();
    run(&["derive", "--rules", dir.to_str().unwrap()])
}

fn assert_error(o: &std::process::Output, case: &str, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{case}: exit 2, got {:?}: {err}", o.status.code());
    assert!(o.stdout.is_empty(), "{case}: nothing on stdout");
    assert!(!err.contains("panicked") && !err.contains("internal failure"), "{case}: {err}");
    assert!(err.contains(needle), "{case}: the message says {needle:?}: {err}");
}

#[test]
fn hostile_rule_files() {
    let nested = format!("# deep\n\n# x\nmul-deep: {}?a{} => ?a\n", "(neg ".repeat(20_000), ")".repeat(20_000));
    let huge: String = (0..20_000).map(|i| format!("# r\nadd-zero-r{i}: (+ ?a 0) => ?a\n\n")).collect();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty-file", vec![], "unknown rule `mul-zero-left`"),
        ("non-utf8", vec![b'#', b' ', 0xff, 0xfe, b'\n'], "not UTF-8"),
        ("nul-bytes", b"# header\n\n# x\nmul-x: (* \0 ?a) => 0\n".to_vec(), "is not a number, a symbol or a ?variable"),
        ("deeply-nested", nested.into_bytes(), "nests more than 200 levels deep"),
        ("unknown-symbols", "# h\n\n# x\nmul-x: (* ?a $$) => 0\n".as_bytes().to_vec(), "`$$` is not a number"),
        ("only-comments", "# just a header\n".as_bytes().to_vec(), "unknown rule `mul-zero-left`"),
        ("many-rules-missing-plan-names", huge.into_bytes(), "unknown rule `mul-zero-left`"),
    ];
    for (case, bytes, needle) in cases {
        assert_error(&with_algebra(case, &bytes), case, needle);
    }
}

#[test]
fn hostile_flags_and_sizes() {
    let o = run(&["derive", "--steps", "100000", "--max-nodes", "2000"]);
    assert_error(&o, "huge T with a small node limit", "grew past 2000 nodes (--max-nodes)");
    let o = run(&["derive", "--steps", "5000", "--timeout", "1"]); // (T = 400 now takes well under a second in a release build)
    assert_error(&o, "a timeout", "stopped by --timeout 1 (seconds)");
    let o = run(&["derive", "--steps", "400", "--max-iters", "50"]);
    assert_error(&o, "an iteration limit", "still rewriting after 50 steps (--max-steps)");
    for args in [vec!["derive", "--hidden", "-1"], vec!["derive", "--steps", "0"], vec!["derive", "--seed", "x"], vec!["plot", "--scale", "-1"], vec!["plot", "--scale", "NaN"]] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(!stderr(&o).contains("panicked"));
    }
}

#[test]
fn overflowing_numbers_are_reported_not_printed_as_results() {
    let o = run(&["derive", "--params", data("overflow.json").to_str().unwrap(), "--activation", "identity"]);
    assert_eq!(o.status.code(), Some(1), "a failed check exits 1");
    let out = stdout(&o);
    assert!(out.contains("✗ the numbers overflow: step (4) has a non-finite value (NaN or ∞) at [1,1]"), "{out}");
    assert!(out.contains("✗ finite differences cannot be compared"), "{out}");
    assert!(!out.contains("✓ every step equal"), "{out}");
}

#[test]
fn hostile_params_files() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp/hostile-params");
    std::fs::create_dir_all(&dir).unwrap();
    let deep = format!("{{\"W_r\": {}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
    for (case, text, needle) in [
        ("empty", String::new(), "not valid JSON"),
        ("deep", deep, "not valid JSON"),
        ("nul", "{\"W_r\u{0}\": 1}".to_string(), "not valid JSON"),
        ("neg", r#"{"W_r": [[1]], "W_x": [[1]], "W_y": [[1]], "s0": [1], "x": [[-1e400]], "target": [1]}"#.to_string(), "not valid JSON"),
    ] {
        let p = dir.join(format!("{case}.json"));
        std::fs::write(&p, text).unwrap();
        assert_error(&run(&["derive", "--params", p.to_str().unwrap()]), case, needle);
    }
    let p = dir.join("bytes.json");
    std::fs::write(&p, [0xff, 0xfe, 0x00]).unwrap();
    assert_error(&run(&["derive", "--params", p.to_str().unwrap()]), "non-UTF-8", "not UTF-8");
}

#[test]
fn saturated_tanh_gives_no_false_alarm() {
    // Large weights drive tanh into saturation (tanh′ ≈ 0): the gradient is tiny and finite differences must
    // still agree, not raise a false alarm.
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("saturated.json");
    std::fs::write(&p, r#"{"W_r": [[8.0, -9.0], [7.5, 9.5]], "W_x": [[12.0], [-11.0]], "W_y": [[1.0, -1.0]],
        "s0": [0.9, -0.8], "x": [[1.0], [-0.9], [0.8], [1.0]], "target": [0.3]}"#).unwrap();
    for act in ["tanh", "sigmoid"] {
        let o = run(&["derive", "--params", p.to_str().unwrap(), "--activation", act]);
        assert_eq!(o.status.code(), Some(0), "{act}: {}", stdout(&o));
        assert!(stdout(&o).contains("✓ finite differences agree"), "{act}");
    }
}

/// Sizes at which checking every step entry by entry cannot fit: the memory limit stops the run with a message that
/// names the way to numbers at that size (`bptt grad`), and `grad` itself gives them.
#[test]
fn sizes_too_large_for_the_step_by_step_check_point_to_grad() {
    let o = run(&["derive", "--hidden", "64", "--input", "64", "--steps", "3", "--max-memory", "100"]);
    assert_error(&o, "derive at hidden 64", "over the limit of 100 MB");
    assert!(stderr(&o).contains("use `bptt grad`"), "{}", stderr(&o));
    let g = run(&["grad", "--hidden", "64", "--input", "64", "--steps", "3", "--format", "json", "--max-memory", "100"]);
    assert_eq!(g.status.code(), Some(0), "{}", stderr(&g));
    let v: serde_json::Value = serde_json::from_slice(&g.stdout).unwrap();
    assert_eq!(v["shape"], serde_json::json!([64, 64]));
}

/// A plan that writes a Σ over time out term by term (`--many-to-many --wrt W_y`) works up to the unroll limit,
/// and past it says which limit stopped it instead of only that a derivative was left.
#[test]
fn a_sum_too_long_to_write_out_is_named_in_the_error() {
    let o = run(&["derive", "--steps", "256", "--many-to-many", "--wrt", "W_y"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&["derive", "--steps", "257", "--many-to-many", "--wrt", "W_y"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("a derivative the rules could not resolve"), "{err}");
    assert!(err.contains("a Σ over 257 time steps is left") && err.contains("use --steps 256 or fewer"), "{err}");
}
