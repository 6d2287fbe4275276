-- A recording belongs to the chat session that was live when it started (seed 003): its file
-- is named {channel}_s{session}_{timestamp}, and the row says which session.
ALTER TABLE recordings ADD COLUMN session_id INTEGER REFERENCES chat_sessions (id) ON DELETE SET NULL;
