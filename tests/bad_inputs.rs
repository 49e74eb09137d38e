//! The corpus of bad rule files and bad params files, with their exact error messages snapshotted
//! (tests/snapshots; refresh with `INSTA_UPDATE=always cargo test`, then review the diff).
mod common;
use common::*;
use std::path::PathBuf;

fn corpus(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bad").join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

#[test]
fn bad_rule_files_are_reported_with_position_and_hint() {
    let files = corpus("rules", "rules");
    assert!(files.len() >= 12);
    for f in files {
        let case = f.file_stem().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&f).unwrap();
        let dir = copy_rules(&format!("bad-{case}"), &[]);
        std::fs::write(dir.join("algebra.rules"), &text).unwrap();
        for cmd in [vec!["rules"], vec!["derive"]] {
            let mut args = cmd.clone();
            args.extend(["--rules", dir.to_str().unwrap()]);
            let o = run(&args);
            assert_eq!(o.status.code(), Some(2), "{case}: a bad rule file is an error");
            assert!(o.stdout.is_empty(), "{case}: a bad rule file never yields partial output");
            let err = stderr(&o).replace(dir.to_str().unwrap(), "RULES");
            if cmd[0] == "rules" {
                insta::assert_snapshot!(format!("rules-{case}"), err);
            }
        }
    }
}

#[test]
fn bad_params_files_are_reported_clearly() {
    let files = corpus("params", "json");
    assert!(files.len() >= 10);
    for f in files {
        let case = f.file_stem().unwrap().to_string_lossy().to_string();
        let o = run(&["derive", "--params", f.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{case}: a bad params file is an error");
        assert!(o.stdout.is_empty(), "{case}: no partial output");
        let err = stderr(&o).replace(f.to_str().unwrap(), "PARAMS");
        insta::assert_snapshot!(format!("params-{case}"), err);
    }
}

#[test]
fn bad_flags_are_errors_not_panics() {
    for args in [
        vec!["derive", "--steps", "0"],
        vec!["derive", "--steps", "-3"],
        vec!["derive", "--hidden", "0"],
        vec!["derive", "--activation", "swish"],
        vec!["derive", "--wrt", "W_q"],
        vec!["derive", "--width", "5"],
        vec!["derive", "--params", "/no/such/file.json"],
        vec!["derive", "--rules", "/no/such/dir"],
        vec!["derive", "--steps", "4", "--params", data("fixture.json").to_str().unwrap()],
        vec!["derive", "--hidden", "3", "--params", data("fixture.json").to_str().unwrap()],
        vec!["derive", "--stpes", "3"],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("error"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn the_size_mismatch_messages_name_the_option() {
    let o = run(&["derive", "--steps", "4", "--params", data("fixture.json").to_str().unwrap()]);
    assert_eq!(stderr(&o).trim(), "error: --steps 4 disagrees with the params file, whose input x has 3 steps; drop --steps or fix the file");
    let o = run(&["derive", "--hidden", "3", "--params", data("fixture.json").to_str().unwrap()]);
    assert_eq!(stderr(&o).trim(), "error: --hidden 3 disagrees with the params file, which has hidden size 2");
}

#[test]
fn variant_params_are_checked_with_a_hint() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp");
    std::fs::create_dir_all(&dir).unwrap();
    let o = run(&["derive", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let file = dir.join("m2o-params.json");
    std::fs::write(&file, v["params"].to_string()).unwrap();
    // a many-to-one params file given to the many-to-many model: the target needs a row per step
    let o = run(&["derive", "--many-to-many", "--params", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("`target`") && stderr(&o).contains("one row per time step"), "{}", stderr(&o));
    // a negative target entry is named for the softmax loss
    let mut p = v["params"].clone();
    p["target"] = serde_json::json!([-0.5, 1.5]);
    std::fs::write(&file, p.to_string()).unwrap();
    let o = run(&["derive", "--loss", "softmax-ce", "--params", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("negative entry -0.5 at position 1"), "{}", stderr(&o));
}

#[test]
fn an_unknown_loss_is_refused_and_cannot_be_an_option() {
    // the library's options are typed: a loss is one of the model files' loss tags, nothing else
    assert_eq!(bptt::options::Loss::named("hinge"), None);
    assert_eq!(bptt::options::Loss::named("softmax-ce"), Some(bptt::options::Loss::SoftmaxCe));
    let o = run(&["derive", "--loss", "hinge"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("[possible values: mse, softmax-ce]"), "{}", stderr(&o));
}

#[test]
fn a_parameter_or_size_the_model_does_not_have_is_an_error_naming_the_choices() {
    for args in [&["derive", "--wrt", "V"][..], &["check", "--wrt", "V", "0"], &["grad", "--wrt", "V"]] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains("no parameter `V` in this model; choose one of W_r, W_x, W_y, s0 (--bias adds the biases)"), "{args:?}: {}", stderr(&o));
    }
    let o = run(&["derive", "--wrt", "b"]);
    assert!(stderr(&o).contains("no parameter `b` in this model; choose one of W_r, W_x, W_y, s0 (--bias adds the biases)"), "{}", stderr(&o));
    let o = run(&["derive", "--wrt", "b", "--bias", "--steps", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = bptt::session::Session::load(bptt::session::Options::default().size("width", 3)).err().expect("an unknown size loads");
    assert!(e.to_string().contains("the model has no size called width; its sizes are hidden, input, output"), "{e}");
    let e = bptt::session::Session::load(bptt::session::Options::default().wrt("h")).err().expect("a quantity is not a parameter");
    assert!(e.to_string().contains("no parameter `h` in this model"), "{e}");
}
