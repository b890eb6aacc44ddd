//! The stage catalog: the five stages, their order, and the enabled /
//! implemented / active flags of DESIGN.md §1.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One of the five stages, always in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Spark,
    Forge,
    Harden,
    Temper,
    Stamp,
}

impl Stage {
    /// Every stage in catalog order.
    pub const ALL: [Stage; 5] = [
        Stage::Spark,
        Stage::Forge,
        Stage::Harden,
        Stage::Temper,
        Stage::Stamp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Spark => "spark",
            Stage::Forge => "forge",
            Stage::Harden => "harden",
            Stage::Temper => "temper",
            Stage::Stamp => "stamp",
        }
    }

    /// `spark`, `forge` and `temper` are on unless a deployment turns them off;
    /// `harden` and `stamp` are opt-in.
    pub fn enabled_by_default(self) -> bool {
        matches!(self, Stage::Spark | Stage::Forge | Stage::Temper)
    }

    /// What the stage is for, one line, for listings.
    pub fn purpose(self) -> &'static str {
        match self {
            Stage::Spark => "fast PR correctness, reproducible on a laptop",
            Stage::Forge => "integration on staging: full builds, tests, sanitizers",
            Stage::Harden => "scheduled heavy validation on forge-green snapshots",
            Stage::Temper => "release-candidate validation on a release branch",
            Stage::Stamp => "tag, manifest, checksums, signatures, publication",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stage name that is not one of the five.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown stage `{given}`; the stages are spark, forge, harden, temper, stamp{}",
    .suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
pub struct UnknownStage {
    pub given: String,
    pub suggestion: Option<Stage>,
}

impl FromStr for Stage {
    type Err = UnknownStage;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Stage::ALL
            .into_iter()
            .find(|stage| stage.as_str() == s)
            .ok_or_else(|| UnknownStage {
                given: s.to_owned(),
                suggestion: Stage::ALL
                    .into_iter()
                    .map(|stage| (stage, strsim::levenshtein(stage.as_str(), s)))
                    .filter(|(_, distance)| *distance <= 2)
                    .min_by_key(|(_, distance)| *distance)
                    .map(|(stage, _)| stage),
            })
    }
}

/// A stage as one project sees it. Every stage is always listed, so a
/// deployment sees its whole roadmap and nothing pretends to be ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageStatus {
    pub stage: Stage,
    /// The deployment wants this stage (stage policy).
    pub enabled: bool,
    /// The adapter defines at least one job for it.
    pub implemented: bool,
    /// Enabled and implemented: `ironworks run` will run it.
    pub active: bool,
    /// How many jobs the adapter defines for it (optional ones included).
    pub jobs: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_names_round_trip() {
        let names: Vec<_> = Stage::ALL.iter().map(|s| s.to_string()).collect();
        assert_eq!(names, ["spark", "forge", "harden", "temper", "stamp"]);
        for stage in Stage::ALL {
            assert_eq!(stage.as_str().parse::<Stage>().unwrap(), stage);
        }
        assert!(Stage::Spark < Stage::Stamp);
    }

    #[test]
    fn unknown_stage_suggests_the_near_one() {
        let err = "sprak".parse::<Stage>().unwrap_err();
        assert_eq!(err.suggestion, Some(Stage::Spark));
        assert!(err.to_string().contains("did you mean `spark`"), "{err}");
        let err = "deploy".parse::<Stage>().unwrap_err();
        assert_eq!(err.suggestion, None);
        assert!(!err.to_string().contains("did you mean"), "{err}");
    }

    #[test]
    fn default_policy() {
        let on: Vec<_> = Stage::ALL
            .into_iter()
            .filter(|s| s.enabled_by_default())
            .collect();
        assert_eq!(on, [Stage::Spark, Stage::Forge, Stage::Temper]);
    }
}
