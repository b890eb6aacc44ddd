//! Choosing jobs by name patterns, the rust-lang `try-job:` way: each
//! pattern is a glob (`*`, `?`, `[...]`) over job names; every pattern must
//! match something; matches come in pattern order, then declaration order,
//! without duplicates; more than [`MAX_SELECTED`] jobs is refused unless the
//! caller lifts the limit.

use crate::adapter::{Adapter, Job};
use crate::stage::Stage;

/// The most jobs one selection may expand to without `--no-limit`.
pub const MAX_SELECTED: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    #[error("job pattern `{pattern}` is not a valid glob: {reason}")]
    BadPattern { pattern: String, reason: String },
    #[error("job pattern `{pattern}` matches no {scope} job{}",
        .suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    NoMatch {
        pattern: String,
        scope: &'static str,
        suggestion: Option<String>,
    },
    #[error("the patterns select {count} jobs, more than the limit of {limit}")]
    TooMany { count: usize, limit: usize },
}

/// The jobs a try build may choose from: forge and harden jobs, and
/// optional jobs of any stage.
pub fn try_candidates(adapter: &Adapter) -> Vec<&Job> {
    adapter
        .jobs
        .iter()
        .filter(|job| matches!(job.stage, Stage::Forge | Stage::Harden) || job.optional)
        .collect()
}

/// Expand `patterns` over `candidates` (in declaration order).
pub fn select<'a>(
    patterns: &[String],
    candidates: &[&'a Job],
    limit: Option<usize>,
) -> Result<Vec<&'a Job>, SelectError> {
    let mut chosen: Vec<&Job> = Vec::new();
    for pattern in patterns {
        let glob = glob::Pattern::new(pattern).map_err(|err| SelectError::BadPattern {
            pattern: pattern.clone(),
            reason: err.msg.to_owned(),
        })?;
        let mut matched = false;
        for job in candidates {
            if glob.matches(&job.name) {
                matched = true;
                if !chosen.iter().any(|c| c.name == job.name) {
                    chosen.push(job);
                }
            }
        }
        if !matched {
            return Err(SelectError::NoMatch {
                pattern: pattern.clone(),
                scope: "forge, harden or optional",
                suggestion: candidates
                    .iter()
                    .map(|j| (j.name.as_str(), strsim::levenshtein(&j.name, pattern)))
                    .filter(|(_, d)| *d <= 2)
                    .min_by_key(|(_, d)| *d)
                    .map(|(n, _)| n.to_owned()),
            });
        }
    }
    if let Some(limit) = limit
        && chosen.len() > limit
    {
        return Err(SelectError::TooMany {
            count: chosen.len(),
            limit,
        });
    }
    Ok(chosen)
}

/// Split a `--jobs a,b*` argument into patterns (empty items dropped).
pub fn split_patterns(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter(jobs: &[(&str, &str, bool)]) -> Adapter {
        let mut text = String::from("[project]\nid = \"p\"\n[stages]\nenable = [\"harden\"]\n");
        for (name, stage, optional) in jobs {
            text.push_str(&format!(
                "[[job]]\nname = \"{name}\"\nstage = \"{stage}\"\nrun = [\"x\"]\noptional = {optional}\n"
            ));
        }
        Adapter::parse("t.toml", &text).unwrap()
    }

    fn names(jobs: Vec<&Job>) -> Vec<&str> {
        jobs.into_iter().map(|j| j.name.as_str()).collect()
    }

    #[test]
    fn pattern_order_then_declaration_order_without_duplicates() {
        let a = adapter(&[
            ("unit", "spark", false),
            ("x86_64-linux", "forge", false),
            ("aarch64-linux", "forge", false),
            ("x86_64-msvc", "forge", true),
            ("fuzz", "harden", false),
            ("docs", "spark", true),
        ]);
        let candidates = try_candidates(&a);
        assert_eq!(
            names(candidates.clone()),
            [
                "x86_64-linux",
                "aarch64-linux",
                "x86_64-msvc",
                "fuzz",
                "docs"
            ],
            "spark jobs are candidates only when optional"
        );
        let got = select(
            &["fuzz".into(), "*-linux".into(), "x86_64-*".into()],
            &candidates,
            Some(20),
        )
        .unwrap();
        assert_eq!(
            names(got),
            ["fuzz", "x86_64-linux", "aarch64-linux", "x86_64-msvc"]
        );
        let got = select(
            &["[ax]*-linux".into(), "d?cs".into()],
            &candidates,
            Some(20),
        )
        .unwrap();
        assert_eq!(names(got), ["x86_64-linux", "aarch64-linux", "docs"]);
    }

    #[test]
    fn every_pattern_must_match_and_unit_is_not_a_try_job() {
        let a = adapter(&[("unit", "spark", false), ("full", "forge", false)]);
        let err = select(
            &["full".into(), "unit".into()],
            &try_candidates(&a),
            Some(20),
        )
        .unwrap_err();
        assert!(
            matches!(&err, SelectError::NoMatch { pattern, .. } if pattern == "unit"),
            "{err}"
        );
        let err = select(&["ful".into()], &try_candidates(&a), Some(20)).unwrap_err();
        assert!(err.to_string().contains("did you mean `full`"), "{err}");
        let err = select(&["[bad".into()], &try_candidates(&a), Some(20)).unwrap_err();
        assert!(matches!(err, SelectError::BadPattern { .. }));
    }

    #[test]
    fn more_than_twenty_needs_no_limit() {
        let owned: Vec<(String, &str, bool)> = (0..21)
            .map(|i| (format!("j{i:02}"), "forge", false))
            .collect();
        let jobs: Vec<(&str, &str, bool)> =
            owned.iter().map(|(n, s, o)| (n.as_str(), *s, *o)).collect();
        let a = adapter(&jobs);
        let candidates = try_candidates(&a);
        let err = select(&["j*".into()], &candidates, Some(MAX_SELECTED)).unwrap_err();
        assert_eq!(
            err,
            SelectError::TooMany {
                count: 21,
                limit: 20
            }
        );
        assert_eq!(select(&["j*".into()], &candidates, None).unwrap().len(), 21);
        assert_eq!(
            select(&["j0*".into(), "j1*".into()], &candidates, Some(20))
                .unwrap()
                .len(),
            20
        );
    }

    #[test]
    fn splitting() {
        assert_eq!(split_patterns(" a, b*,,c "), ["a", "b*", "c"]);
    }
}
