//! The queue simulator: drives a [`QueuePolicy`] in virtual time against a
//! seeded workload and CI oracle, and measures it (`ironworks sim queue`).
//!
//! PRs are approved as a Poisson process for `days`; then the simulation
//! drains (no new arrivals) until the queue is empty, nothing more can
//! happen, or a generous cap is reached. Each PR is bad with probability
//! `fail_rate`. A build takes a log-normal time around `ci_hours`; it
//! passes iff its whole tree (its base chain's PRs and its own, on top of
//! what `staging` held) holds no bad PR and the run did not flake
//! (`flake_rate` per build). Every action goes through the [`Ledger`],
//! which plays the repository and checks the queue contract.
//!
//! Deterministic: the same config and seed give the same report.

mod ledger;
mod rng;

#[cfg(test)]
mod tests;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use crate::queue::{
    self, Action, BuildId, Entry, Event, PrId, QueueConfig, QueuePolicy, Rollup, Time,
};

pub use ledger::{Applied, Ledger, PrFate, Started, Violation, ViolationKind};
pub use rng::Rng;

const HOUR: f64 = 3600.0;
const DAY: f64 = 86_400.0;

/// A scenario. The first fields are the CLI's flags; the rest shape the
/// workload for property tests (all off for the CLI's scenarios).
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub prs_per_day: f64,
    pub ci_hours: f64,
    /// Per PR: the chance it is bad (any tree holding it fails).
    pub fail_rate: f64,
    /// Per build: the chance it fails anyway.
    pub flake_rate: f64,
    pub builders: usize,
    pub days: u32,
    pub seed: u64,
    pub max_batch: usize,
    /// Sigma of log(CI duration): the spread around `ci_hours` (the median).
    pub ci_spread: f64,
    /// Per PR: the chance it leaves the queue (unapproved, new push) at a
    /// random moment within three CI durations of its approval.
    pub remove_rate: f64,
    /// Per PR: the chance of a priority from 1 to 3 (else 0).
    pub priority_rate: f64,
    /// Chances of `always`, `iffy` and `never` rollup (else `maybe`).
    pub rollup_mix: [f64; 3],
    /// Deliver `Finished` for cancelled builds too, as a racing driver
    /// might (the policy must ignore them).
    pub stale_finishes: bool,
}

impl Default for SimConfig {
    /// Scenario A of issue 3.
    fn default() -> Self {
        SimConfig {
            prs_per_day: 60.0,
            ci_hours: 2.0,
            fail_rate: 0.10,
            flake_rate: 0.02,
            builders: 8,
            days: 14,
            seed: 1,
            max_batch: QueueConfig::default().max_batch,
            ci_spread: 0.25,
            remove_rate: 0.0,
            priority_rate: 0.0,
            rollup_mix: [0.0; 3],
            stale_finishes: false,
        }
    }
}

impl SimConfig {
    pub fn queue_config(&self) -> QueueConfig {
        QueueConfig {
            builders: self.builders,
            max_batch: self.max_batch,
        }
    }

