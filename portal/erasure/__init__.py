"""End of follow-up and GDPR erasure (see services.py)."""
