"""Opportunities: the catalogue entries, their rules and their endpoints."""
