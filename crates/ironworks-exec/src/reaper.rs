//! Making sure no process of a job outlives it.
//!
//! Jobs run in process groups of their own, so a signal to the group reaches
//! the whole tree. Ironworks registers as a child subreaper, so processes
//! orphaned inside a job are re-parented to Ironworks rather than to init:
//! their zombies are reaped here, which makes "is the group empty?" an exact
//! question, and processes that escaped their group with `setsid` can still
//! be found as Ironworks' own children ([`sweep_children`]). If Ironworks
//! itself is killed, recovery finds the leftovers of its runs by the run token
//! in their environment ([`kill_by_token`]).

use std::fs;
use std::time::Duration;

/// Become the reaper of orphaned descendants. Call once, early.
pub fn become_subreaper() -> std::io::Result<()> {
    // SAFETY: prctl with integer arguments has no memory effects.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Send `signal` to every process in the group. A group already gone is fine.
pub fn signal_group(pgid: libc::pid_t, signal: libc::c_int) {
    // SAFETY: plain syscall.
    unsafe {
        libc::killpg(pgid, signal);
    }
}

/// Whether no process of the group is left, after reaping any of its
/// members that are our zombie children. Call only once the group leader
/// itself has been waited for, so that its status is not taken here.
pub fn group_gone(pgid: libc::pid_t) -> bool {
    loop {
        let mut status = 0;
        // SAFETY: plain syscall writing into a local.
        let reaped = unsafe { libc::waitpid(-pgid, &mut status, libc::WNOHANG) };
        if reaped <= 0 {
            break;
        }
    }
    // SAFETY: signal 0 only checks for existence.
    let alive = unsafe { libc::killpg(pgid, 0) } == 0;
    !alive && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// Resolves when the group is empty. There is no event for that, so it looks
/// every few milliseconds; callers bound it with the grace period.
pub async fn until_group_gone(pgid: libc::pid_t) {
    let mut interval = Duration::from_millis(2);
    while !group_gone(pgid) {
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(Duration::from_millis(50));
    }
}

/// After SIGKILL: wait (briefly) until the kernel has removed the group, so a
/// caller that reports "job finished" can rely on no process being left.
pub async fn settle_group(pgid: libc::pid_t) {
    let _ = tokio::time::timeout(Duration::from_secs(2), until_group_gone(pgid)).await;
}

/// Resident memory, in KiB, of a process and all its descendants (the
/// job's tree, walked from its leader through `/proc/<pid>/task/*/children`,
/// summing `statm`'s resident pages). `None` when the leader is gone. A walk
/// costs a few small reads per process of the tree, not a scan of `/proc`.
pub fn tree_rss_kb(leader: libc::pid_t) -> Option<u64> {
    // SAFETY: sysconf has no memory effects.
    let page_kb = (unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).max(4096) as u64 / 1024;
    let mut total = 0u64;
    let mut found = false;
    let mut pending = vec![leader];
    let mut visited = 0usize;
    while let Some(pid) = pending.pop() {
        visited += 1;
        if visited > 100_000 {
            break; // a fork bomb is not worth walking
        }
        let Ok(statm) = fs::read_to_string(format!("/proc/{pid}/statm")) else {
            continue;
        };
        found = true;
        total += statm
            .split_whitespace()
            .nth(1)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
            * page_kb;
        let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            if let Ok(children) = fs::read_to_string(task.path().join("children")) {
                pending.extend(
                    children
                        .split_whitespace()
                        .filter_map(|c| c.parse::<libc::pid_t>().ok()),
                );
            }
        }
    }
    found.then_some(total)
}

/// Kill and reap every child process Ironworks still has. Call when no job
/// is running: any child left then escaped its job's process group.
/// Returns how many were found.
pub fn sweep_children() -> usize {
    let mut found = 0;
    for pid in own_children() {
        found += 1;
        // SAFETY: plain syscalls on a pid that is our child.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
    }
    found
}

fn own_children() -> Vec<libc::pid_t> {
    let mut pids = Vec::new();
    let Ok(tasks) = fs::read_dir("/proc/self/task") else {
        return pids;
    };
    for task in tasks.flatten() {
        if let Ok(list) = fs::read_to_string(task.path().join("children")) {
            pids.extend(
                list.split_whitespace()
                    .filter_map(|p| p.parse::<libc::pid_t>().ok()),
            );
        }
    }
    pids
}

/// SIGKILL every process whose environment carries this run token (set by
/// Ironworks in every job it starts). Returns how many were signalled.
pub fn kill_by_token(token: &str) -> usize {
    let needle = format!("IRONWORKS_RUN_TOKEN={token}");
    let Ok(entries) = fs::read_dir("/proc") else {
        return 0;
    };
    let mut killed = 0;
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<libc::pid_t>().ok())
        else {
            continue;
        };
        let Ok(environ) = fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ
            .split(|b| *b == 0)
            .any(|var| var == needle.as_bytes())
        {
            // SAFETY: plain syscall.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            killed += 1;
        }
    }
    killed
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::CommandExt as _;

    #[test]
    fn tree_memory_counts_a_live_process_and_nothing_for_an_absent_one() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .process_group(0)
            .spawn()
            .unwrap();
        let pgid = child.id() as libc::pid_t;
        // Right at exec the new image may have no resident pages yet: wait
        // (bounded) until the kernel reports some.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut kb = super::tree_rss_kb(pgid);
        while kb.is_none_or(|kb| kb == 0) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
            kb = super::tree_rss_kb(pgid);
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(kb.is_some_and(|kb| kb > 0), "{kb:?}");
        assert_eq!(super::tree_rss_kb(pgid), None);
    }
}
