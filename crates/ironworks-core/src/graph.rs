//! The job graph of one stage run: which jobs run, and in which order.
//!
//! [`StagePlan`] selects the jobs; [`Scheduler`] is the state machine the
//! runner drives: it hands out jobs whose `needs` have passed, and skips the
//! dependants of a job that did not pass.

use std::collections::HashMap;

use crate::adapter::{Adapter, Job};
use crate::stage::Stage;

/// Why a stage cannot be run for a project.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("stage {stage} is not enabled for project `{project}`")]
    NotEnabled { stage: Stage, project: String },
    #[error("stage {stage} has no jobs in the adapter of project `{project}`")]
    NotImplemented { stage: Stage, project: String },
    #[error("every job of stage {stage} is optional; name the ones to run")]
    OnlyOptional { stage: Stage },
}

impl PlanError {
    /// What the user can do about it.
    pub fn help(&self) -> String {
        match self {
            PlanError::NotEnabled { stage, .. } => {
                format!("add \"{stage}\" to `enable` in the adapter's [stages] table")
            }
            PlanError::NotImplemented { stage, .. } => {
                format!("add a [[job]] with stage = \"{stage}\" to the adapter")
            }
            PlanError::OnlyOptional { .. } => {
                "optional jobs only run when a try build asks for them".into()
            }
        }
    }
}

/// A job selected for a stage run, with its `needs` as plan indices.
#[derive(Debug, Clone)]
pub struct PlannedJob {
    pub job: Job,
    pub needs: Vec<usize>,
}

/// The jobs one stage run executes, in declaration order.
#[derive(Debug, Clone)]
pub struct StagePlan {
    pub stage: Stage,
    pub jobs: Vec<PlannedJob>,
}

impl StagePlan {
    /// The stage's active, non-optional jobs. The adapter is validated, so
    /// `needs` name jobs of the same stage, none optional, with no cycle.
    pub fn default_for(adapter: &Adapter, stage: Stage) -> Result<StagePlan, PlanError> {
        let status = adapter.stage_catalog()[stage as usize].clone();
        if !status.enabled {
            return Err(PlanError::NotEnabled {
                stage,
                project: adapter.project.id.clone(),
            });
        }
        if !status.implemented {
            return Err(PlanError::NotImplemented {
                stage,
                project: adapter.project.id.clone(),
            });
        }
        let selected: Vec<&Job> = adapter.jobs_in(stage).filter(|job| !job.optional).collect();
        if selected.is_empty() {
            return Err(PlanError::OnlyOptional { stage });
        }
        let index: HashMap<&str, usize> = selected
            .iter()
            .enumerate()
            .map(|(i, job)| (job.name.as_str(), i))
            .collect();
        let jobs = selected
            .iter()
            .map(|job| PlannedJob {
                job: (*job).clone(),
                needs: job.needs.iter().map(|n| index[n.as_str()]).collect(),
            })
            .collect();
        Ok(StagePlan { stage, jobs })
    }
}

impl StagePlan {
    /// A plan of explicitly selected jobs (a try build), recorded under
    /// `stage`. Jobs they need are added before them; selection order is
    /// kept otherwise.
    pub fn selected(adapter: &Adapter, stage: Stage, selection: &[&Job]) -> StagePlan {
        let mut order: Vec<&Job> = Vec::new();
        fn add<'a>(adapter: &'a Adapter, job: &'a Job, order: &mut Vec<&'a Job>) {
            if order.iter().any(|j| j.name == job.name) {
                return;
            }
            for need in &job.needs {
                if let Some(needed) = adapter.job(need) {
                    add(adapter, needed, order);
                }
            }
            order.push(job);
        }
        for job in selection {
            let job = adapter.job(&job.name).expect("selected from this adapter");
            add(adapter, job, &mut order);
        }
        let index: HashMap<&str, usize> = order
            .iter()
            .enumerate()
            .map(|(i, job)| (job.name.as_str(), i))
            .collect();
        StagePlan {
            stage,
            jobs: order
                .iter()
                .map(|job| PlannedJob {
                    job: (*job).clone(),
                    needs: job.needs.iter().map(|n| index[n.as_str()]).collect(),
                })
                .collect(),
        }
    }
}

/// A job's place in the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Waiting,
    Running,
    Passed,
    NotPassed,
    /// Skipped because the job at this index (a need) did not pass.
    Skipped {
        because: usize,
    },
    Cancelled,
}

/// The state machine of one stage run. Pure: the runner tells it what
/// happened and asks what to start next.
#[derive(Debug, Clone)]
pub struct Scheduler {
    needs: Vec<Vec<usize>>,
    slots: Vec<Slot>,
}

impl Scheduler {
    pub fn new(plan: &StagePlan) -> Self {
        Scheduler {
            needs: plan.jobs.iter().map(|j| j.needs.clone()).collect(),
            slots: vec![Slot::Waiting; plan.jobs.len()],
        }
    }

    /// The first waiting job (in declaration order) whose needs all passed;
    /// it is marked running.
    pub fn start_next(&mut self) -> Option<usize> {
        let ready = (0..self.slots.len()).find(|&i| {
            self.slots[i] == Slot::Waiting
                && self.needs[i].iter().all(|&n| self.slots[n] == Slot::Passed)
        })?;
        self.slots[ready] = Slot::Running;
        Some(ready)
    }

