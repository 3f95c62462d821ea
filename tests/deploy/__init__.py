"""Deployment files (deploy/) checked against the code."""
