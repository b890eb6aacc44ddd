-- Runs: one stage for one commit.
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    project     TEXT    NOT NULL,
    stage       TEXT    NOT NULL,
    commit_id   TEXT    NOT NULL,
    rev         TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    -- Random per-run token: names the run's lock file, and is put in every job
    -- process's environment so leftovers of a killed run can be found.
    token       TEXT    NOT NULL UNIQUE,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX runs_status ON runs(status);

-- Job runs: one job of a run.
CREATE TABLE job_runs (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    position    INTEGER NOT NULL,
    job         TEXT    NOT NULL,
    gate        TEXT    NOT NULL,
    argv        TEXT    NOT NULL, -- JSON array
    status      TEXT    NOT NULL,
    exit_code   INTEGER,
    signal      INTEGER,
    reason      TEXT,
    started_at  INTEGER,
    finished_at INTEGER,
    log_path    TEXT,
    tests_total   INTEGER,
    tests_failed  INTEGER,
    tests_skipped INTEGER,
    UNIQUE (run_id, job)
);

CREATE TABLE test_failures (
    job_run_id INTEGER NOT NULL REFERENCES job_runs(id),
    name       TEXT    NOT NULL,
    message    TEXT
);
CREATE INDEX test_failures_job_run ON test_failures(job_run_id);

CREATE TABLE artifacts (
    job_run_id INTEGER NOT NULL REFERENCES job_runs(id),
    path       TEXT    NOT NULL,
    stored_at  TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    sha256     TEXT    NOT NULL
);
CREATE INDEX artifacts_job_run ON artifacts(job_run_id);
