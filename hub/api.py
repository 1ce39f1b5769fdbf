"""`python -m hub.api`: the HTTP API's process, with the hub's settings read once.

The app itself (`warehouse/api.py`) takes the warehouse's address as an argument; this
entry point is the shell that reads `HUB_*` settings and serves it with uvicorn.
"""

from __future__ import annotations

import uvicorn

from hub.settings import HubSettings
from warehouse.api import create_app


def main() -> None:
    settings = HubSettings()
    uvicorn.run(
        create_app(settings.warehouse_dsn()),
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
