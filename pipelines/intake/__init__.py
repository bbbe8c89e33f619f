"""Received files → archived, identified, read into raw values, with a receipt each."""
