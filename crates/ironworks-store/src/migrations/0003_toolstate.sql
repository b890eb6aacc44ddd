-- Toolstate: the state of each component (a job allowed to fail) per commit.
CREATE TABLE toolstate (
    id        INTEGER PRIMARY KEY,
    project   TEXT    NOT NULL,
    component TEXT    NOT NULL,
    job       TEXT    NOT NULL,
    commit_id TEXT    NOT NULL,
    run_id    INTEGER NOT NULL REFERENCES runs(id),
    state     TEXT    NOT NULL, -- build-fail | test-fail | test-pass
    -- The change against the previous state, in words, if it changed.
    change    TEXT,
    at        INTEGER NOT NULL
);
CREATE INDEX toolstate_component ON toolstate(project, component, id);
