"""Data-sharing contracts: who may publish which events, with which fields, for what purpose.

Contracts are YAML files validated on load; the gatekeeper and the producers ask
the same pure question of them: may this event enter?
"""
