//! Study notes: the LaTeX document compiles with pdflatex without overfull lines, for W⁽ʳ⁾, W⁽ˣ⁾ and all
//! gradients, T = 1..5, tanh and sigmoid; the Markdown has one $$ block per step. pdflatex is required when
//! BPTT_REQUIRE_TOOLS is set (as .ci/run does); elsewhere a missing pdflatex is reported on stderr and only the
//! structure is checked.
mod common;
use common::*;

fn pdflatex() -> Option<std::path::PathBuf> {
    let found = std::process::Command::new("pdflatex").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found && std::env::var_os("BPTT_REQUIRE_TOOLS").is_some() {
        panic!("pdflatex is required (BPTT_REQUIRE_TOOLS is set): install Debian's texlive-latex-base, as .ci/run does");
    }
    found.then(|| std::path::PathBuf::from("pdflatex"))
}

fn structure_ok(tex: &str) {
    assert!(tex.starts_with("\\documentclass"), "a standalone document");
    assert!(tex.trim_end().ends_with("\\end{document}"));
    assert_eq!(tex.matches("\\begin{align}").count(), tex.matches("\\end{align}").count());
    assert_eq!(tex.matches("\\bigl(").count(), tex.matches("\\bigr)").count());
    assert!(tex.is_ascii(), "pdflatex gets plain ASCII");
}

#[test]
fn the_notes_compile_without_overfull_lines() {
    let latex = pdflatex();
    if latex.is_none() {
        eprintln!("note: pdflatex not found; checking the LaTeX structure only (set BPTT_REQUIRE_TOOLS=1 to require it)");
    }
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp/latex");
    std::fs::create_dir_all(&dir).unwrap();
    for wrt in ["W_r", "W_x", "all"] {
        for steps in 1..=5 {
            for act in ["tanh", "sigmoid"] {
                let case = format!("{wrt}-T{steps}-{act}");
                let mut args = vec!["derive", "--wrt", wrt, "--activation", act, "--format", "latex"];
                let t = steps.to_string();
                args.extend(["--steps", t.as_str()]);
                if steps == 3 {
                    args.push("--notation-map");
                }
                let o = run(&args);
                assert_eq!(o.status.code(), Some(0), "{case}: {}", stderr(&o));
                let tex = stdout(&o);
                structure_ok(&tex);
                if steps == 3 {
                    assert!(tex.contains("\\subsection*{Notation map}") && tex.contains("$W_{hh} = W^{(r)\\top}$"), "{case}: the notation map");
                }
                let always: Vec<u32> = match wrt {
                    "W_r" => vec![4, 6, 7, 8, 9, 11, 12],
                    "W_x" => vec![13, 14, 15, 16, 17, 18, 19, 22, 23],
                    _ => vec![4, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 22, 23],
                };
                let from_t3: Vec<u32> = if wrt == "W_r" { vec![10] } else if wrt == "W_x" { vec![20, 21] } else { vec![10, 20, 21] };
                for eq in always.iter().chain(if steps >= 3 { from_t3.iter() } else { [].iter() }) {
                    assert!(tex.contains(&format!("\\tag{{{eq}}}")), "{case}: equation {eq} is tagged");
                }
                compile(&latex, &dir, &case, &tex);
            }
        }
    }
}

/// Compile `tex` with pdflatex (when there is one): it must succeed without overfull lines.
fn compile(latex: &Option<std::path::PathBuf>, dir: &std::path::Path, case: &str, tex: &str) {
    let Some(bin) = latex else { return };
    let file = dir.join(format!("{case}.tex"));
    std::fs::write(&file, tex).unwrap();
    let r = std::process::Command::new(bin)
        .args(["-interaction=nonstopmode", "-halt-on-error", file.file_name().unwrap().to_str().unwrap()])
        .current_dir(dir)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&r.stdout);
    assert!(r.status.success(), "{case}: pdflatex failed:\n{log}");
    assert!(!log.contains("Overfull \\hbox"), "{case}: overfull lines:\n{log}");
}

#[test]
fn the_notes_of_every_model_variant_compile() {
    let latex = pdflatex();
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp/latex");
    std::fs::create_dir_all(&dir).unwrap();
    for (shape, loss) in [("--many-to-many", "mse"), ("--many-to-many", "softmax-ce"), ("--activation=tanh", "softmax-ce")] {
        let case = format!("all{shape}-{loss}");
        let o = run(&["derive", "--wrt", "all", "--bias", shape, "--loss", loss, "--steps", "3", "--format", "latex"]);
        assert_eq!(o.status.code(), Some(0), "{case}: {}", stderr(&o));
        let tex = stdout(&o);
        structure_ok(&tex);
        assert!(tex.contains(if loss == "mse" { "many-to-many RNN" } else { "softmax cross-entropy" }), "{case}: the title names the model");
        compile(&latex, &dir, &case, &tex);
    }
    // the gated cells' notes, in English and Korean: every parameter, with biases
    for (model, lang) in [("lstm", "en"), ("gru", "ko")] {
        let case = format!("{model}-{lang}");
        let o = run(&["derive", "--model", model, "--wrt", "all", "--bias", "--lang", lang, "--format", "latex"]);
        assert_eq!(o.status.code(), Some(0), "{case}: {}", stderr(&o));
        let tex = stdout(&o);
        if lang == "en" {
            structure_ok(&tex);
        } else {
            // Korean notes carry Hangul (kotex): the rest of the structure as for the English ones
            assert!(tex.contains("\\usepackage{kotex}") && tex.trim_end().ends_with("\\end{document}"), "{case}");
            assert_eq!(tex.matches("\\begin{align}").count(), tex.matches("\\end{align}").count(), "{case}");
        }
        assert!(tex.contains(&model.to_uppercase()), "{case}: the title names the cell");
        compile(&latex, &dir, &case, &tex);
    }
}

