//! The notes in the blog's language: every beat of every plan and every entry of the mistake catalogue has its
//! Korean text (data beside the English), `--lang ko` shows it in derive (text, JSON, LaTeX, Markdown) and check,
//! and the Korean LaTeX notes compile (kotex) with the titles in the PDF's text.
mod common;
use bptt::options::{Lang, Loss};
use bptt::session::{Options, Session, targets_for};
use common::{run, stderr, stdout};

fn variants() -> Vec<Options> {
    let mut out = vec![];
    for bias in [false, true] {
        for many_to_many in [false, true] {
            for loss in Loss::ALL {
                out.push(Options { bias, many_to_many, loss, steps: Some(2), ..Options::default() });
            }
        }
    }
    out
}

#[test]
fn every_beat_and_every_catalogue_entry_has_korean_text() {
    let mut missing = vec![];
    for base in variants() {
        for wrt in targets_for(&base).unwrap() {
            let s = Session::load(base.clone().wrt(&wrt)).unwrap();
            for item in &s.plan.items {
                if let bptt::plan::Item::Beat { title, title_ko, .. } = item {
                    match title_ko {
                        Some(k) => assert!(k.chars().any(|c| ('\u{ac00}'..='\u{d7a3}').contains(&c)), "{wrt}: `{k}` is not Korean"),
                        None => missing.push(format!("{wrt} (bias {}, m2m {}, {}): {title}", base.bias, base.many_to_many, base.loss)),
                    }
                }
            }
            let cat = bptt::check::mistakes::Catalogue::load(&s).unwrap();
            for m in &cat.mistakes {
                if m.words_ko.is_none() {
                    missing.push(format!("catalogue: {}", m.name));
                }
            }
        }
    }
    missing.dedup();
    assert!(missing.is_empty(), "no Korean text for:\n{}", missing.join("\n"));
}

#[test]
fn derive_in_korean_shows_the_blogs_titles_in_order_and_no_english_title() {
    let en = stdout(&run(&["derive"]));
    let ko = stdout(&run(&["derive", "--lang", "ko"]));
    // the same mathematics: every formula and number line is the same
    let maths = |t: &str| t.lines().filter(|l| l.trim_start().starts_with('=') || l.contains("∂L/∂W⁽ʳ⁾[i,p] =")).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(maths(&en), maths(&ko));
    let s = Session::load(Options::default()).unwrap();
    let mut at = 0;
    for item in &s.plan.items {
        if let bptt::plan::Item::Beat { title, title_ko: Some(k), .. } = item {
            let k = k.replace("{Tsup}", "³");
            let found = ko[at..].find(k.split(':').next().unwrap()).unwrap_or_else(|| panic!("`{k}` is missing or out of order in:\n{ko}"));
            at += found;
            assert!(!ko.contains(title.as_str()), "the English title `{title}` is in the Korean output");
        }
    }
    for word in ["모델", "규칙:", "값 [[", "여기서 ∂L/∂h⁽ᵏ⁾[i]", "k = 2부터 1까지", "임의의 시점 수 T에 대해", "행렬 형태", "검증", "유한 차분 일치"] {
        assert!(ko.contains(word), "`{word}` missing:\n{ko}");
    }
    for word in ["rules:", "value [[", "for any number of steps", "matrix form", "finite differences agree"] {
        assert!(!ko.contains(word), "English `{word}` left in the Korean output");
    }
    let wx = stdout(&run(&["derive", "--wrt", "W_x", "--lang", "ko"]));
    assert!(wx.contains("(22) s⁽⁰⁾는 주어진 값이므로 ∂s⁽⁰⁾/∂W⁽ˣ⁾ = 0"), "{wx}");
    let json: serde_json::Value = serde_json::from_str(&stdout(&run(&["derive", "--lang", "ko", "--format", "json"]))).unwrap();
    assert!(json["steps"][0]["title"].as_str().unwrap().starts_with("목표"), "{json}");
}

