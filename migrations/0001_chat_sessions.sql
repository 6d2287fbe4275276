-- Chat sessions: one row each time the streamer connects to a channel.
CREATE TABLE chat_sessions (
    id              INTEGER PRIMARY KEY,
    platform        TEXT    NOT NULL CHECK (platform IN ('demo', 'twitch', 'kick')),
    channel         TEXT    NOT NULL,
    started_at_ms   INTEGER NOT NULL,
    ended_at_ms     INTEGER,
    end_reason      TEXT,
    messages        INTEGER NOT NULL DEFAULT 0,
    malformed_lines INTEGER NOT NULL DEFAULT 0,
    reconnects      INTEGER NOT NULL DEFAULT 0
);

-- Chat velocity, compactly: one row per session-minute holding 60 little-endian u32 counts
-- (second 0..59 of that minute). Rewritten once per second while the minute is current.
CREATE TABLE velocity_minutes (
    session_id INTEGER NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
    minute     INTEGER NOT NULL, -- Unix seconds / 60
    counts     BLOB    NOT NULL CHECK (length(counts) = 240),
    PRIMARY KEY (session_id, minute)
) WITHOUT ROWID;