#[test]
fn the_fragment_and_markdown_forms() {
    let frag = stdout(&run(&["derive", "--format", "latex", "--fragment"]));
    assert!(!frag.contains("\\documentclass") && frag.contains("\\begin{align}") && frag.contains("\\tag{12}"));
    assert!(frag.contains("\\frac{\\partial L}{\\partial W^{(r)}_{ip}} &= \\sum_{k=1}^{3} \\frac{\\partial L}{\\partial h^{(k)}_{i}} \\, s^{(k-1)}_{p} \\tag{12}"), "{frag}");
    let md = stdout(&run(&["derive", "--format", "markdown"]));
    assert!(md.starts_with("# Backpropagation through time"));
    assert_eq!(md.matches("$$\n\\begin{aligned}").count(), 13, "the model, ten steps, the form for any T and the matrix form: {md}");
    assert!(md.contains("## Matrix form") && md.contains("## Each time step's term"), "{md}");
    assert!(md.contains("for any number of steps T (checked: the rules derive exactly this form for T = 1, …, 8)"), "{md}");
    assert!(md.contains("&= \\sum_{k=1}^{T} \\frac{\\partial L}{\\partial h^{(k)}_{i}} \\, s^{(k-1)}_{p}"), "{md}");
    assert!(md.contains("| the gradient | $\\begin{pmatrix} "), "the numbers table has the gradient, as a matrix: {md}");
    assert!(md.contains("\\end{aligned} \\tag{9}\n$$"));
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp/notes.md");
    let o = run(&["derive", "--format", "markdown", "-o", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), md);
}

fn katex() -> Option<std::path::PathBuf> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/katex");
    let ok = dir.join("node_modules/katex").exists() && std::process::Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok && std::env::var_os("BPTT_REQUIRE_TOOLS").is_some() {
        panic!("KaTeX is required (BPTT_REQUIRE_TOOLS is set): run `npm ci --prefix tests/katex`, as .ci/run does");
    }
    ok.then(|| dir.join("render.js"))
}

#[test]
fn katex_renders_every_block_of_the_markdown() {
    let Some(script) = katex() else {
        eprintln!("note: KaTeX not installed (npm ci --prefix tests/katex); checking the Markdown structure only");
        let md = stdout(&run(&["derive", "--format", "markdown"]));
        assert_eq!(md.matches("$$").count() % 2, 0);
        return;
    };
    for args in [vec!["--wrt", "W_r", "--notation-map"], vec!["--wrt", "W_x"], vec!["--wrt", "all", "--bias", "--steps", "4"], vec!["--activation", "sigmoid", "--steps", "5"], vec!["--wrt", "all", "--many-to-many", "--loss", "softmax-ce", "--bias", "--steps", "3"], vec!["--model", "lstm", "--wrt", "all", "--bias"], vec!["--model", "gru", "--wrt", "all", "--many-to-many"]] {
        let mut full = vec!["derive", "--format", "markdown"];
        full.extend(args.iter());
        let md = stdout(&run(&full));
        let mut child = std::process::Command::new("node")
            .arg(&script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(md.as_bytes()).unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        let blocks = md.matches("$$\n\\begin{aligned}").count();
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), format!("{blocks} blocks rendered"), "{args:?}");
    }
}

/// The Markdown notes read as Markdown in a CommonMark parser: every equation number is bold (a `Strong`
/// element), no `**` or `*` is left over as text, no emphasis is empty.
#[test]
fn markdown_is_commonmark() {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    for wrt in ["W_r", "W_x", "W_y"] {
        let md = stdout(&run(&["derive", "--format", "markdown", "--wrt", wrt]));
        let (mut strong, mut numbers, mut emphasis_text) = (false, vec![], String::new());
        let mut in_emphasis = false;
        let mut math_blocks = 0;
        for ev in Parser::new(&md) {
            match ev {
                Event::Start(Tag::Strong) => strong = true,
                Event::End(TagEnd::Strong) => strong = false,
                Event::Start(Tag::Emphasis) => {
                    in_emphasis = true;
                    emphasis_text.clear();
                }
                Event::End(TagEnd::Emphasis) => {
                    in_emphasis = false;
                    assert!(!emphasis_text.trim().is_empty(), "{wrt}: an empty emphasis");
                }
                Event::Text(t) => {
                    assert!(!t.contains("**"), "{wrt}: literal ** in {t:?}");
                    if strong {
                        numbers.push(t.to_string());
                    }
                    if in_emphasis {
                        emphasis_text.push_str(&t);
                    }
                    if t.contains("$$") {
                        math_blocks += 1;
                    }
                }
                _ => {}
            }
        }
        // the blog's equation numbers of W_r (4–12) and W_x (13–23) are bold; W_y's plan has none of the blog's
        assert!(numbers.iter().all(|n| n.starts_with('(') && n.ends_with(')')), "{wrt}: {numbers:?}");
        if wrt != "W_y" {
            assert!(numbers.len() >= 6, "{wrt}: {numbers:?}");
        }
        assert!(math_blocks > 0, "{wrt}: the math blocks are there");
    }
}
