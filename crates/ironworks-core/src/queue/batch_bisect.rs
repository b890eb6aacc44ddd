//! `batch-bisect`: one batch at a time on top of `staging`, the bors-ng
//! way. A batch is the front of the queue up to `max_batch` PRs under the
//! rollup rules; a pass lands it all; a failed batch is split in halves
//! that go back to the front of the queue and are tested (and landed) in
//! turn; a failing single PR is ejected. One build runs at a time, so any
//! other builder stays idle.

use std::collections::{HashSet, VecDeque};

use super::order::{BuildIds, WaitList, prs_of};
use super::{
    Action, Base, BuildId, Candidate, Ejection, Entry, Event, PrId, QueueConfig, QueuePolicy, Time,
};

#[derive(Debug)]
pub struct BatchBisect {
    config: QueueConfig,
    ids: BuildIds,
    waiting: WaitList,
    /// Halves of failed batches, tested before anything new.
    halves: VecDeque<Vec<Entry>>,
    current: Option<(BuildId, Vec<Entry>)>,
    held: HashSet<PrId>,
}

impl BatchBisect {
    pub fn new(config: QueueConfig) -> Self {
        BatchBisect {
            config,
            ids: BuildIds::default(),
            waiting: WaitList::default(),
            halves: VecDeque::new(),
            current: None,
            held: HashSet::new(),
        }
    }
}

impl QueuePolicy for BatchBisect {
    fn name(&self) -> &'static str {
        "batch-bisect"
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
                for half in &mut self.halves {
                    half.retain(|e| e.pr != pr);
                }
                self.halves.retain(|h| !h.is_empty());
                let hit =
                    matches!(&self.current, Some((_, batch)) if batch.iter().any(|e| e.pr == pr));
                if !hit {
                    return Vec::new();
                }
                let (build, mut batch) = self.current.take().expect("checked above");
                batch.retain(|e| e.pr != pr);
                // The rest of the batch keeps its place at the front.
                if !batch.is_empty() {
                    self.halves.push_front(batch);
                }
                vec![Action::Cancel { build }]
            }
            Event::Finished { build, passed } => {
                if !matches!(&self.current, Some((current, _)) if *current == build) {
                    return Vec::new();
                }
                let (_, mut batch) = self.current.take().expect("checked above");
                if passed {
                    for entry in &batch {
                        self.held.remove(&entry.pr);
                    }
                    return vec![Action::Land { build }];
                }
                if batch.len() == 1 {
                    let pr = batch[0].pr;
                    self.held.remove(&pr);
                    return vec![Action::Eject(Ejection {
                        pr,
                        evidence: build,
                    })];
                }
                let second = batch.split_off(batch.len() / 2);
                self.halves.push_front(second);
                self.halves.push_front(batch);
                Vec::new()
            }
        }
    }

    fn poll(&mut self, _now: Time, free_builders: usize) -> Vec<Action> {
        if self.current.is_some() || free_builders == 0 {
            return Vec::new();
        }
        let batch = match self.halves.pop_front() {
            Some(half) => half,
            None => self
                .waiting
                .take_batch(self.config.max_batch, self.config.max_batch),
        };
        if batch.is_empty() {
            return Vec::new();
        }
        let build = self.ids.fresh();
        let candidate = Candidate {
            base: Base::Staging,
            prs: prs_of(&batch),
        };
        self.current = Some((build, batch));
        vec![Action::Start { build, candidate }]
    }

    fn queued(&self) -> Vec<PrId> {
        let mut prs: Vec<PrId> = Vec::new();
        if let Some((_, batch)) = &self.current {
            prs.extend(batch.iter().map(|e| e.pr));
        }
        for half in &self.halves {
            prs.extend(half.iter().map(|e| e.pr));
        }
        prs.extend(self.waiting.iter().map(|e| e.pr));
        prs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::Rollup;
    use crate::queue::testing::*;

    #[test]
    fn a_failed_batch_is_bisected_and_its_halves_land_in_turn() {
        let mut p = BatchBisect::new(QueueConfig {
            builders: 4,
            max_batch: 4,
        });
        enqueue(
            &mut p,
            &(1..=6).map(|pr| entry(pr, 0, pr)).collect::<Vec<_>>(),
        );
        assert_eq!(
            starts(&p.poll(10, 4)),
            [(1, Base::Staging, vec![1, 2, 3, 4])]
        );
        assert!(p.poll(10, 3).is_empty(), "one batch at a time");
        assert!(finish(&mut p, 1, false).is_empty());
        assert_eq!(starts(&p.poll(11, 4)), [(2, Base::Staging, vec![1, 2])]);
        assert_eq!(verdicts(&finish(&mut p, 2, true)), ["L2"]);
        assert_eq!(starts(&p.poll(12, 4)), [(3, Base::Staging, vec![3, 4])]);
        assert!(finish(&mut p, 3, false).is_empty());
        assert_eq!(starts(&p.poll(13, 4)), [(4, Base::Staging, vec![3])]);
        assert_eq!(verdicts(&finish(&mut p, 4, false)), ["E3@4"]);
        assert_eq!(starts(&p.poll(14, 4)), [(5, Base::Staging, vec![4])]);
        assert_eq!(verdicts(&finish(&mut p, 5, true)), ["L5"]);
        assert_eq!(starts(&p.poll(15, 4)), [(6, Base::Staging, vec![5, 6])]);
    }

    #[test]
    fn rollup_never_goes_alone_and_removal_keeps_the_rest_in_front() {
        let mut p = BatchBisect::new(QueueConfig::default());
        let mut never = entry(2, 0, 2);
        never.rollup = Rollup::Never;
        enqueue(&mut p, &[entry(1, 0, 1), never, entry(3, 0, 3)]);
        assert_eq!(starts(&p.poll(5, 1)), [(1, Base::Staging, vec![1])]);
        assert_eq!(verdicts(&finish(&mut p, 1, true)), ["L1"]);
        assert_eq!(starts(&p.poll(6, 1)), [(2, Base::Staging, vec![2])]);
        assert_eq!(verdicts(&finish(&mut p, 2, true)), ["L2"]);
        enqueue(&mut p, &[entry(4, 0, 7)]);
        assert_eq!(starts(&p.poll(8, 1)), [(3, Base::Staging, vec![3, 4])]);
        assert_eq!(verdicts(&p.on_event(9, Event::Removed(3))), ["C3"]);
        assert_eq!(starts(&p.poll(9, 1)), [(4, Base::Staging, vec![4])]);
    }
}
