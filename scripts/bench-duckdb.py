#!/usr/bin/env python3
"""The segment counts of `segsync bench` run by DuckDB on the same Parquet file, for comparison.

Usage: pip install duckdb && scripts/bench-duckdb.py PATH/profiles-10000000.parquet
(`segsync bench --work-dir DIR` leaves the file in DIR.)
"""
import sys
import time

import duckdb

QUERIES = {
    "gold-us-recent": "tier IN ('gold', 'platinum') AND lower(country) = 'us'"
    " AND last_purchase_at >= now() - INTERVAL 90 DAY",
    "engaged-europe": "newsletter_opt_in AND country IN ('FR', 'DE', 'IE') AND lifetime_value >= 1000",
    "everyone": "profile_id >= 0",
    "us-platinum-or-big-spenders": "(country = 'US' AND tier = 'platinum') OR lifetime_value > 4900",
}


def main() -> None:
    path = sys.argv[1]
    con = duckdb.connect()
    for name, where in QUERIES.items():
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            (members,) = con.execute(f"SELECT count(*) FROM read_parquet(?) WHERE {where}", [path]).fetchone()
            timings.append(time.perf_counter() - started)
        timings.sort()
        print(f"    {name:<30} {members:>10} members   count in {timings[0]:.3f} s (best of 3; median {timings[1]:.3f} s)")


if __name__ == "__main__":
    main()
