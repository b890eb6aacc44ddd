//! `ironworks demo`: the example project in a fresh git repository, with its
//! adapter and state inside, and its spark stage run once.

use std::fs;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use ironworks_core::Stage;

use crate::context::{LoadedAdapter, STATE_DIR_NAME, load_adapter, open_state};
use crate::error::Failure;
use crate::progress::Progress;
use crate::runner::{RunRequest, run_dir, run_stage};

/// The bundled example project (examples/toynode), adapter included.
static EXAMPLE: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../examples/toynode");

/// Build outputs that may sit in a developer's examples/ directory; never
/// part of the demo.
const NOT_SOURCE: &[&str] = &["build", "build-san", "build-fuzz", "dist", ".ironworks"];

pub fn demo(dir: Option<PathBuf>, jobs: Option<usize>) -> Result<u8, Failure> {
    let dir = match dir {
        Some(dir) => {
            if dir.exists()
                && fs::read_dir(&dir)
                    .map(|mut d| d.next().is_some())
                    .unwrap_or(true)
            {
                return Err(
                    Failure::usage(format!("{} exists and is not empty", dir.display()))
                        .help("pass --dir with a new or empty directory"),
                );
            }
            dir
        }
        None => fresh_dir()?,
    };
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    fs::create_dir_all(&dir)
        .map_err(|e| Failure::environment(format!("cannot create {}: {e}", dir.display())))?;
    write_example(&EXAMPLE, &dir)?;
    ironworks_git::init(&dir, "master")?;
    let commit = ironworks_git::commit_all(
        &dir,
        "toynode: initial import",
        ("Ironworks Demo", "demo@ironworks.invalid"),
    )?;
    println!(
        "created the example project in {} (git, commit {})",
        dir.display(),
        &commit[..12]
    );

    let loaded: LoadedAdapter = load_adapter(Some(&dir.join("ironworks.toml")))?;
    let state = dir.join(STATE_DIR_NAME);
    let mut store = open_state(&state)?;
    let request = RunRequest {
        loaded: &loaded,
        stage: Stage::Spark,
        source: None,
        rev: "HEAD".into(),
        parallel: jobs.unwrap_or_else(super::default_parallelism),
        state_dir: state.clone(),
        keep_checkouts: false,
    };
    let mut progress = Progress::new(false);
    let outcome = run_stage(&request, &mut store, &mut progress);
    progress.end();
    let outcome = outcome?;
    let detail = store.run(outcome.run_id)?.expect("just recorded");
    super::show::print_detail(&detail);
    println!();
    if outcome.status == ironworks_core::gate::RunStatus::Green {
        walk_the_queue(&dir, &loaded, &mut store, &state)?;
    }
    println!("adapter:   {}", loaded.path.display());
    println!(
        "state:     {} (SQLite: {})",
        state.display(),
        state.join(ironworks_store::DATABASE_FILE).display()
    );
    println!(
        "logs:      {}/<job>.log",
        run_dir(&state, outcome.run_id).display()
    );
    println!(
        "artifacts: {}/<job>/artifacts/",
        run_dir(&state, outcome.run_id).display()
    );
    println!();
    println!("next, inside {}:", dir.display());
    println!("  ironworks stages          the five stages and what this project runs in each");
    println!("  ironworks runs            every recorded run");
    println!(
        "  ironworks show {}          this run; --log unit prints a job's log",
        outcome.run_id
    );
    println!(
        "  ironworks snapshots       staging snapshots with their promotions and forge verdicts"
    );
    println!("  ironworks pr list         PRs, their spark verdicts and eligibility");
    println!(
        "  ironworks harden status   harden jobs on the newest green snapshot, and project health"
    );
    println!("  ironworks run forge       the integration stage (sanitizers, full tests)");
    println!(
        "  ironworks run temper      release-candidate jobs; keeps the package as an artifact"
    );
    Ok(super::run::exit_code(outcome.status))
}

