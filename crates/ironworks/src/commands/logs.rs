//! `ironworks logs`: what the log analyzer learned and what it finds in a
//! failed run (docs/logs.md).

use ironworks_core::logs::ExtractOptions;
use ironworks_core::record::RunId;

use crate::cli::Location;
use crate::context::{open_state, state_dir};
use crate::error::Failure;
use crate::exit;
use crate::logs::{Explanation, LearnReport};

#[derive(clap::Subcommand, Debug)]
pub enum LogsCommand {
    /// Print the unusual blocks of the logs of a run's failed jobs: the lines
    /// its project's passed runs never printed, with context.
    Explain {
        /// The run id (as listed by `ironworks runs`).
        run: i64,
        #[command(flatten)]
        location: Location,
        /// Print JSON (shape documented in docs/logs.md).
        #[arg(long)]
        json: bool,
    },
    /// Learn the logs of passed jobs into their project's index of ordinary
    /// lines. Runs are learned once; green runs are learned as they finish.
    Learn {
        /// One run (its passed jobs); default: every green run not learned yet.
        run: Option<i64>,
        #[command(flatten)]
        location: Location,
        /// Print JSON: one object per run.
        #[arg(long)]
        json: bool,
    },
}

pub fn dispatch(command: LogsCommand) -> Result<u8, Failure> {
    match command {
        LogsCommand::Explain {
            run,
            location,
            json,
        } => explain(run, &location, json),
        LogsCommand::Learn {
            run,
            location,
            json,
        } => learn(run, &location, json),
    }
}

fn explain(run: i64, location: &Location, json: bool) -> Result<u8, Failure> {
    let state = state_dir(location.state_dir.as_deref(), location.adapter.as_deref())?;
    let store = open_state(&state)?;
    let explanation = crate::logs::explain(&store, RunId(run), ExtractOptions::default())?;
    if json {
        super::print_json(&explanation);
    } else {
        print_explanation(&explanation);
    }
    Ok(exit::OK)
}

fn print_explanation(explanation: &Explanation) {
    let index = &explanation.index;
    println!(
        "run {} · {} · {} — index of ordinary lines: {} passed run{} learned, {} lines",
        explanation.run,
        explanation.project,
        explanation.status,
        index.runs_learned,
        if index.runs_learned == 1 { "" } else { "s" },
        index.entries
    );
    if index.runs_learned == 0 {
        println!(
            "  no passed run of `{}` learned yet: every line counts as unusual (`ironworks logs learn`)",
            explanation.project
        );
    }
    if explanation.jobs.is_empty() {
        println!("no failed jobs in run {}", explanation.run);
        return;
    }
    for job in &explanation.jobs {
        println!();
        println!("job `{}` {}", job.job, job.status.as_str());
        if let Some(log) = &job.log {
            println!("  log {log}");
        }
        if let Some(error) = &job.error {
            println!("  {error}");
            continue;
        }
        let found = &job.extraction;
        println!(
            "  {} lines, {} unusual, {} block{} ({} shown)",
            found.lines,
            found.unusual_lines,
            found.blocks_found,
            if found.blocks_found == 1 { "" } else { "s" },
            found.blocks.len()
        );
        if found.blocks.is_empty() {
            println!("  every line is ordinary: look at the job's exit (`ironworks show`)");
        }
        let width = found
            .blocks
            .iter()
            .map(|b| b.last_line.to_string().len())
            .max()
            .unwrap_or(1);
        for block in &found.blocks {
            println!(
                "  --- lines {}–{} (rank {})",
                block.first_line, block.last_line, block.rank
            );
            for line in &block.lines {
                let mark = if line.unusual { '>' } else { ' ' };
                println!("  {:>width$} {mark} {}", line.number, line.text);
            }
        }
    }
}

fn learn(run: Option<i64>, location: &Location, json: bool) -> Result<u8, Failure> {
    let state = state_dir(location.state_dir.as_deref(), location.adapter.as_deref())?;
    let mut store = open_state(&state)?;
    let runs = match run {
        Some(run) => vec![RunId(run)],
        None => store.runs_to_learn(None)?,
    };
    let mut reports: Vec<LearnReport> = Vec::with_capacity(runs.len());
    for run in runs {
        reports.push(crate::logs::learn_run(&mut store, run)?);
    }
    if json {
        super::print_json(&reports);
        return Ok(exit::OK);
    }
    if reports.is_empty() {
        println!("no green runs left to learn in {}", state.display());
    }
    for report in &reports {
        if report.already_learned {
            println!("run {}: learned before; nothing to do", report.run);
        } else {
            println!(
                "run {}: learned {} passed job log{} ({} lines, {} new) into `{}` ({} lines in the index)",
                report.run,
                report.jobs,
                if report.jobs == 1 { "" } else { "s" },
                report.lines,
                report.new_lines,
                report.project,
                report.index_entries
            );
        }
    }
    Ok(exit::OK)
}
