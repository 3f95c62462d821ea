"""Fault injection: the services lose no data and recover when parts of the system fail."""
