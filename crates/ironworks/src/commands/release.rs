//! `ironworks release cut|fix|verify`.

use crate::cli::ReleaseCommand;
use crate::context::{load_adapter, open_state, state_dir};
use crate::error::Failure;
use crate::exit;
use crate::host::{self, short};
use crate::release;

pub fn dispatch(command: ReleaseCommand) -> Result<u8, Failure> {
    let location = match &command {
        ReleaseCommand::Cut { location, .. }
        | ReleaseCommand::Fix { location, .. }
        | ReleaseCommand::Verify { location, .. } => location.clone(),
    };
    let loaded = load_adapter(location.adapter.as_deref())?;
    let state = state_dir(location.state_dir.as_deref(), Some(&loaded.path))?;
    let mut store = open_state(&state)?;
    let quiet = matches!(
        command,
        ReleaseCommand::Cut { json: true, .. }
            | ReleaseCommand::Fix { json: true, .. }
            | ReleaseCommand::Verify { json: true, .. }
    );
    let mut host = host::open(&loaded, &mut store, &state, None, quiet)?;
    match command {
        ReleaseCommand::Cut {
            version,
            snapshot,
            json,
            ..
        } => {
            let record = release::cut(&mut host, &version, snapshot)?;
            if json {
                super::print_json(&record);
            } else {
                println!(
                    "cut {} at snapshot {} ({})",
                    record.branch,
                    record.snapshot,
                    short(&record.base_commit)
                );
            }
            Ok(exit::OK)
        }
        ReleaseCommand::Fix {
            version, pr, json, ..
        } => {
            let outcome = release::fix(&mut host, &version, pr)?;
            if json {
                super::print_json(&outcome);
            } else if outcome.landed {
                println!(
                    "PR #{pr} landed on release/{version} as {} (temper run {})",
                    short(outcome.merge_commit.as_deref().unwrap_or_default()),
                    outcome.temper_run
                );
            } else {
                println!(
                    "PR #{pr} not landed: {}",
                    outcome.reason.as_deref().unwrap_or("temper is red")
                );
            }
            Ok(if outcome.landed { exit::OK } else { exit::RED })
        }
        ReleaseCommand::Verify { version, json, .. } => {
            let proof = release::verify(&mut host, &version)?;
            if json {
                super::print_json(&proof);
            } else {
                println!(
                    "{} at {}: {} commit(s) checked{}: {} in forge-green snapshots, {} from release fixes that passed temper",
                    proof.branch,
                    short(&proof.head),
                    proof.commits_checked,
                    proof
                        .since
                        .as_deref()
                        .map(|t| format!(" since {t}"))
                        .unwrap_or_default(),
                    proof.in_green_snapshots,
                    proof.release_fixes
                );
                for offender in &proof.offenders {
                    println!(
                        "UNVETTED {} {} — {}",
                        short(&offender.commit),
                        offender.subject,
                        offender.reason
                    );
                }
                if proof.offenders.is_empty() {
                    println!("every commit is accounted for");
                }
            }
            Ok(if proof.offenders.is_empty() {
                exit::OK
            } else {
                exit::RED
            })
        }
    }
}
