"""`make bench`: start a throwaway PostgreSQL, run every benchmark, print one line each."""

from __future__ import annotations

import asyncio
import sys

from bench import sweep_cost
from devstack.postgres import start_postgres


async def _main() -> None:
    cluster = start_postgres()
    try:
        sys.stdout.write(await sweep_cost.run(cluster) + "\n")
    finally:
        cluster.destroy()


if __name__ == "__main__":
    asyncio.run(_main())
