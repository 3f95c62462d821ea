"""Test support: fresh migrated databases on SQLite and PostgreSQL, signing keys and tokens."""
