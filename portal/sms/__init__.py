"""Every SMS goes through the outbox; backends send it (console or Twilio)."""
