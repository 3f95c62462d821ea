"""Plumbing for a Sinergi service that knows no programme word: the app factory, the database
and its request session, the change feed, problems, pagination, tokens and auth, logging,
health, migrations, settings, time and background loops. It imports nothing of
``shared.programme`` (an import-linter contract)."""