    /// What is wrong with this config, if anything.
    pub fn validate(&self) -> Result<(), String> {
        let rate = |name: &str, p: f64| {
            if (0.0..=1.0).contains(&p) {
                Ok(())
            } else {
                Err(format!("{name} must be between 0 and 1, got {p}"))
            }
        };
        if !(self.prs_per_day.is_finite() && self.prs_per_day > 0.0) {
            return Err(format!(
                "PRs per day must be a positive number, got {}",
                self.prs_per_day
            ));
        }
        if !(self.ci_hours.is_finite() && self.ci_hours > 0.0 && self.ci_hours <= 24.0 * 30.0) {
            return Err(format!(
                "CI hours must be above 0 and at most 720, got {}",
                self.ci_hours
            ));
        }
        rate("the fail rate", self.fail_rate)?;
        rate("the flake rate", self.flake_rate)?;
        rate("the remove rate", self.remove_rate)?;
        rate("the priority rate", self.priority_rate)?;
        for p in self.rollup_mix {
            rate("a rollup share", p)?;
        }
        if self.rollup_mix.iter().sum::<f64>() > 1.0 {
            return Err("the rollup shares add up to more than 1".into());
        }
        if self.builders == 0 {
            return Err("there must be at least one builder".into());
        }
        if self.days == 0 {
            return Err("the simulation must last at least one day".into());
        }
        if self.max_batch == 0 {
            return Err("the largest batch must hold at least one PR".into());
        }
        if !(self.ci_spread.is_finite() && (0.0..=2.0).contains(&self.ci_spread)) {
            return Err(format!(
                "the CI spread must be between 0 and 2, got {}",
                self.ci_spread
            ));
        }
        // Keep a run bounded: ~10^6 PRs is far past any useful scenario.
        if self.prs_per_day * f64::from(self.days) > 1_000_000.0 {
            return Err("more than a million PRs in one run; use fewer days or PRs per day".into());
        }
        Ok(())
    }
}

/// One approved PR of the workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimPr {
    pub entry: Entry,
    pub bad: bool,
    pub removed_at: Option<Time>,
}

/// The PRs of a scenario, in approval order; the same for every policy.
pub fn workload(config: &SimConfig) -> Vec<SimPr> {
    let mut arrivals = Rng::stream(config.seed, 1);
    let mut shape = Rng::stream(config.seed, 2);
    let mean_gap = DAY / config.prs_per_day;
    let end = f64::from(config.days) * DAY;
    let ci = config.ci_hours * HOUR;
    let mut prs = Vec::new();
    let mut t = 0.0;
    loop {
        t += arrivals.exponential(mean_gap);
        if t >= end {
            break;
        }
        let bad = arrivals.chance(config.fail_rate);
        let approved_at = t as Time;
        let priority = if shape.chance(config.priority_rate) {
            1 + shape.below(3) as i32
        } else {
            0
        };
        let [always, iffy, never] = config.rollup_mix;
        let roll = shape.unit();
        let rollup = if roll < always {
            Rollup::Always
        } else if roll < always + iffy {
            Rollup::Iffy
        } else if roll < always + iffy + never {
            Rollup::Never
        } else {
            Rollup::Maybe
        };
        let removed_at = shape
            .chance(config.remove_rate)
            .then(|| approved_at + (shape.unit() * 3.0 * ci) as Time);
        prs.push(SimPr {
            entry: Entry {
                pr: prs.len() as PrId + 1,
                priority,
                approved_at,
                rollup,
            },
            bad,
            removed_at,
        });
    }
    prs
}

/// The measurements of one policy on one scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// PRs merged per day of simulated time (arrivals, then the drain).
    pub merged_per_day: f64,
    /// Good PRs (not bad, not removed) approved per day: the most any
    /// policy could merge.
    pub ceiling_per_day: f64,
    /// Approval to landing, over merged PRs (0 when none merged).
    pub p50_hours: f64,
    pub p95_hours: f64,
    /// Every started build (cancelled ones too) per merged PR.
    pub builds_per_merge: f64,
    /// Busy builder time / (builders × simulated time).
    pub utilisation: f64,
    /// Good PRs ejected.
    pub false_ejections: f64,
    pub arrived: f64,
    pub merged: f64,
    pub ejected: f64,
    pub removed: f64,
    pub builds: f64,
    pub cancelled: f64,
    /// Simulated time until the drain ended, in days.
    pub sim_days: f64,
}

/// One policy's run on one scenario.
#[derive(Debug, Clone)]
pub struct Report {
    pub policy: String,
    pub seed: u64,
    pub metrics: Metrics,
    /// Every invariant break (see [`ViolationKind`]).
    pub violations: Vec<Violation>,
    /// The drain hit its cap with work left.
    pub capped: bool,
}

