//! Helpers for the policies' scripted tests.

use super::{Action, Base, BuildId, Entry, Event, PrId, QueuePolicy, Rollup};

pub fn entry(pr: PrId, priority: i32, approved_at: u64) -> Entry {
    Entry {
        pr,
        priority,
        approved_at,
        rollup: Rollup::Maybe,
    }
}

pub fn enqueue(policy: &mut dyn QueuePolicy, entries: &[Entry]) {
    for e in entries {
        let actions = policy.on_event(e.approved_at, Event::Enqueued(e.clone()));
        assert!(actions.is_empty(), "{actions:?}");
    }
}

pub fn finish(policy: &mut dyn QueuePolicy, build: BuildId, passed: bool) -> Vec<Action> {
    policy.on_event(0, Event::Finished { build, passed })
}

/// The `Start`s among `actions`: (build, base, PRs).
pub fn starts(actions: &[Action]) -> Vec<(BuildId, Base, Vec<PrId>)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Start { build, candidate } => {
                Some((*build, candidate.base, candidate.prs.clone()))
            }
            _ => None,
        })
        .collect()
}

/// The actions other than `Start`, in a short form: `L7` lands build 7,
/// `C7` cancels it, `E3@7` ejects PR 3 with build 7 as evidence.
pub fn verdicts(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Start { .. } => None,
            Action::Land { build } => Some(format!("L{build}")),
            Action::Cancel { build } => Some(format!("C{build}")),
            Action::Eject(e) => Some(format!("E{}@{}", e.pr, e.evidence)),
        })
        .collect()
}
