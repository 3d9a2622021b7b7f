"""Who opened whose file: the audit trail of staff reading personal data."""
