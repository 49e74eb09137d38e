//! The `bptt` binary: parse the arguments, run, exit with 0 (ok), 1 (a check found a mismatch) or 2 (error).
use std::process::ExitCode;

fn main() -> ExitCode {
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
