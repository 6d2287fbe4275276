-- Viewers' support per chat session (seed 003: subs, gifts, raids and bits as moment signals),
-- stored as counts only: who gave them is never kept.
ALTER TABLE chat_sessions ADD COLUMN subs INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chat_sessions ADD COLUMN gifts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chat_sessions ADD COLUMN raids INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chat_sessions ADD COLUMN raid_viewers INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chat_sessions ADD COLUMN bits INTEGER NOT NULL DEFAULT 0;
