"""The producer's outbox: durable before sending, forgotten only after the hub's receipt."""

from pathlib import Path

from producers.outbox import Outbox, OutboxEntry, insert_entries


def entry(event_id: str, kind: str = "event") -> OutboxEntry:
    return OutboxEntry(event_id, "education.events", b"key", b"value", "x1", kind)


def test_entries_survive_a_crash_and_are_kept_once(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    outbox = Outbox(path)
    assert outbox.enqueue([entry("a"), entry("b"), entry("a")]) == 2
    del outbox  # no close: as if the process were killed
    with Outbox(path) as reopened:
        assert [e.event_id for e in reopened.pending()] == ["a", "b"]
        assert reopened.enqueue([entry("b"), entry("c")]) == 1


def test_manifests_are_sent_after_the_events(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite") as outbox:
        outbox.enqueue([entry("m", kind="manifest"), entry("a"), entry("b")])
        assert [e.event_id for e in outbox.pending()] == ["a", "b", "m"]


def test_only_acknowledged_events_can_be_forgotten(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite") as outbox:
        outbox.enqueue([entry("a"), entry("b"), entry("m", kind="manifest")])
        assert outbox.remove_recorded(["a"]) == 0  # not yet sent: kept
        outbox.mark_acknowledged(["a", "m"])
        assert outbox.acknowledged_ids() == ["a"]
        assert outbox.remove_acknowledged_manifests() == 1
        assert outbox.remove_recorded(["a", "b"]) == 1
        status = outbox.status()
        assert (status.pending, status.acknowledged) == (1, 0)
        assert status.oldest_pending is not None
        assert not status.empty


def test_a_transaction_interrupted_writes_nothing(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite") as outbox:
        try:
            with outbox.transaction() as db:
                insert_entries(db, [entry("a")])
                raise KeyboardInterrupt  # Ctrl-C half-way through a chunk
        except KeyboardInterrupt:
            pass
        assert outbox.pending() == []
        outbox.enqueue([entry("a"), entry("b"), entry("m", kind="manifest")])
        outbox.mark_acknowledged(["b"])
        assert outbox.pending_of_extract("x1") == 2
        assert outbox.pending_of_extract("x1", kind="event") == 1
        assert outbox.pending_of_extract("x2") == 0
