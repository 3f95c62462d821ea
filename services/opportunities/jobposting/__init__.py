"""schema.org JobPosting JSON-LD, as HR systems and job boards produce it."""
