-- Clip generation: the finished file and timings on each request, one row per generation run,
-- and the periods StreamCue spent in degraded mode.
ALTER TABLE requests ADD COLUMN file_path TEXT;          -- the verified clip (ready/shown)
ALTER TABLE requests ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0; -- HTTP attempts of the latest run
ALTER TABLE requests ADD COLUMN generation_ms INTEGER;   -- duration of the latest successful run
ALTER TABLE requests ADD COLUMN approved_at_ms INTEGER;  -- when it (last) became approved

CREATE TABLE generations (
    id             INTEGER PRIMARY KEY,
    request_id     INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    backend        TEXT    NOT NULL CHECK (backend IN ('offline', 'remote')),
    started_at_ms  INTEGER NOT NULL,
    finished_at_ms INTEGER,          -- NULL while running
    outcome        TEXT CHECK (outcome IN ('ready', 'failed', 'interrupted')),
    reason         TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    bytes          INTEGER
);
CREATE INDEX generations_by_outcome ON generations (outcome, finished_at_ms);

CREATE TABLE degraded_periods (
    id            INTEGER PRIMARY KEY,
    entered_at_ms INTEGER NOT NULL,
    left_at_ms    INTEGER,           -- NULL while degraded
    reason        TEXT    NOT NULL
);
