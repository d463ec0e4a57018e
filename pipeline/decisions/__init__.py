"""The topic decision wired to the store: which model, what it learns from, classifying stored
items (classify.py), and the staff verdicts that override it (review.py)."""
