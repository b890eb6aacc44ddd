-- The log analyzer's index of ordinary lines, one per project (docs/logs.md).
-- `data` is the serialised ironworks_core::logs::LogIndex; `generation`
-- counts the saves, so two writers cannot overwrite each other's learning.
CREATE TABLE log_indexes (
    project      TEXT    PRIMARY KEY,
    data         BLOB    NOT NULL,
    entries      INTEGER NOT NULL,
    runs_learned INTEGER NOT NULL,
    generation   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

-- Runs whose passed logs were learned: a run is never learned twice.
CREATE TABLE log_learned_runs (
    run_id     INTEGER PRIMARY KEY REFERENCES runs(id),
    project    TEXT    NOT NULL,
    jobs       INTEGER NOT NULL,
    lines      INTEGER NOT NULL,
    bytes      INTEGER NOT NULL,
    learned_at INTEGER NOT NULL
);
CREATE INDEX log_learned_runs_project ON log_learned_runs(project);
