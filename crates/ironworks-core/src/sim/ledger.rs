//! The simulated repository and the invariant checker, in one: it applies
//! a policy's actions the way the real driver would (trees built on
//! `staging` or on other candidates, `staging` moved by fast-forward only)
//! and records every break of the queue contract. It knows nothing of any
//! policy's internals; it judges actions against what it has seen happen.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::queue::{Action, Base, BuildId, Ejection, PrId, Time};

/// A break of the queue contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ViolationKind {
    /// `staging` moved to a tree that was not reported passed.
    LandNotPassed,
    /// `Land` of a build whose base chain does not hold `staging`.
    LandNotFastForward,
    /// A PR (or a build) landed a second time.
    LandedTwice,
    /// A PR both ejected and landed.
    EjectedAndLanded,
    /// A PR landed after it left the queue.
    LandedAfterRemoval,
    /// A PR ejected twice, after it left the queue, or never enqueued.
    BadEjection,
    /// The ejection's evidence is not a failed build of that PR alone on a
    /// base that passed.
    BadEvidence,
    /// A `Start` reused a build id.
    ReusedBuildId,
    /// An action named a build never started or already cancelled.
    UnknownBuild,
    /// More builds running than builders.
    OverCapacity,
    /// A candidate that is empty, repeats a PR, or holds a PR that is not
    /// waiting in the queue (unknown, landed, ejected or removed).
    BadCandidate,
    /// A PR ended the simulation neither merged nor ejected.
    Undecided,
}

impl ViolationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ViolationKind::LandNotPassed => "land-not-passed",
            ViolationKind::LandNotFastForward => "land-not-fast-forward",
            ViolationKind::LandedTwice => "landed-twice",
            ViolationKind::EjectedAndLanded => "ejected-and-landed",
            ViolationKind::LandedAfterRemoval => "landed-after-removal",
            ViolationKind::BadEjection => "bad-ejection",
            ViolationKind::BadEvidence => "bad-evidence",
            ViolationKind::ReusedBuildId => "reused-build-id",
            ViolationKind::UnknownBuild => "unknown-build",
            ViolationKind::OverCapacity => "over-capacity",
            ViolationKind::BadCandidate => "bad-candidate",
            ViolationKind::Undecided => "undecided",
        }
    }
}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub at: Time,
    pub kind: ViolationKind,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}s {}: {}", self.at, self.kind, self.detail)
    }
}

#[derive(Debug)]
struct BuildRecord {
    /// The tree this build is on top of; `None` is the initial `staging`.
    parent: Option<BuildId>,
    prs: Vec<PrId>,
    /// Its tree holds a bad PR (the oracle's fact, for later builds on it).
    has_bad: bool,
    /// Part of `staging`'s history.
    landed: bool,
    cancelled: bool,
    running: bool,
    verdict: Option<bool>,
}

#[derive(Debug, Default)]
struct PrRecord {
    bad: bool,
    removed: bool,
    landed_at: Option<Time>,
    ejected: bool,
}

/// What became of one PR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrFate {
    pub pr: PrId,
    pub bad: bool,
    pub removed: bool,
    pub landed_at: Option<Time>,
    pub ejected: bool,
}

#[derive(Debug)]
pub struct Ledger {
    builders: usize,
    running: usize,
    /// The build whose tree `staging` holds; `None` is the initial tree.
    staging: Option<BuildId>,
    builds: HashMap<BuildId, BuildRecord>,
    prs: HashMap<PrId, PrRecord>,
    violations: Vec<Violation>,
}

/// A build the ledger accepted: the simulator runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    pub build: BuildId,
    /// Its whole tree (base chain and its own PRs) holds a bad PR.
    pub has_bad: bool,
}

impl Ledger {
    pub fn new(builders: usize) -> Self {
        Ledger {
            builders,
            running: 0,
            staging: None,
            builds: HashMap::new(),
            prs: HashMap::new(),
            violations: Vec::new(),
        }
    }

    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    pub fn running(&self) -> usize {
        self.running
    }

    fn flag(&mut self, at: Time, kind: ViolationKind, detail: String) {
        self.violations.push(Violation { at, kind, detail });
    }

    pub fn enqueued(&mut self, pr: PrId, bad: bool) {
        self.prs.insert(
            pr,
            PrRecord {
                bad,
                ..PrRecord::default()
            },
        );
    }

