"""Reference data the JSNA needs: LSOA -> locality, and population denominators.

Loading replaces the previous figures wholesale, in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg


def load_reference(
    conn: psycopg.Connection,
    localities: Sequence[tuple[str, ...]],
    population: Sequence[tuple[str, ...]],
) -> None:
    with conn.transaction(), conn.cursor() as cursor:
        cursor.execute("DELETE FROM reference_localities")
        cursor.executemany(
            "INSERT INTO reference_localities (lsoa_code, locality) VALUES (%s, %s)",
            [(code, locality) for code, locality in localities],
        )
        cursor.execute("DELETE FROM reference_population")
        cursor.executemany(
            "INSERT INTO reference_population (year, dimension, value, people)"
            " VALUES (%s, %s, %s, %s)",
            [(int(year), dim, value, int(people)) for year, dim, value, people in population],
        )
