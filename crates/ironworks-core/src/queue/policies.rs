//! The catalog of queue policies: their names and a constructor by name.

use super::batch_bisect::BatchBisect;
use super::ironworks::Ironworks;
use super::serial::Serial;
use super::speculative::Speculative;
use super::{QueueConfig, QueuePolicy};

/// Every policy, by name, in the order reports list them.
pub const POLICIES: &[&str] = &["serial", "batch-bisect", "speculative", "ironworks"];

/// A policy by name, or `None` for an unknown name.
pub fn policy(name: &str, config: QueueConfig) -> Option<Box<dyn QueuePolicy>> {
    Some(match name {
        "serial" => Box::new(Serial::new(config)),
        "batch-bisect" => Box::new(BatchBisect::new(config)),
        "speculative" => Box::new(Speculative::new(config)),
        "ironworks" => Box::new(Ironworks::new(config)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_policy_is_built_under_its_name() {
        for name in POLICIES {
            let policy = policy(name, QueueConfig::default()).expect("listed policies exist");
            assert_eq!(policy.name(), *name);
        }
        assert!(policy("bors", QueueConfig::default()).is_none());
    }
}
