"""Reporting and monitoring & evaluation."""
