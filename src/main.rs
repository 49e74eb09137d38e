//! The `bptt` binary: parse the arguments, run, exit with 0 (ok), 1 (a check found a mismatch) or 2 (error).
use std::process::ExitCode;

fn main() -> ExitCode {
    keep_freed_pages();
    if std::env::args_os().len() == 1 {
        let out = bptt::cli::output::to_stream(bptt::cli::ORIENTATION.as_bytes(), &mut std::io::stdout());
        return ExitCode::from(if out.is_ok() { bptt::cli::OK } else { bptt::cli::ERROR });
    }
    let cli = match bptt::cli::parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version go to standard output: write them checked, like every other result
            if !e.use_stderr() {
                let text = e.render().to_string();
                return ExitCode::from(match bptt::cli::output::to_stream(text.as_bytes(), &mut std::io::stdout()) {
                    Ok(()) => bptt::cli::OK,
                    Err(err) => {
                        bptt::cli::output::note(&format!("error: {err}"));
                        bptt::cli::ERROR
                    }
                });
            }
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { bptt::cli::ERROR } else { bptt::cli::OK });
        }
    };
    // Deep expressions (large T) recurse deeply: run on a thread with a large stack — a smaller one when the
    // address space is limited (ulimit -v), so that the stack's reservation leaves room for the work.
    let worker = std::thread::Builder::new().stack_size(bptt::limits::deep_stack()).spawn(move || {
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        bptt::without_egg_timing(|| bptt::cli::run(cli, &mut lock))
    });
    match worker {
        Ok(h) => match h.join() {
            Ok(code) => ExitCode::from(code),
            Err(_) => {
                bptt::cli::output::note("error: internal failure (this is a bug in bptt; please report the command you ran)");
                ExitCode::from(bptt::cli::ERROR)
            }
        },
        Err(e) => {
            bptt::cli::output::note(&format!("error: cannot start the worker thread: {e} (too little memory? check ulimit -v)"));
            ExitCode::from(bptt::cli::ERROR)
        }
    }
}

// The engine builds and drops many small e-graph nodes; mimalloc makes that about a quarter faster than the
// system allocator (measured: bench/compare.sh, README "Performance"). Its `no_thp` feature turns transparent huge
// pages off for the process: a typical run touches a few MB, and the kernel zeroing a 2 MB page at each first touch
// was a quarter of `derive` at small T (perf: clear_page_erms); measured 17.8 ms vs 33 ms whole process at T = 3,
// and 10–15 % slower at T = 100 (382 vs 336 ms), which stays far inside its budget.
#[global_allocator]
static GLOBAL: bptt::limits::Counting<mimalloc::MiMalloc> = bptt::limits::Counting(mimalloc::MiMalloc);

// When a thread ends, and again when the process does, mimalloc hands the pages it freed back to the kernel: at
// `derive --steps 3` 51 madvise calls (each a page-table walk and a TLB flush on both cores), at `grad` about a
// hundred — just before the kernel takes everything anyway. A run of bptt is one short process, so the freed pages
// stay with it (mimalloc still reuses them; the peak is the same: 127 MB at `derive --steps 1000` either way).
fn keep_freed_pages() {
    // SAFETY: sets one of mimalloc's options, a plain integer it reads when it would purge
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

/// mimalloc's `mi_option_purge_delay`: its place in `mi_option_e` (mimalloc.h, v3.3 as libmimalloc-sys 0.1.49
/// builds it; that crate names only the options before it). The test below checks that the option there reads
/// its documented default, so a mimalloc that numbers its options otherwise is caught.
const MI_OPTION_PURGE_DELAY: i32 = 15;

unsafe extern "C" {
    fn mi_option_set(option: i32, value: std::ffi::c_long);
    #[cfg(test)]
    fn mi_option_get(option: i32) -> std::ffi::c_long;
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_purge_delay_option_is_where_we_set_it() {
        // mimalloc's default purge delay, 1000 ms (or what MIMALLOC_PURGE_DELAY says); `eager_commit_delay` (the
        // option before it) defaults to 1 and `use_numa_nodes` (after it) to 0, so a shifted number reads neither
        let want = std::env::var("MIMALLOC_PURGE_DELAY").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
        assert_eq!(unsafe { super::mi_option_get(super::MI_OPTION_PURGE_DELAY) }, want);
    }
}
