//! Where results go, every write checked: standard output (a closed pipe ends the run quietly, as `head` expects;
//! any other failure, such as a full disk, is an error that says *write*), or `-o FILE`, written to a temporary
//! file beside it and renamed into place, so a reader never sees half a file and concurrent runs never mix.
use crate::error::Error;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Write `text` to `out` and flush it.
pub fn to_stream(text: &[u8], out: &mut dyn Write) -> Result<(), Error> {
    match out.write_all(text).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::Write { path: "standard output".into(), reason: e.to_string() }),
    }
}

/// Write `text` to the file `path` whole, or not at all: a temporary file in the same directory, flushed to
/// disk, then renamed over `path`.
pub fn to_file(path: &Path, text: &[u8]) -> Result<(), Error> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let fail = |e: std::io::Error| Error::Write { path: path.display().to_string(), reason: e.to_string() };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.{}.{}.tmp", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed)));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(text)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    Ok(())
}

/// `-o FILE` (when given and not `-`) or the stream.
pub fn emit(path: Option<&Path>, text: &[u8], out: &mut dyn Write) -> Result<(), Error> {
    match path {
        Some(p) if p.as_os_str() != "-" => to_file(p, text),
        _ => to_stream(text, out),
    }
}

/// A line on standard error that never panics (a closed standard error is not worth dying for).
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}
