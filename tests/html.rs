//! The HTML study page, rendered by a real browser: Debian's Chromium, headless (`--dump-dom` after a measuring
//! script injected into a copy of the page, `--print-to-pdf`, `--screenshot`). The assertions are on the
//! rendered page: every `<math>` has a layout box, superscripts such as ⁽ᵏ⁻¹⁾ are tight, no raw markup shows,
//! no resource is requested, the Korean page shows Korean titles, a T = 3 page fits a 1280-px viewport, a
//! print-to-PDF has every step. Chromium is required when BPTT_REQUIRE_TOOLS is set (as .ci/run does);
//! elsewhere a missing Chromium is reported on stderr and only the page's text is checked.
mod common;
use common::*;
use std::path::{Path, PathBuf};

fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if std::process::Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return Some(PathBuf::from(name));
        }
    }
    if std::env::var_os("BPTT_REQUIRE_TOOLS").is_some() {
        panic!("Chromium is required (BPTT_REQUIRE_TOOLS is set): install Debian's chromium and fonts-nanum, as .ci/run does");
    }
    eprintln!("note: chromium not found; checking the page's text only (set BPTT_REQUIRE_TOOLS=1 to require it)");
    None
}

fn dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp/html");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Chromium headless, with no network (every request goes to a closed port) and a throwaway profile.
fn headless(chrome: &Path, profile: &Path, args: &[&str]) -> std::process::Output {
    let mut c = std::process::Command::new(chrome);
    c.args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-extensions", "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]);
    c.arg(format!("--user-data-dir={}", profile.display()));
    c.args(args);
    c.output().expect("chromium runs")
}

/// The page's own checks, run in the browser after layout: written into an attribute that --dump-dom prints.
const MEASURE: &str = r#"<script>
(function(){
  var r = {};
  var maths = Array.from(document.querySelectorAll('math'));
  r.maths = maths.length;
  r.empty_maths = maths.filter(function(m){ var b = m.getBoundingClientRect(); return !(b.width > 0 && b.height > 0); }).length;
  r.scroll_width = document.documentElement.scrollWidth;
  r.text = document.body.innerText;
  r.resources = performance.getEntriesByType('resource').map(function(e){ return e.name; });
  r.titles = Array.from(document.querySelectorAll('section.step h3')).map(function(h){ return h.childNodes[1] ? h.childNodes[1].textContent : ''; });
  // superscripts and subscripts: no gap between the boxes of their parts, and a parenthesis no wider than its
  // glyph (a stretchy fence takes space inside its own box)
  var worst_gap = 0, worst_paren = 0, scripts = 0;
  document.querySelectorAll('msup > :last-child, msubsup > :nth-child(2), msubsup > :last-child, msub > :last-child').forEach(function(s){
    if (s.tagName.toLowerCase() !== 'mrow') return;
    scripts++;
    var kids = Array.from(s.children);
    for (var i = 1; i < kids.length; i++) {
      worst_gap = Math.max(worst_gap, kids[i].getBoundingClientRect().left - kids[i-1].getBoundingClientRect().right);
    }
    kids.forEach(function(k){
      if (k.tagName.toLowerCase() === 'mo' && (k.textContent === '(' || k.textContent === ')')) {
        var em = parseFloat(getComputedStyle(k).fontSize);
        worst_paren = Math.max(worst_paren, k.getBoundingClientRect().width / em);
      }
    });
  });
  r.scripts = scripts; r.worst_gap = worst_gap; r.worst_paren_em = worst_paren;
  document.body.setAttribute('data-report', JSON.stringify(r));
})();
</script>"#;

