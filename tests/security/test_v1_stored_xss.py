"""ASVS 5.0 V1 Encoding and Sanitization: stored XSS (V1.3.1 HTML sanitised with an allow-list,
V1.2.x output in a context where it cannot execute).

Rich-text fields (HTML the frontend renders) are sanitised on write by `core/sanitize.py`; every
write path of each is driven here with script payloads and read back as staff and as a student.
Plain-text fields (titles, names, question text and options, notes, folder descriptions) are
stored verbatim by design: they are text, never HTML, and reach a browser only as JSON values
(`application/json`, `nosniff`, CSP `default-src 'none'`) or as a `text/markdown`/`text/plain`
attachment, which the last tests check. Escaping them is the frontend's job (React does).

Covered elsewhere:
- tests/courses/test_content.py::test_lecture_crud_and_sanitising (a `<script>` in a lecture body)
- tests/core/test_middleware.py::test_security_headers_on_every_response
- tests/security/test_v5_files.py (uploaded HTML is refused or served as an inert attachment)
"""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx

from studyhub.core.config import Settings
from studyhub.core.db import Database
from tests.security.world import API, Side, build_side

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.test/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<img src=x OnError=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="  JaVaScRiPt:alert(1)">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">click</a>',
    '<a href="&#106;avascript:alert(1)">click</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<iframe src="javascript:alert(1)"></iframe>',
    "<object data=javascript:alert(1)></object><embed src=x.swf>",
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<details open ontoggle="alert(1)">x</details>',
    '<body onload="alert(1)">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.test/">',
    '"><img src=x onerror=alert(1)>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<a href="https://ok.test/" onclick="alert(1)" target="_blank">ok</a>',
    # Last: a sanitiser may drop everything after it (inside <style>), which is fine.
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
]
# Harmless as written, dangerous after a naive filter strips or rewrites part of them.
MUTATIONS = [
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<!--<img src=x onerror=alert(1)>-->",
    '<img src="x` `<script>alert(1)</script>"` `>',
    "<<script>script>alert(1)<</script>/script>",
]
PAYLOAD = "\n".join(MUTATIONS + PAYLOADS)

_DANGEROUS_TAGS = {
    "script", "svg", "math", "style", "iframe", "object", "embed", "form", "button", "input",
    "meta", "base", "link", "body", "html", "frame", "frameset", "details", "template",
    "noscript", "textarea", "select", "option", "video", "audio", "source",
}  # fmt: skip
_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "poster"}
_SAFE_SCHEMES = ("http://", "https://", "mailto:", "/", "#")


