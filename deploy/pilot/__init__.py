"""The Kotabaru pilot out of the box: synthetic seed data (``data``), the seeding of a running
stack through the gateway (``seed``) and the guided walk-through (``demo``)."""
