use crate::cli::Location;
use crate::context::load_adapter;
use crate::error::Failure;
use crate::exit;

pub fn check(location: &Location) -> Result<u8, Failure> {
    let loaded = load_adapter(location.adapter.as_deref())?;
    let adapter = &loaded.adapter;
    let active: Vec<String> = adapter
        .stage_catalog()
        .iter()
        .filter(|s| s.active)
        .map(|s| format!("{} ({})", s.stage, s.jobs))
        .collect();
    println!(
        "ok: {} is a valid adapter for project `{}`: {} job(s); active stages: {}",
        loaded.path.display(),
        adapter.project.id,
        adapter.jobs.len(),
        if active.is_empty() {
            "none".to_owned()
        } else {
            active.join(", ")
        }
    );
    Ok(exit::OK)
}
