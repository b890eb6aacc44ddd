//! Supervision of one job's process tree.
//!
//! The job's main process is spawned in a process group of its own, stdin
//! null, stdout and stderr both written straight to the job's log file (so the
//! log keeps the true interleaving and nothing has to be drained). One
//! `select!` waits on the process, the timeout and the cancel channel. On
//! timeout or cancel the whole group gets SIGTERM, then SIGKILL when the grace
//! period ends; processes left behind by a job that exited are treated the
//! same way, so no process of a job survives it.

use std::fs::File;
use std::io;
use std::os::unix::process::ExitStatusExt as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use tokio::process::Command;
use tokio::sync::watch;

use ironworks_core::gate::Ending;

use crate::reaper;

/// Everything needed to start one job.
#[derive(Debug, Clone)]
pub struct Launch {
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    /// The complete environment; nothing else is inherited.
    pub env: Vec<(String, String)>,
    /// Created (or truncated); receives stdout and stderr.
    pub log: PathBuf,
    pub timeout: Duration,
    pub grace: Duration,
}

/// What the cancel channel carries. Levels only go up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Cancel {
    #[default]
    No,
    /// Stop: SIGTERM, then SIGKILL after the grace period.
    Graceful,
    /// Stop now: SIGKILL.
    Immediate,
}

/// The outcome of [`supervise`].
#[derive(Debug, Clone)]
pub struct Finished {
    pub ending: Ending,
    /// The exit code or signal of the main process, when it was reaped.
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// The job exited but left processes running in its group; they were
    /// terminated.
    pub killed_leftovers: bool,
    pub started: SystemTime,
    pub duration: Duration,
    /// Peak resident memory of the job's process tree, in KiB, sampled 50 ms
    /// after it started and every [`RSS_SAMPLE_INTERVAL`] after that (`None`
    /// for a job that ended before the first sample).
    pub peak_rss_kb: Option<u64>,
}

/// How often the job's memory is sampled.
pub const RSS_SAMPLE_INTERVAL: Duration = Duration::from_millis(250);

