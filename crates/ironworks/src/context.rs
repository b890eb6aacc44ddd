//! Where things are: the adapter (found like cargo finds Cargo.toml), the
//! state directory, and the opened store with recovery done.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use ironworks_core::Adapter;
use ironworks_core::adapter::ADAPTER_FILE_NAME;
use ironworks_core::record::Timestamp;
use ironworks_store::Store;

use crate::error::Failure;

/// The state directory name, next to the adapter.
pub const STATE_DIR_NAME: &str = ".ironworks";
/// Overrides the default state directory (after `--state-dir`).
pub const STATE_DIR_ENV: &str = "IRONWORKS_STATE_DIR";

/// A loaded adapter and where it came from.
#[derive(Debug)]
pub struct LoadedAdapter {
    pub path: PathBuf,
    pub adapter: Adapter,
}

impl LoadedAdapter {
    /// The directory the adapter file is in.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }
}

/// `--adapter FILE`, or `ironworks.toml` in the current directory or the
/// nearest parent that has one.
pub fn find_adapter(given: Option<&Path>) -> Result<PathBuf, Failure> {
    if let Some(path) = given {
        if !path.is_file() {
            return Err(
                Failure::usage(format!("adapter file {} does not exist", path.display()))
                    .help("pass --adapter with the path of a project's ironworks.toml"),
            );
        }
        return Ok(absolute(path));
    }
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::environment(format!("cannot read the current directory: {e}")))?;
    cwd.ancestors()
        .map(|dir| dir.join(ADAPTER_FILE_NAME))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            Failure::usage(format!(
                "no {ADAPTER_FILE_NAME} in {} or any parent directory",
                cwd.display()
            ))
            .help("pass --adapter FILE, or run `ironworks demo` to create an example project")
        })
}

pub fn load_adapter(given: Option<&Path>) -> Result<LoadedAdapter, Failure> {
    let path = find_adapter(given)?;
    let text = fs::read_to_string(&path)
        .map_err(|e| Failure::usage(format!("cannot read adapter {}: {e}", path.display())))?;
    let adapter = Adapter::parse(&path.display().to_string(), &text).map_err(|problems| {
        let count = problems.0.len();
        Failure::usage(format!(
            "{} is not a valid adapter ({count} problem{}):\n{problems}",
            path.display(),
            if count == 1 { "" } else { "s" }
        ))
    })?;
    Ok(LoadedAdapter { path, adapter })
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// `--state-dir`, else `$IRONWORKS_STATE_DIR`, else `.ironworks` next to
/// the adapter (found as usual).
pub fn state_dir(given: Option<&Path>, adapter: Option<&Path>) -> Result<PathBuf, Failure> {
    if let Some(dir) = given {
        return Ok(absolute(dir));
    }
    if let Some(dir) = std::env::var_os(STATE_DIR_ENV).filter(|v| !v.is_empty()) {
        return Ok(absolute(Path::new(&dir)));
    }
    let adapter = find_adapter(adapter).map_err(|f| {
        f.help(format!(
            "the state directory is found next to the adapter; or pass --state-dir DIR or set {STATE_DIR_ENV}"
        ))
    })?;
    Ok(adapter
        .parent()
        .unwrap_or(Path::new("."))
        .join(STATE_DIR_NAME))
}

/// Create the state directory if needed and open its store, marking runs
/// whose owner died as interrupted.
pub fn open_state(dir: &Path) -> Result<Store, Failure> {
    let unusable = |e: std::io::Error| {
        Failure::environment(format!("cannot use state directory {}: {e}", dir.display())).help(
            format!("pass --state-dir with a writable directory, or set {STATE_DIR_ENV}"),
        )
    };
    fs::create_dir_all(dir).map_err(unusable)?;
    fs::create_dir_all(dir.join("locks")).map_err(unusable)?;
    // Like .pytest_cache: the state never shows up in `git status`.
    let ignore = dir.join(".gitignore");
    if !ignore.exists() {
        fs::File::create(&ignore)
            .and_then(|mut f| f.write_all(b"# Ironworks state; not source.\n*\n"))
            .map_err(unusable)?;
    }
    let mut store = Store::open(dir)?;
    crate::recovery::recover(&mut store, dir)?;
    Ok(store)
}

/// Lock file a live run holds; see [`crate::recovery`].
pub fn lock_path(state_dir: &Path, token: &str) -> PathBuf {
    state_dir.join("locks").join(format!("{token}.lock"))
}

pub fn now() -> Timestamp {
    Timestamp::from_system(std::time::SystemTime::now())
}
