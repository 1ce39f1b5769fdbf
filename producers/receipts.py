"""Asking the hub which events it has recorded, so the outbox may forget them.

The hub answers a partner's own token only (`Authorization: Bearer ...`, a `partner`
token bound to the partner's party: `hub tokens create --role partner --party ...`), and
confirms only that partner's events.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

CHUNK = 5_000


class HubUnreachable(RuntimeError):
    """The hub's API did not confirm receipts; nothing is removed from the outbox."""


def recorded_event_ids(
    api_url: str, event_ids: Sequence[str], token: str | None, timeout: float = 30
) -> set[str]:
    if not event_ids:
        return set()
    if not token:
        raise HubUnreachable(
            "no API token to ask the hub for receipts: set HUB_API_TOKEN_FILE (or HUB_API_TOKEN)"
            " to your partner token"
        )
    headers = {"Authorization": f"Bearer {token}"}
    recorded: set[str] = set()
    for start in range(0, len(event_ids), CHUNK):
        chunk = list(event_ids[start : start + CHUNK])
        try:
            response = httpx.post(
                f"{api_url}/receipts", json={"event_ids": chunk}, headers=headers, timeout=timeout
            )
        except httpx.HTTPError as error:
            raise HubUnreachable(
                f"the hub API at {api_url} did not confirm receipts ({type(error).__name__})"
            ) from None
        if response.status_code in (401, 403):
            raise HubUnreachable(
                f"the hub API at {api_url} refused the token ({response.status_code}:"
                f" {_detail(response)}): it must be a current partner token for this source"
            )
        if response.status_code != 200:
            raise HubUnreachable(
                f"the hub API at {api_url} did not confirm receipts (status {response.status_code})"
            )
        recorded.update(response.json()["recorded"])
    return recorded


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", ""))
    except ValueError:
        return ""
