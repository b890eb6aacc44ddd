//! Property tests: every policy, on many random scenarios (priorities,
//! rollup flags, removals, flakes, late reports of cancelled builds), keeps
//! the queue contract as the ledger judges it; plus the simulator's own
//! figures on scenarios whose answer is known.

use std::collections::{HashMap, HashSet};

use super::*;
use crate::queue::ironworks::{Ironworks, Tuning};
use crate::queue::{POLICIES, batch_allowed, queue_order};

/// A scenario drawn from `rng`, small enough to run by the hundred.
fn random_config(rng: &mut Rng) -> SimConfig {
    let pick = |rng: &mut Rng, values: &[f64]| values[rng.below(values.len() as u64) as usize];
    SimConfig {
        prs_per_day: 2.0 + rng.unit() * 118.0,
        ci_hours: 0.2 + rng.unit() * 3.8,
        fail_rate: pick(rng, &[0.0, 0.02, 0.1, 0.2, 0.4, 0.7, 1.0]),
        flake_rate: pick(rng, &[0.0, 0.01, 0.05, 0.2, 0.5]),
        builders: 1 + rng.below(12) as usize,
        days: 1 + rng.below(3) as u32,
        seed: rng.next_u64(),
        max_batch: 1 + rng.below(8) as usize,
        ci_spread: rng.unit() * 0.8,
        remove_rate: pick(rng, &[0.0, 0.05, 0.3]),
        priority_rate: pick(rng, &[0.0, 0.2, 0.6]),
        rollup_mix: [rng.unit() * 0.3, rng.unit() * 0.3, rng.unit() * 0.2],
        stale_finishes: rng.chance(0.5),
    }
}

/// Wraps a policy and checks what the ledger does not see: the rollup
/// rules of every candidate and, for `serial`, the queue order.
#[derive(Debug)]
struct Watched<'a> {
    inner: &'a mut dyn QueuePolicy,
    max_batch: usize,
    entries: HashMap<PrId, Entry>,
    /// Enqueued, not removed, never started.
    unstarted: HashSet<PrId>,
    problems: Vec<String>,
}

impl<'a> Watched<'a> {
    fn new(inner: &'a mut dyn QueuePolicy, max_batch: usize) -> Self {
        Watched {
            inner,
            max_batch,
            entries: HashMap::new(),
            unstarted: HashSet::new(),
            problems: Vec::new(),
        }
    }

    fn watch(&mut self, actions: &[Action]) {
        for action in actions {
            let Action::Start { build, candidate } = action else {
                continue;
            };
            let entries: Vec<Entry> = candidate
                .prs
                .iter()
                .filter_map(|pr| self.entries.get(pr).cloned())
                .collect();
            if !batch_allowed(&entries, self.max_batch) {
                self.problems.push(format!(
                    "build {build} breaks the rollup rules: {entries:?}"
                ));
            }
            if self.inner.name() == "serial" {
                let first = self
                    .unstarted
                    .iter()
                    .map(|pr| &self.entries[pr])
                    .min_by(|a, b| queue_order(a, b))
                    .map(|e| e.pr);
                if first != candidate.prs.first().copied() {
                    self.problems.push(format!(
                        "serial started {:?} while {first:?} was first in the queue",
                        candidate.prs
                    ));
                }
            }
            for pr in &candidate.prs {
                self.unstarted.remove(pr);
            }
        }
    }
}

impl QueuePolicy for Watched<'_> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn on_event(&mut self, now: Time, event: Event) -> Vec<Action> {
        match &event {
            Event::Enqueued(entry) => {
                self.entries.insert(entry.pr, entry.clone());
                self.unstarted.insert(entry.pr);
            }
            Event::Removed(pr) => {
                self.unstarted.remove(pr);
            }
            Event::Finished { .. } => {}
        }
        let actions = self.inner.on_event(now, event);
        self.watch(&actions);
        actions
    }

    fn poll(&mut self, now: Time, free_builders: usize) -> Vec<Action> {
        let actions = self.inner.poll(now, free_builders);
        self.watch(&actions);
        actions
    }

    fn queued(&self) -> Vec<PrId> {
        self.inner.queued()
    }
}