/// Run one job to its end. `cancel` may be raised at any time.
pub async fn supervise(launch: Launch, mut cancel: watch::Receiver<Cancel>) -> Finished {
    let started = SystemTime::now();
    let clock = Instant::now();
    let failed = |reason: String| Finished {
        ending: Ending::SpawnFailed(reason),
        exit_code: None,
        signal: None,
        killed_leftovers: false,
        started,
        duration: clock.elapsed(),
        peak_rss_kb: None,
    };
    let Some((program, args)) = launch.argv.split_first() else {
        return failed("the job has an empty command".into());
    };
    let log = match File::create(&launch.log) {
        Ok(log) => log,
        Err(err) => {
            return failed(format!(
                "cannot create log file {}: {err}",
                launch.log.display()
            ));
        }
    };
    let stderr = match log.try_clone() {
        Ok(f) => f,
        Err(err) => return failed(format!("cannot duplicate log file handle: {err}")),
    };

    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(&launch.cwd)
        .env_clear()
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(stderr)
        .process_group(0)
        .kill_on_drop(false);
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: only async-signal-safe calls (prctl, getppid, _exit) between
    // fork and exec.
    unsafe {
        command.pre_exec(move || {
            // If Ironworks dies, the job's main process dies with it; the rest
            // of its group is found and killed by recovery (reaper::sweep_run).
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }

    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) => return failed(spawn_failure(program, &launch, &err)),
    };
    let pgid = child.id().expect("a freshly spawned child has a pid") as libc::pid_t;

    // Phase 1: the job runs until it exits, times out or is cancelled; its
    // memory is sampled meanwhile.
    let deadline = tokio::time::sleep(launch.timeout);
    tokio::pin!(deadline);
    // The first sample after 50 ms: most short jobs are over by then and
    // cost nothing; longer ones are sampled every RSS_SAMPLE_INTERVAL.
    let mut sampler = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_millis(50),
        RSS_SAMPLE_INTERVAL,
    );
    let mut peak_rss_kb: Option<u64> = None;
    let first = loop {
        tokio::select! {
            status = child.wait() => break Ok(status),
            () = &mut deadline => break Err(Ending::TimedOut),
            () = raised(&mut cancel, Cancel::Graceful) => break Err(Ending::Cancelled),
            _ = sampler.tick() => {
                if let Some(kb) = reaper::tree_rss_kb(pgid) {
                    peak_rss_kb = Some(peak_rss_kb.map_or(kb, |p| p.max(kb)));
                }
            }
        }
    };

    // Phase 2: make sure nothing of the job is left.
    let (ending, status, killed_leftovers) = match first {
        Ok(status) => {
            let leftovers = !reaper::group_gone(pgid);
            if leftovers {
                stop_group(pgid, launch.grace, &mut cancel).await;
            }
            (None, status, leftovers)
        }
        Err(ending) => {
            let now = *cancel.borrow() == Cancel::Immediate;
            reaper::signal_group(pgid, if now { libc::SIGKILL } else { libc::SIGTERM });
            let grace_end = tokio::time::Instant::now() + launch.grace;
            let exited = tokio::select! {
                status = child.wait() => Some(status),
                () = tokio::time::sleep_until(grace_end) => None,
                () = raised(&mut cancel, Cancel::Immediate) => None,
            };
            if exited.is_some() {
                // The main process is gone; the rest of its group gets what is
                // left of the same grace period.
                tokio::select! {
                    () = reaper::until_group_gone(pgid) => {}
                    () = tokio::time::sleep_until(grace_end) => {}
                    () = raised(&mut cancel, Cancel::Immediate) => {}
                }
            }
            reaper::signal_group(pgid, libc::SIGKILL);
            let status = match exited {
                Some(status) => status,
                None => child.wait().await,
            };
            reaper::settle_group(pgid).await;
            (Some(ending), status, false)
        }
    };

    let (exit_code, signal) = match &status {
        Ok(status) => (status.code(), status.signal()),
        Err(_) => (None, None),
    };
    let ending = ending.unwrap_or_else(|| match (&status, exit_code, signal) {
        (_, Some(code), _) => Ending::Exited(code),
        (_, None, Some(signal)) => Ending::Signaled(signal),
        (Err(err), _, _) => Ending::SpawnFailed(format!("lost track of the job's process: {err}")),
        (Ok(_), None, None) => {
            Ending::SpawnFailed("the job's process ended without a status".into())
        }
    });
    Finished {
        ending,
        exit_code,
        signal,
        killed_leftovers,
        started,
        duration: clock.elapsed(),
        peak_rss_kb,
    }
}

/// SIGTERM the group, give it the grace period, then SIGKILL what is left.
async fn stop_group(pgid: libc::pid_t, grace: Duration, cancel: &mut watch::Receiver<Cancel>) {
    reaper::signal_group(pgid, libc::SIGTERM);
    tokio::select! {
        () = reaper::until_group_gone(pgid) => {}
        () = tokio::time::sleep(grace) => {}
        () = raised(cancel, Cancel::Immediate) => {}
    }
    reaper::signal_group(pgid, libc::SIGKILL);
    reaper::settle_group(pgid).await;
}

/// Resolves once the cancel level reaches `level`; never, if the sender is gone.
async fn raised(cancel: &mut watch::Receiver<Cancel>, level: Cancel) {
    loop {
        if *cancel.borrow_and_update() >= level {
            return;
        }
        if cancel.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

fn spawn_failure(program: &str, launch: &Launch, err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::NotFound if program.contains('/') => {
            format!(
                "program `{program}` not found (relative to {})",
                launch.cwd.display()
            )
        }
        io::ErrorKind::NotFound => {
            let path = launch
                .env
                .iter()
                .find(|(k, _)| k == "PATH")
                .map_or("", |(_, v)| v.as_str());
            format!("program `{program}` not found on the job's PATH ({path})")
        }
        io::ErrorKind::PermissionDenied => format!("program `{program}` is not executable"),
        _ => format!("cannot start `{program}`: {err}"),
    }
}
