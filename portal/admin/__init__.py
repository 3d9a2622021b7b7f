"""Administration of an organisation by its administrators, without a terminal."""
