//! The command line as a student meets it: orientation with no arguments, help with examples (snapshotted),
//! suggestions for typos, completions and a man page, colour only on request or on a terminal, and the plot.
mod common;
use common::*;

#[test]
fn no_arguments_prints_an_orientation() {
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.contains("bptt derive"));
}

#[test]
fn help_of_every_command_has_examples() {
    for cmd in [vec!["--help"], vec!["derive", "--help"], vec!["check", "--help"], vec!["grad", "--help"], vec!["rules", "--help"], vec!["plot", "--help"], vec!["site", "--help"], vec!["completions", "--help"], vec!["man", "--help"]] {
        let o = run(&cmd);
        assert_eq!(o.status.code(), Some(0));
        let out = stdout(&o);
        if cmd.len() == 2 {
            assert!(out.contains("Example"), "{cmd:?} has examples");
        }
        insta::assert_snapshot!(format!("help-{}", cmd[0].trim_start_matches('-')), out);
    }
}

#[test]
fn a_mistyped_flag_gets_a_suggestion() {
    let o = run(&["derive", "--setps", "3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("tip: a similar argument exists: '--steps'"), "{}", stderr(&o));
}

#[test]
fn completions_for_each_shell_and_a_man_page() {
    for (shell, marker) in [("bash", "_bptt()"), ("zsh", "#compdef bptt"), ("fish", "complete -c bptt")] {
        let o = run(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0));
        let out = stdout(&o);
        assert!(out.contains(marker), "{shell}: {}", &out[..out.len().min(200)]);
        assert!(out.contains("derive") && out.contains("activation"), "{shell} completes subcommands and flags");
    }
    let man = stdout(&run(&["man"]));
    assert!(man.starts_with(".ie") || man.contains(".TH bptt"), "{}", &man[..man.len().min(200)]);
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let piped = bin().args(["derive", "--steps", "1"]).output().unwrap();
    assert!(!piped.stdout.contains(&0x1b), "piped output has no escape codes");
    let no_color = bin().args(["derive", "--steps", "1", "--color", "auto"]).env("NO_COLOR", "1").output().unwrap();
    assert!(!no_color.stdout.contains(&0x1b), "NO_COLOR output has no escape codes");
    let always = bin().args(["derive", "--steps", "1", "--color", "always"]).output().unwrap();
    let out = String::from_utf8(always.stdout).unwrap();
    assert!(out.contains("\x1b[1;36m(6)  \x1b[0m"), "equation numbers are coloured");
    assert!(out.contains("\x1b[32m✓\x1b[0m"), "check marks are coloured");
    let never = bin().args(["derive", "--steps", "1", "--color", "never"]).output().unwrap();
    assert!(!never.stdout.contains(&0x1b));
    let err = bin().args(["derive", "--params", "/no/such.json", "--color", "always"]).output().unwrap();
    assert!(String::from_utf8(err.stderr).unwrap().starts_with("\x1b[1;31merror\x1b[0m: "), "errors are red when asked");
}

#[test]
fn the_plot_is_an_svg_with_labels_and_one_series_per_activation() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp/plot.svg");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let o = run(&["plot", "--steps", "30", "-o", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let svg = std::fs::read_to_string(&path).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("the SVG is well-formed XML");
    let texts: Vec<String> = doc.descendants().filter(|n| n.has_tag_name("text")).map(|n| n.text().unwrap_or("").trim().to_string()).collect();
    for label in ["time step k", "‖term k‖ (Frobenius norm, log scale)", "tanh", "sigmoid", "identity"] {
        assert!(texts.iter().any(|t| t == label), "the SVG has the text {label:?}: {texts:?}");
    }
    let lines = doc.descendants().filter(|n| n.has_tag_name("polyline")).count();
    assert!(lines >= 3, "{lines} polylines: one per activation");
    // the title says T and the spectral radius; a decade label lies at or below the smallest value plotted
    assert!(texts.iter().any(|t| t.contains("T = 30") && t.contains("spectral radius of W⁽ʳ⁾")), "{texts:?}");
    let csv = stdout(&run(&["plot", "--steps", "30", "--format", "csv"]));
    let smallest = csv.lines().skip(1).filter_map(|l| l.rsplit(',').next()?.parse::<f64>().ok()).filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
    let decades: Vec<i32> = texts.iter().filter_map(|t| t.strip_prefix("1e")?.parse().ok()).collect();
    assert!(decades.len() >= 4, "{texts:?}");
    assert!(decades.iter().any(|d| 10f64.powi(*d) <= smallest), "no decade label at or below the smallest value {smallest}: {decades:?}");
    // readable colours (Okabe–Ito), not a light yellow
    for colour in ["#0072B2", "#D55E00", "#009E73"] {
        assert!(svg.to_uppercase().contains(colour), "the colour {colour} is not in the chart");
    }
}

#[test]
fn the_plot_numbers_are_the_per_step_terms_of_the_derivation_and_the_oracle() {
    let o = run(&["plot", "--steps", "5", "--format", "csv", "--hidden", "3", "--input", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let csv = stdout(&o);
    let rows: Vec<(i64, String, f64)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].parse().unwrap(), f[1].to_string(), f[2].parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), 15);
    for act in ["tanh", "sigmoid", "identity"] {
        let o = bptt::session::Options { steps: Some(5), sizes: vec![("hidden".into(), 3), ("input".into(), 2), ("output".into(), 1)], activation: bptt::notation::Act::named(act).unwrap(), ..Default::default() };
        let (s, _, v) = derive_and_verify(o);
        let net = Net::from_json(&s.params.to_json(&s.model), act);
        let g = net.grads();
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        for (k, t) in &v.per_time {
            let derived = norm(&t.data);
            let (_, _, plotted) = rows.iter().find(|r| r.0 == *k && r.1 == act).unwrap();
            assert!((plotted - derived).abs() <= 1e-12 * derived, "{act} k={k}: plot {plotted} vs derivation {derived}");
            // the oracle: the term δ⁽ᵏ⁾ s⁽ᵏ⁻¹⁾ᵀ is an outer product, so its norm is ‖δ⁽ᵏ⁾‖ ‖s⁽ᵏ⁻¹⁾‖
            let oracle = norm(&g.delta[*k as usize]) * norm(&g.states[*k as usize - 1]);
            assert!((plotted - oracle).abs() <= 1e-12 * oracle, "{act} k={k}: plot {plotted} vs oracle {oracle}");
        }
    }
}
