"""Search latency: the StudyIndexer call and the permission query must overlap.

Runs the real server (uvicorn subprocess) against the fake StudyIndexer answering /search in
300 ms, with the permission query slowed to 300 ms by BENCH_SEARCH_DB_DELAY_SECONDS (a setting
refused in production). Run one after the other they would take ~600 ms; overlapped, ~300 ms.
Also measures each delay alone as the reference. Exits 1 if the combined median is closer to the
sum than to the larger of the two.

    .venv/bin/python -m bench.search_latency [--rounds 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from tests.support.fake_indexer import API_KEY, Document, FakeIndexer

from bench._server import serve, studyhub

DELAY = 0.3


def _median_ms(url: str, rounds: int) -> float:
    with httpx.Client(base_url=url, timeout=30) as client:
        login = client.post(
            "/api/v1/auth/login", json={"username": "student", "password": "bench-password-1"}
        )
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        client.get("/api/v1/search", params={"q": "warm up"}, headers=headers)
        timings = []
        for _ in range(rounds):
            started = time.perf_counter()
            response = client.get(
                "/api/v1/search", params={"q": "enzymes", "scope": "courses"}, headers=headers
            )
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
    return statistics.median(timings) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    fake = FakeIndexer()
    fake.start()
    # Hits that join with nothing in the database: the join query still runs, nothing leaks.
    for n in range(20):
        fake.documents[f"doc{n}"] = Document(
            f"doc{n}", f"Doc {n}", "enzymes everywhere", "text", "course", [], 1, status="completed"
        )
    fake.set_mode("slow", delay=DELAY)
    results: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cwd = Path(tmp)
            env = {
                "ENVIRONMENT": "development",
                "DATABASE_URL": f"sqlite:///{cwd / 'bench.db'}",
                "LOG_DIR": "",
                "LOG_LEVEL": "WARNING",
                "PASSWORD_HASH_FAST": "true",
                "SEED_PASSWORD": "bench-password-1",
                "RATE_LIMIT_PER_MINUTE": "1000000",
                "INDEXER_URL": fake.url,
                "INDEXER_API_KEY": API_KEY,
                "OUTBOX_RELAY_ENABLED": "false",
            }
            studyhub(["init-db"], env, cwd)
            studyhub(["seed"], env, cwd)
            cases = {
                "indexer_only": ({"BENCH_SEARCH_DB_DELAY_SECONDS": "0"}, DELAY),
                "db_only": ({"BENCH_SEARCH_DB_DELAY_SECONDS": str(DELAY)}, 0.0),
                "both": ({"BENCH_SEARCH_DB_DELAY_SECONDS": str(DELAY)}, DELAY),
            }
            for name, (extra, indexer_delay) in cases.items():
                fake.delay = indexer_delay
                with serve({**env, **extra}, cwd) as url:
                    results[name] = _median_ms(url, args.rounds)
    finally:
        fake.stop()
    sequential = results["indexer_only"] + results["db_only"]
    overlapped = max(results["indexer_only"], results["db_only"])
    ok = abs(results["both"] - overlapped) < abs(results["both"] - sequential)
    report = {
        "rounds": args.rounds,
        "delay_ms_each": DELAY * 1000,
        "median_ms": {k: round(v, 1) for k, v in results.items()},
        "if_sequential_ms": round(sequential, 1),
        "both_over_slowest": round(results["both"] / overlapped, 3),
        "ok": ok,
    }
    print(json.dumps(report, indent=2))
    out = Path(__file__).parent / "results" / "search_latency.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
