-- What a run was for: a plain stage run, a PR's spark, a snapshot's forge,
-- a gated candidate build, a bisection probe, a try build, a flake rerun.
ALTER TABLE runs ADD COLUMN purpose TEXT NOT NULL DEFAULT 'stage';
ALTER TABLE runs ADD COLUMN pr INTEGER;

-- Pull requests in local host mode.
CREATE TABLE prs (
    id           INTEGER PRIMARY KEY,
    project      TEXT    NOT NULL,
    head_ref     TEXT    NOT NULL,
    head_sha     TEXT    NOT NULL,
    target       TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    priority     INTEGER NOT NULL DEFAULT 0,
    rollup       TEXT    NOT NULL DEFAULT 'maybe',
    -- open | conflict | merged | ejected | reverted | closed
    state        TEXT    NOT NULL DEFAULT 'open',
    state_reason TEXT,
    approved_by  TEXT,
    approved_at  INTEGER,
    -- Spark verdict of exactly spark_sha (only current if = head_sha).
    spark_run    INTEGER REFERENCES runs(id),
    spark_sha    TEXT,
    spark_status TEXT,
    opened_at    INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE pr_labels (
    pr    INTEGER NOT NULL REFERENCES prs(id),
    label TEXT    NOT NULL,
    PRIMARY KEY (pr, label)
);

-- A staging commit with its forge verdict.
CREATE TABLE snapshots (
    id         INTEGER PRIMARY KEY,
    project    TEXT    NOT NULL,
    commit_id  TEXT    NOT NULL,
    status     TEXT    NOT NULL, -- pending | green | red
    forge_run  INTEGER REFERENCES runs(id),
    note       TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (project, commit_id)
);

-- A PR merged into staging. Recorded `pending` before the ref moves and
-- `done` after, so recovery can make the store agree with git.
CREATE TABLE promotions (
    id             INTEGER PRIMARY KEY,
    project        TEXT    NOT NULL,
    pr             INTEGER NOT NULL REFERENCES prs(id),
    head_sha       TEXT    NOT NULL,
    merge_commit   TEXT    NOT NULL,
    staging_before TEXT    NOT NULL,
    -- The staging commit it landed with: its own merge (post-merge), or the
    -- candidate of the gated build that landed it.
    landed_in      TEXT    NOT NULL,
    state          TEXT    NOT NULL, -- pending | done | reverted
    promoted_at    INTEGER NOT NULL,
    revert_commit  TEXT
);
CREATE INDEX promotions_project ON promotions(project, id);

-- Triage and queue records: culprits, interactions, flakes, demotions, ejections, conflicts.
CREATE TABLE triage (
    id         INTEGER PRIMARY KEY,
    project    TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    snapshot   INTEGER REFERENCES snapshots(id),
    prs        TEXT    NOT NULL DEFAULT '[]',
    job        TEXT,
    runs       TEXT    NOT NULL DEFAULT '[]',
    summary    TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX triage_project_kind ON triage(project, kind, job);

-- Gates changed by Ironworks itself (a job over its flake budget).
CREATE TABLE job_overrides (
    project TEXT    NOT NULL,
    job     TEXT    NOT NULL,
    gate    TEXT    NOT NULL,
    reason  TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (project, job)
);
