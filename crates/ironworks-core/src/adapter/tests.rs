use super::*;

fn parse(text: &str) -> Result<Adapter, Diagnostics> {
    Adapter::parse("ironworks.toml", text)
}

fn errors(text: &str) -> Vec<String> {
    parse(text)
        .expect_err("adapter should be rejected")
        .0
        .iter()
        .map(|d| format!("{}: {}", d.location(), d.message))
        .collect()
}

const MINIMAL: &str = r#"
[project]
id = "example"

[stages]
enable = ["harden"]
disable = ["stamp"]

[[job]]
name = "unit"
stage = "spark"
run = ["cargo", "test"]
timeout = "10m"
gate = "required"
"#;

#[test]
fn the_minimal_shape_parses() {
    let adapter = parse(MINIMAL).unwrap();
    assert_eq!(adapter.project.id, "example");
    assert_eq!(adapter.project.source, ".");
    let unit = adapter.job("unit").unwrap();
    assert_eq!(unit.stage, Stage::Spark);
    assert_eq!(unit.command.argv(), ["cargo", "test"]);
    assert_eq!(unit.timeout, Duration::from_secs(600));
    assert_eq!(unit.grace, DEFAULT_GRACE);
    assert_eq!(unit.gate, Gate::Required);
    assert!(!unit.optional);
}

#[test]
fn catalog_lists_every_stage_with_its_flags() {
    let adapter = parse(MINIMAL).unwrap();
    let catalog = adapter.stage_catalog();
    let flags: Vec<_> = catalog
        .iter()
        .map(|s| (s.stage.as_str(), s.enabled, s.implemented, s.active, s.jobs))
        .collect();
    assert_eq!(
        flags,
        [
            ("spark", true, true, true, 1),
            ("forge", true, false, false, 0),
            ("harden", true, false, false, 0),
            ("temper", true, false, false, 0),
            ("stamp", false, false, false, 0),
        ]
    );
}

#[test]
fn a_job_in_a_disabled_stage_is_kept_but_inactive() {
    let adapter = parse(
        r#"
[project]
id = "p"
[stages]
disable = ["forge"]
[[job]]
name = "full"
stage = "forge"
run = ["make"]
"#,
    )
    .unwrap();
    assert!(adapter.job("full").is_some());
    let forge = &adapter.stage_catalog()[1];
    assert_eq!(
        (forge.enabled, forge.implemented, forge.active),
        (false, true, false)
    );
}

#[test]
fn script_runs_under_sh_with_errexit() {
    let adapter = parse(
        "[project]\nid = \"p\"\n[[job]]\nname = \"s\"\nstage = \"spark\"\nscript = \"make && make test\"\n",
    )
    .unwrap();
    assert_eq!(
        adapter.jobs[0].command.argv(),
        ["/bin/sh", "-ec", "make && make test"]
    );
}

#[test]
fn malformed_toml_points_at_line_and_column() {
    let errs = errors("[project]\nid = \"p\"\n[[job]]\nname = \n");
    assert_eq!(errs.len(), 1);
    assert!(errs[0].starts_with("ironworks.toml:4:"), "{errs:?}");
}

#[test]
fn unknown_keys_are_rejected_with_their_position() {
    let errs = errors(
        "[project]\nid = \"p\"\n[[job]]\nname = \"a\"\nstage = \"spark\"\nrun = [\"x\"]\ntimeuot = \"1m\"\n",
    );
    assert_eq!(errs.len(), 1);
    assert!(errs[0].starts_with("ironworks.toml:7:1:"), "{errs:?}");
    assert!(errs[0].contains("unknown field `timeuot`"), "{errs:?}");
}

#[test]
fn unknown_stage_in_job_and_policy() {
    let errs = errors(
        "[project]\nid = \"p\"\n[stages]\nenable = [\"hardn\"]\n[[job]]\nname = \"a\"\nstage = \"deploy\"\nrun = [\"x\"]\n",
    );
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].starts_with("ironworks.toml:4:11:"), "{errs:?}");
    assert!(errs[0].contains("did you mean `harden`"), "{errs:?}");
    assert!(errs[1].starts_with("ironworks.toml:7:9:"), "{errs:?}");
    assert!(errs[1].contains("unknown stage `deploy`"), "{errs:?}");
}

