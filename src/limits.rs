//! Limits that hold for a whole run: memory, time and input size. The binary counts the bytes it has allocated
//! ([`Counting`], its global allocator) and sets a budget and a deadline once ([`set`]); every stage that input
//! drives (reading, loading, rewriting, evaluation, canonical forms, plotting) calls [`check`] in its loops and
//! [`reserve`] before a large allocation, and stops with an error that names the limit, the figure and the flag
//! that raises it — never a crash, never a partial result. A library caller that sets nothing has no limits.
use crate::error::{Error, Result};
use std::alloc::{GlobalAlloc, Layout};
use std::sync::Mutex;
use std::sync::atomic::{AtomicIsize, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Bytes in use by all threads, less what each thread has not added yet (so it may dip below zero briefly:
/// one thread frees what another allocated).
static ALLOCATED: AtomicIsize = AtomicIsize::new(0);
static MAX_MEMORY: AtomicUsize = AtomicUsize::new(usize::MAX);
static LOWERED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static CHECKS: AtomicU64 = AtomicU64::new(0);
static DEADLINE: Mutex<Option<(Instant, u64)>> = Mutex::new(None);
/// The default cap on a formula, a params file or one rule file, in bytes.
pub const DEFAULT_MAX_INPUT: usize = 16 << 20;
static MAX_INPUT: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_INPUT);

/// A global allocator that counts the bytes in use.
///
/// Each thread counts in its own cell and adds to the shared count only when its change passes
/// [`FLUSH`] bytes (one shared atomic updated on every allocation by three threads was contended: the any-T
/// check runs beside the derivation). The shared count is therefore exact up to [`FLUSH`] bytes per thread.
pub struct Counting<A>(pub A);

/// How far a thread's own count may drift before it is added to the shared one.
const FLUSH: isize = 64 << 10;

thread_local! {
    static LOCAL: std::cell::Cell<isize> = const { std::cell::Cell::new(0) };
}

#[inline]
fn count(delta: isize) {
    // a thread being torn down has no cell any more: it counts directly
    let v = LOCAL
        .try_with(|c| {
            let v = c.get() + delta;
            let flush = v.unsigned_abs() >= FLUSH as usize;
            c.set(if flush { 0 } else { v });
            if flush { v } else { 0 }
        })
        .unwrap_or(delta);
    if v != 0 {
        ALLOCATED.fetch_add(v, Ordering::Relaxed);
    }
}

unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { self.0.alloc(l) };
        if !p.is_null() {
            count(l.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { self.0.dealloc(p, l) };
        count(-(l.size() as isize));
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        let p = unsafe { self.0.alloc_zeroed(l) };
        if !p.is_null() {
            count(l.size() as isize);
        }
        p
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { self.0.realloc(p, l, new) };
        if !q.is_null() {
            count(new as isize - l.size() as isize);
        }
        q
    }
}

/// Bytes in use now (0 when the allocator is not [`Counting`]).
pub fn allocated() -> usize {
    ALLOCATED.load(Ordering::Relaxed).max(0) as usize
}

/// The run's limits, from the command line: memory in MB (capped by the process's address-space limit, if one
/// is set, so that the run stops with a message before the system refuses memory), time in seconds, and the
/// largest input in bytes.
pub fn set(max_memory_mb: u64, timeout_secs: u64, max_input: usize) {
    let mut bytes = (max_memory_mb as usize).saturating_mul(1 << 20);
    if let Some(cap) = address_space_limit() {
        // what the process may map, less room for the stacks, the code and the allocator's own reserve
        let room = (cap / 4).saturating_sub(32 << 20);
        LOWERED.store(room < bytes, Ordering::Relaxed);
        bytes = bytes.min(room);
    }
    MAX_MEMORY.store(bytes.max(16 << 20), Ordering::Relaxed);
    let at = Instant::now().checked_add(Duration::from_secs(timeout_secs));
    if let Ok(mut d) = DEADLINE.lock() {
        *d = at.map(|a| (a, timeout_secs));
    }
    MAX_INPUT.store(max_input, Ordering::Relaxed);
}

/// The memory budget in bytes (usize::MAX: none).
pub fn max_memory() -> usize {
    MAX_MEMORY.load(Ordering::Relaxed)
}

/// The stack for a thread that evaluates deep expressions (large T recurses deeply): 512 MB of address space,
/// touched only as deep as the work goes; less when the address space is limited (ulimit -v), so that the
/// reservation leaves room for the work.
pub fn deep_stack() -> usize {
    match address_space_limit() {
        Some(cap) => (512usize << 20).min(cap / 8).max(16 << 20),
        None => 512 << 20,
    }
}

/// The address-space limit (`ulimit -v`) of this process, when one is set (Linux).
pub fn address_space_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max address space"))?;
    let soft = line.split_whitespace().nth(3)?;
    soft.parse::<usize>().ok()
}

