"""The programme's vocabulary shared by every service: organisation types and their scopes,
region codes and their pydantic types, skills, dates and the reference data behind them."""
