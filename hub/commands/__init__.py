"""One module per group of `hub` commands; each exposes `register(app)`."""
