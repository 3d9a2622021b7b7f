"""The beneficiary's pathway: steps from every organisation, in one timeline."""