#[test]
fn contradictory_policy_is_an_error() {
    let errs =
        errors("[project]\nid = \"p\"\n[stages]\nenable = [\"stamp\"]\ndisable = [\"stamp\"]\n");
    assert_eq!(
        errs,
        ["ironworks.toml:5:12: stage `stamp` is both enabled and disabled"]
    );
}

#[test]
fn duplicate_job_names() {
    let errs = errors(
        "[project]\nid = \"p\"\n[[job]]\nname = \"a\"\nstage = \"spark\"\nrun = [\"x\"]\n[[job]]\nname = \"a\"\nstage = \"forge\"\nrun = [\"y\"]\n",
    );
    assert_eq!(errs, ["ironworks.toml:8:8: duplicate job name `a`"]);
}

#[test]
fn needs_cycle_is_reported_with_its_path() {
    let errs = errors(
        r#"[project]
id = "p"
[[job]]
name = "a"
stage = "spark"
run = ["x"]
needs = ["c"]
[[job]]
name = "b"
stage = "spark"
run = ["x"]
needs = ["a"]
[[job]]
name = "c"
stage = "spark"
run = ["x"]
needs = ["b"]
"#,
    );
    assert_eq!(
        errs,
        ["ironworks.toml:7:10: `needs` forms a cycle: a -> c -> b -> a"]
    );
}

#[test]
fn needs_targets_must_exist_share_the_stage_and_not_weaken_the_gate() {
    let errs = errors(
        r#"[project]
id = "p"
[[job]]
name = "build"
stage = "spark"
run = ["x"]
[[job]]
name = "lint"
stage = "spark"
gate = "observe"
run = ["x"]
[[job]]
name = "full"
stage = "forge"
run = ["x"]
[[job]]
name = "t"
stage = "spark"
run = ["x"]
needs = ["biuld", "full", "lint", "t"]
"#,
    );
    assert_eq!(errs.len(), 4, "{errs:?}");
    assert!(
        errs[0].contains("needs unknown job `biuld` (did you mean `build`?)"),
        "{errs:?}"
    );
    assert!(
        errs[1].contains("`needs` works within one stage"),
        "{errs:?}"
    );
    assert!(errs[2].contains("observe job would then gate"), "{errs:?}");
    assert!(errs[3].contains("needs itself"), "{errs:?}");
}

#[test]
fn run_and_script_are_exclusive_and_one_is_required() {
    let errs = errors(
        "[project]\nid = \"p\"\n[[job]]\nname = \"a\"\nstage = \"spark\"\n[[job]]\nname = \"b\"\nstage = \"spark\"\nrun = [\"x\"]\nscript = \"y\"\n[[job]]\nname = \"c\"\nstage = \"spark\"\nrun = []\n",
    );
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(errs[0].contains("neither `run` nor `script`"));
    assert!(errs[1].contains("both `run` and `script`"));
    assert!(errs[2].contains("must name a program"));
}

#[test]
fn paths_and_env_are_checked() {
    let errs = errors(
        r#"[project]
id = "p"
[[job]]
name = "a"
stage = "spark"
run = ["x"]
timeout = "forever"
env = { "IRONWORKS_TOKEN" = "x" }
pass_env = ["1BAD"]
artifacts = ["../outside", "/etc/passwd", "ok/[ab"]
results = { junit = "../junit.xml" }
"#,
    );
    let text = errs.join("\n");
    assert!(text.contains(":7:11: expected a duration"), "{text}");
    assert!(text.contains("`IRONWORKS_TOKEN` is reserved"), "{text}");
    assert!(text.contains("`1BAD` is not a valid name"), "{text}");
    assert!(
        text.contains(":10:14: artifact glob `../outside` escapes"),
        "{text}"
    );
    assert!(text.contains("`/etc/passwd` is absolute"), "{text}");
    assert!(text.contains("unclosed `[`"), "{text}");
    assert!(
        text.contains("results.junit path `../junit.xml` escapes"),
        "{text}"
    );
}