/// How the memory limit is named in messages.
fn memory_flag() -> &'static str {
    if LOWERED.load(Ordering::Relaxed) { "--max-memory, lowered to a quarter of this process's address-space limit, ulimit -v" } else { "--max-memory" }
}

fn mb(bytes: usize) -> String {
    format!("{} MB", bytes.div_ceil(1 << 20))
}

/// Stop when the run has used more memory than its budget, or passed its deadline. `what` says where.
pub fn check(what: &str) -> Result<()> {
    let used = allocated();
    let max = max_memory();
    if used > max {
        return Err(Error::Limit(format!("{what}: stopped at {} of memory, over the limit of {} ({}); raise it, or use smaller sizes or fewer --steps", mb(used), mb(max), memory_flag())));
    }
    // the clock is read once in 256 checks: checks sit in inner loops
    if CHECKS.fetch_add(1, Ordering::Relaxed).is_multiple_of(256) {
        deadline(what)?;
    }
    Ok(())
}

/// Stop when the run has passed its deadline.
pub fn deadline(what: &str) -> Result<()> {
    let d = DEADLINE.lock().ok().and_then(|d| *d);
    if let Some((at, secs)) = d
        && Instant::now() > at
    {
        return Err(Error::Limit(format!("{what}: stopped by --timeout {secs} (seconds); raise --timeout, or use smaller sizes or fewer --steps")));
    }
    Ok(())
}

/// Before allocating about `bytes` more: refuse when that would pass the memory budget, with the figure.
pub fn reserve(bytes: usize, what: &str) -> Result<()> {
    let max = max_memory();
    let total = allocated().saturating_add(bytes);
    if total > max {
        return Err(Error::Limit(format!("{what} needs about {} of memory, over the limit of {} ({}); raise it, or use smaller sizes or fewer --steps", mb(bytes), mb(max), memory_flag())));
    }
    Ok(())
}

/// Read a whole input (a file, standard input) up to the input cap: a longer one is an error, not a wait for
/// `/dev/zero` to end.
pub fn read_capped(r: &mut dyn std::io::Read, what: &str) -> Result<Vec<u8>> {
    read_capped_sized(r, what, 0)
}

/// [`read_capped`] into a buffer made ready for about `size` bytes (a file's length: one read instead of a
/// buffer doubled a dozen times, each time copied — a tenth of `grad --params` with a 1.5 MB file).
fn read_capped_sized(r: &mut dyn std::io::Read, what: &str, size: usize) -> Result<Vec<u8>> {
    let cap = MAX_INPUT.load(Ordering::Relaxed);
    let mut buf = Vec::with_capacity(size.min(cap).saturating_add(1));
    std::io::Read::read_to_end(&mut std::io::Read::take(r, cap as u64 + 1), &mut buf).map_err(|e| Error::Io { path: what.into(), reason: e.to_string() })?;
    if buf.len() > cap {
        return Err(Error::Limit(format!("{what} is longer than {} bytes (--max-input); raise --max-input if it is meant to be this long", cap)));
    }
    Ok(buf)
}

/// Read a file up to the input cap.
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::Io { path: path.display().to_string(), reason: e.to_string() })?;
    // the length is only a hint (a pipe or /proc file says 0, a growing file more): the cap still decides
    let size = f.metadata().map(|m| usize::try_from(m.len()).unwrap_or(usize::MAX)).unwrap_or(0);
    read_capped_sized(&mut f, &path.display().to_string(), size)
}

/// The most time steps a run takes (the range of --steps).
pub const MAX_STEPS: usize = 100_000;
