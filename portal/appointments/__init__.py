"""Slots offered by counsellors and the appointments booked on them."""
