"""How long the portal keeps what it keeps: the daily purge, and the people nobody has
followed up for long, flagged to their organisations (never deleted)."""
