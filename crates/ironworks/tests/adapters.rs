//! The bundled adapters under `adapters/`: every one (discovered, so a new
//! adapter is covered without touching this file) passes `ironworks adapter
//! check` and has jobs in at least spark and forge.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ironworks");

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/ironworks sits two levels below the repository root")
        .to_owned()
}

/// Every `adapters/<name>/ironworks.toml`, sorted by name.
fn bundled_adapters() -> Vec<(String, PathBuf)> {
    let dir = repo_root().join("adapters");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let entry = entry.unwrap();
        if !entry.file_type().unwrap().is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let adapter = entry.path().join("ironworks.toml");
        assert!(
            adapter.is_file(),
            "adapters/{name}/ has no ironworks.toml; every directory under adapters/ is an adapter"
        );
        found.push((name, adapter));
    }
    found.sort();
    found
}

/// Run the real binary with a throwaway state directory, so checking the
/// bundled adapters never writes next to them.
fn ironworks(args: &[&str], state: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--state-dir")
        .arg(state)
        .env_remove("IRONWORKS_STATE_DIR")
        .output()
        .expect("run ironworks")
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn the_bundled_adapters_include_the_seed_projects() {
    let names: Vec<String> = bundled_adapters().into_iter().map(|(n, _)| n).collect();
    for seed in ["bitcoin-core", "btcd", "cmake-node", "libbitcoin"] {
        assert!(
            names.iter().any(|n| n == seed),
            "adapters/{seed} is missing: {names:?}"
        );
    }
}

#[test]
fn every_bundled_adapter_passes_adapter_check() {
    let state = tempfile::tempdir().unwrap();
    for (name, adapter) in bundled_adapters() {
        let path = adapter.to_str().unwrap();
        let output = ironworks(&["adapter", "check", "--adapter", path], state.path());
        assert!(
            output.status.success(),
            "adapters/{name}: adapter check failed\n{}",
            describe(&output)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.starts_with("ok: "),
            "adapters/{name}: {}",
            describe(&output)
        );
    }
}

#[test]
fn every_bundled_adapter_has_jobs_in_spark_and_forge() {
    let state = tempfile::tempdir().unwrap();
    for (name, adapter) in bundled_adapters() {
        let path = adapter.to_str().unwrap();
        let output = ironworks(&["stages", "--adapter", path, "--json"], state.path());
        assert!(
            output.status.success(),
            "adapters/{name}: stages failed\n{}",
            describe(&output)
        );
        let stages: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("adapters/{name}: {e}\n{}", describe(&output)));
        let stages = stages.as_array().expect("a JSON array of stages");
        for wanted in ["spark", "forge"] {
            let stage = stages
                .iter()
                .find(|s| s["stage"] == wanted)
                .unwrap_or_else(|| panic!("adapters/{name}: no `{wanted}` in {stages:?}"));
            assert!(
                stage["jobs"].as_u64().unwrap_or(0) > 0,
                "adapters/{name}: no jobs in {wanted}: {stage}"
            );
            assert_eq!(
                stage["active"], true,
                "adapters/{name}: {wanted} is not active: {stage}"
            );
        }
    }
}
