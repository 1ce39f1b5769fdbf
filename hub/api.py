"""`python -m hub.api`: the HTTP API's process, with the hub's settings read once.

The app itself (`warehouse/api/`) takes the warehouse's address as an argument; this
entry point is the shell that reads `HUB_*` settings and serves it with uvicorn,
connected as the API's least-privilege login role (`HUB_API_WAREHOUSE_USER`), publishing
partners' posted events to the broker (`HUB_BROKER_HOST/PORT`) for the hub's contract
and area (`HUB_CONTRACT_ID`, `HUB_AREA_CODE`), its dashboard headed with `HUB_AREA_NAME`.
"""

from __future__ import annotations

import uvicorn

from contracts.decisions import Area
from hub.settings import HubSettings
from warehouse.api import create_app


def main() -> None:
    settings = HubSettings()
    uvicorn.run(
        create_app(
            settings.api_warehouse_dsn(),
            topic_prefix=settings.topic_prefix,
            broker_bootstrap=settings.broker_bootstrap,
            broker_access=settings.broker_access(),
            area=Area(settings.contract_id, settings.area_code),
            area_name=settings.area_name,
            keep_fresh=True,
        ),
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
        server_header=False,
    )


if __name__ == "__main__":
    main()
