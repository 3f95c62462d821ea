"""Idempotency-Key: the first response of a POST, replayed to its retries."""