/// Render `html` in Chromium at a 1280-px wide window and return the measurements.
fn measure(chrome: &Path, html: &str, name: &str) -> serde_json::Value {
    let d = dir();
    let page = d.join(format!("{name}-measured.html"));
    std::fs::write(&page, html.replace("</body>", &format!("{MEASURE}\n</body>"))).unwrap();
    let o = headless(chrome, &d.join(format!("profile-{name}")), &["--window-size=1280,900", "--virtual-time-budget=5000", "--dump-dom", &format!("file://{}", page.display())]);
    let dom = String::from_utf8_lossy(&o.stdout).to_string();
    let at = dom.find("data-report=\"").unwrap_or_else(|| panic!("{name}: no report in the DOM (chromium: {})", String::from_utf8_lossy(&o.stderr)));
    let raw = &dom[at + "data-report=\"".len()..];
    let raw = &raw[..raw.find('"').unwrap()];
    let json = raw.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}: {e}: {json}"))
}

fn page(args: &[&str]) -> String {
    let mut all = vec!["derive", "--format", "html"];
    all.extend_from_slice(args);
    let o = run(&all);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// What the page says without a browser: one document, no request of any kind, every step, deterministic.
#[test]
fn the_page_is_self_contained_and_deterministic() {
    for args in [vec![], vec!["--wrt", "W_x"], vec!["--lang", "ko"], vec!["--wrt", "all", "--bias"]] {
        let html = page(&args);
        assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"), "{args:?}");
        // the only URL is the SVG namespace (a name, never fetched)
        let urls: Vec<&str> = html.match_indices("http").map(|(i, _)| &html[i..(i + 30).min(html.len())]).collect();
        assert!(urls.iter().all(|u| u.starts_with("http://www.w3.org/2000/svg")), "{args:?}: {urls:?}");
        assert!(!html.contains(" src=") && !html.contains("<link"), "{args:?}: nothing is loaded");
        assert_eq!(html, page(&args), "{args:?}: the same input gives the same bytes");
        let json: serde_json::Value = serde_json::from_str(&stdout(&run(&[&["derive", "--format", "json"][..], &args].concat()))).unwrap();
        let beats = |j: &serde_json::Value| j["steps"].as_array().map(|b| b.len()).unwrap_or(0);
        let n: usize = match &json {
            serde_json::Value::Array(a) => a.iter().map(beats).sum(),
            j => beats(j),
        };
        assert_eq!(html.matches("<section class=\"step\"").count(), n, "{args:?}: one section per step");
        // each rule a step names links to its entry in the appendix
        for (i, _) in html.match_indices("href=\"#rule-") {
            let name = &html[i + 12..];
            let name = &name[..name.find('"').unwrap()];
            assert!(html.contains(&format!("id=\"rule-{name}\"")), "{args:?}: no appendix entry for {name}");
        }
    }
    let t3 = page(&[]);
    assert!(t3.len() < 300_000, "the T = 3 page is {} bytes", t3.len());
    // --ascii is for the text formats: a page keeps the characters MathML needs
    assert_eq!(page(&["--ascii"]), t3);
    // --trace: each step's rule applications in a <details>, each form as MathML
    let traced = page(&["--trace"]);
    assert_eq!(traced.matches("<details>").count(), t3.matches("<p class=\"rules\">").count(), "one <details> per step with rules");
    assert!(traced.contains("<li><code>unfold-loss</code> <math>"), "the trace lists rule applications");
}

#[test]
fn the_page_renders_in_a_browser() {
    let Some(chrome) = chromium() else { return };
    for (name, args) in [("W_r-en", vec![]), ("W_r-ko", vec!["--lang", "ko"]), ("W_x-en", vec!["--wrt", "W_x"]), ("lstm-W_fr-en", vec!["--model", "lstm", "--wrt", "W_fr"]), ("gru-W_zr-ko", vec!["--model", "gru", "--wrt", "W_zr", "--lang", "ko"])] {
        let html = page(&args);
        let r = measure(&chrome, &html, name);
        let maths = r["maths"].as_u64().unwrap();
        assert!(maths > 20, "{name}: {maths} math elements");
        assert_eq!(r["empty_maths"], 0, "{name}: a <math> without a layout box");
        assert!(r["scripts"].as_u64().unwrap() > 20, "{name}: {}", r["scripts"]);
        assert!(r["worst_gap"].as_f64().unwrap() <= 0.5, "{name}: a superscript or subscript has a gap of {} px between its parts", r["worst_gap"]);
        assert!(r["worst_paren_em"].as_f64().unwrap() <= 0.6, "{name}: a parenthesis in a script is {} em wide (stretchy, with space of its own)", r["worst_paren_em"]);
        assert!(r["scroll_width"].as_u64().unwrap() <= 1280, "{name}: the page is {} px wide in a 1280-px window", r["scroll_width"]);
        assert_eq!(r["resources"].as_array().unwrap().len(), 0, "{name}: requests {:?}", r["resources"]);
        let text = r["text"].as_str().unwrap();
        for raw in ["\\frac", "\\sum", "<mi", "<math", "$$", "&lt;", "&amp;"] {
            assert!(!text.contains(raw), "{name}: `{raw}` is visible as text");
        }
        // the screenshot docs/ shows (copied from target/tmp/html by hand after looking at it)
        let shot = dir().join(format!("{name}.png"));
        let _ = std::fs::remove_file(&shot);
        let plain = dir().join(format!("{name}.html"));
        std::fs::write(&plain, &html).unwrap();
        headless(&chrome, &dir().join(format!("profile-{name}")), &["--window-size=1280,1600", &format!("--screenshot={}", shot.display()), &format!("file://{}", plain.display())]);
        assert!(std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0) > 50_000, "{name}: no screenshot");
        let titles: Vec<&str> = r["titles"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
        assert_eq!(titles.len(), html.matches("<section class=\"step\"").count(), "{name}");
        if name.ends_with("-ko") {
            let hangul = |s: &str| s.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c));
            assert!(titles.iter().all(|t| hangul(t)), "{name}: a title without Korean: {titles:?}");
            assert!(text.contains("목표") && text.contains("체인룰"), "{name}");
        } else {
            let own = match name {
                _ if name.starts_with("W_x") => "the per-step gradients added up over time",
                _ if name.starts_with("lstm") => "the cell state's two paths",
                _ => "regroup by time step",
            };
            assert!(text.contains("the goal") && text.contains(own), "{name}");
        }
    }
}

