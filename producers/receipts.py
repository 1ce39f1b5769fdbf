"""Asking the hub which events it has recorded, so the outbox may forget them."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

CHUNK = 5_000


class HubUnreachable(RuntimeError):
    """The hub's API did not answer; nothing is removed from the outbox."""


def recorded_event_ids(api_url: str, event_ids: Sequence[str], timeout: float = 30) -> set[str]:
    recorded: set[str] = set()
    for start in range(0, len(event_ids), CHUNK):
        chunk = list(event_ids[start : start + CHUNK])
        try:
            response = httpx.post(f"{api_url}/receipts", json={"event_ids": chunk}, timeout=timeout)
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise HubUnreachable(
                f"the hub API at {api_url} did not confirm receipts ({type(error).__name__})"
            ) from None
        recorded.update(response.json()["recorded"])
    return recorded
