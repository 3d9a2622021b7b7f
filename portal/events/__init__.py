"""What happened on the portal, for the back office: the event log and webhooks."""
