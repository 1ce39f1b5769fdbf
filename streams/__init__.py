"""faust agents that turn partner events into the hub's living views (event store, scorecard)."""
