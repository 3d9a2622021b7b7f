"""The ground floor: helpers every feature may use, importing no feature.

Paris clock and dates, public holidays per department, hashing, phone numbers, text
folding, column types, safe redirects and the shared confirm form.
"""
