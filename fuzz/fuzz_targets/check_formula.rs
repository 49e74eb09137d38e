//! Fuzz `bptt check` on arbitrary formulas: reading (text or LaTeX, with and without Einstein sums), the free-index
//! and shape checks, random testing, the proof (expansion and canonical forms) and the diagnosis must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

struct Ready {
    s: bptt::session::Session,
    d: bptt::derive::Derivation,
    cat: bptt::check::mistakes::Catalogue,
}

fn ready() -> &'static Ready {
    static R: OnceLock<Ready> = OnceLock::new();
    R.get_or_init(|| {
        let s = bptt::session::Session::load(bptt::session::Options { steps: Some(2), ..Default::default() }).unwrap();
        let d = bptt::derive::derive(&s.plan, &s.rules, Default::default()).unwrap();
        let cat = bptt::check::mistakes::Catalogue::load(&s).unwrap();
        Ready { s, d, cat }
    })
}

fuzz_target!(|data: &[u8]| {
    // the run's limits, as the command line sets them: every input gets 10 seconds and 2 GB
    bptt::limits::set(2048, 10, 1 << 20);
    let Ok(text) = std::str::from_utf8(data) else { return };
    if text.len() > 400 {
        return;
    }
    let r = ready();
    for einstein in [false, true] {
        if let Ok(f) = bptt::check::read_formula(&r.s, text, "fuzz", einstein) {
            let limits = bptt::stepper::Limits { max_steps: 2000, max_nodes: 20_000, deadline: None, ..Default::default() };
            let _ = bptt::check::check(&r.s, &r.d, &r.cat, &f, 3, limits);
        }
    }
});
