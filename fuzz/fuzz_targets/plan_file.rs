//! Fuzz the plan reader against the built-in rule set; a plan that reads is also run (with small limits).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

fn session() -> &'static bptt::session::Session {
    static S: OnceLock<bptt::session::Session> = OnceLock::new();
    S.get_or_init(|| bptt::session::Session::load(bptt::session::Options::default()).expect("the built-in rules load"))
}

fuzz_target!(|data: &[u8]| {
    // the run's limits, as the command line sets them: every input gets 10 seconds and 2 GB
    bptt::limits::set(2048, 10, 1 << 20);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let text: Arc<str> = Arc::from(text);
    let s = session();
    let mut diags = vec![];
    if let Some(plan) = bptt::plan::Plan::read("fuzz.plan", &text, &s.rules, &mut diags) {
        if diags.is_empty() {
            let limits = bptt::stepper::Limits { max_steps: 200, max_nodes: 5_000, deadline: None, ..Default::default() };
            if let Ok(d) = bptt::derive::derive(&plan, &s.rules, limits) {
                let _ = bptt::verify::verify(s, &d, false);
            }
        }
    }
    for d in diags {
        let _ = d.to_string();
    }
});