#[test]
fn the_page_prints_every_step() {
    let Some(chrome) = chromium() else { return };
    let has_pdftotext = std::process::Command::new("pdftotext").arg("-v").output().is_ok();
    if !has_pdftotext {
        assert!(std::env::var_os("BPTT_REQUIRE_TOOLS").is_none(), "pdftotext is required (poppler-utils)");
        return;
    }
    let d = dir();
    for (name, args) in [("print-en", vec![]), ("print-ko", vec!["--lang", "ko"])] {
        let html = page(&args);
        let file = d.join(format!("{name}.html"));
        std::fs::write(&file, &html).unwrap();
        let pdf = d.join(format!("{name}.pdf"));
        let _ = std::fs::remove_file(&pdf);
        let o = headless(&chrome, &d.join(format!("profile-{name}")), &["--no-pdf-header-footer", &format!("--print-to-pdf={}", pdf.display()), &format!("file://{}", file.display())]);
        assert!(pdf.exists(), "{name}: no PDF ({})", String::from_utf8_lossy(&o.stderr));
        let t = std::process::Command::new("pdftotext").args(["-layout"]).arg(&pdf).arg("-").output().unwrap();
        let text: String = String::from_utf8_lossy(&t.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
        // every step's tag and the start of its title, in order
        let mut at = 0;
        let mut steps = 0;
        for sec in html.split("<section class=\"step\"").skip(1) {
            let h3 = &sec[sec.find("<h3>").unwrap() + 4..sec.find("<button").unwrap()];
            let title = h3.rsplit("</span>").next().unwrap();
            let start: String = title.chars().take(12).collect::<String>().replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"");
            let start = start.split_whitespace().collect::<Vec<_>>().join(" ");
            let found = text[at..].find(&start).unwrap_or_else(|| panic!("{name}: step {} “{start}” is not in the printed PDF after byte {at}", steps + 1));
            at += found + start.len();
            steps += 1;
        }
        assert!(steps >= 10, "{name}: {steps} steps");
    }
}

