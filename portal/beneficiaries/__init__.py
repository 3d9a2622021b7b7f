"""The people on the portal, and each organisation's follow-up of them."""
