"""DESIGN.md §4-§5 enforced on the source tree (AST, no imports of the code under test)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "studyhub"
DOMAINS = {p.name for p in SRC.iterdir() if p.is_dir() and p.name not in {"core", "__pycache__"}}
# Only these own a transaction: the request boundary and command-line entry points.
COMMIT_ALLOWED = {"core/db.py", "seed.py", "cli.py"}
JWT_WRAPPER = "core/security.py"


def _modules() -> list[tuple[str, ast.Module]]:
    return [
        (str(path.relative_to(SRC)), ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted(SRC.rglob("*.py"))
    ]


def _imported_modules(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _calls(tree: ast.Module) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _attr_call(call: ast.Call, attr: str, owner: str | None = None) -> bool:
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr != attr:
        return False
    return owner is None or (isinstance(func.value, ast.Name) and func.value.id == owner)


def _is_router(rel: str) -> bool:
    return rel.endswith("router.py") or "/routers/" in rel


def test_the_rules_see_the_tree() -> None:
    modules = dict(_modules())
    assert "core/db.py" in modules
    assert "health/router.py" in modules
    assert {"health", "users"} <= DOMAINS


@pytest.mark.parametrize(("rel", "tree"), [m for m in _modules() if _is_router(m[0])])
def test_routers_are_thin(rel: str, tree: ast.Module) -> None:
    imported = _imported_modules(tree)
    assert not any(name.split(".")[0] == "sqlalchemy" for name in imported), rel
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert "HTTPException" not in names, f"{rel} raises HTTPException; raise an AppError"
    assert "AsyncSession" not in names, f"{rel} touches the session"


def test_nothing_commits_outside_the_boundary() -> None:
    offenders = [
        rel
        for rel, tree in _modules()
        if rel not in COMMIT_ALLOWED and any(_attr_call(c, "commit") for c in _calls(tree))
    ]
    assert offenders == []


def test_one_jwt_decode_site() -> None:
    sites = [
        rel
        for rel, tree in _modules()
        for call in _calls(tree)
        if _attr_call(call, "decode", "jwt") or _attr_call(call, "get_unverified_claims", "jwt")
    ]
    assert set(sites) <= {JWT_WRAPPER}
    assert len(sites) <= 1


def test_core_imports_no_domain() -> None:
    for rel, tree in _modules():
        if rel.startswith("core/"):
            for name in _imported_modules(tree):
                parts = name.split(".")
                assert not (parts[0] == "studyhub" and len(parts) > 1 and parts[1] in DOMAINS), (
                    f"{rel} imports {name}"
                )


def test_relationships_never_lazy_load() -> None:
    for rel, tree in _modules():
        for call in _calls(tree):
            if isinstance(call.func, ast.Name) and call.func.id == "relationship":
                lazy = [k for k in call.keywords if k.arg == "lazy"]
                assert lazy, f"{rel}: relationship() without lazy="
                value = lazy[0].value
                assert isinstance(value, ast.Constant)
                assert value.value in {"raise", "raise_on_sql"}
