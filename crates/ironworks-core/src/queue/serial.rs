//! `serial`: one PR at a time on top of `staging`, the bors/homu way. A
//! pass lands it, a failure ejects it (no rerun, so a flaky run ejects a
//! good PR). Simple and slow: throughput is one CI run per PR.

use std::collections::HashSet;

use super::order::{BuildIds, WaitList};
use super::{
    Action, Base, BuildId, Candidate, Ejection, Entry, Event, PrId, QueueConfig, QueuePolicy, Time,
};

#[derive(Debug)]
pub struct Serial {
    ids: BuildIds,
    waiting: WaitList,
    current: Option<(BuildId, Entry)>,
    /// PRs held (waiting or building), so a repeated `Enqueued` is ignored.
    held: HashSet<PrId>,
}

impl Serial {
    pub fn new(_config: QueueConfig) -> Self {
        Serial {
            ids: BuildIds::default(),
            waiting: WaitList::default(),
            current: None,
            held: HashSet::new(),
        }
    }
}

impl QueuePolicy for Serial {
    fn name(&self) -> &'static str {
        "serial"
    }

    fn on_event(&mut self, _now: Time, event: Event) -> Vec<Action> {
        match event {
            Event::Enqueued(entry) => {
                if self.held.insert(entry.pr) {
                    self.waiting.insert(entry);
                }
                Vec::new()
            }
            Event::Removed(pr) => {
                self.held.remove(&pr);
                self.waiting.remove(pr);
                match &self.current {
                    Some((build, entry)) if entry.pr == pr => {
                        let build = *build;
                        self.current = None;
                        vec![Action::Cancel { build }]
                    }
                    _ => Vec::new(),
                }
            }
            Event::Finished { build, passed } => {
                let Some((current, entry)) = &self.current else {
                    return Vec::new();
                };
                if *current != build {
                    return Vec::new();
                }
                let pr = entry.pr;
                self.current = None;
                self.held.remove(&pr);
                if passed {
                    vec![Action::Land { build }]
                } else {
                    vec![Action::Eject(Ejection {
                        pr,
                        evidence: build,
                    })]
                }
            }
        }
    }

    fn poll(&mut self, _now: Time, free_builders: usize) -> Vec<Action> {
        if self.current.is_some() || free_builders == 0 {
            return Vec::new();
        }
        let Some(entry) = self.waiting.take_batch(1, 1).pop() else {
            return Vec::new();
        };
        let build = self.ids.fresh();
        let candidate = Candidate {
            base: Base::Staging,
            prs: vec![entry.pr],
        };
        self.current = Some((build, entry));
        vec![Action::Start { build, candidate }]
    }

    fn queued(&self) -> Vec<PrId> {
        let mut prs: Vec<PrId> = self.current.iter().map(|(_, e)| e.pr).collect();
        prs.extend(self.waiting.iter().map(|e| e.pr));
        prs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::testing::*;

    #[test]
    fn one_pr_at_a_time_in_queue_order_landed_or_ejected() {
        let mut p = Serial::new(QueueConfig {
            builders: 4,
            max_batch: 8,
        });
        enqueue(&mut p, &[entry(1, 0, 10), entry(2, 5, 20), entry(3, 0, 5)]);
        assert_eq!(p.queued(), [2, 3, 1]);
        let a = p.poll(30, 4);
        assert_eq!(starts(&a), [(1, Base::Staging, vec![2])]);
        assert!(p.poll(31, 3).is_empty(), "one at a time");
        assert_eq!(verdicts(&finish(&mut p, 1, false)), ["E2@1"]);
        assert_eq!(starts(&p.poll(40, 4)), [(2, Base::Staging, vec![3])]);
        assert_eq!(verdicts(&finish(&mut p, 2, true)), ["L2"]);
        assert_eq!(starts(&p.poll(50, 4)), [(3, Base::Staging, vec![1])]);
        // A stale report of another build changes nothing.
        assert!(finish(&mut p, 99, true).is_empty());
        assert_eq!(p.queued(), [1]);
    }

    #[test]
    fn a_removed_pr_is_cancelled_if_building() {
        let mut p = Serial::new(QueueConfig::default());
        enqueue(&mut p, &[entry(1, 0, 1), entry(2, 0, 2)]);
        p.poll(3, 1);
        assert_eq!(verdicts(&p.on_event(4, Event::Removed(1))), ["C1"]);
        assert!(p.on_event(4, Event::Removed(2)).is_empty());
        assert!(finish(&mut p, 1, true).is_empty(), "cancelled: ignored");
        assert!(p.poll(5, 1).is_empty());
        assert!(p.queued().is_empty());
    }
}
