-- Chat moments: bursts found by the SpikeDetector. Counts and labels only: no message text.
CREATE TABLE moments (
    id            INTEGER PRIMARY KEY,
    session_id    INTEGER NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
    started_at_ms INTEGER NOT NULL,
    ended_at_ms   INTEGER,          -- NULL while the burst goes on
    offset_ms     INTEGER NOT NULL, -- from the session's start
    strength      REAL    NOT NULL,
    kinds         TEXT    NOT NULL, -- e.g. 'velocity,keyword', for filtering
    triggers      TEXT    NOT NULL, -- JSON: [{kind, label, name, value, threshold, baseline}]
    note          TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX moments_by_session ON moments (session_id, started_at_ms);

-- Each channel's velocity baseline, so a restart does not need to warm up again.
CREATE TABLE detector_baselines (
    channel_key   TEXT PRIMARY KEY, -- 'twitch:channel', 'kick:123', 'demo:demo'
    mean          REAL    NOT NULL,
    var           REAL    NOT NULL,
    samples       INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