#[test]
fn check_in_korean_gives_the_verdict_and_the_diagnosis_in_korean() {
    let o = run(&["check", "--lang", "ko", "sum_{k=1}^{T} dL/dh^(k)[i] * s^(k)[p]"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    for word in ["검사     ✗ 기울기와 다르다", "반례:", "진단", "시점 인덱스가 하나 어긋남: s⁽ᵏ⁻¹⁾ 자리에 s⁽ᵏ⁾를 썼다", "판정     ✗ 반박됨"] {
        assert!(out.contains(word), "`{word}` missing:\n{out}");
    }
    let o = run(&["check", "--lang", "ko", "sum_{k=1}^{T} dL/dh^(k)[i] * s^(k-1)[p]"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("판정     ✓ 증명됨"), "{}", stdout(&o));
    assert!(!stdout(&o).contains("verdict"), "{}", stdout(&o));
    // a derivation file, line by line
    let f = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp/korean-steps.txt");
    std::fs::create_dir_all(f.parent().unwrap()).unwrap();
    std::fs::write(&f, "dL/dh^(2)[i] s^(1)[p] + sum_a dL/dh^(2)[a] W_r[a,i] tanh'(h^(1)[i]) s^(0)[p]\ndL/dh^(2)[i] s^(1)[p]\n").unwrap();
    let o = run(&["check", "--lang", "ko", "--steps", "2", "--steps-file", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    for want in ["줄 1", "✓ 기울기와 같다 (증명됨)", "✗ 여기서 유도가 끊어진다", "앞 줄과 같지 않은 첫 줄이다", "판정     ✗ 반박됨"] {
        assert!(out.contains(want), "`{want}` missing:\n{out}");
    }
}

#[test]
fn plot_in_korean_has_korean_title_and_axes() {
    let o = run(&["plot", "--lang", "ko", "--steps", "20", "-o", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let svg = stdout(&o);
    for want in ["시점별 항의 크기", "(식 12)", "시점 k", "프로베니우스 노름"] {
        assert!(svg.contains(want), "`{want}` is not in the chart");
    }
    assert!(!stdout(&run(&["plot", "--steps", "20", "-o", "-"])).contains("시점"));
}

#[test]
fn a_korean_title_must_follow_its_beat() {
    let dir = common::copy_rules("korean-misplaced", &[("plans/W_r.plan", "ko | 마지막 hidden state", "\nko | 마지막 hidden state")]);
    let o = run(&["derive", "--rules", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("a `ko` line must come right after its beat or aside"), "{}", stderr(&o));
}

fn tool(name: &str, arg: &str) -> bool {
    let found = std::process::Command::new(name).arg(arg).output().is_ok_and(|o| o.status.success());
    if !found && std::env::var_os("BPTT_REQUIRE_TOOLS").is_some() {
        panic!("{name} is required (BPTT_REQUIRE_TOOLS is set): .ci/run installs texlive-lang-korean and poppler-utils");
    }
    found
}

#[test]
fn the_korean_notes_compile_and_the_pdf_holds_the_korean_titles() {
    if !tool("kpsewhich", "kotex.sty") || !tool("pdftotext", "-v") {
        eprintln!("note: kotex or pdftotext not found; the Korean PDF is not built (set BPTT_REQUIRE_TOOLS=1 to require it)");
        return;
    }
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp/korean-notes");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let tex = dir.join("ko.tex");
    let o = run(&["derive", "--lang", "ko", "--format", "latex", "-o", tex.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = std::process::Command::new("pdflatex").args(["-interaction=nonstopmode", "-halt-on-error", "ko.tex"]).current_dir(&dir).output().unwrap();
    let log = std::fs::read_to_string(dir.join("ko.log")).unwrap_or_default();
    assert!(r.status.success(), "pdflatex failed:\n{log}");
    assert!(!log.contains("Overfull"), "overfull lines:\n{log}");
    let text = std::process::Command::new("pdftotext").args(["-layout", "ko.pdf", "-"]).current_dir(&dir).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    for want in ["BPTT", "모델", "유도", "y를 거치는 체인룰", "시점별로 묶어 정리하면", "수치"] {
        assert!(text.contains(want), "`{want}` is not in the PDF's text:\n{text}");
    }
    let _ = Lang::Ko;
}
