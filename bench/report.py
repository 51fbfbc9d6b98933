"""The benchmark summary: every result in bench/results/ checked against the performance targets,
written to bench/results/summary.md and between the markers of the README's Benchmarks section.

    .venv/bin/python -m bench.report          (`make bench` runs it last)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
README = Path(__file__).parents[1] / "README.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
READ_SCENARIOS = ("health", "course-hot", "outline-hot", "courses-list", "search", "course-cold")


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def _scenario(run: dict[str, Any], prefix: str) -> dict[str, Any] | None:
    return next((r for r in run["results"] if r["scenario"].startswith(prefix)), None)


def _row(target: str, measured: str, met: bool | None) -> str:
    verdict = "—" if met is None else ("met" if met else "**missed**")
    return f"| {target} | {measured} | {verdict} |"


def targets(run: dict[str, Any] | None, progress: dict[str, Any] | None, label: str) -> list[str]:
    rows: list[str] = []
    if run:
        for prefix, floor in (("course-hot", 0.15), ("course-cold", 0.08)):
            found = _scenario(run, prefix)
            if found:
                rows.append(
                    _row(
                        f"{label}: `GET /courses/{{id}}` {prefix[7:]} ≥ {floor}× bare",
                        f"{found['ratio_rps']:.3f}× ({found['requests_per_second']:.0f} req/s)",
                        found["ratio_rps"] >= floor,
                    )
                )
        worst = max(
            (r for r in run["results"] if r["scenario"].startswith(READ_SCENARIOS)),
            key=lambda r: r["p99_ms"] / max(r["p50_ms"], 0.001),
            default=None,
        )
        if worst:
            ratio = worst["p99_ms"] / max(worst["p50_ms"], 0.001)
            rows.append(
                _row(
                    f"{label}: p99 ≤ 4 × p50 in every read scenario",
                    f"worst {ratio:.1f}× ({worst['scenario']})",
                    ratio <= 4,
                )
            )
        login = _scenario(run, "login")
        if login:
            rows.append(
                _row(
                    f"{label}: `/health` p99 ≤ 20 ms during 8 logins",
                    f"{login['p99_ms']:.1f} ms ({login['requests_per_second']:.1f} logins/s)",
                    login["p99_ms"] <= 20,
                )
            )
        rows.append(
            _row(
                f"{label}: RSS ≤ 150 MB after the run",
                f"{run['rss_mb_after_run']} MB",
                run["rss_mb_after_run"] <= 150,
            )
        )
        rows.append(
            _row(
                f"{label}: startup to ready ≤ 2 s",
                f"{run['startup_to_ready_seconds']} s",
                run["startup_to_ready_seconds"] <= 2,
            )
        )
    if progress:
        floor = 20_000 if label == "SQLite" else 10_000
        best = max(
            progress["batch_ingest_sequential"]["events_per_second"],
            progress["batch_ingest_4_clients"]["events_per_second"],
        )
        rows.append(
            _row(f"{label}: batch ingestion ≥ {floor:,} events/s", f"{best:,}", best >= floor)
        )
        table = progress["students_page_50_by_percentage"]["p50_ms"]
        rows.append(_row(f"{label}: staff table p50 ≤ 50 ms", f"{table} ms", table <= 50))
        summary = progress["summary"]["p50_ms"]
        rows.append(_row(f"{label}: summary p50 ≤ 100 ms", f"{summary} ms", summary <= 100))
    return rows


def progress_table(progress: dict[str, Any]) -> list[str]:
    lines = ["| progress (2,000 students × 100 lectures) | " + " | ".join(progress) + " |"]
    lines.append("|---|" + "---|" * len(progress))
    for key, label in (
        ("students_page_50_by_percentage", "staff table, page of 50 by percentage (p50 / p99)"),
        ("students_page_50_by_name_page_20", "staff table, page 20 by name (p50 / p99)"),
        ("summary", "course summary (p50 / p99)"),
        ("one_student_course_progress", "one student's course progress (p50 / p99)"),
    ):
        cells = [f"{db[key]['p50_ms']} / {db[key]['p99_ms']} ms" for db in progress.values()]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for key, label in (
        ("batch_ingest_sequential", "batch of 500, one client (events/s)"),
        ("batch_ingest_4_clients", "batch of 500, four clients (events/s)"),
    ):
        cells = [f"{db[key]['events_per_second']:,}" for db in progress.values()]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def summary() -> str:
    runs = {"SQLite": _load("latest-sqlite.json"), "PostgreSQL": _load("latest-postgresql.json")}
    progress = _load("progress.json") or {}
    parts = ["### Targets (performance issue), this machine", ""]
    parts += ["| target | measured | |", "|---|---|---|"]
    for label, key in (("SQLite", "sqlite"), ("PostgreSQL", "postgresql")):
        parts += targets(runs[label], progress.get(key), label)
    for label, run in runs.items():
        md = RESULTS / f"latest-{'sqlite' if label == 'SQLite' else 'postgresql'}.md"
        if run and md.exists():
            parts += ["", f"### {label} (`bench.run`)", "", md.read_text().strip()]
    if progress:
        parts += ["", "### Progress at scale (`bench.progress`)", "", *progress_table(progress)]
    search = _load("search_latency.json")
    if search:
        parts += [
            "",
            f"`/search` with a {search['delay_ms_each']:.0f} ms StudyIndexer and as much DB work: "
            f"{search['median_ms']['both']} ms median (sequential would be "
            f"{search['if_sequential_ms']} ms; `bench.search_latency`).",
        ]
    login = _load("login_timing.json")
    if login:
        medians = login["median_ms"]
        parts += [
            "",
            f"Login timing with production argon2 (`bench.login_timing`): unknown user "
            f"{medians['unknown user']} ms vs wrong password {medians['wrong password']} ms median "
            f"({login['difference_percent']} % apart).",
        ]
    return "\n".join(parts) + "\n"


def main() -> int:
    text = summary()
    (RESULTS / "summary.md").write_text(text)
    readme = README.read_text()
    if BEGIN in readme and END in readme:
        head, rest = readme.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        README.write_text(f"{head}{BEGIN}\n{text}{END}{tail}")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
