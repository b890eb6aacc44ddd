//! Harden scheduling and verdicts, as pure decisions.
//!
//! Harden jobs never select a mutable ref: they run against the newest
//! forge-green snapshot. A job is due when its cron schedule has fired since
//! it last ran and it has not run for that snapshot yet (unless forced).
//! Replay jobs check `expect` assertions — JSON pointers and expected values —
//! against the JSON their command prints or writes.

use std::collections::BTreeMap;
use std::str::FromStr as _;

use chrono::{TimeZone as _, Utc};
use serde::Serialize;
use serde_json::Value;

/// A job's schedule: a five-field cron pattern, evaluated in UTC.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: croner::Cron,
    pub pattern: String,
}

impl Schedule {
    pub fn parse(pattern: &str) -> Result<Schedule, String> {
        let cron = croner::Cron::from_str(pattern.trim()).map_err(|err| {
            format!("expected a cron schedule such as \"0 3 * * *\" (minute hour day month weekday), found \"{pattern}\": {err}")
        })?;
        Ok(Schedule {
            cron,
            pattern: pattern.trim().to_owned(),
        })
    }

    /// The most recent time (ms since the epoch) the schedule fired at or
    /// before `now`.
    pub fn last_fire(&self, now_ms: i64) -> Option<i64> {
        let now = Utc.timestamp_millis_opt(now_ms).single()?;
        self.cron
            .find_previous_occurrence(&now, true)
            .ok()
            .map(|t| t.timestamp_millis())
    }
}

/// A harden job's latest run, as far as scheduling cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastRun {
    pub snapshot: i64,
    pub started_at: i64,
}

/// Why a job is or is not run now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "kebab-case")]
pub enum Due {
    Run { reason: String },
    Skip { reason: String },
}

/// Decide whether a harden job runs now against `snapshot` (the newest
/// forge-green one, or `None` when there is none).
pub fn due(
    schedule: Option<&Schedule>,
    last: Option<LastRun>,
    snapshot: Option<i64>,
    now_ms: i64,
    forced: bool,
) -> Due {
    let Some(snapshot) = snapshot else {
        return Due::Skip {
            reason: "no forge-green snapshot yet: harden never runs on a mutable ref".into(),
        };
    };
    if forced {
        return Due::Run {
            reason: format!("forced on snapshot {snapshot}"),
        };
    }
    if let Some(last) = last
        && last.snapshot == snapshot
    {
        return Due::Skip {
            reason: format!("already ran on snapshot {snapshot}"),
        };
    }
    match (schedule, last) {
        (None, _) => Due::Skip {
            reason: "no schedule: run it with `ironworks harden run`".into(),
        },
        (Some(_), None) => Due::Run {
            reason: format!("never ran; newest green snapshot is {snapshot}"),
        },
        (Some(schedule), Some(last)) => match schedule.last_fire(now_ms) {
            Some(fired) if fired > last.started_at => Due::Run {
                reason: format!("`{}` fired since the last run", schedule.pattern),
            },
            _ => Due::Skip {
                reason: format!("`{}` has not fired since the last run", schedule.pattern),
            },
        },
    }
}

/// One checked assertion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assertion {
    pub pointer: String,
    pub expected: Value,
    pub actual: Option<Value>,
    pub passed: bool,
}

