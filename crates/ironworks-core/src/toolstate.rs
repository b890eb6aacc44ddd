//! Toolstate: components that are allowed to fail (rust-lang's tools).
//!
//! A job marked `toolstate = "component"` never gates its stage directly.
//! Its state — `build-fail` < `test-fail` < `test-pass` — is tracked per
//! commit. A change is reported; a *regression* of a component the project
//! marks stable fails the gate only inside the window before a scheduled
//! release date (the release calendar), and only warns outside it.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

/// A component's state, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ToolState {
    BuildFail,
    TestFail,
    TestPass,
}

impl ToolState {
    pub fn as_str(self) -> &'static str {
        match self {
            ToolState::BuildFail => "build-fail",
            ToolState::TestFail => "test-fail",
            ToolState::TestPass => "test-pass",
        }
    }

    /// The state of a job that did not report one: passed is `test-pass`;
    /// failed is `test-fail` if its tests ran (a JUnit report), else
    /// `build-fail`.
    pub fn infer(passed: bool, tests_ran: bool) -> ToolState {
        match (passed, tests_ran) {
            (true, _) => ToolState::TestPass,
            (false, true) => ToolState::TestFail,
            (false, false) => ToolState::BuildFail,
        }
    }
}

impl fmt::Display for ToolState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ToolState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "build-fail" => Ok(ToolState::BuildFail),
            "test-fail" => Ok(ToolState::TestFail),
            "test-pass" => Ok(ToolState::TestPass),
            other => Err(format!(
                "unknown toolstate `{other}`; expected build-fail, test-fail or test-pass"
            )),
        }
    }
}

/// The `[toolstate]` table: which components are stable, and the release
/// calendar.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolstateSettings {
    pub stable: Vec<String>,
    /// Release dates, as milliseconds since the epoch at 00:00 UTC.
    pub release_dates: Vec<i64>,
    /// How long before a release date regressions of stable components gate.
    pub window: Duration,
}

impl ToolstateSettings {
    /// The release date whose window `now` (ms since the epoch) is in.
    pub fn window_release(&self, now: i64) -> Option<i64> {
        let window = self.window.as_millis() as i64;
        self.release_dates
            .iter()
            .copied()
            .filter(|date| now <= *date && *date - now <= window)
            .min()
    }
}

/// What a new state means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub component: String,
    pub from: Option<ToolState>,
    pub to: ToolState,
    /// A regression that fails the gate (stable component, release window).
    pub fails_gate: bool,
    /// Words for the report.
    pub summary: String,
}

/// Judge a component's new state against its previous one. `None` when
/// nothing changed.
pub fn judge(
    component: &str,
    previous: Option<ToolState>,
    now_state: ToolState,
    settings: &ToolstateSettings,
    now: i64,
) -> Option<Change> {
    if previous == Some(now_state) {
        return None;
    }
    let stable = settings.stable.iter().any(|c| c == component);
    let regressed = previous.is_some_and(|p| now_state < p);
    let window = settings.window_release(now);
    let fails_gate = regressed && stable && window.is_some();
    let from = previous.map_or("(new)".to_owned(), |p| p.to_string());
    let summary = match (regressed, stable, window) {
        (true, true, Some(date)) => format!(
            "{component} regressed {from} -> {now_state}: stable component inside the release window of {}; the gate fails",
            crate::record::Timestamp(date)
                .rfc3339()
                .get(..10)
                .unwrap_or("?")
        ),
        (true, true, None) => format!(
            "{component} regressed {from} -> {now_state} (stable; outside the release window, a warning)"
        ),
        (true, false, _) => {
            format!("{component} regressed {from} -> {now_state} (allowed to fail)")
        }
        (false, _, _) => format!("{component} changed {from} -> {now_state}"),
    };
    Some(Change {
        component: component.to_owned(),
        from: previous,
        to: now_state,
        fails_gate,
        summary,
    })
}

/// Parse a `YYYY-MM-DD` release date to ms since the epoch (00:00 UTC).
pub fn parse_date(text: &str) -> Result<i64, String> {
    let stamp = humantime::parse_rfc3339(&format!("{}T00:00:00Z", text.trim()))
        .map_err(|_| format!("expected a date as YYYY-MM-DD, found \"{text}\""))?;
    Ok(crate::record::Timestamp::from_system(stamp).0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ToolState::*;

    const DAY: i64 = 86_400_000;

    fn settings() -> ToolstateSettings {
        ToolstateSettings {
            stable: vec!["clippy".into()],
            release_dates: vec![parse_date("2026-12-11").unwrap()],
            window: Duration::from_secs(7 * 86_400),
        }
    }

    #[test]
    fn states_are_ordered_and_inferred() {
        assert!(BuildFail < TestFail && TestFail < TestPass);
        assert_eq!(ToolState::infer(true, false), TestPass);
        assert_eq!(ToolState::infer(false, true), TestFail);
        assert_eq!(ToolState::infer(false, false), BuildFail);
        assert_eq!("test-fail".parse::<ToolState>().unwrap(), TestFail);
        assert!("green".parse::<ToolState>().is_err());
    }

    #[test]
    fn the_window_is_the_days_before_a_release() {
        let s = settings();
        let release = s.release_dates[0];
        assert_eq!(s.window_release(release - 3 * DAY), Some(release));
        assert_eq!(s.window_release(release), Some(release));
        assert_eq!(s.window_release(release - 8 * DAY), None);
        assert_eq!(s.window_release(release + DAY), None, "after the release");
    }

    #[test]
    fn a_stable_regression_gates_only_inside_the_window() {
        let s = settings();
        let release = s.release_dates[0];
        let inside = judge("clippy", Some(TestPass), TestFail, &s, release - DAY).unwrap();
        assert!(inside.fails_gate, "{inside:?}");
        assert!(inside.summary.contains("2026-12-11"), "{}", inside.summary);
        let outside = judge("clippy", Some(TestPass), TestFail, &s, release - 30 * DAY).unwrap();
        assert!(!outside.fails_gate);
        assert!(outside.summary.contains("a warning"));
        let unstable = judge("miri", Some(TestPass), BuildFail, &s, release - DAY).unwrap();
        assert!(!unstable.fails_gate);
        let better = judge("clippy", Some(TestFail), TestPass, &s, release - DAY).unwrap();
        assert!(!better.fails_gate);
        assert_eq!(
            judge("clippy", Some(TestPass), TestPass, &s, release - DAY),
            None
        );
        let first = judge("clippy", None, BuildFail, &s, release - DAY).unwrap();
        assert!(!first.fails_gate, "no history, no regression");
    }

    #[test]
    fn dates_parse_or_explain() {
        assert_eq!(parse_date("1970-01-02").unwrap(), DAY);
        assert!(parse_date("12/11/2026").unwrap_err().contains("YYYY-MM-DD"));
    }
}
