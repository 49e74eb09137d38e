//! Golden outputs: the default `bptt derive` text (Unicode and ASCII), the fixture's text, and determinism
//! (the same command twice gives byte-identical output, text and JSON).
mod common;
use common::*;

#[test]
fn default_derivation_text() {
    let o = run(&["derive"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!("derive-default", stdout(&o));
}

#[test]
fn gated_cell_derivations_text() {
    // the two next-chapter defaults: the LSTM's and the GRU's first recurrent weight
    for model in ["lstm", "gru"] {
        let o = run(&["derive", "--model", model]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        insta::assert_snapshot!(format!("derive-{model}"), stdout(&o));
    }
}

#[test]
fn w_x_derivation_text() {
    let o = run(&["derive", "--wrt", "W_x"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!("derive-W_x", stdout(&o));
}

#[test]
fn all_gradients_with_summary() {
    let o = run(&["derive", "--wrt", "all", "--steps", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("summary: the final form of every gradient"));
    insta::assert_snapshot!("derive-all-T2", out);
    let j = run(&["derive", "--wrt", "all", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&j)).unwrap();
    let wrts: Vec<&str> = v.as_array().unwrap().iter().map(|o| o["wrt"].as_str().unwrap()).collect();
    assert_eq!(wrts, ["W_r", "W_x", "W_y", "s0"]);
}

#[test]
fn fixture_derivation_ascii() {
    let o = run(&["derive", "--params", data("fixture.json").to_str().unwrap(), "--ascii", "--width", "80"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o).replace(data("fixture.json").to_str().unwrap(), "fixture.json");
    assert!(out.is_ascii(), "--ascii output is ASCII only");
    insta::assert_snapshot!("derive-fixture-ascii", out);
}

#[test]
fn trace_shows_every_rule_application() {
    let o = run(&["derive", "--steps", "2", "--trace"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let applied = out.lines().filter(|l| l.starts_with("         ") && l.contains(": ") && !l.contains("value")).count();
    assert!(applied >= 40, "{applied} single rule applications shown");
    insta::assert_snapshot!("derive-trace-T2", out);
}

#[test]
fn output_is_deterministic() {
    for args in [
        vec!["derive", "--steps", "4"],
        vec!["derive", "--format", "json", "--activation", "sigmoid"],
        vec!["derive", "--format", "latex", "--wrt", "W_x"],
        vec!["derive", "--format", "markdown", "--bias", "--wrt", "b"],
        vec!["rules"],
    ] {
        let a = run(&args);
        let b = run(&args);
        assert_eq!(a.status.code(), Some(0));
        assert_eq!(a.stdout, b.stdout, "{args:?} twice gives the same bytes");
    }
}

#[test]
fn rules_lists_every_rule_with_its_comment() {
    let out = stdout(&run(&["rules"]));
    assert!(out.contains("d-mul              ∂(a b)/∂w = ∂a/∂w b + a ∂b/∂w (the product rule)"), "{out}");
    assert!(out.contains("delta-contract     Σ_k δ(k,j) f(k) = f(j)"), "{out}");
    assert!(out.contains("rules/models/rnn.model"), "{out}");
}

#[test]
fn many_to_many_derivation_text() {
    let o = run(&["derive", "--many-to-many"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!("derive-m2m", stdout(&o));
}

#[test]
fn softmax_cross_entropy_derivation_text() {
    let o = run(&["derive", "--loss", "softmax-ce", "--wrt", "W_y"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!("derive-softmax-ce-W_y", stdout(&o));
}

#[test]
fn json_carries_the_model_variant_and_reads_back() {
    let o = run(&["derive", "--format", "json", "--many-to-many", "--loss", "softmax-ce", "--bias", "--activation", "sigmoid", "--steps", "4"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let m = &v["model"];
    assert_eq!((m["loss"].as_str(), m["many_to_many"].as_bool(), m["bias"].as_bool(), m["activation"].as_str()), (Some("softmax-ce"), Some(true), Some(true), Some("sigmoid")));
    // one target distribution per step, and the biases b [n] and c [m]
    let target = v["params"]["target"].as_array().unwrap();
    assert_eq!(target.len(), 4);
    for row in target {
        let total: f64 = row.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).sum();
        assert!((total - 1.0).abs() <= 1e-12, "a target row sums to {total}");
    }
    assert_eq!(v["params"]["b"].as_array().unwrap().len(), 3);
    assert_eq!(v["params"]["c"].as_array().unwrap().len(), 2);
    // the params read back give the same gradient
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("m2m-softmax-params.json");
    std::fs::write(&file, v["params"].to_string()).unwrap();
    let again = run(&["derive", "--format", "json", "--many-to-many", "--loss", "softmax-ce", "--bias", "--activation", "sigmoid", "--params", file.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let w: serde_json::Value = serde_json::from_str(&stdout(&again)).unwrap();
    assert_eq!(w["gradient"], v["gradient"]);
    // a target that is not a distribution is refused for the softmax loss, naming the step
    let mut bad = v["params"].clone();
    bad["target"][2][0] = serde_json::json!(0.9);
    std::fs::write(&file, bad.to_string()).unwrap();
    let refused = run(&["derive", "--many-to-many", "--loss", "softmax-ce", "--bias", "--params", file.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("`target` must be a probability distribution") && stderr(&refused).contains("step 3"), "{}", stderr(&refused));
}
