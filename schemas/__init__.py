"""Avro schemas for every event the hub accepts, and the single-object codec for them.

One `.avsc` per event type and version lives in `schemas/avro/`; readers find a
writer's schema by its CRC-64-AVRO fingerprint, so no registry service is needed.
"""
