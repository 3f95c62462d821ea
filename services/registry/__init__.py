"""Resident registry: residents, households, village priority, follow-ups, consent, audit."""