class _Checker(HTMLParser):
    """Parses HTML as a browser would (entities decoded) and lists what could execute."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DANGEROUS_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in {"style", "srcdoc", "formaction"}:
                self.problems.append(f"<{tag} {name}=...>")
            if name in _URL_ATTRIBUTES and value is not None:
                url = re.sub(r"[\x00-\x20]", "", value).lower()
                if ":" in url.split("/", 1)[0] and not url.startswith(_SAFE_SCHEMES):
                    self.problems.append(f"<{tag} {name}={value!r}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def executable_markup(html: str) -> list[str]:
    checker = _Checker()
    checker.feed(html)
    checker.close()
    return checker.problems


def test_the_checker_catches_every_payload() -> None:
    """The oracle itself must see each raw payload as dangerous, or a pass would mean nothing."""
    missed = [p for p in PAYLOADS if not executable_markup(p)]
    assert not missed, missed


# (operationId, field) of every rich-text field and write path.
RICH_TEXT = [
    ("courses-create", "description"),
    ("courses-update", "description"),
    ("weeks-create", "description"),
    ("weeks-update", "description"),
    ("lectures-create", "description"),
    ("lectures-create", "body"),
    ("lectures-update", "description"),
    ("lectures-update", "body"),
    ("assignments-create", "description"),
    ("assignments-update", "description"),
]
# The modules calling the sanitiser, and how often: a new call site (a new rich-text field) fails
# this test until the field is added to RICH_TEXT above.
SANITISER_CALLS = {
    "assignments/service.py": 2,
    "courses/content.py": 5,
    "courses/service.py": 2,
    "importer/service.py": 3,  # the Flask-era import: its output is read through the same fields
}


def test_every_sanitised_field_is_exercised() -> None:
    root = Path(__file__).resolve().parents[2] / "src" / "studyhub"
    calls: dict[str, int] = {}
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        count = sum(
            1
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "sanitize_html"
        )
        if count:
            calls[path.relative_to(root).as_posix()] = count
    assert calls == SANITISER_CALLS, "a new rich-text field: add it to RICH_TEXT and here"


async def _write(
    client: httpx.AsyncClient, side: Side, operation: str, field: str
) -> tuple[str, dict[str, Any]]:
    """Store the payload through one operation; return the URL that reads the object back."""
    teacher = side.headers["teacher"]
    base = f"{API}/courses/{side.course.id}"
    week = f"{base}/weeks/{side.week.id}"
    value = {field: PAYLOAD}
    if operation == "courses-create":
        body = {"code": f"XSS{len(field)}", "name": "x", "status": "published", **value}
        response = await client.post(f"{API}/courses", json=body, headers=teacher)
        return f"{API}/courses/{response.json()['id']}", response.json()
    requests: dict[str, tuple[str, str, dict[str, Any], str | None]] = {
        "courses-update": ("PATCH", base, value, base),
        "weeks-create": (
            "POST",
            f"{base}/weeks",
            {"number": 7, "title": "w", "is_published": True, **value},
            None,
        ),
        "weeks-update": ("PATCH", week, value, week),
        "lectures-create": (
            "POST",
            f"{week}/lectures",
            {"title": "l", "content_type": "text", "is_published": True, **value},
            None,
        ),
        "lectures-update": ("PATCH", f"{base}/lectures/{side.lecture.id}", value, None),
        "assignments-create": (
            "POST",
            f"{week}/assignments",
            {"title": "a", "type": "practice", "is_published": True, **value},
            None,
        ),
        "assignments-update": ("PATCH", f"{base}/assignments/{side.assignment_id}", value, None),
    }
    method, url, body, read = requests[operation]
    response = await client.request(method, url, json=body, headers=teacher)
    assert response.status_code in {200, 201}, response.text
    if read is None:
        kind = {"weeks": "weeks", "lectures": "lectures", "assignments": "assignments"}[
            operation.split("-")[0]
        ]
        read = f"{base}/{kind}/{response.json()['id']}"
    return read, response.json()


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


async def test_rich_text_is_sanitised_on_every_write_path(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    side = await build_side(database, settings, client, "xss")
    failures: list[str] = []
    for operation, field in RICH_TEXT:
        read_url, written = await _write(client, side, operation, field)
        answers = {"write": written}
        for role in ("teacher", "student"):
            response = await client.get(read_url, headers=side.headers[role])
            assert response.status_code == 200, (operation, role, response.text)
            answers[role] = response.json()
        outline = await client.get(
            read_url.split("/weeks")[0].split("/lectures")[0].split("/assignments")[0],
            headers=side.headers["student"],
        )
        answers["outline"] = outline.json()
        for where, answer in answers.items():
            stored = answer[field] if where != "outline" else None
            if stored is not None and not ("click" in stored and "styled" in stored):
                failures.append(f"{operation}.{field} ({where}): the text itself was lost")
            for text in _strings(answer):
                problems = executable_markup(text)
                if problems:
                    failures.append(f"{operation}.{field} ({where}): {problems}")
    assert not failures, "\n".join(failures)


async def test_links_keep_their_text_and_get_safe_rel(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    side = await build_side(database, settings, client, "links")
    url = f"{API}/courses/{side.course.id}/lectures/{side.lecture.id}"
    body = '<p>See <a href="https://example.org/" target="_blank">docs</a></p>'
    response = await client.patch(url, json={"body": body}, headers=side.headers["teacher"])
    stored = response.json()["body"]
    assert 'href="https://example.org/"' in stored and "docs" in stored
    assert "noopener" in stored and "noreferrer" in stored
    assert "target" not in stored or 'rel="' in stored


async def test_urls_of_linked_lectures_must_be_http(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    """`url` is rendered as a link or an embed by the frontend: only http(s) is stored."""
    side = await build_side(database, settings, client, "urls")
    week = f"{API}/courses/{side.course.id}/weeks/{side.week.id}/lectures"
    lecture = f"{API}/courses/{side.course.id}/lectures/{side.lecture.id}"
    for url in (
        "javascript:alert(1)",
        " javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:x",
        "//evil.test/x",
        "https://ok.test/\njavascript:alert(1)",
    ):
        created = await client.post(
            week,
            json={"title": "l", "content_type": "link", "url": url},
            headers=side.headers["teacher"],
        )
        assert created.status_code == 400, (url, created.text)
        updated = await client.patch(lecture, json={"url": url}, headers=side.headers["teacher"])
        assert updated.status_code == 400, (url, updated.text)


async def test_plain_text_fields_only_reach_browsers_as_inert_json(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    """Plain-text fields keep what was typed (they are text, not HTML), and every response that
    carries them is JSON that a browser will neither sniff nor run."""
    side = await build_side(database, settings, client, "plain")
    teacher, student = side.headers["teacher"], side.headers["student"]
    base = f"{API}/courses/{side.course.id}"
    xss = "<img src=x onerror=alert(1)>"
    writes = [
        ("PATCH", base, {"name": xss}, teacher),
        ("PATCH", f"{base}/weeks/{side.week.id}", {"title": xss}, teacher),
        ("PATCH", f"{base}/lectures/{side.lecture.id}", {"title": xss, "transcript": xss}, teacher),
        (
            "PATCH",
            f"{base}/questions/{side.question_id}",
            {"title": xss, "explanation": xss},
            teacher,
        ),
        ("PATCH", f"{API}/auth/me", {"first_name": xss, "last_name": xss}, student),
        ("POST", f"{API}/personal/folders", {"name": xss, "description": xss}, student),
    ]
    for method, url, body, headers in writes:
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code in {200, 201}, (url, response.text)
        assert xss in response.text.replace("\\u003c", "<").replace("\\u003e", ">")
    reads = [
        (base, student),
        (f"{base}/lectures/{side.lecture.id}", student),
        (f"{base}/questions/{side.question_id}", teacher),
        (f"{base}/enrollments", teacher),
        (f"{API}/personal/folders", student),
        (f"{API}/courses", student),
    ]
    for url, headers in reads:
        response = await client.get(url, headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_error_bodies_never_reflect_markup(client: httpx.AsyncClient) -> None:
    probe = "<script>alert(1)</script>"
    responses = [
        await client.get(f"/api/v1/{probe}"),
        await client.get(f"/api/v1/courses?sort={probe}"),
        await client.post("/api/v1/auth/login", json={"username": probe, "password": probe}),
        await client.post("/api/v1/auth/login", json={probe: 1}),
        await client.post(
            "/api/v1/auth/login", json={"username": "u", "password": "p" * 8, "x" * 5000: 1}
        ),
        await client.post(
            "/api/v1/auth/login", content=probe, headers={"content-type": "application/json"}
        ),
    ]
    for response in responses:
        assert response.status_code >= 400
        assert response.headers["content-type"].startswith("application/json")
        assert "<script" not in response.text.lower()
        assert len(response.content) < 1000, "the error body echoes the request"