    /// Record that a running job finished. Returns the jobs that can now never
    /// run because of it (transitively), each marked skipped.
    pub fn finish(&mut self, job: usize, passed: bool) -> Vec<usize> {
        assert_eq!(
            self.slots[job],
            Slot::Running,
            "finish of a job that is not running"
        );
        if passed {
            self.slots[job] = Slot::Passed;
            return Vec::new();
        }
        self.slots[job] = Slot::NotPassed;
        let mut skipped = Vec::new();
        // Needs point backwards in a DAG, but not necessarily to lower indices,
        // so propagate until nothing changes.
        loop {
            let before = skipped.len();
            for i in 0..self.slots.len() {
                if self.slots[i] != Slot::Waiting {
                    continue;
                }
                let blocker = self.needs[i].iter().copied().find(|&n| {
                    matches!(
                        self.slots[n],
                        Slot::NotPassed | Slot::Skipped { .. } | Slot::Cancelled
                    )
                });
                if let Some(because) = blocker {
                    self.slots[i] = Slot::Skipped { because };
                    skipped.push(i);
                }
            }
            if skipped.len() == before {
                return skipped;
            }
        }
    }

    /// Cancel every job that has not started; returns them.
    pub fn cancel_waiting(&mut self) -> Vec<usize> {
        let mut cancelled = Vec::new();
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if *slot == Slot::Waiting {
                *slot = Slot::Cancelled;
                cancelled.push(i);
            }
        }
        cancelled
    }

    pub fn slot(&self, job: usize) -> Slot {
        self.slots[job]
    }

    pub fn running(&self) -> usize {
        self.slots.iter().filter(|s| **s == Slot::Running).count()
    }

    /// Nothing is running and nothing can start.
    pub fn is_done(&self) -> bool {
        self.running() == 0 && !self.slots.contains(&Slot::Waiting)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(text: &str, stage: Stage) -> StagePlan {
        let adapter = Adapter::parse("t.toml", text).unwrap();
        StagePlan::default_for(&adapter, stage).unwrap()
    }

    const DIAMOND: &str = r#"
[project]
id = "p"
[[job]]
name = "report"
stage = "spark"
run = ["x"]
needs = ["left", "right"]
[[job]]
name = "build"
stage = "spark"
run = ["x"]
[[job]]
name = "left"
stage = "spark"
run = ["x"]
needs = ["build"]
[[job]]
name = "right"
stage = "spark"
run = ["x"]
needs = ["build"]
[[job]]
name = "extra"
stage = "spark"
run = ["x"]
optional = true
[[job]]
name = "other-stage"
stage = "forge"
run = ["x"]
"#;

    #[test]
    fn plan_keeps_the_stage_s_non_optional_jobs_in_order() {
        let plan = plan(DIAMOND, Stage::Spark);
        let names: Vec<_> = plan.jobs.iter().map(|j| j.job.name.as_str()).collect();
        assert_eq!(names, ["report", "build", "left", "right"]);
        assert_eq!(plan.jobs[0].needs, [2, 3]);
    }

    #[test]
    fn needs_are_respected() {
        let plan = plan(DIAMOND, Stage::Spark);
        let mut s = Scheduler::new(&plan);
        assert_eq!(s.start_next(), Some(1)); // build: the only one with no needs
        assert_eq!(s.start_next(), None);
        assert!(s.finish(1, true).is_empty());
        assert_eq!(s.start_next(), Some(2));
        assert_eq!(s.start_next(), Some(3));
        assert_eq!(s.start_next(), None);
        s.finish(2, true);
        assert_eq!(s.start_next(), None); // report still waits for right
        s.finish(3, true);
        assert_eq!(s.start_next(), Some(0));
        s.finish(0, true);
        assert!(s.is_done());
    }

    #[test]
    fn a_failure_skips_its_dependants_transitively() {
        let plan = plan(DIAMOND, Stage::Spark);
        let mut s = Scheduler::new(&plan);
        assert_eq!(s.start_next(), Some(1));
        let mut skipped = s.finish(1, false);
        skipped.sort();
        assert_eq!(skipped, [0, 2, 3]);
        assert_eq!(s.slot(2), Slot::Skipped { because: 1 });
        assert!(matches!(s.slot(0), Slot::Skipped { .. }));
        assert!(s.is_done());
    }

    #[test]
    fn cancel_stops_what_has_not_started() {
        let plan = plan(DIAMOND, Stage::Spark);
        let mut s = Scheduler::new(&plan);
        s.start_next();
        assert_eq!(s.cancel_waiting(), [0, 2, 3]);
        assert!(!s.is_done());
        s.finish(1, true);
        assert!(s.is_done());
        assert_eq!(s.start_next(), None);
    }

    #[test]
    fn a_selection_brings_its_needs_along() {
        let adapter = Adapter::parse("t.toml", DIAMOND).unwrap();
        let report = adapter.job("report").unwrap();
        let plan = StagePlan::selected(&adapter, Stage::Forge, &[report]);
        let names: Vec<_> = plan.jobs.iter().map(|j| j.job.name.as_str()).collect();
        assert_eq!(names, ["build", "left", "right", "report"]);
        assert_eq!(plan.jobs[3].needs, [1, 2]);
    }

    #[test]
    fn plan_errors_name_the_fix() {
        let adapter = Adapter::parse("t.toml", DIAMOND).unwrap();
        let err = StagePlan::default_for(&adapter, Stage::Stamp).unwrap_err();
        assert!(matches!(err, PlanError::NotEnabled { .. }));
        assert!(err.help().contains("enable"));
        let err = StagePlan::default_for(&adapter, Stage::Temper).unwrap_err();
        assert!(matches!(err, PlanError::NotImplemented { .. }));
    }
}
