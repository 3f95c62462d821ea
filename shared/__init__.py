"""Sinergi's own library: what every service needs and none of them owns.

- ``shared.kit``: plumbing that knows no programme word (app, database, feed, http, problems,
  pagination, tokens, auth, logging, health, migrations, settings, time, background loops).
- ``shared.programme``: the programme's vocabulary every service speaks (organisation types
  and their scopes, region codes, skills, dates, reference data).

It imports no service, and the kit imports nothing of the programme (import-linter contracts
keep both so).
"""
