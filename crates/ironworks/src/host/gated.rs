//! Gated mode: candidates are tested before staging moves (filled in below).

use super::{Host, QueueReport};
use crate::error::Failure;

pub fn run_gated(host: &mut Host<'_>) -> Result<QueueReport, Failure> {
    let _ = host;
    Err(Failure::usage("gated mode is not wired in yet"))
}
