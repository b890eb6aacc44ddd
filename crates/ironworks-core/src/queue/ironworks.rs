//! `ironworks`: ours. A speculative chain of adaptive batches kept within a
//! failure budget, parallel screening for what the chain cannot take, and
//! flake-aware culprit finding, all on the builders the chain leaves idle.
//!
//! * **Chain.** Batches are built one on top of the other (`Base::Build`),
//!   so each is tested as the tree it would land as. A PR not yet seen
//!   passing (*fresh*) may be bad; one that passed on `staging` since its
//!   last failure (*clean*) almost surely is not. A batch takes the clean
//!   PRs waiting and as many fresh ones as the failure budget allows: from
//!   the recently observed rate of bad PRs, the chance that the whole
//!   speculative tree passes must stay above [`Tuning::min_tree_pass`].
//!   Everything behind a failure is rebuilt, so the budget is what keeps
//!   deep speculation from wasting builders.
//! * **Screening.** Fresh PRs the chain cannot take now are tested in
//!   small batches on `staging` right away; those that pass ride the chain
//!   clean. A chain of untested PRs lands at most about 1/p of them per CI
//!   run (p the bad rate) however many builders there are; screening lifts
//!   that ceiling.
//! * **A pass proves everything under it.** A passed build's tree holds
//!   every batch ahead of it, so it lands at once, with them; their own
//!   builds, still running, are cancelled.
//! * **A failure is set aside.** Batches behind a failed one are rebuilt
//!   without it at once. The fresh PRs of a failed batch are searched for
//!   the culprit straight away (each is tested alone on `staging`, which
//!   needs no verdict from the batches ahead); its clean PRs go back to the
//!   chain. A failed single PR (or all-clean batch) waits until the batches
//!   ahead have landed: only then is its failure its own.
//! * **Culprit finding runs beside the chain**, all pieces at once: single
//!   PRs (larger pieces of large batches, halves with one builder) tested
//!   alone on `staging`. A piece that
//!   passes is clean (a batch whose pieces all pass was a flake) and lands
//!   with the next batch, or directly when the chain is empty. A PR is
//!   ejected only after failing alone twice on a base that passed, so one
//!   flaky run never ejects a good PR.
//!
//! The knobs were chosen with `ironworks sim queue` (see
//! `docs/benchmarks.md`).

use std::collections::{HashMap, HashSet, VecDeque};

use super::order::{BuildIds, WaitList, queue_order};
use super::{
    Action, Base, BuildId, Candidate, Ejection, Entry, Event, PrId, QueueConfig, QueuePolicy,
    Rollup, Time,
};

/// Failures alone on a passed base before a PR is ejected.
const STRIKES_TO_EJECT: u32 = 2;
/// The most pieces a failed batch is split into at once.
const MAX_PIECES: usize = 4;

/// The knobs of the policy ([`Tuning::DEFAULT`] in production; tests
/// compare others).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tuning {
    /// The least chance that the speculative tree at the end of the chain
    /// passes for fresh PRs to be stacked on it (0 = no budget).
    pub min_tree_pass: f64,
    /// Fresh PRs per batch from the bad rate p: floor(sqrt(k / p)).
    pub batch_k: f64,
    /// Screen the fresh PRs the chain cannot take now (else they wait).
    pub screening: bool,
    /// Spread a backlog over the free builders with larger batches.
    pub load_batching: bool,
}

impl Tuning {
    pub const DEFAULT: Tuning = Tuning {
        min_tree_pass: 0.6,
        batch_k: 1.0,
        screening: true,
        load_batching: true,
    };
}

#[derive(Debug, Clone)]
struct Held {
    entry: Entry,
    /// Passed on `staging` since its last failure.
    clean: bool,
}

impl Held {
    fn fresh(entry: Entry) -> Self {
        Held {
            entry,
            clean: false,
        }
    }

    fn clean(entry: Entry) -> Self {
        Held { entry, clean: true }
    }
}

#[derive(Debug)]
struct Slot {
    prs: Vec<Held>,
    build: BuildId,
    /// Failed, waiting for the slots ahead to decide whether the failure
    /// is its own. No slot is built on a failed one.
    failed: bool,
}

