-- Fuzz findings: one per unique crash signature (target, crash type, top 3
-- normalised frames) per job, with its reproducer.
CREATE TABLE fuzz_findings (
    id          INTEGER PRIMARY KEY,
    project     TEXT    NOT NULL,
    job         TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    signature   TEXT    NOT NULL,
    crash_type  TEXT    NOT NULL,
    reproducer  TEXT    NOT NULL,
    first_run   INTEGER NOT NULL REFERENCES runs(id),
    last_run    INTEGER NOT NULL REFERENCES runs(id),
    seen        INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    UNIQUE (project, job, signature)
);
