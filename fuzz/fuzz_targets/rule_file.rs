//! Fuzz the rule-file reader: any bytes give rules or diagnostics, never a panic; diagnostics render.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let text: Arc<str> = Arc::from(text);
    let ctx = Arc::new(bptt::rules::apply::Ctx::default());
    let mut diags = vec![];
    let _ = bptt::rules::read_rules("fuzz.rules", &text, &ctx, bptt::rules::Kind::Rule, &|_| false, &mut diags);
    for d in diags {
        let _ = d.to_string();
    }
});
