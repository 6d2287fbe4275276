-- The AI co-host (seed 001). Only its own replies and its counters are kept: what viewers said
-- (the questions, the context) lives in memory only.
CREATE TABLE cohost_replies (
    id INTEGER PRIMARY KEY,
    slot TEXT NOT NULL,
    channel TEXT NOT NULL,
    -- Who asked (display name; empty for a quiet-chat prompt).
    viewer TEXT NOT NULL,
    trigger TEXT NOT NULL,
    reply TEXT NOT NULL,
    -- 'draft' (sent by the streamer), 'edited' (edited, then sent) or 'auto'.
    how TEXT NOT NULL,
    latency_ms INTEGER NOT NULL,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    sent_ms INTEGER NOT NULL
);

-- Running totals by name (answered, failed, rejected, drafts_sent, ...).
CREATE TABLE cohost_counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
