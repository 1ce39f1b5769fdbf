"""The framework ceiling for `hub bench stream`: a faust agent that only decodes, in batches.

Run as `python -m hub.bench.ceiling`; configured by environment (BENCH_BOOTSTRAP,
BENCH_TOPICS comma-separated, BENCH_EVENTS, BENCH_RESULT). When it has decoded
BENCH_EVENTS messages it writes {"events", "seconds"} (first to last message) to
BENCH_RESULT. What the hub's worker does on top of this is the hub's own cost.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import faust

from schemas.catalogue import default_catalogue
from schemas.codec import decode


def main() -> None:
    bootstrap = os.environ["BENCH_BOOTSTRAP"]
    topics = os.environ["BENCH_TOPICS"].split(",")
    expected = int(os.environ["BENCH_EVENTS"])
    result = Path(os.environ["BENCH_RESULT"])
    app = faust.App(
        f"bench-ceiling-{os.getpid()}",
        broker=f"kafka://{bootstrap}",
        datadir=tempfile.mkdtemp(prefix="ceiling-"),
        web_enabled=False,
        store="memory://",
        topic_allow_declare=False,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
    )
    source = app.topic(*topics, value_serializer="raw", key_serializer="raw")
    catalogue = default_catalogue()
    seen = {"count": 0, "first": 0.0}

    @app.agent(source)
    async def decode_only(stream: Any) -> None:
        async for values in stream.take(1000, within=0.5):
            if seen["count"] == 0:
                seen["first"] = time.perf_counter()
            for value in values:
                decode(catalogue, value)
            seen["count"] += len(values)
            if seen["count"] >= expected:
                elapsed = time.perf_counter() - seen["first"]
                result.write_text(json.dumps({"events": seen["count"], "seconds": elapsed}))

    app.main()


if __name__ == "__main__":
    import sys

    sys.argv = [sys.argv[0], "worker", "-l", "warn"]
    main()
