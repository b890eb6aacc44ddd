-- Releases cut from forge-green snapshots, and the fixes landed on them.
CREATE TABLE releases (
    id          INTEGER PRIMARY KEY,
    project     TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    branch      TEXT    NOT NULL,
    snapshot    INTEGER NOT NULL REFERENCES snapshots(id),
    base_commit TEXT    NOT NULL,
    cut_at      INTEGER NOT NULL,
    UNIQUE (project, version)
);

-- A PR merged onto a release branch after its temper run passed there.
CREATE TABLE release_fixes (
    id           INTEGER PRIMARY KEY,
    project      TEXT    NOT NULL,
    version      TEXT    NOT NULL,
    pr           INTEGER NOT NULL REFERENCES prs(id),
    merge_commit TEXT    NOT NULL,
    temper_run   INTEGER NOT NULL REFERENCES runs(id),
    landed_at    INTEGER NOT NULL
);
