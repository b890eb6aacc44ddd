//! `ironworks sim queue`: every queue policy on one simulated scenario, in
//! virtual time (the simulator and the policies are the core's), reported
//! side by side.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use clap::Args;
use ironworks_core::queue::POLICIES;
use ironworks_core::sim::{self, Metrics, Report, SimConfig};
use serde::Serialize;

use crate::error::Failure;
use crate::exit;

/// The most seeds one run averages over.
const MAX_SEEDS: u32 = 1000;

/// The scenario. Defaults: scenario A of the queue benchmark
/// (docs/benchmarks.md).
#[derive(Debug, Clone, Args)]
pub struct SimQueueArgs {
    /// PRs approved per day (Poisson arrivals).
    #[arg(long, value_name = "N", default_value_t = 60.0)]
    pub prs_per_day: f64,
    /// Median CI duration in hours (log-normal, modest spread).
    #[arg(long, value_name = "H", default_value_t = 2.0)]
    pub ci_hours: f64,
    /// Chance that a PR is bad: every tree holding it fails.
    #[arg(long, value_name = "P", default_value_t = 0.10)]
    pub fail_rate: f64,
    /// Chance that any one build fails anyway (a flaky run).
    #[arg(long, value_name = "P", default_value_t = 0.02)]
    pub flake_rate: f64,
    /// Builders the queue may use at once.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub builders: usize,
    /// Days of arrivals; then the queue drains with no new PRs.
    #[arg(long, value_name = "N", default_value_t = 14)]
    pub days: u32,
    /// Seed of the workload and of the CI oracle.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Run this many seeds, from --seed on, and report the means.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seeds: u32,
    /// Only this policy: serial, batch-bisect, speculative or ironworks.
    #[arg(long, value_name = "NAME")]
    pub policy: Option<String>,
    /// Print JSON: {"scenario": {...}, "policies": [{...}, ...]}.
    #[arg(long)]
    pub json: bool,
}

/// One policy's figures: means over the seeds; `violations` is the total.
#[derive(Debug, Clone, Serialize)]
struct PolicyFigures {
    policy: &'static str,
    merged_per_day: f64,
    /// Good PRs approved per day: the most any policy could merge.
    ceiling_per_day: f64,
    p50_hours: f64,
    p95_hours: f64,
    builds_per_merge: f64,
    utilisation: f64,
    /// Good PRs ejected (per seed).
    false_ejections: f64,
    /// Invariant breaks over all seeds.
    violations: usize,
    /// How many of each kind, when there are any.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    violation_kinds: BTreeMap<&'static str, usize>,
    merged: f64,
    ejected: f64,
    builds: f64,
    sim_days: f64,
}

#[derive(Debug, Serialize)]
struct Scenario {
    prs_per_day: f64,
    ci_hours: f64,
    fail_rate: f64,
    flake_rate: f64,
    builders: usize,
    days: u32,
    max_batch: usize,
    seeds: Vec<u64>,
}

#[derive(Debug, Serialize)]
struct SimOutput {
    scenario: Scenario,
    policies: Vec<PolicyFigures>,
}

pub fn sim_queue(args: &SimQueueArgs) -> Result<u8, Failure> {
    let config = config(args)?;
    let policies = selected(args)?;
    let seeds: Vec<u64> = (0..u64::from(args.seeds))
        .map(|i| args.seed.wrapping_add(i))
        .collect();

    let mut figures = Vec::new();
    let mut samples = Vec::new();
    for name in policies {
        let reports: Vec<Report> = seeds
            .iter()
            .map(|&seed| {
                let config = SimConfig {
                    seed,
                    ..config.clone()
                };
                sim::run(&config, name).expect("a listed policy")
            })
            .collect();
        samples.extend(reports.iter().flat_map(|r| {
            r.violations
                .iter()
                .take(3)
                .map(move |v| format!("{name} (seed {}): {v}", r.seed))
        }));
        figures.push(figures_of(name, &reports));
    }
    let red = figures.iter().any(|f| f.violations > 0);

    let output = SimOutput {
        scenario: Scenario {
            prs_per_day: config.prs_per_day,
            ci_hours: config.ci_hours,
            fail_rate: config.fail_rate,
            flake_rate: config.flake_rate,
            builders: config.builders,
            days: config.days,
            max_batch: config.max_batch,
            seeds,
        },
        policies: figures,
    };
    if args.json {
        super::print_json(&output);
    } else {
        print!("{}", table(&output));
    }
    for sample in samples {
        eprintln!("violation: {sample}");
    }
    Ok(if red { exit::RED } else { exit::OK })
}

