//! Fault injection for crash-safety tests: in debug builds, when
//! `IRONWORKS_FAULT` names a point, Ironworks aborts there, like a crash.
//! Release builds compile the points away.

/// Abort here if `IRONWORKS_FAULT` names this point (debug builds only).
#[inline]
pub fn point(name: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("IRONWORKS_FAULT").is_ok_and(|v| v == name) {
        eprintln!("ironworks: injected fault at `{name}`");
        std::process::abort();
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}
