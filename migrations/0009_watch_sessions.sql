-- Watch-along sessions (seed 004). One row per session, every transition written before it is
-- announced. `active` is 1 while the session is pending/starting/streaming/stopping and NULL
-- once it ended or failed: UNIQUE allows one 1 and any number of NULLs, so the database itself
-- refuses a second active session (the ERR_BUSY check is this constraint, not a mutex).
CREATE TABLE watch_sessions (
    id TEXT PRIMARY KEY,
    requester TEXT NOT NULL,
    -- 'window', 'twitch', 'discord', 'api'
    source TEXT NOT NULL,
    -- 'obs' or 'controller'
    executor TEXT NOT NULL,
    -- Where it plays: the OBS scene, or a Discord guild/channel.
    target TEXT NOT NULL,
    url TEXT NOT NULL,
    status TEXT NOT NULL,
    active INTEGER UNIQUE CHECK (active IS NULL OR active = 1),
    error_code TEXT,
    error_message TEXT,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE INDEX watch_sessions_created ON watch_sessions (created_ms);
