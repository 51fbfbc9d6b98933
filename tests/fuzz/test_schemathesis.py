"""Schemathesis fuzzing of the app's own OpenAPI document, in-process (ASGI, no network).

Cases are generated from the schema with schemathesis' Hypothesis strategies (derandomized, a
bounded number per operation) and sent through the session's app with httpx' ASGI transport.
Every case goes to the admin and to two of the four course roles in rotation: the world course's
enrolled student, teacher and TA, and the teacher of another course (the outsider, for
object-level access); every fourth case also goes anonymously. Path parameters are sometimes
replaced with the ids of a real world so handlers go past their 404s.

Every response must be free of server errors (5xx other than the documented 503 of search when it
is not configured), conform to the documented status codes, content types and response schemas,
reject negative data (`negative_data_rejection`), enforce authentication (`ignored_auth`, which
re-sends the first success of each operation without and with a bogus token) and honour the
access matrix of tests/test_access_matrix.py for the caller's role (the outsider: only the
catalog view of the world's course). A second test runs schemathesis' state machine over the
links it infers from the document (create -> read/update/delete chains), as the admin and as a
teacher, with `use_after_free` and `ensure_resource_availability` on top.

The login-family operations are sent from a fresh address per request: fuzzed credentials are
failed logins, and 20 of them from one address block it for the whole API (docs/decisions.md).
Any throttling of the fuzz client's own address fails the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
from typing import Any

import httpx
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import FlakyStrategyDefinition
from jose import jwt
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from studyhub.core.config import Settings
from studyhub.core.db import Database
from tests.fuzz.harness import (
    FUZZ_IP,
    Bridge,
    client_from,
    generate,
    make_fuzz_users,
    make_world,
    send_kwargs,
)
from tests.helpers import bearer, login
from tests.test_access_matrix import ACCESS, OPEN_OUTSIDE_API

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
STATEFUL_EXAMPLES = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "30"))
SEED = 20261128

# operationId -> why it is not fuzzed (nothing is left out silently).
SKIPPED: dict[str, str] = {
    "auth-logout-all": "would revoke every session of the fuzzing users mid-run",
    "auth-change-password": "a valid case changes the fuzzing user's password and sessions",
    "users-sessions-revoke": "would revoke the fuzzing users' sessions mid-run",
    "auth-sessions-revoke": "would revoke the fuzzing users' own sessions mid-run",
    "auth-logout": "would end the fuzzing user's session mid-run",
    "lectures-file-upload": "multipart uploads: covered by tests/courses",
    "personal-items-create": "multipart uploads: covered by tests/personal",
}
# The documented 503 of search and similar lectures when no search backend is configured.
MAY_BE_UNAVAILABLE = {"search-query", "lectures-similar"}
# Failed logins count per address: these go out from an address of their own.
LOGIN_FAMILY = {"auth-login", "auth-token", "auth-refresh", "auth-register"}
DELETING = "DELETE"
COURSE_ROLES = ("student", "teacher", "ta", "outsider")
# What the outsider (teacher of another course) may do with the world's published course: the
# catalog view only (courses/access.py, Level.VIEW).
OUTSIDER_MAY = {"courses-get"}

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    # Effective in the stateful run only: it needs the chain of earlier calls.
    use_after_free,
]
STATEFUL_CHECKS = [*CHECKS, ensure_resource_availability, ignored_auth]


def _callers(index: int) -> list[str]:
    rotation = [COURSE_ROLES[index % 4], COURSE_ROLES[(index + 2) % 4]]
    return ["admin", *rotation] + (["anonymous"] if index % 4 == 0 else [])


def _access_violation(name: str, caller: str, case: Any, ids: dict[str, int]) -> str | None:
    """Why a 2xx answer to `caller` breaks the access rules, or None."""
    if caller == "admin" or name in OPEN_OUTSIDE_API:
        return None
    course = str((case.path_parameters or {}).get("course_id", ""))
    if caller == "outsider":
        if course == str(ids["course_id"]) and name not in OUTSIDER_MAY:
            return "the teacher of another course got past the world course's access checks"
        if course:
            return None  # the outsider's own course (or a course they just created)
        caller = "teacher"  # elsewhere only the global role counts
    if caller not in ACCESS[name]:
        return f"{caller} is not allowed through authorisation (tests/test_access_matrix.py)"
    return None


def _throttled(response: httpx.Response) -> bool:
    if response.status_code == 429:
        return True
    if response.status_code == 403 and "json" in response.headers.get("content-type", ""):
        return bool(response.json().get("error") == "IP_BLOCKED")
    return False


async def _validate(case: Any, response: httpx.Response, checks: list[Any], auth: str) -> None:
    """Run the checks in a worker thread: the probing ones send requests through the bridge,
    which needs this loop free."""
    headers = {"Authorization": auth} if auth else None
    await asyncio.to_thread(case.validate_response, response, checks=checks, headers=headers)


async def test_fuzz_every_operation(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    users = await make_fuzz_users(database)
    ids = await make_world(database, settings, users)
    callers = ("admin", *COURSE_ROLES)
    tokens = {name: (await login(client, users[name].username))["access_token"] for name in callers}
    # The document as a dict: from_asgi would run a second lifespan of the session app on a loop
    # of its own; the cases are sent through the test client and probes through the bridge.
    schema = schemathesis.openapi.from_dict(app.openapi())
    bridge = Bridge(asyncio.get_running_loop(), client)
    schema.app = bridge
    rng = random.Random(SEED)
    failures: list[str] = []
    skipped: list[str] = []
    succeeded: set[str] = set()
    auth_probed: set[str] = set()
    relogins: list[str] = []
    previous = "setup"
    sent = 0
    login_addresses = 0
    negatives = negatives_2xx = 0
    results = list(schema.get_all_operations())
    broken = [str(result.err()) for result in results if not isinstance(result, Ok)]
    assert not broken, f"operations schemathesis cannot read: {broken}"
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    operations.sort(key=lambda op: op.method.upper() == DELETING)
    for operation in operations:
        name = operation.definition.raw.get("operationId", operation.label)
        if name in SKIPPED:
            skipped.append(name)
            continue
        for caller, token in list(tokens.items()):
            # Nothing the previous operation did may leave a fuzzing user logged out unnoticed.
            me = await client.get("/api/v1/auth/me", headers=bearer(token))
            if me.status_code != 200:
                relogins.append(f"{caller} after {previous}: {me.status_code} {me.text[:200]}")
                # From another address: the fuzzed logins may have locked this one out.
                async with client_from(app, "198.51.100.7") as other:
                    tokens[caller] = (await login(other, users[caller].username))["access_token"]
        previous = name
        for index, case in enumerate(generate(operation, MAX_EXAMPLES)):
            # A negative path parameter stays as generated: replacing it would make the case valid.
            negative_path = case.meta is not None and case.meta.is_negative_at(
                ParameterLocation.PATH
            )
            for caller in _callers(index):
                if case.path_parameters and not negative_path and rng.random() < 0.5:
                    own = {"session_id": "0"}
                    if caller != "anonymous":
                        own = {"session_id": jwt.get_unverified_claims(tokens[caller])["sid"]}
                    case.path_parameters = {
                        key: ({**ids, **own}).get(key, value)
                        for key, value in case.path_parameters.items()
                    }
                if operation.path.startswith("/api/v1/users/{user_id}"):
                    # User administration acts on the bystander only: a random id could demote,
                    # deactivate or delete the fuzzing users themselves.
                    case.path_parameters = {**case.path_parameters, "user_id": ids["user_id"]}
                auth = f"Bearer {tokens[caller]}" if caller != "anonymous" else ""
                kwargs = send_kwargs(case, {"Authorization": auth} if auth else {})
                sent += 1
                if name in LOGIN_FAMILY:
                    login_addresses += 1
                    address = f"198.18.{login_addresses // 250}.{login_addresses % 250 + 1}"
                    async with client_from(app, address) as fresh:
                        response = await fresh.request(**kwargs)
                else:
                    response = await client.request(**kwargs)
                    if _throttled(response):
                        failures.append(
                            f"{name} as {caller}: the fuzz client ({FUZZ_IP}) was throttled or "
                            f"blocked: {response.status_code} {response.text[:200]}"
                        )
                        continue
                negative = case.meta is not None and case.meta.generation.mode.is_negative
                negatives += negative
                if response.status_code < 300:
                    negatives_2xx += negative
                    succeeded.add(name)
                    violation = _access_violation(name, caller, case, ids)
                    if violation:
                        failures.append(
                            f"{name} as {caller}: {kwargs['method']} {kwargs['url']} -> "
                            f"{response.status_code}: {violation}"
                        )
                if response.status_code == 503 and name in MAY_BE_UNAVAILABLE:
                    continue
                checks = list(CHECKS)
                if caller == "anonymous" or (
                    response.status_code < 300 and name not in auth_probed
                ):
                    checks.append(ignored_auth)
                    if caller != "anonymous":
                        auth_probed.add(name)
                try:
                    await _validate(case, response, checks, auth)
                except FailureGroup as exc:
                    first = re.sub(r"\s+", " ", str(exc))[:600]
                    failures.append(
                        f"{name} as {caller}: {kwargs['method']} {kwargs['url']} "
                        f"-> {response.status_code}: {first}"
                    )
    assert set(skipped) == set(SKIPPED), "a skipped operation no longer exists"
    assert not relogins, f"fuzzing users were logged out: {relogins}"
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:40])
    # The world's ids make handlers go deep: most operations answer a success at least once.
    fuzzed = {op.definition.raw.get("operationId") for op in operations} - set(SKIPPED)
    print(f"fuzzed {len(fuzzed)} operations with {sent} requests; {len(succeeded)} answered 2xx")
    print("never 2xx:", sorted(fuzzed - succeeded))
    print(f"authentication probed on {len(auth_probed)} operations ({bridge.sent} probes)")
    print(f"negative cases: {negatives}, answered 2xx: {negatives_2xx}")
    assert len(succeeded) >= len(fuzzed) * 2 // 3, sorted(fuzzed - succeeded)


def _stateful_machine(schema: Any, auth: str) -> Any:
    base = schema.as_state_machine()

    class Machine(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": {"Authorization": auth}}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(
                response,
                checks=STATEFUL_CHECKS,
                headers={"Authorization": auth},
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    return Machine


async def test_fuzz_stateful_links(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    """Schemathesis' state machine over the links it infers from the document (a created
    resource's id feeds the reads, updates and deletes of it), as the admin and as the world's
    teacher: no server errors, conformance, and a deleted resource stays gone."""
    users = await make_fuzz_users(database)
    await make_world(database, settings, users)
    schema = schemathesis.openapi.from_dict(app.openapi()).exclude(
        operation_id=[*SKIPPED, *MAY_BE_UNAVAILABLE, *LOGIN_FAMILY]
    )
    bridge = Bridge(asyncio.get_running_loop(), client)
    schema.app = bridge
    for caller in ("admin", "teacher"):
        token = (await login(client, users[caller].username))["access_token"]
        machine = _stateful_machine(schema, f"Bearer {token}")
        run = hypothesis_settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=8,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate],
        )
        # The bundles depend on the app's answers and the database persists across examples,
        # so Hypothesis can meet a prefix it saw before that now draws from an empty bundle (a
        # create answering 409 the second time; seen on PostgreSQL). It stops generating there:
        # not a finding. The request count below still requires a real run.
        with contextlib.suppress(FlakyStrategyDefinition):
            await asyncio.to_thread(machine.run, settings=run)
        me = await client.get("/api/v1/auth/me", headers=bearer(token))
        assert me.status_code == 200, f"the stateful {caller} lost their session: {me.text}"
    print(f"stateful: {bridge.sent} requests")
    assert bridge.sent > STATEFUL_EXAMPLES * 2