/// Check `expect` (JSON pointer → value) against a command's output. The
/// output is the JSON document itself, or text whose last line that parses
/// as a JSON object is taken (commands often print progress first).
pub fn check(expect: &BTreeMap<String, Value>, output: &str) -> Result<Vec<Assertion>, String> {
    let document = match serde_json::from_str::<Value>(output.trim()) {
        Ok(value) => value,
        Err(_) => output
            .lines()
            .rev()
            .filter(|line| line.trim_start().starts_with('{'))
            .find_map(|line| serde_json::from_str::<Value>(line.trim()).ok())
            .ok_or_else(|| {
                "the command's output has no JSON object to check the expectations against"
                    .to_owned()
            })?,
    };
    Ok(expect
        .iter()
        .map(|(pointer, expected)| {
            let actual = document.pointer(pointer).cloned();
            let passed = actual.as_ref() == Some(expected)
                || matches!((&actual, expected), (Some(Value::Number(a)), Value::Number(b)) if a.as_f64() == b.as_f64());
            Assertion {
                pointer: pointer.clone(),
                expected: expected.clone(),
                actual,
                passed,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;
    // 2026-11-21T10:00:00Z
    const NOW: i64 = 1_795_255_200_000;

    #[test]
    fn schedules_parse_and_fire() {
        let s = Schedule::parse("0 3 * * *").unwrap();
        let fired = s.last_fire(NOW).unwrap();
        assert_eq!((NOW - fired) / HOUR, 7, "03:00 today");
        assert!(
            Schedule::parse("every night")
                .unwrap_err()
                .contains("cron schedule")
        );
        assert!(Schedule::parse("61 * * * *").is_err());
    }

    #[test]
    fn only_the_newest_green_snapshot_and_once_per_snapshot() {
        let s = Schedule::parse("0 * * * *").unwrap();
        assert!(matches!(
            due(Some(&s), None, None, NOW, false),
            Due::Skip { .. }
        ));
        assert!(
            matches!(due(Some(&s), None, None, NOW, true), Due::Skip { .. }),
            "not even forced"
        );
        assert!(matches!(
            due(Some(&s), None, Some(4), NOW, false),
            Due::Run { .. }
        ));
        let ran = LastRun {
            snapshot: 4,
            started_at: NOW - 2 * HOUR,
        };
        assert!(matches!(
            due(Some(&s), Some(ran), Some(4), NOW, false),
            Due::Skip { .. }
        ));
        assert!(matches!(
            due(Some(&s), Some(ran), Some(4), NOW, true),
            Due::Run { .. }
        ));
        // A newer green snapshot and the schedule fired since: run.
        assert!(matches!(
            due(Some(&s), Some(ran), Some(5), NOW, false),
            Due::Run { .. }
        ));
        // A newer snapshot but the schedule has not fired since the last run.
        // At 10:30, it ran at 10:29, after the 10:00 firing.
        let half_past = NOW + HOUR / 2;
        let just_ran = LastRun {
            snapshot: 4,
            started_at: half_past - 60_000,
        };
        assert!(matches!(
            due(Some(&s), Some(just_ran), Some(5), half_past, false),
            Due::Skip { .. }
        ));
        assert!(matches!(
            due(None, None, Some(5), NOW, false),
            Due::Skip { .. }
        ));
    }

    #[test]
    fn assertions_against_printed_or_written_json() {
        let mut expect = BTreeMap::new();
        expect.insert("/height".to_owned(), serde_json::json!(100));
        expect.insert(
            "/best_hash".to_owned(),
            serde_json::json!("edc38d8d3bbb8f6e"),
        );
        let printed = "loading blocks...\n{\"height\":100,\"best_hash\":\"edc38d8d3bbb8f6e\",\"blocks\":101}\n";
        assert!(check(&expect, printed).unwrap().iter().all(|a| a.passed));
        let wrong = "{\"height\":99,\"best_hash\":\"edc38d8d3bbb8f6e\"}";
        let results = check(&expect, wrong).unwrap();
        let height = results.iter().find(|a| a.pointer == "/height").unwrap();
        assert!(!height.passed);
        assert_eq!(height.actual, Some(serde_json::json!(99)));
        let missing = check(&expect, "{}").unwrap();
        assert!(missing.iter().all(|a| !a.passed && a.actual.is_none()));
        assert!(
            check(&expect, "no json here")
                .unwrap_err()
                .contains("no JSON object")
        );
        let mut float = BTreeMap::new();
        float.insert("/x".to_owned(), serde_json::json!(1));
        assert!(check(&float, "{\"x\":1.0}").unwrap()[0].passed);
    }
}
