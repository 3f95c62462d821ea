"""The catalogue: the opportunities, their rules and their endpoints."""
