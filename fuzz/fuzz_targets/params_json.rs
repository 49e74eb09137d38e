//! Fuzz the params JSON reader; params that read are also evaluated (loss and one gradient).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn session() -> &'static bptt::session::Session {
    static S: OnceLock<bptt::session::Session> = OnceLock::new();
    S.get_or_init(|| bptt::session::Session::load(bptt::session::Options::default()).expect("the built-in rules load"))
}

fuzz_target!(|data: &[u8]| {
    // the run's limits, as the command line sets them: every input gets 10 seconds and 2 GB
    bptt::limits::set(2048, 10, 1 << 20);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let s = session();
    if let Ok((params, sizes)) = bptt::params::Params::from_json(&s.model, text, "fuzz.json") {
        if sizes.steps <= 8 && sizes.dims.values().all(|n| *n <= 4) {
            let mut num = bptt::eval::Numeric::new(&s.model, &sizes, &params);
            let _ = num.tensor(&s.plan.goal);
        }
    }
});
