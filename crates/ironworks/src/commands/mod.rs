//! One function per command.

mod adapter;
mod demo;
mod export;
mod harden;
mod logs;
mod matrix;
mod pr;
mod queue;
mod release;
mod run;
mod show;
mod sim;
mod stages;

use crate::cli::{AdapterCommand, Command, ExportCommand, QueueCommand, SimCommand};
use crate::error::Failure;

pub use logs::LogsCommand;
pub use matrix::MatrixArgs;
pub use run::default_parallelism;
pub use sim::SimQueueArgs;

/// Run a command; returns the exit code.
pub fn dispatch(command: Command) -> Result<u8, Failure> {
    match command {
        Command::Demo { dir, jobs } => demo::demo(dir, jobs),
        Command::Stages { location, json } => stages::stages(&location, json),
        Command::Run {
            stage,
            location,
            source,
            rev,
            jobs,
            keep_checkouts,
            json,
        } => run::run(stage, &location, source, rev, jobs, keep_checkouts, json),
        Command::RunLocal {
            job,
            location,
            source,
            rev,
            keep_checkout,
        } => run::run_local(&job, &location, source, rev, keep_checkout),
        Command::Runs {
            location,
            limit,
            json,
        } => show::runs(&location, limit, json),
        Command::Show {
            run,
            location,
            log,
            json,
        } => show::show(run, &location, log.as_deref(), json),
        Command::Adapter {
            command: AdapterCommand::Check { location },
        } => adapter::check(&location),
        Command::Pr { command } => pr::dispatch(command),
        Command::Queue {
            command: QueueCommand::Run { location, json },
        } => queue::run(&location, json),
        Command::Snapshots { location, json } => queue::snapshots(&location, json),
        Command::Matrix(args) => matrix::matrix(&args),
        Command::Harden { command } => harden::dispatch(command),
        Command::Release { command } => release::dispatch(command),
        Command::Logs { command } => logs::dispatch(command),
        Command::Export {
            command:
                ExportCommand::GithubMatrix {
                    location,
                    stage,
                    jobs,
                    no_limit,
                    runs_on,
                    json,
                },
        } => export::github_matrix(&location, stage, jobs.as_deref(), no_limit, &runs_on, json),
        Command::Toolstate {
            location,
            limit,
            json,
        } => queue::toolstate(&location, limit, json),
        Command::Sim {
            command: SimCommand::Queue(args),
        } => sim::sim_queue(&args),
        Command::Triage { location, json } => queue::triage(&location, json),
        Command::Try {
            pr,
            location,
            jobs,
            no_limit,
            json,
        } => queue::try_build(pr, &location, jobs.as_deref(), no_limit, json),
    }
}

/// Print a value as pretty JSON on stdout. A closed pipe (`| head`) ends
/// the output quietly instead of panicking.
pub(crate) fn print_json(value: &impl serde::Serialize) {
    use std::io::Write as _;
    let text = serde_json::to_string_pretty(value).expect("records serialize");
    let mut stdout = std::io::stdout().lock();
    if let Err(err) = writeln!(stdout, "{text}")
        && err.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write to stdout: {err}");
    }
}
