"""The skills vocabulary shared with the registry (``shared/programme/reference/skills.csv``)."""
