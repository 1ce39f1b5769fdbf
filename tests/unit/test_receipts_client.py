"""The producer asks for receipts with its partner token, and says plainly when refused."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from producers import receipts
from producers.receipts import HubUnreachable, recorded_event_ids

URL = "http://hub.test"


def answering(status: int, body: dict[str, Any], seen: list[httpx.Request]) -> Any:
    def post(url: str, json: Any, headers: dict[str, str], timeout: float) -> httpx.Response:
        request = httpx.Request("POST", url, json=json, headers=headers)
        seen.append(request)
        return httpx.Response(status, json=body, request=request)

    return post


def test_the_token_is_sent_as_a_bearer_header(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []
    monkeypatch.setattr(receipts.httpx, "post", answering(200, {"recorded": ["a"]}, seen))
    assert recorded_event_ids(URL, ["a", "b"], "jch_secret") == {"a"}
    assert seen[0].headers["authorization"] == "Bearer jch_secret"
    assert str(seen[0].url) == f"{URL}/receipts"


def test_a_refused_or_missing_token_keeps_everything_in_the_outbox(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[httpx.Request] = []
    refusal = {"detail": "this token has been revoked"}
    monkeypatch.setattr(receipts.httpx, "post", answering(401, refusal, seen))
    with pytest.raises(HubUnreachable, match=r"refused the token.*revoked"):
        recorded_event_ids(URL, ["a"], "jch_old")
    with pytest.raises(HubUnreachable, match="HUB_API_TOKEN_FILE"):
        recorded_event_ids(URL, ["a"], None)
    assert recorded_event_ids(URL, [], None) == set()  # nothing to ask about
