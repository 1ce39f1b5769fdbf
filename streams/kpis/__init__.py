"""The scorecard's KPI declarations, one module per perspective of the balanced scorecard.

`streams/scorecard.py` assembles them into the catalogue.
"""
