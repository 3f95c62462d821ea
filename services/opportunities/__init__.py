"""Opportunity catalogue: jobs, internships, training, business capital, mentoring."""