fn check_contract(config: &SimConfig, policy: &mut dyn QueuePolicy) {
    let name = policy.name();
    let mut watched = Watched::new(policy, config.max_batch);
    let report = run_policy(config, &mut watched);
    let context = || format!("policy {name} on {config:?}");
    assert!(
        report.violations.is_empty(),
        "{}: {} violations, first: {:?}",
        context(),
        report.violations.len(),
        &report.violations[..report.violations.len().min(5)]
    );
    assert!(
        watched.problems.is_empty(),
        "{}: {:?}",
        context(),
        &watched.problems[..1]
    );
    assert!(!report.capped, "{}: the drain hit its cap", context());
    assert!(
        watched.queued().is_empty(),
        "{}: still queued after the drain: {:?}",
        context(),
        watched.queued()
    );
    let m = &report.metrics;
    assert_eq!(
        m.merged + m.ejected + m.removed,
        m.arrived,
        "{}: every PR ends merged, ejected or removed",
        context()
    );
    if config.flake_rate == 0.0 {
        assert_eq!(
            m.false_ejections,
            0.0,
            "{}: without flakes only bad PRs fail alone on a good base",
            context()
        );
    }
    assert!((0.0..=1.0 + 1e-9).contains(&m.utilisation), "{}", context());
}

#[test]
fn every_policy_keeps_the_contract_on_random_scenarios() {
    let mut rng = Rng::new(0x1d0c_5eed);
    for _ in 0..150 {
        let config = random_config(&mut rng);
        for name in POLICIES {
            let mut policy = queue::policy(name, config.queue_config()).expect("listed");
            check_contract(&config, policy.as_mut());
        }
    }
}

#[test]
fn ironworks_keeps_the_contract_whatever_its_tuning() {
    // The knobs change which paths run most (no budget: deep chains and
    // many resets; no screening: waiting PRs; a tight budget: mostly
    // screens); none may break the contract.
    let tunings = [
        Tuning {
            min_tree_pass: 0.0,
            batch_k: 0.1,
            screening: false,
            load_batching: false,
        },
        Tuning {
            min_tree_pass: 0.95,
            batch_k: 4.0,
            screening: true,
            load_batching: true,
        },
        Tuning {
            min_tree_pass: 0.3,
            batch_k: 1.0,
            screening: false,
            load_batching: true,
        },
    ];
    let mut rng = Rng::new(0xfee1_900d);
    for _ in 0..60 {
        let config = random_config(&mut rng);
        for tuning in tunings {
            let mut policy = Ironworks::tuned(config.queue_config(), tuning);
            check_contract(&config, &mut policy);
        }
    }
}

#[test]
fn a_run_is_a_function_of_its_config() {
    let config = SimConfig {
        days: 3,
        remove_rate: 0.1,
        priority_rate: 0.3,
        rollup_mix: [0.1, 0.1, 0.1],
        ..SimConfig::default()
    };
    for name in POLICIES {
        let a = run(&config, name).expect("listed");
        let b = run(&config, name).expect("listed");
        assert_eq!(a.metrics, b.metrics, "{name}");
        assert_eq!(a.violations, b.violations, "{name}");
    }
    let other = SimConfig {
        seed: 2,
        ..config.clone()
    };
    assert_ne!(workload(&config), workload(&other));
}

#[test]
fn the_workload_follows_its_parameters() {
    let config = SimConfig {
        prs_per_day: 100.0,
        days: 50,
        fail_rate: 0.2,
        remove_rate: 0.1,
        priority_rate: 0.25,
        rollup_mix: [0.1, 0.2, 0.05],
        ..SimConfig::default()
    };
    let prs = workload(&config);
    let n = prs.len() as f64;
    let share = |f: &dyn Fn(&SimPr) -> bool| prs.iter().filter(|p| f(p)).count() as f64 / n;
    assert!((n - 5000.0).abs() < 250.0, "{n} arrivals");
    assert!((share(&|p| p.bad) - 0.2).abs() < 0.02);
    assert!((share(&|p| p.removed_at.is_some()) - 0.1).abs() < 0.02);
    assert!((share(&|p| p.entry.priority > 0) - 0.25).abs() < 0.02);
    assert!((share(&|p| p.entry.rollup == Rollup::Iffy) - 0.2).abs() < 0.02);
    assert!(
        prs.windows(2)
            .all(|w| w[0].entry.approved_at <= w[1].entry.approved_at)
    );
    assert!(prs.iter().all(|p| p.entry.approved_at < 50 * 86_400));
}

