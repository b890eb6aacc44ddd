//! Triage of a red snapshot in post-merge mode, as pure decisions.
//!
//! Between the last green snapshot and the red one lie promotions
//! P1..Pn, each with the staging commit it produced. The first red commit is
//! found by bisection over those commits (verdicts already known are used,
//! not re-run). Its promotion Pk is then tested alone on the last green
//! commit: red there means Pk is an isolated culprit (revert it); green
//! means Pk only fails together with earlier promotions (an interaction).

/// Bisection over commits `0..n` where the last one is known red and the
/// commit before the first is known green.
#[derive(Debug, Clone)]
pub struct Bisect {
    /// Known verdicts, `Some(true)` = green.
    verdicts: Vec<Option<bool>>,
}

impl Bisect {
    /// `n` commits; the last is red.
    pub fn new(n: usize) -> Self {
        assert!(n > 0, "a red snapshot has at least one promotion");
        let mut verdicts = vec![None; n];
        verdicts[n - 1] = Some(false);
        Bisect { verdicts }
    }

    /// Record a verdict found by other means (an existing forge run).
    pub fn known(&mut self, index: usize, green: bool) {
        self.verdicts[index] = Some(green);
    }

    /// The window in which the first red commit lies: (first index that may
    /// be it, index of the earliest known red).
    fn window(&self) -> (usize, usize) {
        let first_red = self
            .verdicts
            .iter()
            .position(|v| *v == Some(false))
            .expect("the last commit is red");
        let low = self.verdicts[..first_red]
            .iter()
            .rposition(|v| *v == Some(true))
            .map_or(0, |green| green + 1);
        (low, first_red)
    }

    /// The next commit to test, or `None` when the first red is known.
    pub fn next_probe(&self) -> Option<usize> {
        let (low, high) = self.window();
        if low == high {
            return None;
        }
        let mid = low + (high - low) / 2;
        // Prefer a commit with no verdict yet (all in the window are unknown).
        Some(mid)
    }

    /// The index of the first red commit, once [`Bisect::next_probe`] is `None`.
    pub fn first_red(&self) -> Option<usize> {
        let (low, high) = self.window();
        (low == high).then_some(high)
    }
}

/// What triage concluded about a red snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The same commit passed on a rerun: the failures were flakes.
    Flake { jobs: Vec<String> },
    /// Promotion `index` alone turns the last green commit red.
    Culprit { index: usize },
    /// Promotion `index` turns red only together with earlier ones.
    Interaction { index: usize, suspects: Vec<usize> },
}

/// Decide between culprit and interaction once the first red promotion is
/// known and it was tested alone on the last green commit.
pub fn judge(first_red: usize, alone_green: bool) -> Finding {
    if alone_green {
        Finding::Interaction {
            index: first_red,
            suspects: (0..=first_red).collect(),
        }
    } else {
        Finding::Culprit { index: first_red }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run a bisection against a truth where commits `>= bad` are red.
    fn find(n: usize, bad: usize) -> (usize, usize) {
        let mut b = Bisect::new(n);
        let mut probes = 0;
        while let Some(i) = b.next_probe() {
            probes += 1;
            b.known(i, i < bad);
        }
        (b.first_red().unwrap(), probes)
    }

    #[test]
    fn finds_the_first_red_in_log2_probes() {
        for n in 1..40 {
            for bad in 0..n {
                let (found, probes) = find(n, bad);
                assert_eq!(found, bad, "n={n} bad={bad}");
                let bound = usize::BITS - (n.max(1)).leading_zeros();
                assert!(probes as u32 <= bound, "n={n} bad={bad} probes={probes}");
            }
        }
    }

    #[test]
    fn known_verdicts_are_used() {
        let mut b = Bisect::new(8);
        b.known(5, true);
        b.known(6, false);
        assert_eq!(b.next_probe(), None);
        assert_eq!(b.first_red(), Some(6));
    }

    #[test]
    fn judging() {
        assert_eq!(judge(2, false), Finding::Culprit { index: 2 });
        assert_eq!(
            judge(1, true),
            Finding::Interaction {
                index: 1,
                suspects: vec![0, 1]
            }
        );
    }
}