    /// The PR left the queue. False if it was already decided (landed or
    /// ejected), in which case nothing changes and nobody is told.
    pub fn removed(&mut self, pr: PrId) -> bool {
        match self.prs.get_mut(&pr) {
            Some(record) if record.landed_at.is_none() && !record.ejected && !record.removed => {
                record.removed = true;
                true
            }
            _ => false,
        }
    }

    /// A running build ended with this verdict.
    pub fn finished(&mut self, build: BuildId, passed: bool) {
        if let Some(record) = self.builds.get_mut(&build)
            && record.running
        {
            record.running = false;
            record.verdict = Some(passed);
            self.running -= 1;
        }
    }

    /// Apply one action. Returns the build to run for an accepted `Start`.
    pub fn apply(&mut self, now: Time, action: &Action) -> Applied {
        match action {
            Action::Start { build, candidate } => {
                match self.start(now, *build, candidate.base, &candidate.prs) {
                    Some(started) => Applied::Started(started),
                    None => Applied::Nothing,
                }
            }
            Action::Cancel { build } => {
                if self.cancel(now, *build) {
                    Applied::Stopped(*build)
                } else {
                    Applied::Nothing
                }
            }
            Action::Land { build } => {
                self.land(now, *build);
                Applied::Nothing
            }
            Action::Eject(ejection) => {
                self.eject(now, ejection);
                Applied::Nothing
            }
        }
    }

    fn start(&mut self, now: Time, build: BuildId, base: Base, prs: &[PrId]) -> Option<Started> {
        if self.builds.contains_key(&build) {
            self.flag(now, ViolationKind::ReusedBuildId, format!("build {build}"));
            return None;
        }
        let parent = match base {
            Base::Staging => self.staging,
            Base::Build(base) => match self.builds.get(&base) {
                Some(record) if !record.cancelled => Some(base),
                _ => {
                    self.flag(
                        now,
                        ViolationKind::UnknownBuild,
                        format!("build {build} is based on unknown or cancelled build {base}"),
                    );
                    return None;
                }
            },
        };
        if self.running >= self.builders {
            self.flag(
                now,
                ViolationKind::OverCapacity,
                format!("build {build} started with {} builders busy", self.running),
            );
        }
        // The PRs already in the tree below the candidate, up to the
        // landed history (whose PRs are all marked landed).
        let mut below: HashSet<PrId> = HashSet::new();
        let mut cursor = parent;
        while let Some(id) = cursor {
            let record = &self.builds[&id];
            if record.landed {
                break;
            }
            below.extend(record.prs.iter().copied());
            cursor = record.parent;
        }
        let mut seen = HashSet::new();
        let mut problems = Vec::new();
        if prs.is_empty() {
            problems.push("it has no PRs".to_string());
        }
        for &pr in prs {
            if !seen.insert(pr) || below.contains(&pr) {
                problems.push(format!("PR {pr} twice in the tree"));
            }
            match self.prs.get(&pr) {
                None => problems.push(format!("PR {pr} was never enqueued")),
                Some(r) if r.landed_at.is_some() => problems.push(format!("PR {pr} has landed")),
                Some(r) if r.ejected => problems.push(format!("PR {pr} was ejected")),
                Some(r) if r.removed => problems.push(format!("PR {pr} was removed")),
                Some(_) => {}
            }
        }
        for problem in problems {
            self.flag(
                now,
                ViolationKind::BadCandidate,
                format!("build {build}: {problem}"),
            );
        }
        let parent_bad = parent.is_some_and(|id| self.builds[&id].has_bad);
        let has_bad = parent_bad || prs.iter().any(|pr| self.prs.get(pr).is_some_and(|r| r.bad));
        self.builds.insert(
            build,
            BuildRecord {
                parent,
                prs: prs.to_vec(),
                has_bad,
                landed: false,
                cancelled: false,
                running: true,
                verdict: None,
            },
        );
        self.running += 1;
        Some(Started { build, has_bad })
    }

    /// True if the build was running (its builder is free again).
    fn cancel(&mut self, now: Time, build: BuildId) -> bool {
        match self.builds.get_mut(&build) {
            Some(record) if !record.cancelled => {
                record.cancelled = true;
                let was_running = record.running;
                record.running = false;
                if was_running {
                    self.running -= 1;
                }
                was_running
            }
            _ => {
                self.flag(
                    now,
                    ViolationKind::UnknownBuild,
                    format!("cancel of unknown or cancelled build {build}"),
                );
                false
            }
        }
    }