#[test]
fn invalid_names() {
    let errs = errors(
        "[project]\nid = \"../x\"\n[[job]]\nname = \"a b\"\nstage = \"spark\"\nrun = [\"x\"]\n",
    );
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].contains("invalid project id"));
    assert!(errs[1].contains("contains ` `"));
}

#[test]
fn missing_project_section() {
    let errs = errors("[[job]]\nname = \"a\"\nstage = \"spark\"\nrun = [\"x\"]\n");
    assert!(errs[0].contains("missing field `project`"), "{errs:?}");
}

#[test]
fn cycle_finder_on_a_dag_and_a_loop() {
    assert_eq!(find_cycle(&[vec![1], vec![2], vec![]]), None);
    assert_eq!(find_cycle(&[vec![1], vec![0]]), Some(vec![0, 1, 0]));
}

#[test]
fn toolstate_components_and_the_release_calendar() {
    let adapter = parse(
        r#"[project]
id = "p"
[toolstate]
stable = ["clippy"]
release-dates = ["2026-12-11"]
window = "7d"
[[job]]
name = "clippy"
stage = "forge"
run = ["x"]
toolstate = "clippy"
"#,
    )
    .unwrap();
    let job = adapter.job("clippy").unwrap();
    assert_eq!(job.toolstate.as_deref(), Some("clippy"));
    assert_eq!(
        job.gate,
        Gate::Observe,
        "toolstate jobs never gate directly"
    );
    assert_eq!(adapter.toolstate.window, Duration::from_secs(7 * 86_400));
    assert_eq!(adapter.toolstate.release_dates.len(), 1);

    let errs = errors(
        r#"[project]
id = "p"
[toolstate]
stable = ["miri"]
release-dates = ["next week"]
[[job]]
name = "a"
stage = "forge"
run = ["x"]
toolstate = "c"
[[job]]
name = "b"
stage = "forge"
run = ["x"]
toolstate = "c"
"#,
    );
    let text = errs.join("\n");
    assert!(
        text.contains(":4:11: no job declares toolstate component `miri`"),
        "{text}"
    );
    assert!(text.contains("expected a date as YYYY-MM-DD"), "{text}");
    assert!(
        text.contains("toolstate component `c` is already job `a`'s"),
        "{text}"
    );
}

#[test]
fn harden_jobs_reference_declared_fixtures_of_the_right_kind() {
    let head = r#"[project]
id = "p"
[stages]
enable = ["harden"]
[[fixture]]
id = "blocks"
kind = "blocks"
url = "file:b.tar"
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
size = 1
format = "tar"
expect = { "/height" = 1 }
"#;
    let ok = parse(&format!(
        "{head}[[job]]\nname = \"r\"\nstage = \"harden\"\nkind = \"replay\"\nfixture = \"blocks\"\nrun = [\"x\"]\n"
    ))
    .unwrap();
    assert_eq!(ok.fixtures.len(), 1);
    assert_eq!(
        ok.job("r").unwrap().harden.fixture.as_deref(),
        Some("blocks")
    );

    let errs = errors(&format!(
        "{head}[[job]]\nname = \"a\"\nstage = \"harden\"\nfixture = \"nope\"\nrun = [\"x\"]\n\
         [[job]]\nname = \"c\"\nstage = \"harden\"\nkind = \"compat\"\nreleases = [\"blocks\"]\nrun = [\"x\"]\n\
         [[job]]\nname = \"d\"\nstage = \"harden\"\nkind = \"compat\"\nrun = [\"x\"]\n"
    ));
    let text = errs.join("\n");
    assert!(text.contains("no [[fixture]] with id `nope`"), "{text}");
    assert!(
        text.contains("compat releases must be previous-release fixtures"),
        "{text}"
    );
    assert!(
        text.contains("compat job `d` lists no `releases`"),
        "{text}"
    );
}