impl Metrics {
    /// The mean of each figure over several runs (seeds).
    pub fn mean(all: &[&Metrics]) -> Metrics {
        let n = all.len().max(1) as f64;
        let avg = |f: fn(&Metrics) -> f64| all.iter().map(|m| f(m)).sum::<f64>() / n;
        Metrics {
            merged_per_day: avg(|m| m.merged_per_day),
            ceiling_per_day: avg(|m| m.ceiling_per_day),
            p50_hours: avg(|m| m.p50_hours),
            p95_hours: avg(|m| m.p95_hours),
            builds_per_merge: avg(|m| m.builds_per_merge),
            utilisation: avg(|m| m.utilisation),
            false_ejections: avg(|m| m.false_ejections),
            arrived: avg(|m| m.arrived),
            merged: avg(|m| m.merged),
            ejected: avg(|m| m.ejected),
            removed: avg(|m| m.removed),
            builds: avg(|m| m.builds),
            cancelled: avg(|m| m.cancelled),
            sim_days: avg(|m| m.sim_days),
        }
    }
}

/// Run one named policy (see [`queue::POLICIES`]) on a scenario. `None`
/// for an unknown name.
pub fn run(config: &SimConfig, policy: &str) -> Option<Report> {
    let mut policy = queue::policy(policy, config.queue_config())?;
    Some(run_policy(config, policy.as_mut()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Happening {
    Arrival(usize),
    Removal(usize),
    BuildEnd(BuildId),
}

#[derive(Debug)]
struct Running {
    started: Time,
    passed: bool,
}

/// Run a policy on a scenario. The config must be valid.
pub fn run_policy(config: &SimConfig, policy: &mut dyn QueuePolicy) -> Report {
    let prs = workload(config);
    let mut builds_rng = Rng::stream(config.seed, 3);
    let ci = config.ci_hours * HOUR;
    let arrivals_end = f64::from(config.days) * DAY;
    // Generous: enough to test every PR alone four times over, one by one.
    let cap = (arrivals_end + (30.0 * DAY).max(4.0 * prs.len() as f64 * ci)) as Time;

    let mut heap: BinaryHeap<Reverse<(Time, u64, Happening)>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut push = |heap: &mut BinaryHeap<_>, at: Time, what: Happening| {
        seq += 1;
        heap.push(Reverse((at, seq, what)));
    };
    for (index, pr) in prs.iter().enumerate() {
        push(&mut heap, pr.entry.approved_at, Happening::Arrival(index));
        if let Some(at) = pr.removed_at {
            push(&mut heap, at, Happening::Removal(index));
        }
    }

    let mut ledger = Ledger::new(config.builders);
    let mut running: HashMap<BuildId, Running> = HashMap::new();
    let mut verdicts: HashMap<BuildId, bool> = HashMap::new();
    let mut busy = 0.0f64;
    let mut builds = 0u64;
    let mut cancelled = 0u64;
    let mut now: Time = 0;
    let mut capped = false;

    // Apply actions in order; started builds get a duration and a verdict.
    let mut apply = |now: Time,
                     actions: Vec<Action>,
                     ledger: &mut Ledger,
                     heap: &mut BinaryHeap<Reverse<(Time, u64, Happening)>>,
                     running: &mut HashMap<BuildId, Running>,
                     verdicts: &mut HashMap<BuildId, bool>,
                     busy: &mut f64| {
        for action in actions {
            match ledger.apply(now, &action) {
                Applied::Nothing => {}
                Applied::Started(Started { build, has_bad }) => {
                    builds += 1;
                    let flaked = builds_rng.chance(config.flake_rate);
                    let duration = builds_rng
                        .log_normal(ci, config.ci_spread)
                        .clamp(60.0, 50.0 * ci) as Time;
                    let passed = !has_bad && !flaked;
                    running.insert(
                        build,
                        Running {
                            started: now,
                            passed,
                        },
                    );
                    verdicts.insert(build, passed);
                    seq += 1;
                    heap.push(Reverse((now + duration, seq, Happening::BuildEnd(build))));
                }
                Applied::Stopped(build) => {
                    cancelled += 1;
                    if let Some(run) = running.remove(&build) {
                        *busy += (now - run.started) as f64;
                    }
                    if !config.stale_finishes {
                        verdicts.remove(&build);
                    }
                }
            }
        }
    };

    while let Some(Reverse((at, _, happening))) = heap.pop() {
        if at > cap {
            capped = true;
            break;
        }
        now = at;
        let actions = match happening {
            Happening::Arrival(index) => {
                let pr = &prs[index];
                ledger.enqueued(pr.entry.pr, pr.bad);
                policy.on_event(now, Event::Enqueued(pr.entry.clone()))
            }
            Happening::Removal(index) => {
                let pr = prs[index].entry.pr;
                if ledger.removed(pr) {
                    policy.on_event(now, Event::Removed(pr))
                } else {
                    Vec::new()
                }
            }
            Happening::BuildEnd(build) => {
                if let Some(run) = running.remove(&build) {
                    busy += (now - run.started) as f64;
                    ledger.finished(build, run.passed);
                    verdicts.remove(&build);
                    policy.on_event(
                        now,
                        Event::Finished {
                            build,
                            passed: run.passed,
                        },
                    )
                } else if let Some(passed) = verdicts.remove(&build) {
                    // A cancelled build's late report (stale_finishes only).
                    policy.on_event(now, Event::Finished { build, passed })
                } else {
                    Vec::new()
                }
            }
        };
        apply(
            now,
            actions,
            &mut ledger,
            &mut heap,
            &mut running,
            &mut verdicts,
            &mut busy,
        );
        // Offer free builders until the policy has nothing more to do.
        for _ in 0..8 {
            let free = config.builders.saturating_sub(ledger.running());
            let actions = policy.poll(now, free);
            if actions.is_empty() {
                break;
            }
            apply(
                now,
                actions,
                &mut ledger,
                &mut heap,
                &mut running,
                &mut verdicts,
                &mut busy,
            );
        }
    }
    for run in running.values() {
        busy += now.saturating_sub(run.started) as f64;
    }
    ledger.close(now);

    let fates = ledger.fates();
    let mut latencies: Vec<f64> = fates
        .iter()
        .filter_map(|f| {
            let approved = prs[f.pr as usize - 1].entry.approved_at;
            f.landed_at.map(|at| (at - approved) as f64 / HOUR)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let merged = latencies.len() as f64;
    let good = prs
        .iter()
        .filter(|p| !p.bad && p.removed_at.is_none())
        .count() as f64;
    let span = (now as f64).max(arrivals_end);
    let metrics = Metrics {
        merged_per_day: merged / (span / DAY),
        ceiling_per_day: good / f64::from(config.days),
        p50_hours: percentile(&latencies, 0.50),
        p95_hours: percentile(&latencies, 0.95),
        builds_per_merge: builds as f64 / merged.max(1.0),
        utilisation: if now == 0 {
            0.0
        } else {
            busy / (config.builders as f64 * now as f64)
        },
        false_ejections: fates.iter().filter(|f| f.ejected && !f.bad).count() as f64,
        arrived: prs.len() as f64,
        merged,
        ejected: fates.iter().filter(|f| f.ejected).count() as f64,
        removed: fates.iter().filter(|f| f.removed).count() as f64,
        builds: builds as f64,
        cancelled: cancelled as f64,
        sim_days: now as f64 / DAY,
    };
    Report {
        policy: policy.name().to_string(),
        seed: config.seed,
        metrics,
        violations: ledger.violations().to_vec(),
        capped,
    }
}

/// Nearest-rank percentile of sorted values (0 for none).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