    fn land(&mut self, now: Time, build: BuildId) {
        let Some(record) = self.builds.get(&build).filter(|r| !r.cancelled) else {
            self.flag(
                now,
                ViolationKind::UnknownBuild,
                format!("land of unknown or cancelled build {build}"),
            );
            return;
        };
        let (landed, verdict, parent) = (record.landed, record.verdict, record.parent);
        if landed {
            self.flag(
                now,
                ViolationKind::LandedTwice,
                format!("build {build} landed again"),
            );
            return;
        }
        if verdict != Some(true) {
            let verdict = match verdict {
                Some(_) => "failed",
                None => "has not finished",
            };
            self.flag(
                now,
                ViolationKind::LandNotPassed,
                format!("build {build} {verdict}"),
            );
        }
        // Walk down from the build to `staging`: every tree on the way is
        // merged; meeting older history instead means not a fast-forward.
        let mut path = vec![build];
        let mut cursor = parent;
        loop {
            if cursor == self.staging {
                break;
            }
            match cursor {
                Some(id) if !self.builds[&id].landed => {
                    path.push(id);
                    cursor = self.builds[&id].parent;
                }
                _ => {
                    self.flag(
                        now,
                        ViolationKind::LandNotFastForward,
                        format!(
                            "build {build} is not on top of staging (at {})",
                            self.staging
                                .map_or("its start".to_string(), |s| format!("build {s}"))
                        ),
                    );
                    return;
                }
            }
        }
        for id in path.iter().rev() {
            let prs = self.builds[id].prs.clone();
            for pr in prs {
                let problem = match self.prs.get(&pr) {
                    None => Some((ViolationKind::BadCandidate, "was never enqueued")),
                    Some(r) if r.landed_at.is_some() => {
                        Some((ViolationKind::LandedTwice, "landed again"))
                    }
                    Some(r) if r.ejected => {
                        Some((ViolationKind::EjectedAndLanded, "landed after its ejection"))
                    }
                    Some(r) if r.removed => Some((
                        ViolationKind::LandedAfterRemoval,
                        "landed after it left the queue",
                    )),
                    Some(_) => None,
                };
                if let Some((kind, what)) = problem {
                    self.flag(now, kind, format!("PR {pr} {what} (build {build})"));
                }
                if let Some(record) = self.prs.get_mut(&pr)
                    && record.landed_at.is_none()
                {
                    record.landed_at = Some(now);
                }
            }
            self.builds.get_mut(id).expect("on the path").landed = true;
        }
        self.staging = Some(build);
    }

    fn eject(&mut self, now: Time, ejection: &Ejection) {
        let Ejection { pr, evidence } = *ejection;
        let problem = match self.prs.get(&pr) {
            None => Some((ViolationKind::BadEjection, "was never enqueued")),
            Some(r) if r.ejected => Some((ViolationKind::BadEjection, "was already ejected")),
            Some(r) if r.landed_at.is_some() => {
                Some((ViolationKind::EjectedAndLanded, "had already landed"))
            }
            Some(r) if r.removed => Some((ViolationKind::BadEjection, "had left the queue")),
            Some(_) => None,
        };
        if let Some((kind, what)) = problem {
            self.flag(now, kind, format!("eject of PR {pr}, which {what}"));
        }
        let evidence_problem = match self.builds.get(&evidence) {
            None => Some("is unknown".to_string()),
            Some(r) if r.verdict != Some(false) => Some("did not fail".to_string()),
            Some(r) if r.prs != [pr] => Some(format!("tested {:?}, not the PR alone", r.prs)),
            Some(r) => match r.parent {
                None => None,
                Some(base) => {
                    let base = &self.builds[&base];
                    if base.landed || base.verdict == Some(true) {
                        None
                    } else {
                        Some("is on a base that did not pass".to_string())
                    }
                }
            },
        };
        if let Some(what) = evidence_problem {
            self.flag(
                now,
                ViolationKind::BadEvidence,
                format!("eject of PR {pr}: evidence build {evidence} {what}"),
            );
        }
        if let Some(record) = self.prs.get_mut(&pr)
            && record.landed_at.is_none()
        {
            record.ejected = true;
        }
    }

