//! Fuzz the LaTeX formula reader; a formula that reads is printed as LaTeX and read again.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match bptt::read::latex::read(text, "fuzz", None) {
        Ok(e) => {
            let printed = bptt::render::text::render(&e, bptt::render::text::Style::Latex, 80);
            let back = bptt::read::latex::read(&printed, "printed", None).expect("what bptt prints reads back");
            assert_eq!(bptt::lang::normal_form(&back), bptt::lang::normal_form(&e), "{printed}");
        }
        Err(d) => {
            let _ = d.to_string();
        }
    }
});
