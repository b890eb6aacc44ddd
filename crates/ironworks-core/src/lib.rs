//! The Ironworks domain core.
//!
//! Everything here is a pure function of its inputs: no IO, no clock, no async.
//! The edge crates (store, exec, git, the CLI) feed it data and carry out what it
//! decides, so every decision can be tested fast and driven by a simulator.

pub mod adapter;
pub mod citool;
pub mod diagnostic;
pub mod duration;
pub mod env;
pub mod fixture;
pub mod fuzz;
pub mod gate;
pub mod graph;
pub mod harden;
pub mod logs;
pub mod queue;
pub mod record;
pub mod select;
pub mod sim;
pub mod stage;
pub mod toolstate;
pub mod triage;

pub use adapter::{Adapter, Gate, Job, JobCommand};
pub use diagnostic::{Diagnostic, Diagnostics};
pub use stage::{Stage, StageStatus};
