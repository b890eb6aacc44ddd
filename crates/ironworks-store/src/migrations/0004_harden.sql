-- Harden runs: which job ran on which forge-green snapshot, and its verdict.
CREATE TABLE harden_runs (
    id         INTEGER PRIMARY KEY,
    project    TEXT    NOT NULL,
    job        TEXT    NOT NULL,
    snapshot   INTEGER NOT NULL REFERENCES snapshots(id),
    run_id     INTEGER NOT NULL REFERENCES runs(id),
    verdict    TEXT    NOT NULL, -- green | red
    report     TEXT    NOT NULL, -- path of report.json
    started_at INTEGER NOT NULL
);
CREATE INDEX harden_runs_job ON harden_runs(project, job, id);
