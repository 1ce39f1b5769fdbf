"""The hub's HTTP API (FastAPI): every figure that leaves by HTTP, to a signed-in role.

Its process entry point is `python -m hub.api`, which reads the settings once and calls
`create_app`: this package takes plain arguments. `app.py` holds the route table with
each route's allowed roles, `routes.py` the answers and `downloads.py` the files,
`policy.py` sign-in, `access.py` the access log, `problems.py` the error format,
`models.py` the answers' shapes.
"""

from warehouse.api.app import ROUTES, Route, create_app

__all__ = ["ROUTES", "Route", "create_app"]
