"""/api/v1: the back-office sync API. Thin: it validates, calls the services, answers."""
