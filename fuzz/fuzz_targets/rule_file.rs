//! Fuzz the rule-file reader: any bytes give rules or diagnostics, never a panic; diagnostics render. The text is
//! first expanded as the tool does (variant tags `[m2m …]`, placeholders `{T}`, `{out}`, …).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let tags = if data.len() % 2 == 0 { vec!["m2m".to_string(), "softmax-ce".to_string()] } else { vec!["m2o".to_string(), "mse".to_string(), "bias".to_string()] };
    let out = if data.len() % 2 == 0 { "yhat" } else { "y" };
    let template = bptt::rules::Template { act: "tanh".into(), steps: 3, tags, out: out.into() };
    let text: Arc<str> = Arc::from(template.expand(text));
    let ctx = Arc::new(bptt::rules::apply::Ctx::default());
    let mut diags = vec![];
    let _ = bptt::rules::read_rules("fuzz.rules", &text, &ctx, bptt::rules::Kind::Rule, &|_| false, &mut diags);
    for d in diags {
        let _ = d.to_string();
    }
});