    /// The end of the simulation: every PR still in the queue is a break.
    pub fn close(&mut self, now: Time) {
        let mut undecided: Vec<PrId> = self
            .prs
            .iter()
            .filter(|(_, r)| !r.removed && !r.ejected && r.landed_at.is_none())
            .map(|(pr, _)| *pr)
            .collect();
        undecided.sort_unstable();
        for pr in undecided {
            self.flag(
                now,
                ViolationKind::Undecided,
                format!("PR {pr} ended neither merged nor ejected"),
            );
        }
    }

    /// Every PR's fate, by PR id.
    pub fn fates(&self) -> Vec<PrFate> {
        let mut fates: Vec<PrFate> = self
            .prs
            .iter()
            .map(|(pr, r)| PrFate {
                pr: *pr,
                bad: r.bad,
                removed: r.removed,
                landed_at: r.landed_at,
                ejected: r.ejected,
            })
            .collect();
        fates.sort_unstable_by_key(|f| f.pr);
        fates
    }
}

/// What applying an action means for the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Nothing,
    Started(Started),
    /// A running build was stopped; its builder is free.
    Stopped(BuildId),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::Candidate;

    fn start(build: BuildId, base: Base, prs: &[PrId]) -> Action {
        Action::Start {
            build,
            candidate: Candidate {
                base,
                prs: prs.to_vec(),
            },
        }
    }

    fn eject(pr: PrId, evidence: BuildId) -> Action {
        Action::Eject(Ejection { pr, evidence })
    }

    fn kinds(ledger: &Ledger) -> Vec<ViolationKind> {
        ledger.violations().iter().map(|v| v.kind).collect()
    }

    /// Three PRs enqueued (2 is bad), on two builders.
    fn ledger() -> Ledger {
        let mut ledger = Ledger::new(2);
        ledger.enqueued(1, false);
        ledger.enqueued(2, true);
        ledger.enqueued(3, false);
        ledger
    }

    #[test]
    fn a_clean_history_has_no_violations() {
        let mut l = ledger();
        assert_eq!(
            l.apply(0, &start(10, Base::Staging, &[1])),
            Applied::Started(Started {
                build: 10,
                has_bad: false
            })
        );
        // Speculative: 11 on top of 10 holds the bad PR.
        assert_eq!(
            l.apply(0, &start(11, Base::Build(10), &[2])),
            Applied::Started(Started {
                build: 11,
                has_bad: true
            })
        );
        l.finished(10, true);
        l.finished(11, false);
        l.apply(5, &Action::Land { build: 10 });
        l.apply(5, &eject(2, 11));
        l.apply(5, &start(12, Base::Staging, &[3]));
        l.finished(12, true);
        l.apply(9, &Action::Land { build: 12 });
        l.close(9);
        assert_eq!(kinds(&l), []);
        let fates = l.fates();
        assert_eq!(fates[0].landed_at, Some(5));
        assert!(fates[1].ejected);
        assert_eq!(fates[2].landed_at, Some(9));
    }

    #[test]
    fn landing_a_deep_build_merges_its_whole_chain() {
        let mut l = ledger();
        l.apply(0, &start(10, Base::Staging, &[1]));
        l.apply(0, &start(11, Base::Build(10), &[3]));
        l.finished(11, true);
        l.apply(3, &Action::Land { build: 11 });
        // Build 10 still runs; cancelling a landed build is allowed.
        assert_eq!(
            l.apply(3, &Action::Cancel { build: 10 }),
            Applied::Stopped(10)
        );
        l.removed(2);
        l.close(3);
        assert_eq!(kinds(&l), []);
        assert!(
            l.fates()
                .iter()
                .filter(|f| f.pr != 2)
                .all(|f| f.landed_at == Some(3))
        );
    }

    #[test]
    fn landing_an_untested_or_failed_tree_is_caught() {
        let mut l = ledger();
        l.apply(0, &start(10, Base::Staging, &[1]));
        l.apply(0, &Action::Land { build: 10 });
        l.apply(0, &start(11, Base::Staging, &[2]));
        l.finished(11, false);
        l.apply(1, &Action::Land { build: 11 });
        assert_eq!(
            kinds(&l),
            [ViolationKind::LandNotPassed, ViolationKind::LandNotPassed]
        );
        // The failed tree is on staging now: what is built on it fails.
        match l.apply(1, &start(12, Base::Staging, &[3])) {
            Applied::Started(s) => assert!(s.has_bad),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_land_that_is_not_a_fast_forward_is_caught_and_not_applied() {
        let mut l = ledger();
        l.apply(0, &start(10, Base::Staging, &[1]));
        l.apply(0, &start(11, Base::Staging, &[3]));
        l.finished(10, true);
        l.finished(11, true);
        l.apply(1, &Action::Land { build: 10 });
        // 11 was built on the old staging.
        l.apply(1, &Action::Land { build: 11 });
        assert_eq!(kinds(&l), [ViolationKind::LandNotFastForward]);
        assert_eq!(l.fates()[2].landed_at, None);
    }

    #[test]
    fn landing_twice_and_landing_the_ejected_are_caught() {
        let mut l = ledger();
        l.apply(0, &start(10, Base::Staging, &[1]));
        l.finished(10, false);
        l.apply(1, &eject(1, 10));
        l.apply(1, &start(11, Base::Staging, &[3]));
        l.finished(11, true);
        l.apply(2, &Action::Land { build: 11 });
        l.apply(2, &Action::Land { build: 11 });
        // A new build holding a landed PR and an ejected one.
        l.apply(2, &start(12, Base::Staging, &[3, 1]));
        l.finished(12, true);
        l.apply(3, &Action::Land { build: 12 });
        l.apply(3, &eject(3, 12));
        assert_eq!(
            kinds(&l),
            [
                ViolationKind::LandedTwice,
                ViolationKind::BadCandidate,
                ViolationKind::BadCandidate,
                ViolationKind::LandedTwice,
                ViolationKind::EjectedAndLanded,
                ViolationKind::EjectedAndLanded,
                ViolationKind::BadEvidence,
            ]
        );
    }

    #[test]
    fn ejections_need_a_failed_run_of_the_pr_alone_on_a_passed_base() {
        let mut l = ledger();
        l.apply(0, &start(10, Base::Staging, &[1]));
        l.apply(0, &start(11, Base::Build(10), &[2]));
        l.finished(11, false);
        // Its base (10) has not passed yet.
        l.apply(1, &eject(2, 11));
        l.apply(1, &start(12, Base::Staging, &[2, 3]));
        l.finished(12, false);
        // Not alone (the ejection still happens: the driver would do it).
        l.apply(2, &eject(3, 12));
        l.apply(2, &start(13, Base::Staging, &[1]));
        // Still running; and unknown.
        l.apply(2, &eject(1, 13));
        l.apply(2, &eject(1, 99));
        assert_eq!(
            kinds(&l),
            [
                ViolationKind::BadEvidence,
                ViolationKind::BadCandidate,
                ViolationKind::BadEvidence,
                ViolationKind::BadEvidence,
                ViolationKind::BadEjection,
                ViolationKind::BadEvidence,
            ]
        );
    }

    #[test]
    fn ids_builds_and_builders_are_checked() {
        let mut l = ledger();
        l.apply(0, &start(10, Base::Staging, &[1]));
        l.apply(0, &start(10, Base::Staging, &[3]));
        l.apply(0, &start(11, Base::Build(77), &[3]));
        l.apply(0, &Action::Cancel { build: 77 });
        l.apply(0, &Action::Land { build: 77 });
        l.apply(0, &start(12, Base::Staging, &[3]));
        l.apply(0, &start(13, Base::Staging, &[]));
        l.apply(0, &Action::Cancel { build: 12 });
        l.apply(0, &Action::Cancel { build: 12 });
        l.apply(0, &start(14, Base::Build(12), &[3]));
        assert_eq!(
            kinds(&l),
            [
                ViolationKind::ReusedBuildId,
                ViolationKind::UnknownBuild,
                ViolationKind::UnknownBuild,
                ViolationKind::UnknownBuild,
                ViolationKind::OverCapacity,
                ViolationKind::BadCandidate,
                ViolationKind::UnknownBuild,
                ViolationKind::UnknownBuild,
            ]
        );
    }

    #[test]
    fn removed_prs_must_not_land_and_the_rest_must_be_decided() {
        let mut l = ledger();
        l.apply(0, &start(10, Base::Staging, &[1]));
        assert!(l.removed(1));
        assert!(!l.removed(1), "told once");
        l.finished(10, true);
        l.apply(1, &Action::Land { build: 10 });
        assert!(!l.removed(1), "a landed PR is not removed");
        l.close(2);
        assert_eq!(
            kinds(&l),
            [
                ViolationKind::LandedAfterRemoval,
                ViolationKind::Undecided,
                ViolationKind::Undecided,
            ]
        );
    }
}
