//! The promotion queue of gated mode, as a pure state machine.
//!
//! A [`QueuePolicy`] decides which candidates to build (a base plus PRs
//! merged on top, in order), which passed builds to land on `staging`, and
//! which PRs to eject. It never does IO: the real driver (`ironworks queue`)
//! turns [`Action`]s into git merges and forge runs and reports back with
//! [`Event`]s; the simulator (`ironworks sim queue`) does the same in virtual
//! time with a seeded oracle. Both run exactly the same policy code.
//!
//! Contract, for every policy:
//! * Actions are a deterministic function of the events seen (and the time).
//! * `Start` ids are fresh (never reused), assigned by the policy.
//! * `Land { build }` only for a build that was reported passed, whose base
//!   chain is what `staging` holds when the action is applied (a
//!   fast-forward): staging only ever moves to a tree that was tested as
//!   that exact tree.
//! * Every PR that was enqueued and not removed eventually ends in exactly
//!   one `Land` (as part of a build) or one `Eject`; nothing lands twice.
//! * After `Cancel { build }` the policy ignores that build's `Finished`.

use std::fmt;

pub type PrId = u64;
pub type BuildId = u64;
/// Seconds; virtual in the simulator, since the Unix epoch in the driver.
pub type Time = u64;

/// How a PR may be batched with others (the bors `rollup=` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Rollup {
    /// Batch it whenever possible.
    Always,
    /// May be batched (the default).
    #[default]
    Maybe,
    /// May be batched, but is likelier to fail: at most one per batch.
    Iffy,
    /// Never batched: tested alone.
    Never,
}

impl Rollup {
    pub fn as_str(self) -> &'static str {
        match self {
            Rollup::Always => "always",
            Rollup::Maybe => "maybe",
            Rollup::Iffy => "iffy",
            Rollup::Never => "never",
        }
    }
}

impl std::str::FromStr for Rollup {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "always" => Ok(Rollup::Always),
            "maybe" => Ok(Rollup::Maybe),
            "iffy" => Ok(Rollup::Iffy),
            "never" => Ok(Rollup::Never),
            _ => Err(format!(
                "unknown rollup `{s}`; expected always, maybe, iffy or never"
            )),
        }
    }
}

impl fmt::Display for Rollup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An approved, eligible PR entering the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub pr: PrId,
    /// Higher goes first.
    pub priority: i32,
    /// Ties on priority go by approval time, oldest first.
    pub approved_at: Time,
    pub rollup: Rollup,
}

/// What a build is on top of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Base {
    /// The current head of `staging`.
    Staging,
    /// The candidate of another build (speculative: tested before that one
    /// has landed).
    Build(BuildId),
}

/// A tree to test: `prs` merged in this order on top of `base`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub base: Base,
    pub prs: Vec<PrId>,
}

/// Why a PR was ejected, with the build that proves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ejection {
    pub pr: PrId,
    /// The failed build of this PR alone (on a base that passed).
    pub evidence: BuildId,
}

/// What a policy asks the world to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Start {
        build: BuildId,
        candidate: Candidate,
    },
    /// Stop a build (if running) and forget it.
    Cancel { build: BuildId },
    /// Move `staging` to this passed build's candidate; its PRs (and those
    /// of its base chain not yet landed) are merged.
    Land { build: BuildId },
    /// Remove a PR proven bad; it is not retried.
    Eject(Ejection),
}

/// What the world tells a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Enqueued(Entry),
    /// The PR left the queue (unapproved, closed, new head pushed). Builds
    /// that contain it are no longer useful.
    Removed(PrId),
    /// A build ended. `passed` is the forge verdict of its candidate.
    Finished {
        build: BuildId,
        passed: bool,
    },
}

/// Knobs shared by every policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueConfig {
    /// How many builds may run at once (builders the queue may use).
    pub builders: usize,
    /// Largest rollup batch.
    pub max_batch: usize,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            builders: 1,
            max_batch: 8,
        }
    }
}

/// A queue policy. See the module documentation for the contract.
pub trait QueuePolicy: fmt::Debug {
    fn name(&self) -> &'static str;
    /// React to an event. Returns actions to apply in order.
    fn on_event(&mut self, now: Time, event: Event) -> Vec<Action>;
    /// Called whenever builders may be free: start what can be started.
    fn poll(&mut self, now: Time, free_builders: usize) -> Vec<Action>;
    /// PRs still waiting or being built, in queue order (for listings).
    fn queued(&self) -> Vec<PrId>;
}

mod batch_bisect;
pub(crate) mod ironworks;
pub mod order;
mod policies;
mod serial;
mod speculative;
#[cfg(test)]
mod testing;

pub use batch_bisect::BatchBisect;
pub use ironworks::Ironworks;
pub use order::{WaitList, batch_allowed, batch_len, queue_order};
pub use policies::{POLICIES, policy};
pub use serial::Serial;
pub use speculative::Speculative;
