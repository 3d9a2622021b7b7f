"""The front door: the landing page, a signed-in beneficiary's home, the language switch."""
