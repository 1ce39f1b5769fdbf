"""The hub's command line, typed settings and the embedded stack that `hub up` runs.

Everything that reads the environment lives here; the packages below take plain arguments.
"""