impl Slot {
    fn fresh(&self) -> usize {
        self.prs.iter().filter(|h| !h.clean).count()
    }
}

/// A build beside the chain, on `staging`: a screen of fresh PRs or a
/// piece of a culprit search.
#[derive(Debug)]
struct Probe {
    prs: Vec<Held>,
    build: BuildId,
    /// `lands` when it started.
    epoch: u64,
    screen: bool,
}

/// The recent rate of bad PRs among fresh ones, from batch verdicts; it
/// decays so the budget follows a change in the project's health.
#[derive(Debug, Clone)]
struct FailureRate {
    failures: f64,
    samples: f64,
}

impl FailureRate {
    const DECAY: f64 = 0.97;

    fn new() -> Self {
        // A prior worth a few batches: one bad PR in ten.
        FailureRate {
            failures: 1.0,
            samples: 10.0,
        }
    }

    /// A batch with `fresh` fresh PRs passed or failed.
    fn record(&mut self, fresh: usize, failed: bool) {
        if fresh == 0 {
            return;
        }
        self.failures = self.failures * Self::DECAY + f64::from(u8::from(failed));
        self.samples = self.samples * Self::DECAY + fresh as f64;
    }

    /// Estimated chance that one fresh PR is bad.
    fn per_pr(&self) -> f64 {
        (self.failures / self.samples).clamp(0.002, 0.9)
    }
}

#[derive(Debug)]
pub struct Ironworks {
    config: QueueConfig,
    tuning: Tuning,
    ids: BuildIds,
    fresh: WaitList,
    clean: WaitList,
    /// Batches in landing order; each non-failed one is built on the
    /// nearest non-failed one ahead of it (the first on `staging`).
    chain: Vec<Slot>,
    probes: Vec<Probe>,
    /// Culprit-search pieces waiting for a builder.
    to_probe: VecDeque<Vec<Entry>>,
    /// PRs that failed alone once, waiting for their second run. Most are
    /// bad, so these come after the chain (they matter most with few
    /// builders, where the chain would otherwise stall behind them).
    reruns: VecDeque<Entry>,
    strikes: HashMap<PrId, u32>,
    /// Clean PRs whose all-clean batch failed once (a flake, or PRs that
    /// fail only together); a second time they are fresh again.
    retried: HashSet<PrId>,
    held: HashSet<PrId>,
    /// How many times `staging` moved.
    lands: u64,
    rate: FailureRate,
}

impl Ironworks {
    pub fn new(config: QueueConfig) -> Self {
        Self::tuned(config, Tuning::DEFAULT)
    }

    pub(crate) fn tuned(config: QueueConfig, tuning: Tuning) -> Self {
        Ironworks {
            config,
            tuning,
            ids: BuildIds::default(),
            fresh: WaitList::default(),
            clean: WaitList::default(),
            chain: Vec::new(),
            probes: Vec::new(),
            to_probe: VecDeque::new(),
            reruns: VecDeque::new(),
            strikes: HashMap::new(),
            retried: HashSet::new(),
            held: HashSet::new(),
            lands: 0,
            rate: FailureRate::new(),
        }
    }

    fn max_batch(&self) -> usize {
        self.config.max_batch.max(1)
    }

    /// Fresh PRs per batch: a failed batch costs a test of each of its
    /// fresh PRs, a passed one saves builds; sqrt(k/p) balances the two.
    fn fresh_per_batch(&self) -> usize {
        let by_rate = (self.tuning.batch_k / self.rate.per_pr()).sqrt().floor() as usize;
        // A backlog larger than all builders can take in one round would
        // wait CI runs for its turn: batch it up instead.
        let by_load = if self.tuning.load_batching {
            self.fresh.len().div_ceil(self.config.builders.max(1))
        } else {
            0
        };
        by_rate.max(by_load).clamp(1, self.max_batch())
    }

    /// The chance that the tree at the end of the chain passes.
    fn tail_pass(&self) -> f64 {
        let good = 1.0 - self.rate.per_pr();
        self.chain
            .iter()
            .filter(|s| !s.failed)
            .map(|s| good.powi(s.fresh() as i32))
            .product()
    }

