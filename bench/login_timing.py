"""Login timing: an unknown user and a wrong password must take the same time.

Runs the real server with production argon2 parameters (m=64 MiB, t=3, p=4), alternates failed
logins of both kinds, and compares the medians. Exits 1 if they differ by 25 % or more.

    .venv/bin/python -m bench.login_timing [--rounds 40]
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

from bench._server import serve, studyhub

LIMIT = 0.25


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        env = {
            "ENVIRONMENT": "development",
            "DATABASE_URL": f"sqlite:///{cwd / 'bench.db'}",
            "LOG_DIR": "",
            "LOG_LEVEL": "WARNING",
            "PASSWORD_HASH_FAST": "false",
            "SEED_PASSWORD": "bench-password-1",
            # The lockouts would otherwise end the run after a few failures.
            "LOGIN_MAX_FAILURES_PER_ACCOUNT": "1000000",
            "LOGIN_MAX_FAILURES_PER_IP": "1000000",
            "RATE_LIMIT_PER_MINUTE": "1000000",
        }
        studyhub(["init-db"], env, cwd)
        studyhub(["seed"], env, cwd)
        timings: dict[str, list[float]] = {"unknown user": [], "wrong password": []}
        bodies = {
            "unknown user": {"username": "no-such-user", "password": "wrong-password-1"},
            "wrong password": {"username": "student", "password": "wrong-password-1"},
        }
        with serve(env, cwd) as url, httpx.Client(base_url=url, timeout=30) as client:
            for kind in bodies:  # warm-up
                client.post("/api/v1/auth/login", json=bodies[kind])
            for _ in range(args.rounds):
                for kind, body in bodies.items():
                    started = time.perf_counter()
                    response = client.post("/api/v1/auth/login", json=body)
                    timings[kind].append(time.perf_counter() - started)
                    assert response.status_code == 401, response.text
    medians = {kind: statistics.median(values) * 1000 for kind, values in timings.items()}
    low, high = min(medians.values()), max(medians.values())
    difference = (high - low) / low
    result = {
        "rounds": args.rounds,
        "median_ms": {k: round(v, 2) for k, v in medians.items()},
        "difference_percent": round(difference * 100, 2),
        "limit_percent": LIMIT * 100,
        "ok": difference < LIMIT,
    }
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "results" / "login_timing.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
