//! The byte-scanning readers of rule, model and plan files equal their plain definitions (kept here as the
//! oracle): `Template::expand` (tags, then placeholders) and `lines` (blank, comment, content up to ` #`), on
//! random text made of the characters that matter to them — tags, brackets, braces, `#`, tabs, carriage returns,
//! Unicode spaces and letters — and on every built-in file.
use bptt::rules::{Line, TAGS, Template, lines};
use proptest::prelude::*;

/// `Template::expand` as first written: line by line with `str` methods, then one pass for the placeholders.
fn expand_plain(t: &Template, text: &str) -> String {
    let mut kept = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let lead = body.len() - body.trim_start().len();
        let tags = body[lead..].strip_prefix('[').and_then(|r| r.split_once(']')).filter(|(g, _)| {
            let g: Vec<&str> = g.split_whitespace().collect();
            !g.is_empty() && g.iter().all(|w| TAGS.contains(w))
        });
        match tags {
            Some((g, _)) if g.split_whitespace().all(|w| t.tags.iter().any(|h| h == w)) => {
                kept.push_str(&body[..lead]);
                kept.push_str(&" ".repeat(g.len() + 2));
                kept.push_str(&line[lead + g.len() + 2..]);
            }
            Some(_) => {
                kept.push_str(&" ".repeat(body.len()));
                kept.push_str(&line[body.len()..]);
            }
            None => kept.push_str(line),
        }
    }
    let mut out = String::new();
    let mut rest = kept.as_str();
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let end = tail.find('}').map(|e| e + 1).unwrap_or(tail.len());
        let value = match &tail[..end] {
            "{act}" => Some(t.act.clone()),
            "{out}" => Some(t.out.clone()),
            "{T}" => Some(t.steps.to_string()),
            "{T-1}" => Some(t.steps.saturating_sub(1).to_string()),
            "{Tsup}" => Some(bptt::notation::superscript(&t.steps.to_string())),
            "{T-1sup}" => Some(bptt::notation::superscript(&t.steps.saturating_sub(1).to_string())),
            _ => None,
        };
        match value {
            Some(v) => {
                out.push_str(&v);
                rest = &tail[end..];
            }
            None => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A line as `lines` should see it, written plainly: (range, 0 blank / 1 comment / 2 content, comment text or
/// content range).
fn lines_plain(text: &str) -> Vec<(std::ops::Range<usize>, u8, String)> {
    let mut out = vec![];
    let mut start = 0;
    for l in text.split_inclusive('\n') {
        let end = start + l.trim_end_matches(['\n', '\r']).len();
        let s = &text[start..end];
        let t = s.trim();
        let row = if t.is_empty() {
            (start..end, 0, String::new())
        } else if let Some(c) = t.strip_prefix('#') {
            (start..end, 1, c.trim().to_string())
        } else {
            let content_end = s.find(" #").map(|i| start + i).unwrap_or(end);
            (start..end, 2, format!("{start}..{content_end}"))
        };
        out.push(row);
        start += l.len();
    }
    out
}

fn lines_fast(text: &str) -> Vec<(std::ops::Range<usize>, u8, String)> {
    lines(text)
        .into_iter()
        .map(|(r, l)| match l {
            Line::Blank => (r, 0, String::new()),
            Line::Comment(c) => (r, 1, c),
            Line::Content(c) => (r, 2, format!("{}..{}", c.start, c.end)),
        })
        .collect()
}

const PIECES: &[&str] = &[
    " ", "  ", "\t", "\n", "\r\n", "\r", "#", " #", "[", "]", "[m2o]", "[m2m bias]", "[bias]", "[mse] ", "[softmax-ce]",
    "[nope]", "[]", "{", "}", "{T}", "{T-1}", "{Tsup}", "{T-1sup}", "{act}", "{out}", "{T", "{x}", "}{", "a", "rule-x:",
    "(d L ?x)", "=>", "σ", "\u{a0}", "\u{2003}", "\u{b}", "é", "ᵀ", "Σ_{t=1}^{T}",
];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(0..PIECES.len(), 0..60).prop_map(|v| v.into_iter().map(|i| PIECES[i]).collect())
}

fn template(steps: usize, tags: &[&str]) -> Template {
    Template { act: "tanh".into(), steps, tags: tags.iter().map(|t| t.to_string()).collect(), out: "yhat".into() }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn expand_equals_its_plain_definition(s in text(), steps in 0usize..12, tag_set in 0usize..3) {
        let tags: &[&str] = [&["m2o", "mse"][..], &["m2m", "bias", "softmax-ce"][..], &[][..]][tag_set];
        let t = template(steps, tags);
        prop_assert_eq!(t.expand(&s), expand_plain(&t, &s));
    }

    #[test]
    fn lines_equal_their_plain_definition(s in text()) {
        prop_assert_eq!(lines_fast(&s), lines_plain(&s));
    }
}

#[test]
fn every_built_in_file_expands_and_splits_as_plainly_defined() {
    for (name, raw) in bptt::rules::MANIFEST {
        for (steps, tags) in [(3, &["m2o", "mse"][..]), (1, &["m2m", "softmax-ce", "bias"][..]), (12, &["m2o", "mse", "bias"][..])] {
            let t = template(steps, tags);
            let e = t.expand(raw);
            assert_eq!(e, expand_plain(&t, raw), "{name} at T = {steps}");
            assert_eq!(lines_fast(&e), lines_plain(&e), "{name} at T = {steps}");
        }
    }
}

/// A file expands once per process and template: one that does not mention T is the same text (shared) at every T,
/// one that does is expanded at each T with that T.
#[test]
fn a_file_without_t_is_expanded_once_and_shared_across_t() {
    let at = |steps| bptt::rules::Sources::load_only(None, &template(steps, &["m2o", "mse"]), |n| n == "calculus.rules" || n == "models/rnn.model").unwrap();
    let (a, b) = (at(4), at(7));
    let free = |s: &bptt::rules::Sources| s.get("calculus.rules").unwrap().1.clone();
    let model = |s: &bptt::rules::Sources| s.get("models/rnn.model").unwrap().1.clone();
    assert!(!bptt::rules::MANIFEST.iter().find(|(n, _)| *n == "calculus.rules").unwrap().1.contains("{T"));
    assert!(std::sync::Arc::ptr_eq(&free(&a), &free(&b)), "the T-free file is shared");
    assert!(model(&a).contains("(tx s 4 ?a)") && model(&b).contains("(tx s 7 ?a)"), "the model is expanded at each T");
    assert!(std::sync::Arc::ptr_eq(&model(&a), &model(&at(4))), "and shared at the same T");
}