    /// How many fresh PRs the chain can take now within the failure budget.
    fn fresh_budget(&self) -> usize {
        let theta = self.tuning.min_tree_pass;
        if theta <= 0.0 {
            return usize::MAX;
        }
        if !self.chain.iter().any(|s| !s.failed) {
            // An empty chain always takes one: its failure wastes nothing.
            return self.budget_on(1.0).max(1);
        }
        self.budget_on(self.tail_pass())
    }

    /// Fresh PRs that fit on a tree passing with chance `tail`.
    fn budget_on(&self, tail: f64) -> usize {
        let theta = self.tuning.min_tree_pass;
        if tail < theta {
            return 0;
        }
        let good = 1.0 - self.rate.per_pr();
        ((theta / tail).ln() / good.ln()).floor().max(0.0) as usize
    }

    fn requeue(&mut self, held: Held) {
        if held.clean {
            self.clean.insert(held.entry);
        } else {
            self.fresh.insert(held.entry);
        }
    }

    fn requeue_all(&mut self, held: Vec<Held>) {
        for h in held {
            self.requeue(h);
        }
    }

    /// `prs` left the queue merged.
    fn landed(&mut self, prs: &[Held]) {
        for h in prs {
            self.held.remove(&h.entry.pr);
            self.strikes.remove(&h.entry.pr);
            self.retried.remove(&h.entry.pr);
        }
    }

    /// Cancel and requeue every slot from `from` on (their base changed).
    fn reset_from(&mut self, from: usize, actions: &mut Vec<Action>) {
        for slot in self.chain.drain(from..).collect::<Vec<_>>() {
            if !slot.failed {
                actions.push(Action::Cancel { build: slot.build });
            }
            self.requeue_all(slot.prs);
        }
    }

    /// The base for a new slot at the end of the chain.
    fn tail(&self) -> Base {
        self.chain
            .iter()
            .rev()
            .find(|s| !s.failed)
            .map_or(Base::Staging, |s| Base::Build(s.build))
    }

    /// Judge failed slots that have nothing pending ahead of them.
    fn settle(&mut self, actions: &mut Vec<Action>) {
        while self.chain.first().is_some_and(|s| s.failed) {
            let slot = self.chain.remove(0);
            self.own_failure(slot, actions);
        }
    }

    /// A set-aside slot (one PR, or only clean ones) failed on a base that
    /// passed: the failure is its own.
    fn own_failure(&mut self, slot: Slot, actions: &mut Vec<Action>) {
        self.rate.record(slot.fresh(), true);
        if let [held] = slot.prs.as_slice() {
            self.strike(held.entry.clone(), slot.build, actions);
            return;
        }
        // Only clean PRs: a flake, or PRs that fail only together. Once
        // more as they are; a second time they are screened again.
        for h in slot.prs {
            if self.retried.insert(h.entry.pr) {
                self.clean.insert(h.entry);
            } else {
                self.fresh.insert(h.entry);
            }
        }
    }

    /// Queue a culprit search over PRs that failed together: split into as
    /// many pieces as builders can test at once (up to [`MAX_PIECES`]), so
    /// the search takes one CI run for small batches, and halves with a
    /// single builder.
    fn search(&mut self, prs: Vec<Entry>) {
        let pieces = self.config.builders.clamp(2, MAX_PIECES).min(prs.len());
        let size = prs.len().div_ceil(pieces.max(1));
        for piece in prs.chunks(size.max(1)) {
            self.to_probe.push_back(piece.to_vec());
        }
    }

    /// `entry` failed alone on a base that passed, in `build`.
    fn strike(&mut self, entry: Entry, build: BuildId, actions: &mut Vec<Action>) {
        let strikes = self.strikes.entry(entry.pr).or_insert(0);
        *strikes += 1;
        if *strikes >= STRIKES_TO_EJECT {
            self.strikes.remove(&entry.pr);
            self.retried.remove(&entry.pr);
            self.held.remove(&entry.pr);
            actions.push(Action::Eject(Ejection {
                pr: entry.pr,
                evidence: build,
            }));
        } else {
            // Once more alone: one flaky run must not eject a good PR.
            self.reruns.push_back(entry);
        }
    }

