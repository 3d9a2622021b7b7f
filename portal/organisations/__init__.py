"""Organisations (a department, a PLIE, an association), their counsellors and API keys."""
