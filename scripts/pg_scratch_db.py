"""Create or drop a scratch PostgreSQL database next to the one in a URL.

python scripts/pg_scratch_db.py create URL NAME   # prints the scratch database's URL
python scripts/pg_scratch_db.py drop URL NAME
"""

from __future__ import annotations

import asyncio
import re
import sys

import asyncpg
from sqlalchemy.engine import make_url


async def main(action: str, url: str, name: str) -> None:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise SystemExit(f"bad database name: {name!r}")
    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if action == "create":
            await conn.execute(f'CREATE DATABASE "{name}"')
            print(parsed.set(database=name).render_as_string(hide_password=False))
    finally:
        await conn.close()


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in {"create", "drop"}:
        raise SystemExit(__doc__)
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
