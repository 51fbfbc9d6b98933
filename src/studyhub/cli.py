"""The `studyhub` command line (DESIGN.md §13)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from studyhub.core.config import get_settings

app = typer.Typer(
    help="StudyHub Backend Service: serve the API and manage its database.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


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

    settings = get_settings()
    console.print(
        f"StudyHub API on http://{host}:{port}  (docs: http://{host}:{port}/docs)",
        highlight=False,
    )
    uvicorn.run(
        "studyhub.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        proxy_headers=False,  # the app decides which peers are trusted proxies (TRUSTED_PROXIES)
        server_header=False,
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
    console.print(
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
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    console.print(f"[green]Created admin[/] {username} (id {user_id})")


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
    from studyhub.seed import print_logins, seed_demo

    created = asyncio.run(seed_demo(get_settings(), if_empty=if_empty))
    if created is None:
        console.print("Database already has data; seed skipped.")
        return
    print_logins(console, created)


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
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    console.print(f"Queued {count} lecture file(s) for indexing")


@app.command()
def openapi(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout)")
    ] = None,
) -> None:
    """Write the OpenAPI schema as JSON.

    Example: studyhub openapi --output openapi.json
    """
    from studyhub.app import create_app

    schema = create_app(get_settings()).openapi()
    text = json.dumps(schema, indent=2, sort_keys=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"Wrote {output}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    app()