    fn slot_passed(&mut self, index: usize, actions: &mut Vec<Action>) {
        let build = self.chain[index].build;
        actions.push(Action::Land { build });
        self.lands += 1;
        let slots: Vec<Slot> = self.chain.drain(..=index).collect();
        // Set-aside failures are judged after the land: their base is now
        // proven.
        let mut judged = Vec::new();
        for slot in slots {
            if slot.failed {
                judged.push(slot);
                continue;
            }
            if slot.build != build {
                // Proven by the land; its own verdict no longer matters.
                actions.push(Action::Cancel { build: slot.build });
            }
            self.rate.record(slot.fresh(), false);
            self.landed(&slot.prs);
        }
        for slot in judged {
            self.own_failure(slot, actions);
        }
        self.settle(actions);
    }

    fn slot_failed(&mut self, index: usize, actions: &mut Vec<Action>) {
        self.reset_from(index + 1, actions);
        let slot = &self.chain[index];
        if slot.prs.len() > 1 && slot.fresh() > 0 {
            // Search at once: the pieces are tested alone on `staging`,
            // which needs no verdict from the slots ahead.
            let slot = self.chain.remove(index);
            self.rate.record(slot.fresh(), true);
            let (clean, fresh): (Vec<Held>, Vec<Held>) =
                slot.prs.into_iter().partition(|h| h.clean);
            self.requeue_all(clean);
            self.search(fresh.into_iter().map(|h| h.entry).collect());
        } else {
            self.chain[index].failed = true;
        }
        self.settle(actions);
    }

    fn probe_done(&mut self, index: usize, passed: bool, actions: &mut Vec<Action>) {
        let probe = self.probes.remove(index);
        if probe.screen {
            self.rate.record(probe.prs.len(), !passed);
        }
        let entries = probe.prs.into_iter().map(|h| h.entry);
        if !passed {
            // Probes run on `staging`, which passed: the failure is theirs.
            let mut prs: Vec<Entry> = entries.collect();
            if prs.len() == 1 {
                self.strike(prs.pop().expect("one PR"), probe.build, actions);
            } else {
                self.search(prs);
            }
            return;
        }
        let prs: Vec<Held> = entries.map(Held::clean).collect();
        for h in &prs {
            self.strikes.remove(&h.entry.pr);
        }
        if self.chain.is_empty() && probe.epoch == self.lands {
            // Still on top of `staging`, and nothing is built on the old
            // head: land it as it is.
            actions.push(Action::Land { build: probe.build });
            self.lands += 1;
            self.landed(&prs);
        } else {
            self.requeue_all(prs);
        }
    }

    fn remove(&mut self, pr: PrId, actions: &mut Vec<Action>) {
        self.held.remove(&pr);
        self.strikes.remove(&pr);
        self.retried.remove(&pr);
        self.fresh.remove(pr);
        self.clean.remove(pr);
        for piece in &mut self.to_probe {
            piece.retain(|e| e.pr != pr);
        }
        self.to_probe.retain(|p| !p.is_empty());
        self.reruns.retain(|e| e.pr != pr);
        if let Some(index) = self
            .probes
            .iter()
            .position(|p| p.prs.iter().any(|h| h.entry.pr == pr))
        {
            let probe = self.probes.remove(index);
            actions.push(Action::Cancel { build: probe.build });
            let rest: Vec<Held> = probe.prs.into_iter().filter(|h| h.entry.pr != pr).collect();
            if probe.screen {
                self.requeue_all(rest);
            } else if !rest.is_empty() {
                // Still suspects: the search goes on without it.
                self.to_probe
                    .push_front(rest.into_iter().map(|h| h.entry).collect());
            }
        }
        if let Some(index) = self
            .chain
            .iter()
            .position(|s| s.prs.iter().any(|h| h.entry.pr == pr))
        {
            // A failed slot has nothing built on it and no build running.
            if !self.chain[index].failed {
                self.reset_from(index + 1, actions);
                actions.push(Action::Cancel {
                    build: self.chain[index].build,
                });
            }
            let slot = self.chain.remove(index);
            self.requeue_all(slot.prs.into_iter().filter(|h| h.entry.pr != pr).collect());
            self.settle(actions);
        }
    }

