"""The one test support, for the tests and the benchmarks: databases (fresh migrated ones on
SQLite and PostgreSQL), tokens (signing keys, tokens, a stand-in gateway token endpoint),
ports, processes (a service under uvicorn), people (NIKs), places (the pilot's districts and
villages), feeds (a stand-in feed producer) and problems (reading problem responses)."""
