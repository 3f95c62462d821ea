"""Matching engine and placements."""
