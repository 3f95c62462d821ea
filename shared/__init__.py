"""Sinergi's own small library: what every service needs and none of them owns.

It imports no service (an import-linter contract keeps it so).
"""
