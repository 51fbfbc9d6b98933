"""The `studyhub` command line (DESIGN.md §13)."""

from __future__ import annotations

import asyncio
import json
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from studyhub.core.config import get_settings

if TYPE_CHECKING:
    from rich.console import Console

EXIT_CODES = (
    "Exit codes: 0 success; 1 unexpected error (e.g. database unreachable) or a failed check "
    "(openapi --check); 2 usage or validation error (unknown option, bad value, invalid or taken "
    "username)."
)

app = typer.Typer(
    help="StudyHub Backend Service: serve the API and manage its database.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@cache
def console(stderr: bool = False) -> Console:
    """rich's console, created (and rich imported) on first use: `serve` prints one plain line
    and starts faster without it."""
    from rich.console import Console

    return Console(stderr=stderr)


def err_console() -> Console:
    return console(stderr=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 5000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development)")] = False,
) -> None:
    """Serve the API with uvicorn.

    Example: studyhub serve --port 5000 --workers 2
    """
    import uvicorn

    from studyhub.core.metrics_dir import prepare_multiprocess_dir
    from studyhub.core.startup_gc import pause_collection

    settings = get_settings()
    prepare_multiprocess_dir()
    if workers == 1 and not reload:
        pause_collection()  # until create_app has built the app: see core/startup_gc.py
    typer.echo(f"StudyHub API on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    uvicorn.run(
        "studyhub.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        proxy_headers=False,  # the app decides which peers are trusted proxies (TRUSTED_PROXIES)
        server_header=False,
        # In-flight requests get this long to finish after SIGTERM; idle keep-alive connections
        # must not hold a rolling deploy hostage.
        timeout_graceful_shutdown=10,
        log_level=settings.log_level.lower(),
        access_log=False,
    )


@app.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (alembic upgrade head).

    Example: DATABASE_URL=postgresql://user@host/db studyhub init-db
    """
    from studyhub.core.migrations import upgrade_head

    settings = get_settings()
    upgrade_head(settings.database_url)
    console().print(
        f"[green]Database is at the latest schema[/] ({_safe_url(settings.database_url)})"
    )


@app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(help="Login name")],
    email: Annotated[str, typer.Option(help="Email address")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Create an administrator. The password is prompted for (or read from stdin); never a default.

    Example: printf '%s' "$ADMIN_PASSWORD" | studyhub create-admin --username root \\
    --email root@example.org --password-stdin
    """
    from studyhub.seed import create_admin_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user_id = asyncio.run(create_admin_user(get_settings(), username, email, password))
    except ValueError as exc:
        err_console().print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    console().print(f"[green]Created admin[/] {username} (id {user_id})")


@app.command()
def seed(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing when the database already has users")
    ] = False,
) -> None:
    """Load demo data (idempotent: existing demo rows are kept). Prints new demo logins once.

    Passwords come from SEED_PASSWORD when set, else are generated.
    Example: studyhub seed
    """
    from studyhub.seed import print_report, seed_demo

    report = asyncio.run(seed_demo(get_settings(), if_empty=if_empty))
    if report is None:
        console().print("Database already has data; seed skipped.")
        return
    print_report(console(), report)


@app.command("import-course")
def import_course(
    file: Annotated[Path, typer.Argument(help="A course export (JSON) of the original StudyHub")],
    publish: Annotated[
        bool, typer.Option("--publish", help="Publish the course, its weeks and lectures")
    ] = False,
    keep_dates: Annotated[
        bool,
        typer.Option(
            "--keep-dates", help="Keep the file's dates (default: shift them to start today)"
        ),
    ] = False,
    teacher: Annotated[
        str | None, typer.Option(help="Username of an existing user who will teach the course")
    ] = None,
) -> None:
    """Import a course export: course, weeks, lectures, questions, assignments.

    All or nothing, in one transaction. A course code that exists already is refused (exit 3);
    an unreadable or malformed file is refused (exit 2) naming the place, e.g. questions[3].type.
    Questions and assignments that cannot be auto-graded are skipped and listed.
    Example: studyhub import-course se101.json --publish --teacher teacher
    """
    from studyhub.importer.service import ImportFailed, load

    try:
        data = load(file)
        report = asyncio.run(_import(data, publish=publish, keep_dates=keep_dates, teacher=teacher))
    except ImportFailed as exc:
        err_console().print(f"[red]error:[/] {exc}", highlight=False)
        err_console().print("Nothing was imported.")
        raise typer.Exit(exc.exit_code) from exc
    _print_import_report(report)


async def _import(data: Any, *, publish: bool, keep_dates: bool, teacher: str | None) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from studyhub.core.db import Database, create_engine
    from studyhub.importer.service import CourseImporter, count_items

    database = Database(create_engine(get_settings()))
    try:
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console()
        ) as progress:
            task = progress.add_task(f"Importing {data.course.code}", total=count_items(data))
            async with database.session() as session:
                importer = CourseImporter(session, lambda: progress.advance(task))
                report = await importer.run(
                    data, publish=publish, keep_dates=keep_dates, teacher=teacher
                )
                await session.commit()  # one transaction: all or nothing
        return report
    finally:
        await database.dispose()


def _print_import_report(report: Any) -> None:
    from rich.table import Table

    table = Table(title=f"Imported {report.code} (course id {report.course_id})")
    for column in ("", "in file", "imported", "skipped"):
        table.add_column(column, justify="right" if column else "left")
    for name, total in report.in_file.items():
        done = report.imported.get(name, 0)
        table.add_row(name, str(total), str(done), str(total - done))
    console().print(table)
    if report.day_shift:
        console().print(f"Dates shifted by {report.day_shift} days (--keep-dates keeps them).")
    for line in report.skipped:
        console().print(f"[yellow]skipped[/] {line}", highlight=False)
    for line in report.notes:
        console().print(f"note: {line}", highlight=False)


@app.command()
def reindex(
    course: Annotated[
        str | None, typer.Option("--course", help="Only this course (its code)")
    ] = None,
) -> None:
    """Queue lecture files for indexing again; a server with INDEXER_URL set delivers them.

    Example: studyhub reindex --course CS101
    """
    from studyhub.outbox.reindex import enqueue_reindex

    try:
        count = asyncio.run(enqueue_reindex(get_settings(), course))
    except ValueError as exc:
        err_console().print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    console().print(f"Queued {count} lecture file(s) for indexing")


@app.command()
def openapi(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout)")
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Write nothing; exit 1 if --output differs from the current schema"
        ),
    ] = False,
) -> None:
    """Write the OpenAPI schema as JSON (or check a committed copy for drift).

    Example: studyhub openapi --output openapi.json
    Example: studyhub openapi --check --output openapi.json   (what `make openapi-check` runs)
    """
    from studyhub.app import create_app

    schema = create_app(get_settings()).openapi()
    text = json.dumps(schema, indent=2, sort_keys=False) + "\n"
    if check:
        if output is None:
            err_console().print("[red]error:[/] --check needs --output FILE")
            raise typer.Exit(2)
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            err_console().print(
                f"[red]{output} is out of date with the code.[/] Run `make openapi` "
                "(studyhub openapi --output openapi.json) and commit the result."
            )
            raise typer.Exit(1)
        console().print(f"{output} is up to date")
        return
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        console().print(f"Wrote {output}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    app()
