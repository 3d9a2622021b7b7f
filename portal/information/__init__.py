"""The public pages every user can read before signing in: legal notice, personal data,
accessibility statement, help."""
