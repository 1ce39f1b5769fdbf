"""The dashboard: server-rendered pages over the warehouse, served by the API's process.

Pages are built with the GOV.UK Design System (vendored under `static/govuk/`, no request
leaves the page), behind a session opened by signing in with an API token. `app.py` lists
the routers; `layout.py` renders a page; `guard.py` decides who may open it.
"""
