-- Viewer requests (`!anime ...`). Every state change is written here before it is announced.
CREATE TABLE requests (
    id            INTEGER PRIMARY KEY,
    session_id    INTEGER REFERENCES chat_sessions (id) ON DELETE SET NULL,
    channel       TEXT    NOT NULL,
    user_login    TEXT    NOT NULL,
    display_name  TEXT    NOT NULL,
    message_id    TEXT,            -- the chat message that asked (for CLEARMSG)
    prompt        TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('pending', 'approved', 'generating', 'ready',
                                                    'shown', 'skipped', 'failed', 'interrupted')),
    reason        TEXT,            -- why it was skipped / failed / interrupted
    position      INTEGER NOT NULL, -- order of waiting items, smallest first
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
CREATE INDEX requests_by_state ON requests (state, position);
CREATE INDEX requests_by_user ON requests (user_login, state);

-- When each viewer last had a request accepted (cooldowns survive restarts).
CREATE TABLE cooldowns (
    user_login       TEXT PRIMARY KEY,
    last_accepted_ms INTEGER NOT NULL
) WITHOUT ROWID;

-- Queue counters per chat session (session 0 = actions outside any session).
CREATE TABLE queue_counters (
    session_id INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    value      INTEGER NOT NULL,
    PRIMARY KEY (session_id, name)
) WITHOUT ROWID;

-- Small persistent settings changed from the window (e.g. auto-approve).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