fn config(args: &SimQueueArgs) -> Result<SimConfig, Failure> {
    if args.seeds == 0 || args.seeds > MAX_SEEDS {
        return Err(Failure::usage(format!(
            "--seeds must be between 1 and {MAX_SEEDS}, got {}",
            args.seeds
        )));
    }
    let config = SimConfig {
        prs_per_day: args.prs_per_day,
        ci_hours: args.ci_hours,
        fail_rate: args.fail_rate,
        flake_rate: args.flake_rate,
        builders: args.builders,
        days: args.days,
        seed: args.seed,
        ..SimConfig::default()
    };
    config.validate().map_err(|problem| {
        Failure::usage(problem).help(
            "rates are chances between 0 and 1 (--fail-rate 0.1 is 10%); \
             --builders, --days and --prs-per-day must be positive",
        )
    })?;
    Ok(config)
}

fn selected(args: &SimQueueArgs) -> Result<Vec<&'static str>, Failure> {
    match &args.policy {
        None => Ok(POLICIES.to_vec()),
        Some(name) => match POLICIES.iter().find(|p| **p == name.as_str()) {
            Some(found) => Ok(vec![*found]),
            None => Err(Failure::usage(format!("unknown queue policy `{name}`"))
                .help(format!("expected one of: {}", POLICIES.join(", ")))),
        },
    }
}

fn figures_of(name: &'static str, reports: &[Report]) -> PolicyFigures {
    let metrics: Vec<&Metrics> = reports.iter().map(|r| &r.metrics).collect();
    let m = Metrics::mean(&metrics);
    let mut violation_kinds = BTreeMap::new();
    for v in reports.iter().flat_map(|r| &r.violations) {
        *violation_kinds.entry(v.kind.as_str()).or_insert(0) += 1;
    }
    // Three decimals: enough for every figure, short to read.
    let r = |x: f64| (x * 1000.0).round() / 1000.0;
    PolicyFigures {
        policy: name,
        merged_per_day: r(m.merged_per_day),
        ceiling_per_day: r(m.ceiling_per_day),
        p50_hours: r(m.p50_hours),
        p95_hours: r(m.p95_hours),
        builds_per_merge: r(m.builds_per_merge),
        utilisation: r(m.utilisation),
        false_ejections: r(m.false_ejections),
        violations: violation_kinds.values().sum(),
        violation_kinds,
        merged: r(m.merged),
        ejected: r(m.ejected),
        builds: r(m.builds),
        sim_days: r(m.sim_days),
    }
}