/// A PR through the queue: a branch with a change, spark on its head,
/// approval, the ready label, and a post-merge promotion judged by forge.
fn walk_the_queue(
    dir: &Path,
    loaded: &LoadedAdapter,
    store: &mut ironworks_store::Store,
    state: &Path,
) -> Result<(), Failure> {
    use crate::context::now;
    use ironworks_store::queue::NewPr;

    ironworks_git::switch(dir, "feature/readme-usage", true)?;
    let readme = dir.join("README.md");
    let mut text = fs::read_to_string(&readme)
        .map_err(|e| Failure::environment(format!("cannot read {}: {e}", readme.display())))?;
    text.push_str("\nUsage: `toynode replay FILE`, `toynode mine N`, `toynode version`.\n");
    fs::write(&readme, text)
        .map_err(|e| Failure::environment(format!("cannot write {}: {e}", readme.display())))?;
    ironworks_git::commit_all(
        dir,
        "README: document the usage line",
        ("Demo Contributor", "contributor@ironworks.invalid"),
    )?;
    ironworks_git::switch(dir, "master", false)?;

    let mut host = crate::host::open(loaded, store, state, None, false)?;
    let head = host.repo.resolve_commit("feature/readme-usage")?;
    let id = host.store.insert_pr(&NewPr {
        project: host.project().to_owned(),
        title: "README: document the usage line".into(),
        head_ref: "feature/readme-usage".into(),
        head_sha: head,
        target: host.settings().target.clone(),
        priority: 0,
        rollup: "maybe".into(),
        at: now(),
    })?;
    let pr = host.pr(id)?;
    host.spark(&pr)?;
    host.store.pr_approve(id, "demo-maintainer", now())?;
    let ready = host.settings().ready_label.clone();
    host.store.pr_label(id, &ready, true, now())?;
    let report = crate::host::run_post_merge(&mut host)?;
    println!();
    println!(
        "PR #{id} (feature/readme-usage): spark green, approved, labelled `{ready}`; queue merged {:?} into staging",
        report.merged
    );
    if let Some(head) = &report.staging {
        println!(
            "staging is {} — snapshot {} (`ironworks snapshots`, `ironworks pr list`)",
            crate::host::short(head),
            report.snapshot_status.as_deref().unwrap_or("pending")
        );
    }
    if report.snapshot_status.as_deref() == Some("green") {
        // Harden runs on the newest forge-green snapshot the queue just made.
        for (job, _, result) in crate::harden::tick(&mut host, None, None, true)? {
            if let Some(result) = result {
                let checks = result.assertions.iter().filter(|a| a.passed).count();
                let detail = if !result.fuzz.is_empty() {
                    let execs: u64 = result.fuzz.iter().filter_map(|t| t.stats.execs).sum();
                    let corpus: usize = result.fuzz.iter().map(|t| t.corpus_after).sum();
                    format!(
                        "{} targets, {execs} executions, corpus {corpus} inputs",
                        result.fuzz.len()
                    )
                } else if result.releases.is_empty() {
                    format!("{checks}/{} expectations met", result.assertions.len())
                } else {
                    let names: Vec<&str> =
                        result.releases.iter().map(|r| r.release.as_str()).collect();
                    format!("compatible with {}", names.join(", "))
                };
                println!(
                    "harden `{job}` on snapshot {}: {} ({detail}; report {}/report.md)",
                    result.snapshot,
                    result.verdict,
                    crate::runner::run_dir(
                        state,
                        ironworks_core::record::RunId(result.run.unwrap_or(0))
                    )
                    .display()
                );
            }
        }
    }
    Ok(())
}

/// ./ironworks-demo, or ./ironworks-demo-2, -3, ... if taken.
fn fresh_dir() -> Result<PathBuf, Failure> {
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::environment(format!("cannot read the current directory: {e}")))?;
    (1..1000)
        .map(|n| match n {
            1 => cwd.join("ironworks-demo"),
            n => cwd.join(format!("ironworks-demo-{n}")),
        })
        .find(|candidate| !candidate.exists())
        .ok_or_else(|| {
            Failure::usage("too many ironworks-demo directories here").help("pass --dir DIR")
        })
}

fn write_example(dir: &Dir<'_>, dest: &Path) -> Result<(), Failure> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |e: std::io::Error| {
            Failure::environment(format!("cannot write {}: {e}", path.display()))
        }
    };
    for file in dir.files() {
        let path = dest.join(file.path());
        fs::write(&path, file.contents()).map_err(io(&path))?;
        if file.path().extension().is_some_and(|e| e == "sh") {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).map_err(io(&path))?;
        }
    }
    for sub in dir.dirs() {
        let name = sub
            .path()
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        if NOT_SOURCE.contains(&name) {
            continue;
        }
        let path = dest.join(sub.path());
        fs::create_dir_all(&path).map_err(io(&path))?;
        write_example(sub, dest)?;
    }
    Ok(())
}
