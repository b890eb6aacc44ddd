//! `speculative`: a Zuul-style window. Up to `builders` queue items, one PR
//! each, are tested at once, item k on top of item k−1's candidate, so each
//! is tested as the tree it would land as. Items land in order. A failing
//! item stops being a base: every item behind it is cancelled and rebuilt
//! without it, and once all items ahead of it have landed it is ejected
//! (its build failed alone on a tree that passed). No rerun: a flaky run
//! ejects a good PR.

use std::collections::HashSet;

use super::order::{BuildIds, WaitList};
use super::{
    Action, Base, BuildId, Candidate, Ejection, Entry, Event, PrId, QueueConfig, QueuePolicy, Time,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemState {
    /// Needs a (new) build on the items ahead of it.
    Pending,
    Running(BuildId),
    Passed(BuildId),
    /// Failed; kept in place until the items ahead have landed.
    Failed(BuildId),
}

#[derive(Debug)]
struct Item {
    entry: Entry,
    state: ItemState,
}

#[derive(Debug)]
pub struct Speculative {
    config: QueueConfig,
    ids: BuildIds,
    waiting: WaitList,
    window: Vec<Item>,
    held: HashSet<PrId>,
}

impl Speculative {
    pub fn new(config: QueueConfig) -> Self {
        Speculative {
            config,
            ids: BuildIds::default(),
            waiting: WaitList::default(),
            window: Vec::new(),
            held: HashSet::new(),
        }
    }

    /// Throw away the builds of items `from..` (their base changed).
    fn reset_from(&mut self, from: usize, actions: &mut Vec<Action>) {
        for item in &mut self.window[from..] {
            if let ItemState::Running(build) = item.state {
                actions.push(Action::Cancel { build });
            }
            item.state = ItemState::Pending;
        }
    }

    /// Land passed items and eject failed ones from the front, in order.
    fn settle(&mut self, actions: &mut Vec<Action>) {
        while let Some(front) = self.window.first() {
            match front.state {
                ItemState::Passed(build) => actions.push(Action::Land { build }),
                ItemState::Failed(build) => actions.push(Action::Eject(Ejection {
                    pr: front.entry.pr,
                    evidence: build,
                })),
                ItemState::Pending | ItemState::Running(_) => break,
            }
            let item = self.window.remove(0);
            self.held.remove(&item.entry.pr);
        }
    }

    /// The base for item `index`: the nearest item ahead that is not failed.
    /// `None` when that item has no build yet (it must start first).
    fn base_for(&self, index: usize) -> Option<Base> {
        for item in self.window[..index].iter().rev() {
            match item.state {
                ItemState::Failed(_) => continue,
                ItemState::Running(build) | ItemState::Passed(build) => {
                    return Some(Base::Build(build));
                }
                ItemState::Pending => return None,
            }
        }
        Some(Base::Staging)
    }
}

impl QueuePolicy for Speculative {
    fn name(&self) -> &'static str {
        "speculative"
    }

    fn on_event(&mut self, _now: Time, event: Event) -> Vec<Action> {
        let mut actions = Vec::new();
        match event {
            Event::Enqueued(entry) => {
                if self.held.insert(entry.pr) {
                    self.waiting.insert(entry);
                }
            }
            Event::Removed(pr) => {
                self.held.remove(&pr);
                self.waiting.remove(pr);
                if let Some(at) = self.window.iter().position(|i| i.entry.pr == pr) {
                    self.reset_from(at, &mut actions);
                    self.window.remove(at);
                    self.settle(&mut actions);
                }
            }
            Event::Finished { build, passed } => {
                let Some(at) = self
                    .window
                    .iter()
                    .position(|i| i.state == ItemState::Running(build))
                else {
                    return actions;
                };
                if passed {
                    self.window[at].state = ItemState::Passed(build);
                } else {
                    self.window[at].state = ItemState::Failed(build);
                    self.reset_from(at + 1, &mut actions);
                }
                self.settle(&mut actions);
            }
        }
        actions
    }

    fn poll(&mut self, _now: Time, free_builders: usize) -> Vec<Action> {
        let mut actions = Vec::new();
        let mut free = free_builders;
        // Rebuild reset items first, in order: each needs the one ahead.
        let mut index = 0;
        while index < self.window.len() && free > 0 {
            if self.window[index].state == ItemState::Pending {
                let Some(base) = self.base_for(index) else {
                    break;
                };
                let build = self.ids.fresh();
                let pr = self.window[index].entry.pr;
                self.window[index].state = ItemState::Running(build);
                actions.push(Action::Start {
                    build,
                    candidate: Candidate {
                        base,
                        prs: vec![pr],
                    },
                });
                free -= 1;
            }
            index += 1;
        }
        let all_built = self.window.iter().all(|i| i.state != ItemState::Pending);
        if !all_built {
            return actions;
        }
        while free > 0 && self.window.len() < self.config.builders.max(1) {
            let Some(entry) = self.waiting.take_batch(1, 1).pop() else {
                break;
            };
            let base = self
                .base_for(self.window.len())
                .expect("every item in the window has a build");
            let build = self.ids.fresh();
            actions.push(Action::Start {
                build,
                candidate: Candidate {
                    base,
                    prs: vec![entry.pr],
                },
            });
            self.window.push(Item {
                entry,
                state: ItemState::Running(build),
            });
            free -= 1;
        }
        actions
    }

    fn queued(&self) -> Vec<PrId> {
        let mut prs: Vec<PrId> = self.window.iter().map(|i| i.entry.pr).collect();
        prs.extend(self.waiting.iter().map(|e| e.pr));
        prs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::testing::*;

    #[test]
    fn items_stack_and_a_failure_rebuilds_those_behind_it() {
        let mut p = Speculative::new(QueueConfig {
            builders: 3,
            max_batch: 8,
        });
        enqueue(
            &mut p,
            &(1..=4).map(|pr| entry(pr, 0, pr)).collect::<Vec<_>>(),
        );
        assert_eq!(
            starts(&p.poll(10, 3)),
            [
                (1, Base::Staging, vec![1]),
                (2, Base::Build(1), vec![2]),
                (3, Base::Build(2), vec![3]),
            ]
        );
        // PR 2 fails while PR 1 is still building: 3 is rebuilt on 1.
        assert_eq!(verdicts(&finish(&mut p, 2, false)), ["C3"]);
        assert_eq!(starts(&p.poll(11, 2)), [(4, Base::Build(1), vec![3])]);
        // The window is full (1, 2 failed, 3): 4 waits.
        assert!(p.poll(11, 1).is_empty());
        // 3 passes first but lands only in order; 1 lands, then 2 is
        // ejected (failed alone on 1, which passed), then 3 lands.
        assert!(verdicts(&finish(&mut p, 4, true)).is_empty());
        assert_eq!(verdicts(&finish(&mut p, 1, true)), ["L1", "E2@2", "L4"]);
        assert_eq!(starts(&p.poll(12, 3)), [(5, Base::Staging, vec![4])]);
    }

    #[test]
    fn removing_an_item_rebuilds_those_behind_it() {
        let mut p = Speculative::new(QueueConfig {
            builders: 3,
            max_batch: 8,
        });
        enqueue(
            &mut p,
            &(1..=3).map(|pr| entry(pr, 0, pr)).collect::<Vec<_>>(),
        );
        p.poll(10, 3);
        assert_eq!(verdicts(&p.on_event(11, Event::Removed(2))), ["C2", "C3"]);
        assert_eq!(starts(&p.poll(11, 2)), [(4, Base::Build(1), vec![3])]);
        assert_eq!(p.queued(), [1, 3]);
    }
}