    /// The next chain batch: the clean PRs and up to `fresh_budget` fresh
    /// ones, in queue order, under the rollup rules.
    fn take_slot(&mut self, fresh_budget: usize) -> Vec<Held> {
        let mut pool: Vec<Held> = self
            .clean
            .iter()
            .cloned()
            .map(Held::clean)
            .chain(self.fresh.iter().cloned().map(Held::fresh))
            .collect();
        pool.sort_by(|a, b| queue_order(&a.entry, &b.entry));
        let max = self.max_batch();
        let mut batch: Vec<Held> = Vec::new();
        let mut fresh = 0;
        let mut iffy = false;
        for h in pool {
            if batch.len() == max {
                break;
            }
            if !h.clean && fresh == fresh_budget {
                continue;
            }
            match h.entry.rollup {
                Rollup::Never if batch.is_empty() => {
                    batch.push(h);
                    break;
                }
                Rollup::Never => continue,
                Rollup::Iffy if iffy => continue,
                Rollup::Iffy => iffy = true,
                Rollup::Always | Rollup::Maybe => {}
            }
            if !h.clean {
                fresh += 1;
            }
            batch.push(h);
        }
        for h in &batch {
            if h.clean {
                self.clean.remove(h.entry.pr);
            } else {
                self.fresh.remove(h.entry.pr);
            }
        }
        batch
    }

    fn start_slot(&mut self, prs: Vec<Held>, actions: &mut Vec<Action>) {
        let build = self.ids.fresh();
        actions.push(Action::Start {
            build,
            candidate: Candidate {
                base: self.tail(),
                prs: prs.iter().map(|h| h.entry.pr).collect(),
            },
        });
        self.chain.push(Slot {
            prs,
            build,
            failed: false,
        });
    }

    fn start_reruns(&mut self, free: &mut usize, actions: &mut Vec<Action>) {
        while *free > 0 {
            let Some(entry) = self.reruns.pop_front() else {
                break;
            };
            self.start_probe(vec![Held::fresh(entry)], false, actions);
            *free -= 1;
        }
    }

    fn start_probe(&mut self, prs: Vec<Held>, screen: bool, actions: &mut Vec<Action>) {
        let build = self.ids.fresh();
        actions.push(Action::Start {
            build,
            candidate: Candidate {
                base: Base::Staging,
                prs: prs.iter().map(|h| h.entry.pr).collect(),
            },
        });
        self.probes.push(Probe {
            prs,
            build,
            epoch: self.lands,
            screen,
        });
    }
}

