"""Immersion, training, volunteering and job offers near the person."""
