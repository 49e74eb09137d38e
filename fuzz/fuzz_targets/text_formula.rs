//! Fuzz the text formula reader (Unicode and ASCII); a formula that reads is printed and read again.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(e) = bptt::read::text::read(text, "fuzz", None) {
        for style in [bptt::render::text::Style::Unicode, bptt::render::text::Style::Ascii] {
            let printed = bptt::render::text::render(&e, style, 80);
            let back = bptt::read::text::read(&printed, "printed", None).expect("what bptt prints reads back");
            assert_eq!(bptt::lang::normal_form(&back), bptt::lang::normal_form(&e), "{printed}");
        }
    } else if let Err(d) = bptt::read::text::read(text, "fuzz", None) {
        let _ = d.to_string();
    }
});
