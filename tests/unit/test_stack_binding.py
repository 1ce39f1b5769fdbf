"""The embedded stack listens on loopback only: no TLS, trusted local connections."""

from hub.settings import HubSettings
from hub.stack.supervisor import not_loopback, port_claims


def test_by_default_every_component_listens_on_127_0_0_1() -> None:
    assert {claim.host for claim in port_claims(HubSettings())} == {"127.0.0.1"}
    assert not_loopback(HubSettings()) is None


def test_a_wider_address_is_refused_with_the_setting_to_change() -> None:
    reason = not_loopback(HubSettings(api_host="0.0.0.0", warehouse_host="10.1.2.3"))
    assert reason is not None
    assert "HUB_API_HOST=0.0.0.0" in reason and "HUB_WAREHOUSE_HOST=10.1.2.3" in reason
    assert not_loopback(HubSettings(api_host="localhost", broker_host="127.0.0.2")) is None
