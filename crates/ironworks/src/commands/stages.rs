use crate::cli::Location;
use crate::context::load_adapter;
use crate::error::Failure;
use crate::exit;

pub fn stages(location: &Location, json: bool) -> Result<u8, Failure> {
    let loaded = load_adapter(location.adapter.as_deref())?;
    let catalog = loaded.adapter.stage_catalog();
    if json {
        super::print_json(&catalog);
        return Ok(exit::OK);
    }
    println!(
        "project {} ({})",
        loaded.adapter.project.id,
        loaded.path.display()
    );
    println!(
        "{:<8} {:<8} {:<12} {:<7} {:>4}  PURPOSE",
        "STAGE", "ENABLED", "IMPLEMENTED", "ACTIVE", "JOBS"
    );
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    for status in catalog {
        println!(
            "{:<8} {:<8} {:<12} {:<7} {:>4}  {}",
            status.stage.as_str(),
            yes_no(status.enabled),
            yes_no(status.implemented),
            yes_no(status.active),
            status.jobs,
            status.stage.purpose()
        );
    }
    Ok(exit::OK)
}
