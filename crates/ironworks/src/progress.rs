//! What a person sees while a stage runs: on a terminal, a live line naming
//! the running jobs above which each finished job is printed; elsewhere
//! (CI logs, pipes) just the finished-job lines. Everything goes to stderr,
//! so stdout carries only the result (and `--json`).

use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ironworks_core::adapter::Gate;
use ironworks_core::duration;
use ironworks_core::gate::JobStatus;
use ironworks_core::record::RunId;
use ironworks_core::stage::Stage;

#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    running: Vec<String>,
    quiet: bool,
}

impl Progress {
    /// `quiet`: print nothing (used with `--json`, where stderr stays clean
    /// for errors only).
    pub fn new(quiet: bool) -> Self {
        Progress {
            bar: None,
            running: Vec::new(),
            quiet,
        }
    }

    pub fn begin(&mut self, run: RunId, stage: Stage, project: &str, commit: &str, jobs: usize) {
        if self.quiet {
            return;
        }
        self.line(&format!(
            "run {run}: {stage} of {project} at {} ({jobs} job{})",
            &commit[..12.min(commit.len())],
            if jobs == 1 { "" } else { "s" }
        ));
        if std::io::stderr().is_terminal() {
            let bar =
                ProgressBar::with_draw_target(Some(jobs as u64), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{pos}/{len}] {elapsed} {wide_msg}")
                    .expect("valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            self.bar = Some(bar);
        }
    }

    pub fn started(&mut self, job: &str) {
        self.running.push(job.to_owned());
        self.update();
    }

    pub fn finished(
        &mut self,
        job: &str,
        gate: Gate,
        status: JobStatus,
        took: Duration,
        reason: Option<&str>,
    ) {
        self.running.retain(|j| j != job);
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        self.update();
        if self.quiet {
            return;
        }
        let label = match (status, gate) {
            (JobStatus::Passed, _) => "passed".to_owned(),
            (status, Gate::Observe) => format!("{status} (observe)"),
            (JobStatus::Failed | JobStatus::TimedOut, Gate::Required) => {
                status.as_str().to_uppercase()
            }
            (status, _) => status.to_string(),
        };
        let took = if took.is_zero() {
            String::new()
        } else {
            duration::display(took)
        };
        let mut line = format!("{label:>18}  {job:<20} {took:>7}");
        if let Some(reason) = reason {
            line.push_str("  ");
            line.push_str(reason);
        }
        self.line(line.trim_end());
    }

    pub fn note(&mut self, text: &str) {
        if !self.quiet {
            self.line(text);
        }
    }

    fn update(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("running: {}", self.running.join(", ")));
        }
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => {
                let _ = writeln!(std::io::stderr(), "{text}");
            }
        }
    }

    pub fn end(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