#[test]
fn check_writes_an_html_page_with_the_verdict() {
    let o = run(&["check", "--format", "html", "--steps", "2", "sum_{k=1}^{T} dL/dh^(k)[i] * s^(k)[p]"]);
    assert_eq!(o.status.code(), Some(1), "refuted: {}", stderr(&o));
    let html = stdout(&o);
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<math display=\"block\">"), "{html}");
    assert!(html.contains("<p class=\"verdict\"><b>verdict</b> <span class=\"bad\">✗ REFUTED</span>"), "{html}");
    assert!(html.contains("counterexample at seed 1, T=2") && html.contains("<th>gradient</th>"), "the counterexample is on the page: {html}");
    assert!(html.contains("<h2>diagnosis</h2>") && html.contains("<code>mistake-state-off-by-one</code>"), "the diagnosis names the mistake: {html}");
    let o = run(&["check", "--format", "html", "--lang", "ko", "--any-T", "sum_{k=1}^{T} dL/dh^(k)[i] * s^(k-1)[p]"]);
    assert_eq!(o.status.code(), Some(0));
    let ko = stdout(&o);
    assert!(ko.contains("<span class=\"ok\">✓ 증명됨</span>") && ko.contains("lang=\"ko\"") && ko.contains("<th>T=8</th>"), "{ko}");
    // a hand derivation, line by line
    let steps = dir().join("steps.txt");
    std::fs::write(&steps, "sum_{k=1}^{T} dL/dh^(k)[i] * s^(k-1)[p]\nsum_{k=1}^{T} dL/dh^(k)[i] * s^(k)[p]\n").unwrap();
    let o = run(&["check", "--format", "html", "--steps-file", steps.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("<pre class=\"bad-chain\">"), "{}", stdout(&o));
    if let Some(chrome) = chromium() {
        let r = measure(&chrome, &ko, "check-ko");
        assert_eq!(r["empty_maths"], 0);
        assert!(r["text"].as_str().unwrap().contains("증명"), "{}", r["text"]);
    }
}

#[test]
fn the_site_links_resolve() {
    let d = dir().join("site");
    let _ = std::fs::remove_dir_all(&d);
    let o = run(&["site", d.to_str().unwrap(), "--steps", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let index = std::fs::read_to_string(d.join("index.html")).unwrap();
    let mut links = 0;
    for (i, _) in index.match_indices("href=\"") {
        let target = &index[i + 6..];
        let target = &target[..target.find('"').unwrap()];
        assert!(d.join(target).is_file(), "{target} does not resolve");
        let page = std::fs::read_to_string(d.join(target)).unwrap();
        assert!(page.contains("<math"), "{target}");
        links += 1;
    }
    // the RNN's W_r, W_x, W_y, s0 and biases b, c; the LSTM's 16 and the GRU's 12 parameters: in English and Korean
    assert_eq!(links, 2 * (6 + 16 + 12), "{index}");
    assert!(index.contains("한국어") && index.contains("LSTM, many-to-one") && index.contains("GRU, many-to-one, with biases"));
    for p in ["W_r-en.html", "W_r-ko.html", "b-ko-bias.html", "lstm-W_fr-en.html", "lstm-b_f-ko-bias.html", "gru-W_zr-ko.html"] {
        assert!(d.join(p).is_file(), "{p}");
    }
    // a parameter whose gradient is a sum over time has its chart, drawn for the page's own model variant
    for p in ["W_r-en.html", "W_x-ko.html", "b-en-bias.html", "lstm-W_fr-en.html", "gru-b_n-ko-bias.html"] {
        let page = std::fs::read_to_string(d.join(p)).unwrap();
        assert!(page.contains("<svg") && page.contains("figure class=\"plot\""), "{p}: the chart is inline");
    }
}
