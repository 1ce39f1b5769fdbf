"""The stream worker: the faust process that consumes and the batch writer that stores.

A runtime shell: it wires the admission rules and the views' domain (in `streams/`)
to storage (`warehouse/`), and is started by `python -m streams` or `hub up`.
"""
