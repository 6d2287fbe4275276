-- Recordings (OBS's or streamlink's) and the clips cut from them around moments.
CREATE TABLE recordings (
    id            INTEGER PRIMARY KEY,
    mode          TEXT    NOT NULL CHECK (mode IN ('obs', 'streamlink')),
    path          TEXT,              -- known at start (streamlink) or at stop (OBS)
    started_at_ms INTEGER NOT NULL,  -- the time base of offsets into the file
    ended_at_ms   INTEGER,
    bytes         INTEGER
);
CREATE INDEX recordings_by_time ON recordings (started_at_ms);

CREATE TABLE clips (
    id            INTEGER PRIMARY KEY,
    moment_id     INTEGER NOT NULL REFERENCES moments (id) ON DELETE CASCADE,
    recording_id  INTEGER NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    path          TEXT    NOT NULL,
    start_ms      INTEGER NOT NULL,
    end_ms        INTEGER NOT NULL,
    widened_ms    INTEGER NOT NULL,
    bytes         INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX clips_by_moment ON clips (moment_id);
