"""Prefect flows that reconcile partner extracts with the event store and check data quality.

Each flow's logic lives in plain functions (tested directly); the flows only
orchestrate them and store their results in the warehouse.
"""
