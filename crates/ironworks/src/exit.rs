//! Exit codes: decided here and nowhere else. Documented in docs/cli.md.

/// The stage (or command) succeeded.
pub const OK: u8 = 0;
/// The stage ran and is red: a required job did not pass.
pub const RED: u8 = 1;
/// Bad usage or configuration: unknown stage or job, malformed adapter,
/// missing source, unknown revision. Nothing was run or recorded.
pub const USAGE: u8 = 2;
/// The environment failed Ironworks: the state directory is unusable, git
/// is missing, a checkout could not be made.
pub const ENVIRONMENT: u8 = 3;
/// The run was cancelled (Ctrl-C or SIGTERM); 128 + SIGINT, as shells do.
pub const CANCELLED: u8 = 130;
