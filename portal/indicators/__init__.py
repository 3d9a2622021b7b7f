"""Indicators the experiment is judged on: 90-day activity rate, delays, no-shows, SMS."""
