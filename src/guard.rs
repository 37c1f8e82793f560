//! Panics are bugs, but one while reading a unit or drawing a chart must not lose the rest of
//! the report: those places run under `catch`, which turns a panic into an error naming what was
//! being done. Any panic still makes the run end with exit 2 (`panicked`), after its output.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

static PANICS: AtomicU64 = AtomicU64::new(0);

/// The last panic's message and place, for the message `catch` builds. Global, not per thread:
/// a panic on a polars worker thread is resumed on the thread that waits for it.
static LAST: Mutex<String> = Mutex::new(String::new());

/// Replaces the default hook (which prints a backtrace hint mid-output): the panic is counted
/// and its place remembered; `catch`, or `main`, says what failed.
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        PANICS.fetch_add(1, Ordering::Relaxed);
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let message = match info.payload() {
            p if p.is::<&str>() => p.downcast_ref::<&str>().map(|s| s.to_string()),
            p => p.downcast_ref::<String>().cloned(),
        };
        if let Ok(mut last) = LAST.lock() {
            *last = format!("{}{at}", message.unwrap_or_else(|| "panic".into()));
        }
    }));
}

/// How many panics the run has had, caught or not.
pub fn panics() -> u64 {
    PANICS.load(Ordering::Relaxed)
}

/// Test hook (`MILA_TEST_PANIC=WHERE:NAME`): panics at a named place (`read`, `chart`) when the
/// unit or chart name contains NAME, to prove a panic there loses nothing else.
pub fn test_panic(place: &str, name: &str) {
    static HOOK: std::sync::OnceLock<Option<(String, String)>> = std::sync::OnceLock::new();
    let hook = HOOK.get_or_init(|| {
        let v = std::env::var("MILA_TEST_PANIC").ok()?;
        let (p, n) = v.split_once(':')?;
        Some((p.to_string(), n.to_string()))
    });
    if let Some((p, n)) = hook {
        if p == place && name.contains(n.as_str()) {
            panic!("test hook: panic while at {place} {name}");
        }
    }
}

/// A panic caught by `catch`: what was being done, and the panic's message and place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("internal error (a bug in mila) while {doing}: {panic}")]
pub struct Panicked {
    pub doing: String,
    pub panic: String,
}

/// Runs `f`; a panic becomes `Panicked`, said as "internal error while {doing}: {message} at
/// {place}".
pub fn catch<R>(doing: impl std::fmt::Display, f: impl FnOnce() -> R) -> Result<R, Panicked> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|_| {
        let panic = LAST.lock().map(|l| l.clone()).unwrap_or_default();
        Panicked { doing: doing.to_string(), panic }
    })
}