impl QueuePolicy for Ironworks {
    fn name(&self) -> &'static str {
        "ironworks"
    }

    fn on_event(&mut self, _now: Time, event: Event) -> Vec<Action> {
        let mut actions = Vec::new();
        match event {
            Event::Enqueued(entry) => {
                if self.held.insert(entry.pr) {
                    self.fresh.insert(entry);
                }
            }
            Event::Removed(pr) => self.remove(pr, &mut actions),
            Event::Finished { build, passed } => {
                if let Some(index) = self
                    .chain
                    .iter()
                    .position(|s| s.build == build && !s.failed)
                {
                    if passed {
                        self.slot_passed(index, &mut actions);
                    } else {
                        self.slot_failed(index, &mut actions);
                    }
                } else if let Some(index) = self.probes.iter().position(|p| p.build == build) {
                    self.probe_done(index, passed, &mut actions);
                }
                // Anything else was cancelled: ignored.
            }
        }
        actions
    }

    fn poll(&mut self, _now: Time, free_builders: usize) -> Vec<Action> {
        let mut actions = Vec::new();
        let mut free = free_builders;
        // Culprit searches first: those PRs are the oldest in the queue.
        while free > 0 {
            let Some(piece) = self.to_probe.pop_front() else {
                break;
            };
            let prs = piece.into_iter().map(Held::fresh).collect();
            self.start_probe(prs, false, &mut actions);
            free -= 1;
        }
        // Grow the chain within the failure budget (clean PRs always fit).
        while free > 0 && !(self.clean.is_empty() && self.fresh.is_empty()) {
            let budget = self.fresh_budget().min(self.fresh_per_batch());
            if budget == 0 && self.clean.is_empty() {
                break;
            }
            let batch = self.take_slot(budget);
            if batch.is_empty() {
                break;
            }
            self.start_slot(batch, &mut actions);
            free -= 1;
        }
        // Second runs before screens: the good PRs among them (failed once
        // by a flake) have waited longest.
        self.start_reruns(&mut free, &mut actions);
        // Screen the fresh PRs the chain cannot take now.
        while self.tuning.screening && free > 0 && !self.fresh.is_empty() {
            let prs = self
                .fresh
                .take_batch(self.fresh_per_batch(), self.max_batch())
                .into_iter()
                .map(Held::fresh)
                .collect();
            self.start_probe(prs, true, &mut actions);
            free -= 1;
        }
        actions
    }

    fn queued(&self) -> Vec<PrId> {
        let mut prs: Vec<PrId> = Vec::new();
        for slot in &self.chain {
            prs.extend(slot.prs.iter().map(|h| h.entry.pr));
        }
        for probe in &self.probes {
            prs.extend(probe.prs.iter().map(|h| h.entry.pr));
        }
        for piece in &self.to_probe {
            prs.extend(piece.iter().map(|e| e.pr));
        }
        prs.extend(self.reruns.iter().map(|e| e.pr));
        let mut waiting: Vec<&Entry> = self.clean.iter().chain(self.fresh.iter()).collect();
        waiting.sort_by(|a, b| queue_order(a, b));
        prs.extend(waiting.into_iter().map(|e| e.pr));
        prs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::testing::*;

    /// Solo slots, no failure budget: the chain is predictable.
    fn solo(builders: usize) -> Ironworks {
        Ironworks::tuned(
            QueueConfig {
                builders,
                max_batch: 1,
            },
            Tuning {
                min_tree_pass: 0.0,
                batch_k: 1.0,
                screening: true,
                load_batching: false,
            },
        )
    }

    #[test]
    fn a_deeper_pass_lands_the_chain_ahead_of_it_at_once() {
        let mut p = solo(4);
        enqueue(
            &mut p,
            &(1..=3).map(|pr| entry(pr, 0, pr)).collect::<Vec<_>>(),
        );
        assert_eq!(
            starts(&p.poll(10, 4)),
            [
                (1, Base::Staging, vec![1]),
                (2, Base::Build(1), vec![2]),
                (3, Base::Build(2), vec![3]),
            ]
        );
        assert_eq!(verdicts(&finish(&mut p, 2, true)), ["L2", "C1"]);
        assert_eq!(p.queued(), [3]);
        enqueue(&mut p, &[entry(4, 0, 20)]);
        assert_eq!(starts(&p.poll(21, 2)), [(4, Base::Build(3), vec![4])]);
    }

    #[test]
    fn a_pr_is_ejected_only_after_failing_alone_twice() {
        let mut p = solo(2);
        enqueue(&mut p, &[entry(1, 0, 1), entry(2, 0, 2)]);
        p.poll(3, 2); // 1 on staging, 2 on 1
        // 1 fails: 2 is rebuilt on staging; 1 failed alone once.
        assert_eq!(verdicts(&finish(&mut p, 1, false)), ["C2"]);
        assert_eq!(
            starts(&p.poll(4, 2)),
            [(3, Base::Staging, vec![2]), (4, Base::Staging, vec![1])],
            "the chain first, then 1's second run beside it"
        );
        assert_eq!(verdicts(&finish(&mut p, 4, false)), ["E1@4"]);
        assert_eq!(verdicts(&finish(&mut p, 3, true)), ["L3"]);
        assert!(p.queued().is_empty());
    }

    #[test]
    fn a_flaky_failure_does_not_eject_a_good_pr() {
        let mut p = solo(2);
        enqueue(&mut p, &[entry(1, 0, 1)]);
        p.poll(2, 2);
        assert!(verdicts(&finish(&mut p, 1, false)).is_empty());
        assert_eq!(starts(&p.poll(3, 2)), [(2, Base::Staging, vec![1])]);
        // It passes alone, on an unchanged staging and an empty chain: it
        // lands as it is.
        assert_eq!(verdicts(&finish(&mut p, 2, true)), ["L2"]);
        assert!(p.queued().is_empty());
    }

    #[test]
    fn a_failed_batch_is_searched_beside_the_chain_and_its_good_prs_ride_on() {
        let mut p = Ironworks::tuned(
            QueueConfig {
                builders: 8,
                max_batch: 3,
            },
            Tuning {
                min_tree_pass: 0.0,
                batch_k: 100.0,
                screening: true,
                load_batching: false,
            },
        );
        enqueue(
            &mut p,
            &(1..=4).map(|pr| entry(pr, 0, pr)).collect::<Vec<_>>(),
        );
        assert_eq!(
            starts(&p.poll(5, 8)),
            [
                (1, Base::Staging, vec![1, 2, 3]),
                (2, Base::Build(1), vec![4])
            ]
        );
        // The batch fails: 4 is rebuilt without it, and each of its PRs is
        // tested alone on staging at once.
        assert_eq!(verdicts(&finish(&mut p, 1, false)), ["C2"]);
        assert_eq!(
            starts(&p.poll(6, 8)),
            [
                (3, Base::Staging, vec![1]),
                (4, Base::Staging, vec![2]),
                (5, Base::Staging, vec![3]),
                (6, Base::Staging, vec![4]),
            ]
        );
        assert!(verdicts(&finish(&mut p, 3, true)).is_empty(), "1 is clean");
        assert!(
            verdicts(&finish(&mut p, 4, false)).is_empty(),
            "2: strike one"
        );
        assert!(verdicts(&finish(&mut p, 5, true)).is_empty(), "3 is clean");
        // The clean PRs ride on the chain; 2 runs alone once more.
        assert_eq!(
            starts(&p.poll(7, 6)),
            [(7, Base::Build(6), vec![1, 3]), (8, Base::Staging, vec![2])]
        );
        assert_eq!(verdicts(&finish(&mut p, 8, false)), ["E2@8"]);
        assert_eq!(verdicts(&finish(&mut p, 7, true)), ["L7", "C6"]);
        assert!(p.queued().is_empty());
    }

    #[test]
    fn removing_a_pr_rebuilds_the_chain_behind_it() {
        let mut p = solo(4);
        enqueue(
            &mut p,
            &(1..=3).map(|pr| entry(pr, 0, pr)).collect::<Vec<_>>(),
        );
        p.poll(4, 4);
        assert_eq!(verdicts(&p.on_event(5, Event::Removed(2))), ["C3", "C2"]);
        assert_eq!(starts(&p.poll(5, 2)), [(4, Base::Build(1), vec![3])]);
        assert!(finish(&mut p, 2, true).is_empty(), "cancelled: ignored");
        assert_eq!(verdicts(&finish(&mut p, 4, true)), ["L4", "C1"]);
    }

    #[test]
    fn the_failure_budget_sends_the_rest_to_screening() {
        let mut p = Ironworks::new(QueueConfig {
            builders: 8,
            max_batch: 8,
        });
        enqueue(
            &mut p,
            &(1..=12).map(|pr| entry(pr, 0, pr)).collect::<Vec<_>>(),
        );
        let started = starts(&p.poll(20, 8));
        let chained: usize = started
            .iter()
            .filter(|(_, base, _)| *base != Base::Staging)
            .map(|(_, _, prs)| prs.len())
            .sum::<usize>()
            + started[0].2.len();
        // With one bad PR in ten, a tree of n untested PRs passes with
        // 0.9^n: the budget (0.6) allows four.
        assert_eq!(chained, 4, "{started:?}");
        let all: usize = started.iter().map(|(_, _, prs)| prs.len()).sum();
        assert_eq!(all, 12, "the rest are screened on idle builders");
    }
}
