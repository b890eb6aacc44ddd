//! Job and run statuses, and the gate: how job outcomes become a stage verdict.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::adapter::Gate;

/// Where one job of a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Not started yet.
    Pending,
    Running,
    /// Exited 0 (and its JUnit report, if any, has no failures).
    Passed,
    /// Exited non-zero, was killed by a signal, could not start, or its JUnit
    /// report names failures.
    Failed,
    /// Ran past its timeout and was killed.
    TimedOut,
    /// Not run because a job it needs did not pass.
    Skipped,
    /// Stopped or never started because the run was cancelled (Ctrl-C).
    Cancelled,
    /// Was in flight when Ironworks itself died.
    Interrupted,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Passed => "passed",
            JobStatus::Failed => "failed",
            JobStatus::TimedOut => "timed_out",
            JobStatus::Skipped => "skipped",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Interrupted => "interrupted",
        }
    }

    /// No further change will happen to a job in this status.
    pub fn is_final(self) -> bool {
        !matches!(self, JobStatus::Pending | JobStatus::Running)
    }
}

/// Where a run (one stage for one commit) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    /// Every required job passed.
    Green,
    /// At least one required job did not pass.
    Red,
    /// Stopped on request before it finished.
    Cancelled,
    /// Ironworks died while it was in flight; seen and marked on the next start.
    Interrupted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Green => "green",
            RunStatus::Red => "red",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

macro_rules! string_enum {
    ($ty:ty, $($variant:expr),+) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                [$($variant),+]
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| format!("unknown {} `{s}`", stringify!($ty)))
            }
        }
    };
}

string_enum!(
    JobStatus,
    JobStatus::Pending,
    JobStatus::Running,
    JobStatus::Passed,
    JobStatus::Failed,
    JobStatus::TimedOut,
    JobStatus::Skipped,
    JobStatus::Cancelled,
    JobStatus::Interrupted
);
string_enum!(
    RunStatus,
    RunStatus::Running,
    RunStatus::Green,
    RunStatus::Red,
    RunStatus::Cancelled,
    RunStatus::Interrupted
);

impl FromStr for Gate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "required" => Ok(Gate::Required),
            "observe" => Ok(Gate::Observe),
            _ => Err(format!("unknown gate `{s}`")),
        }
    }
}

impl fmt::Display for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a job's main process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Exited(i32),
    Signaled(i32),
    /// Killed at its timeout.
    TimedOut,
    /// Killed because the run was cancelled.
    Cancelled,
    /// Never started; the reason in words.
    SpawnFailed(String),
}

/// A job's status from how its process ended and what its JUnit report
/// said, with the reason in words when the status alone does not say it.
/// A report that names failures fails the job even if the process exited 0:
/// some runners exit 0 whatever happens.
pub fn job_status(
    ending: &Ending,
    tests_failed: Option<i64>,
    timeout_text: &str,
) -> (JobStatus, Option<String>) {
    match ending {
        Ending::Exited(0) => match tests_failed {
            Some(failed) if failed > 0 => (
                JobStatus::Failed,
                Some(format!(
                    "exited 0 but its JUnit report names {failed} failed test(s)"
                )),
            ),
            _ => (JobStatus::Passed, None),
        },
        Ending::Exited(code) => (JobStatus::Failed, Some(format!("exited with code {code}"))),
        Ending::Signaled(signal) => (
            JobStatus::Failed,
            Some(format!(
                "killed by signal {signal} ({})",
                signal_name(*signal)
            )),
        ),
        Ending::TimedOut => (
            JobStatus::TimedOut,
            Some(format!(
                "ran past its timeout of {timeout_text}; its process group was killed"
            )),
        ),
        Ending::Cancelled => (JobStatus::Cancelled, Some("cancelled while running".into())),
        Ending::SpawnFailed(reason) => (JobStatus::Failed, Some(reason.clone())),
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => "signal",
    }
}

/// The stage verdict of finished jobs: green iff every required job passed.
/// Observe jobs are reported, never gate. A stage with no required job is
/// green when it ran to the end.
pub fn verdict(jobs: impl IntoIterator<Item = (Gate, JobStatus)>) -> RunStatus {
    let all_required_passed = jobs
        .into_iter()
        .filter(|(gate, _)| *gate == Gate::Required)
        .all(|(_, status)| status == JobStatus::Passed);
    if all_required_passed {
        RunStatus::Green
    } else {
        RunStatus::Red
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Gate::*;
    use JobStatus::*;

    #[test]
    fn green_iff_every_required_job_passed() {
        assert_eq!(
            verdict([(Required, Passed), (Observe, Failed)]),
            RunStatus::Green
        );
        assert_eq!(
            verdict([(Required, Passed), (Required, Failed)]),
            RunStatus::Red
        );
        assert_eq!(verdict([(Required, TimedOut)]), RunStatus::Red);
        assert_eq!(
            verdict([(Required, Skipped), (Observe, Passed)]),
            RunStatus::Red
        );
        assert_eq!(verdict([(Observe, Failed)]), RunStatus::Green);
    }

    #[test]
    fn job_status_from_ending_and_report() {
        assert_eq!(job_status(&Ending::Exited(0), None, "1m"), (Passed, None));
        assert_eq!(job_status(&Ending::Exited(0), Some(0), "1m").0, Passed);
        let (status, reason) = job_status(&Ending::Exited(0), Some(2), "1m");
        assert_eq!(status, Failed);
        assert!(reason.unwrap().contains("2 failed test"));
        assert_eq!(
            job_status(&Ending::Exited(3), None, "1m").1.as_deref(),
            Some("exited with code 3")
        );
        assert!(
            job_status(&Ending::Signaled(11), None, "1m")
                .1
                .unwrap()
                .contains("SIGSEGV")
        );
        let (status, reason) = job_status(&Ending::TimedOut, None, "10m");
        assert_eq!(status, TimedOut);
        assert!(reason.unwrap().contains("timeout of 10m"));
        assert_eq!(job_status(&Ending::Cancelled, None, "1m").0, Cancelled);
        assert_eq!(
            job_status(&Ending::SpawnFailed("nope".into()), None, "1m").0,
            Failed
        );
    }

    #[test]
    fn statuses_round_trip_through_strings() {
        for s in [
            Pending,
            Running,
            Passed,
            Failed,
            TimedOut,
            Skipped,
            Cancelled,
            Interrupted,
        ] {
            assert_eq!(s.as_str().parse::<JobStatus>().unwrap(), s);
        }
        assert!("bogus".parse::<RunStatus>().is_err());
    }
}
