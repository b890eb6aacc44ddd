//! The `ironworks` command-line tool: parses arguments, wires the crates
//! together, and maps every outcome to one of the exit codes in [`exit`].

use std::process::ExitCode;

use clap::Parser as _;

pub mod cli;
pub mod commands;
pub mod context;
pub mod error;
pub mod exit;
pub mod fault;
pub mod harden;
pub mod host;
pub mod logs;
pub mod progress;
pub mod recovery;
pub mod release;
pub mod runner;

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::dispatch(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("{failure}");
            ExitCode::from(failure.code)
        }
    }
}