fn table(output: &SimOutput) -> String {
    let s = &output.scenario;
    let seeds = match s.seeds.as_slice() {
        [one] => format!("seed {one}"),
        many => format!(
            "means of {} seeds ({}..={})",
            many.len(),
            many[0],
            many[many.len() - 1]
        ),
    };
    let mut text = String::new();
    let _ = writeln!(
        text,
        "scenario: {} PRs/day, CI {} h, {}% bad PRs, {}% flaky runs, {} builders, {} days then drain; {seeds}",
        s.prs_per_day,
        s.ci_hours,
        s.fail_rate * 100.0,
        s.flake_rate * 100.0,
        s.builders,
        s.days,
    );
    let _ = writeln!(
        text,
        "{:<13} {:>10} {:>11} {:>7} {:>7} {:>12} {:>11} {:>10} {:>10}",
        "POLICY",
        "MERGED/DAY",
        "CEILING/DAY",
        "P50 H",
        "P95 H",
        "BUILDS/MERGE",
        "UTILISATION",
        "FALSE EJ.",
        "VIOLATIONS"
    );
    for f in &output.policies {
        let _ = writeln!(
            text,
            "{:<13} {:>10.1} {:>11.1} {:>7.1} {:>7.1} {:>12.2} {:>10.0}% {:>10.1} {:>10}",
            f.policy,
            f.merged_per_day,
            f.ceiling_per_day,
            f.p50_hours,
            f.p95_hours,
            f.builds_per_merge,
            f.utilisation * 100.0,
            f.false_ejections,
            f.violations
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> SimQueueArgs {
        SimQueueArgs {
            prs_per_day: 60.0,
            ci_hours: 2.0,
            fail_rate: 0.1,
            flake_rate: 0.02,
            builders: 8,
            days: 2,
            seed: 1,
            seeds: 1,
            policy: None,
            json: false,
        }
    }

    type Change = fn(&mut SimQueueArgs);

    #[test]
    fn bad_flags_are_usage_errors() {
        let cases: [(Change, &str); 6] = [
            (|a| a.fail_rate = 1.2, "fail rate"),
            (|a| a.flake_rate = -0.5, "flake rate"),
            (|a| a.builders = 0, "builder"),
            (|a| a.prs_per_day = 0.0, "PRs per day"),
            (|a| a.seeds = 0, "--seeds"),
            (
                |a| a.policy = Some("zuul".into()),
                "unknown queue policy `zuul`",
            ),
        ];
        for (change, expected) in cases {
            let mut a = args();
            change(&mut a);
            let err = config(&a).and_then(|_| selected(&a)).unwrap_err();
            assert_eq!(err.code, exit::USAGE);
            assert!(err.message.contains(expected), "{}", err.message);
        }
        assert_eq!(selected(&args()).unwrap(), POLICIES);
        let mut one = args();
        one.policy = Some("ironworks".into());
        assert_eq!(selected(&one).unwrap(), ["ironworks"]);
    }

    #[test]
    fn the_table_and_json_carry_every_figure() {
        let a = args();
        let config = config(&a).unwrap();
        let figures: Vec<PolicyFigures> = POLICIES
            .iter()
            .map(|name| figures_of(name, &[sim::run(&config, name).unwrap()]))
            .collect();
        let output = SimOutput {
            scenario: Scenario {
                prs_per_day: 60.0,
                ci_hours: 2.0,
                fail_rate: 0.1,
                flake_rate: 0.02,
                builders: 8,
                days: 2,
                max_batch: 8,
                seeds: vec![1, 2],
            },
            policies: figures,
        };
        let text = table(&output);
        assert!(text.starts_with(
            "scenario: 60 PRs/day, CI 2 h, 10% bad PRs, 2% flaky runs, 8 builders, 2 days then drain; means of 2 seeds (1..=2)\n"
        ), "{text}");
        assert_eq!(text.lines().count(), 2 + POLICIES.len());
        let json = serde_json::to_value(&output).unwrap();
        let policies = json["policies"].as_array().unwrap();
        assert_eq!(policies.len(), POLICIES.len());
        for (p, name) in policies.iter().zip(POLICIES) {
            assert_eq!(p["policy"], *name);
            for key in [
                "merged_per_day",
                "p50_hours",
                "p95_hours",
                "builds_per_merge",
                "utilisation",
            ] {
                assert!(p[key].as_f64().is_some(), "{key} in {p}");
            }
            assert_eq!(p["violations"], 0);
            assert!(p.get("violation_kinds").is_none());
        }
    }
}
