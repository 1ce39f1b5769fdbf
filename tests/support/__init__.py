"""Helpers shared by tests: building events and plans without going through a broker."""
