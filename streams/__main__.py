"""`python -m streams`: run the faust worker with the hub's settings (what `hub up` starts)."""

from __future__ import annotations

from streams.worker.main import main

if __name__ == "__main__":
    main()
