"""The counsellors' workspace."""
