//! Running jobs: process supervision, result ingestion, artifacts.
//!
//! [`supervise`] runs one job's process tree to its end; [`junit`] reads the
//! report a job wrote; [`artifacts`] keeps the files a job declared;
//! [`reaper`] makes sure no process of a job outlives it.

pub mod artifacts;
pub mod fuzz;
pub mod junit;
pub mod reaper;
pub mod supervise;

pub use ironworks_core::gate::Ending;
pub use supervise::{Cancel, Finished, Launch, supervise};
