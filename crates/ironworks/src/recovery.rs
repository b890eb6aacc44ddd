//! Crash recovery. A run holds an exclusive lock on its lock file for as long
//! as its `ironworks` process lives; the kernel drops the lock when the
//! process dies, however it dies. At start-up, a run recorded as `running`
//! whose lock can be taken has lost its owner: its leftover processes are
//! killed (found by the run token in their environment) and it is marked
//! `interrupted`, with its unfinished jobs, in one transaction.

use std::fs::{self, File};
use std::path::Path;

use ironworks_store::Store;

use crate::context::{lock_path, now};
use crate::error::Failure;

pub fn recover(store: &mut Store, state_dir: &Path) -> Result<(), Failure> {
    for run in store.in_flight()? {
        let path = lock_path(state_dir, &run.token);
        let orphaned = match File::options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
        {
            Ok(file) => file.try_lock().is_ok(),
            Err(_) => false,
        };
        if !orphaned {
            continue;
        }
        let killed = ironworks_exec::reaper::kill_by_token(&run.token);
        if store.mark_interrupted(run.id, now())? {
            eprintln!(
                "note: run {} was in flight when its ironworks process stopped; marked interrupted{}",
                run.id,
                if killed > 0 {
                    format!(" ({killed} leftover process(es) killed)")
                } else {
                    String::new()
                }
            );
        }
        let _ = fs::remove_file(&path);
    }
    Ok(())
}

/// Take the lock of a new run. Held until the returned file is dropped.
pub fn lock_run(state_dir: &Path, token: &str) -> Result<File, Failure> {
    let path = lock_path(state_dir, token);
    let file = File::options()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| {
            Failure::environment(format!("cannot create lock file {}: {e}", path.display()))
        })?;
    file.try_lock()
        .map_err(|e| Failure::environment(format!("cannot lock {}: {e}", path.display())))?;
    Ok(file)
}
