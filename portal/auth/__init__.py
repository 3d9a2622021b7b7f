"""Signing in: beneficiaries by SMS code or invitation link, counsellors by password."""
