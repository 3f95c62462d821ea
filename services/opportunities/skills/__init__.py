"""The skills vocabulary shared with the registry (``shared/reference/skills.csv``)."""