#[test]
fn with_nothing_failing_serial_lands_every_pr_with_one_build_each() {
    let config = SimConfig {
        prs_per_day: 4.0,
        fail_rate: 0.0,
        flake_rate: 0.0,
        ci_spread: 0.0,
        days: 20,
        ..SimConfig::default()
    };
    let report = run(&config, "serial").expect("listed");
    let m = &report.metrics;
    assert_eq!(m.merged, m.arrived);
    assert_eq!(m.builds_per_merge, 1.0);
    assert_eq!(m.ejected, 0.0);
    // At 4 a day with 2-hour builds the queue is mostly empty: the median
    // PR waits for nobody.
    assert_eq!(m.p50_hours, 2.0);
    assert!(m.p95_hours >= 2.0 && m.p95_hours < 4.0, "{}", m.p95_hours);
    // One builder of eight, busy 4 × 2 h a day.
    let expected = m.merged * 2.0 / (8.0 * m.sim_days * 24.0);
    assert!(
        (m.utilisation - expected).abs() < 1e-6,
        "{} vs {expected}",
        m.utilisation
    );
}

#[test]
fn serial_throughput_is_one_ci_run_per_pr() {
    // Far more PRs than one-at-a-time can take: it merges about one PR per
    // CI run, less the failed ones, until the drain ends.
    let config = SimConfig {
        days: 7,
        ..SimConfig::default()
    };
    let m = run(&config, "serial").expect("listed").metrics;
    assert!(m.sim_days > 7.0 * 4.0, "the drain runs {} days", m.sim_days);
    let per_day = 24.0 / 2.0 * 0.88;
    assert!(
        (m.merged_per_day - per_day).abs() < 1.0,
        "{}",
        m.merged_per_day
    );
    // Flakes eject good PRs in serial: about 2% of the good ones.
    assert!(m.false_ejections > 0.0);
}

#[test]
fn ironworks_meets_the_scenario_a_targets() {
    // Scenario A of issue 3 (the defaults), the figures of
    // docs/benchmarks.md: means over seeds 1 to 5.
    let mean = |name: &str| {
        let runs: Vec<Report> = (1..=5)
            .map(|seed| {
                let config = SimConfig {
                    seed,
                    ..SimConfig::default()
                };
                run(&config, name).expect("listed")
            })
            .collect();
        let violations: usize = runs.iter().map(|r| r.violations.len()).sum();
        let metrics: Vec<&Metrics> = runs.iter().map(|r| &r.metrics).collect();
        (Metrics::mean(&metrics), violations)
    };
    let (serial, _) = mean("serial");
    let (ours, violations) = mean("ironworks");
    assert_eq!(violations, 0);
    assert!(
        ours.merged_per_day >= 4.5 * serial.merged_per_day,
        "{} vs serial {}",
        ours.merged_per_day,
        serial.merged_per_day
    );
    assert!(ours.p95_hours < 8.0, "p95 {} h", ours.p95_hours);
    assert!(
        ours.builds_per_merge <= 2.0,
        "{} builds per merge",
        ours.builds_per_merge
    );
    assert!(ours.false_ejections < 1.0, "{}", ours.false_ejections);
}

#[test]
fn screening_lifts_the_ceiling_of_a_chain_of_untested_prs() {
    // 200 a day with 2-hour runs: a chain of untested PRs lands about 1/p
    // of them per run, far short; screening on idle builders keeps up.
    let config = SimConfig {
        prs_per_day: 200.0,
        builders: 32,
        days: 4,
        ..SimConfig::default()
    };
    let with = |screening| {
        let tuning = Tuning {
            screening,
            ..Tuning::DEFAULT
        };
        let mut policy = Ironworks::tuned(config.queue_config(), tuning);
        run_policy(&config, &mut policy).metrics
    };
    let (screened, unscreened) = (with(true), with(false));
    assert!(screened.merged_per_day > 0.9 * screened.ceiling_per_day);
    assert!(screened.p95_hours * 3.0 < unscreened.p95_hours);
}

#[test]
fn bad_configs_are_refused() {
    let ok = SimConfig::default();
    assert_eq!(ok.validate(), Ok(()));
    let bad = [
        SimConfig {
            fail_rate: 1.5,
            ..ok.clone()
        },
        SimConfig {
            flake_rate: -0.1,
            ..ok.clone()
        },
        SimConfig {
            builders: 0,
            ..ok.clone()
        },
        SimConfig {
            prs_per_day: 0.0,
            ..ok.clone()
        },
        SimConfig {
            ci_hours: f64::NAN,
            ..ok.clone()
        },
        SimConfig {
            days: 0,
            ..ok.clone()
        },
        SimConfig {
            prs_per_day: 1e9,
            ..ok.clone()
        },
    ];
    for config in bad {
        assert!(config.validate().is_err(), "{config:?}");
    }
}
