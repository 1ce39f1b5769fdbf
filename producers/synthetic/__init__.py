"""Synthetic partner data for demos and tests: never a real identifier, always reproducible."""
