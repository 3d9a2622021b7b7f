"""The counsellors' caseload: search, filters, the at-risk rules, the staff home's to-do."""
