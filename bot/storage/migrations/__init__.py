"""Schema migrations (Alembic). `bot.storage.schema.upgrade` runs them; the revisions are in
`versions/`, one file per change, each naming the one before it."""
