-- Viewers' watch-along links waiting for the streamer (Settings → Watch-along → "Viewers may
-- ask"). A row is written before the viewer is told it waits; `state` moves once, from
-- 'waiting' to 'played' (a session was started for it) or 'denied', by compare-and-set.
CREATE TABLE watch_asks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The viewer: login (one waiting link each) and display name (for chat).
    login TEXT NOT NULL,
    display TEXT NOT NULL,
    -- The chat channel it came from (answers go there).
    channel TEXT NOT NULL,
    url TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('waiting', 'played', 'denied')),
    created_ms INTEGER NOT NULL,
    decided_ms INTEGER
);
CREATE INDEX watch_asks_state ON watch_asks (state, created_ms);
