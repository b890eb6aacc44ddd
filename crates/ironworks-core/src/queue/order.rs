//! What every policy shares: the queue order, the rollup rules that say
//! which PRs may share a batch, the waiting list kept in that order, and
//! fresh build ids.

use std::cmp::Ordering;

use super::{BuildId, Entry, PrId, Rollup};

/// The queue order: priority (higher first), then approval time (older
/// first). The PR id breaks the remaining ties so the order is total and
/// every policy is deterministic.
pub fn queue_order(a: &Entry, b: &Entry) -> Ordering {
    b.priority
        .cmp(&a.priority)
        .then(a.approved_at.cmp(&b.approved_at))
        .then(a.pr.cmp(&b.pr))
}

/// How many entries from the front of `entries` (already in queue order)
/// go into one batch under the rollup rules: a `never` PR goes alone, a
/// batch holds at most one `iffy` PR and at most `max` PRs, and at most
/// `target` PRs that are not `always` (an `always` PR asked to be batched
/// whenever possible, so it does not use up the policy's chosen size).
///
/// The batch is a prefix: a PR that cannot join ends it, so nothing
/// overtakes a PR ahead of it in the queue. Returns at least 1 unless
/// `entries` is empty.
pub fn batch_len(entries: &[Entry], target: usize, max: usize) -> usize {
    let Some(first) = entries.first() else {
        return 0;
    };
    if first.rollup == Rollup::Never {
        return 1;
    }
    let (target, max) = (target.max(1), max.max(1));
    let mut len = 0;
    let mut counted = 0;
    let mut iffy = false;
    for entry in entries {
        if len == max {
            break;
        }
        match entry.rollup {
            Rollup::Never => break,
            Rollup::Iffy if iffy => break,
            Rollup::Iffy => iffy = true,
            Rollup::Always | Rollup::Maybe => {}
        }
        if entry.rollup != Rollup::Always {
            if counted == target {
                break;
            }
            counted += 1;
        }
        len += 1;
    }
    len.max(1)
}

/// Whether these PRs may be tested together under the rollup rules.
pub fn batch_allowed(entries: &[Entry], max: usize) -> bool {
    match entries.len() {
        0 => false,
        1 => true,
        n => {
            n <= max
                && entries.iter().all(|e| e.rollup != Rollup::Never)
                && entries.iter().filter(|e| e.rollup == Rollup::Iffy).count() <= 1
        }
    }
}

/// The PRs of `entries`, in order.
pub fn prs_of(entries: &[Entry]) -> Vec<PrId> {
    entries.iter().map(|e| e.pr).collect()
}

/// Entries waiting for a build, always in queue order.
#[derive(Debug, Clone, Default)]
pub struct WaitList {
    entries: Vec<Entry>,
}

impl WaitList {
    /// Add an entry at its place in the queue order (replacing an entry of
    /// the same PR).
    pub fn insert(&mut self, entry: Entry) {
        self.remove(entry.pr);
        let at = self
            .entries
            .partition_point(|e| queue_order(e, &entry) == Ordering::Less);
        self.entries.insert(at, entry);
    }

    pub fn remove(&mut self, pr: PrId) -> Option<Entry> {
        let at = self.entries.iter().position(|e| e.pr == pr)?;
        Some(self.entries.remove(at))
    }

    pub fn contains(&self, pr: PrId) -> bool {
        self.entries.iter().any(|e| e.pr == pr)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn front(&self) -> Option<&Entry> {
        self.entries.first()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// Take the next batch from the front (see [`batch_len`]).
    pub fn take_batch(&mut self, target: usize, max: usize) -> Vec<Entry> {
        self.take_batch_at(0, target, max)
    }

    /// Take a batch that starts `skip` entries behind the front, leaving
    /// those ahead of it in place.
    pub fn take_batch_at(&mut self, skip: usize, target: usize, max: usize) -> Vec<Entry> {
        let skip = skip.min(self.entries.len());
        let n = batch_len(&self.entries[skip..], target, max);
        self.entries.drain(skip..skip + n).collect()
    }
}

/// Hands out build ids, each once.
#[derive(Debug, Clone)]
pub struct BuildIds {
    next: BuildId,
}

impl Default for BuildIds {
    fn default() -> Self {
        BuildIds { next: 1 }
    }
}

impl BuildIds {
    pub fn fresh(&mut self) -> BuildId {
        let id = self.next;
        self.next += 1;
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(pr: PrId, priority: i32, approved_at: u64, rollup: Rollup) -> Entry {
        Entry {
            pr,
            priority,
            approved_at,
            rollup,
        }
    }

    #[test]
    fn the_queue_goes_by_priority_then_age() {
        let mut list = WaitList::default();
        list.insert(entry(1, 0, 30, Rollup::Maybe));
        list.insert(entry(2, 0, 10, Rollup::Maybe));
        list.insert(entry(3, 5, 50, Rollup::Maybe));
        list.insert(entry(4, -1, 0, Rollup::Maybe));
        list.insert(entry(5, 0, 10, Rollup::Maybe));
        let order: Vec<PrId> = list.iter().map(|e| e.pr).collect();
        assert_eq!(order, [3, 2, 5, 1, 4]);
        // Re-inserting a PR moves it rather than duplicating it.
        list.insert(entry(4, 9, 0, Rollup::Maybe));
        let order: Vec<PrId> = list.iter().map(|e| e.pr).collect();
        assert_eq!(order, [4, 3, 2, 5, 1]);
        assert_eq!(list.remove(2).map(|e| e.pr), Some(2));
        assert_eq!(list.remove(2), None);
        assert_eq!(list.len(), 4);
    }

    #[test]
    fn rollup_rules_shape_batches() {
        use Rollup::*;
        let list = |rollups: &[Rollup]| -> Vec<Entry> {
            rollups
                .iter()
                .enumerate()
                .map(|(i, r)| entry(i as PrId, 0, i as u64, *r))
                .collect()
        };
        assert_eq!(batch_len(&[], 4, 8), 0);
        assert_eq!(batch_len(&list(&[Never, Maybe]), 4, 8), 1);
        assert_eq!(batch_len(&list(&[Maybe, Never, Maybe]), 4, 8), 1);
        assert_eq!(batch_len(&list(&[Iffy, Maybe, Iffy, Maybe]), 4, 8), 2);
        assert_eq!(batch_len(&list(&[Maybe; 10]), 4, 8), 4);
        assert_eq!(batch_len(&list(&[Maybe; 10]), 20, 8), 8);
        assert_eq!(batch_len(&list(&[Maybe; 10]), 0, 8), 1);
        // `always` PRs ride along without using up the target.
        assert_eq!(
            batch_len(&list(&[Maybe, Always, Always, Maybe, Maybe]), 2, 8),
            4
        );
        assert_eq!(batch_len(&list(&[Always; 10]), 1, 3), 3);
        assert!(batch_allowed(&list(&[Never]), 8));
        assert!(!batch_allowed(&list(&[Never, Maybe]), 8));
        assert!(!batch_allowed(&list(&[Iffy, Iffy]), 8));
        assert!(!batch_allowed(&list(&[Maybe; 9]), 8));
        assert!(batch_allowed(&list(&[Iffy, Always, Maybe]), 8));
        assert!(!batch_allowed(&[], 8));
    }

    #[test]
    fn build_ids_are_fresh() {
        let mut ids = BuildIds::default();
        let a = ids.fresh();
        let b = ids.fresh();
        assert_ne!(a, b);
    }
}
