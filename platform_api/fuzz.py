"""API fuzzing with schemathesis: requests generated from the app's own OpenAPI, sent in-process, as every role.

Used by the CI test (tests/platform_api/test_fuzz_api.py: a fixed number of examples per operation, derandomized)
and by ``nexus bench fuzz`` (a longer run, with a seed). Each operation gets schema-conforming and
schema-violating cases (schemathesis' positive and negative generation modes) sent by a role drawn for each
case: nobody, a student, a parent, a teacher or an administrator. The path parameters are either generated or
the ids of real objects, so that handlers run past their "not found" on existing rows too.

What every answer must be: no server error (5xx) and every 4xx in the documented shape (platform_api/core/
errors.py): a JSON object ``{"error": code, "detail": message}`` with a stable snake_case English code and a
French message. Findings are collected, not raised, so that one run reports them all.

schemathesis is a test tool (the ``dev`` extra): this module imports it only when a run starts.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from starlette.testclient import TestClient

from platform_api.core.state import Platform

# Anonymous last: Hypothesis leans to the first element of a list, and most cases should pass the auth check.
ROLES = ("student", "parent", "teacher", "admin", "anonymous")
# Operations that cannot be called in-process: a request that never ends. The TestClient waits for the whole
# body, and these answer with an endless stream (Server-Sent Events) until the client goes away. Their error
# answers (no token, a bad token, a rate limit) are tested in tests/platform_api/test_events.py and
# test_aria_streams.py; the WebSocket sessions are not in the OpenAPI document.
EXCLUDED = {
    ("GET", "/api/events"): "Server-Sent Events: the stream never ends in-process",
    ("POST", "/api/aria/chat/stream"): "Server-Sent Events: the answer is streamed until the client goes",
}
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
# Words of the English messages of FastAPI, Starlette and pydantic: none belongs in a message to a user.
ENGLISH = re.compile(
    r"\b(the|not found|method not allowed|field required|is required|invalid|input|should be|must be|error|"
    r"internal server|unauthorized|forbidden|value)\b",
    re.IGNORECASE,
)


@dataclass
class Finding:
    """One answer that breaks the contract, with what reproduces it."""

    operation: str
    role: str
    status: int
    problem: str
    request: str
    body: str

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class FuzzReport:
    operations: int = 0
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_role: dict[str, Counter[int]] = field(default_factory=dict)
    per_operation: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def summary(self) -> dict[str, Any]:
        return {
            "operations": self.operations,
            "requests": self.requests,
            "server_errors": self.server_errors,
            "contract_violations": len(self.findings),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "statuses_by_role": {r: {str(k): v for k, v in sorted(c.items())} for r, c in self.by_role.items()},
            "seconds": round(self.seconds, 1),
            "excluded": self.excluded,
            "findings": [f.as_dict() for f in self.findings[:50]],
        }


def contract_problem(status: int, content_type: str, text: str) -> str | None:
    """Why an answer breaks the API's error contract, or None when it keeps it."""
    if status >= 500:
        return "server error"
    if status < 400:
        return None
    if not content_type.startswith("application/json"):
        return f"a {status} answer that is not JSON ({content_type or 'no content type'})"
    import json

    try:
        body = json.loads(text)
    except ValueError:
        return f"a {status} answer whose body is not valid JSON"
    if not isinstance(body, dict) or not isinstance(body.get("error"), str) or not isinstance(body.get("detail"), str):
        return f"a {status} answer without the {{error, detail}} shape"
    if not CODE.match(body["error"]):
        return f"error code {body['error']!r} is not a stable snake_case code"
    detail = body["detail"].strip()
    if not detail or ENGLISH.search(detail):
        return f"detail {detail!r} is not a French message"
    return None


def seed(client: TestClient, platform: Platform) -> tuple[dict[str, dict[str, str]], dict[str, list[str]]]:
    """A teacher's class with a student in it, the student's parent, a course, an open quiz, an administrator.

    Returns each role's headers and the ids of these rows by path parameter name, for ``fuzz``.
    """
    from platform_api.core.db import unit_of_work
    from platform_api.users import schemas as user_schemas
    from platform_api.users import service as users

    auth: dict[str, dict[str, str]] = {}
    ids: dict[str, str] = {}
    # The accounts that send the requests, and one that the administrator may edit or delete (`user_id`): were
    # it one of the senders, a generated DELETE /api/users/{id} would turn the rest of the run into 401s.
    for role in ("student", "parent", "teacher", "admin", "victim"):
        data = user_schemas.UserCreate(
            email=f"fuzz-{role}-{secrets.token_hex(4)}@exemple.fr",
            password=secrets.token_urlsafe(16) + "-a1",  # random, but always a letter and a digit
            first_name=role.capitalize(),
            last_name="Fuzz",
            role="student" if role == "victim" else role,
            class_level="terminale" if role in ("student", "victim") else None,
        )
        with unit_of_work(platform.sessions) as db:
            ids[role] = users.create_user(db, platform.settings, data).id
        if role != "victim":
            token, _ = platform.tokens.issue(ids[role], "access", role=role)
            auth[role] = {"Authorization": f"Bearer {token}"}

    def call(method: str, url: str, role: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = client.request(method, url, headers=auth[role], json=body)
        if response.status_code >= 300:
            raise RuntimeError(f"fuzz seed: {method} {url} answered {response.status_code}: {response.text}")
        result: dict[str, Any] = response.json()
        return result

    klass = call("POST", "/api/classes", "teacher", {"name": "Terminale NSI 2", "level": "terminale"})
    call("POST", "/api/classes/join", "student", {"joinCode": klass["joinCode"]})
    code = call("GET", "/api/users/me/parent-code", "student")
    call("POST", "/api/users/me/children", "parent", {"parentCode": code["parentCode"]})
    course = call("POST", "/api/courses", "teacher", {"title": "Les piles", "level": "terminale", "category": "nsi"})
    quiz = call(
        "POST",
        "/api/assessments",
        "teacher",
        {
            "title": "Interrogation sur les piles",
            "type": "quiz",
            "classId": klass["id"],
            "maxAttempts": 3,
            "questions": [
                {"type": "single_choice", "prompt": "Une pile est…", "options": ["LIFO", "FIFO"], "answer": 0},
                {"type": "numeric", "prompt": "Combien font 2 + 2 ?", "answer": 4},
            ],
        },
    )
    call("POST", f"/api/assessments/{quiz['id']}/publish", "teacher", {"published": True})
    known = {
        "user_id": [ids["victim"]],
        "student_id": [ids["student"]],
        "class_id": [klass["id"]],
        "course_id": [course["id"]],
        "assessment_id": [quiz["id"]],
    }
    return auth, known


def _label(method: str, path: str) -> str:
    return f"{method.upper()} {path}"


def _request_line(kwargs: Mapping[str, Any]) -> str:
    parts = [f"{kwargs.get('method', '?')} {kwargs.get('url', '?')}"]
    if kwargs.get("params"):
        parts.append(f"params={kwargs['params']!r}")
    for key in ("json", "data", "content"):
        if kwargs.get(key) is not None:
            parts.append(f"{key}={kwargs[key]!r}"[:600])
    if kwargs.get("files"):
        parts.append("files=…")
    return " ".join(parts)


def _with_path(operation: Any, ids: dict[str, str]) -> Any:
    return operation.as_strategy(path_parameters=ids)


def _sender(
    client: TestClient, auth: Mapping[str, Mapping[str, str]], label: str, report: FuzzReport
) -> Callable[[str, Any], None]:
    """The body of one operation's property test: send the case as the role, record what came back."""

    def send(role: str, case: Any) -> None:
        kwargs = case.as_transport_kwargs()
        kwargs.pop("cookies", None)  # none in this API; httpx warns about per-request cookies
        # The role decides the credentials: negative cases drop them, which would make most of them plain 401s.
        headers = {k: v for k, v in kwargs.get("headers", {}).items() if k.lower() != "authorization"}
        kwargs["headers"] = headers | dict(auth.get(role, {}))
        report.requests += 1
        try:
            response = client.request(**kwargs)
        except Exception as exc:  # the TestClient re-raises what the app let through: a 500 to a real client
            report.statuses[500] += 1
            report.by_role.setdefault(role, Counter())[500] += 1
            first_line = str(exc).splitlines()[0] if str(exc) else ""
            raised = f"server error: {type(exc).__name__}: {first_line}"
            report.findings.append(Finding(label, role, 500, raised[:300], _request_line(kwargs), ""))
            return
        report.statuses[response.status_code] += 1
        report.by_role.setdefault(role, Counter())[response.status_code] += 1
        problem = contract_problem(response.status_code, response.headers.get("content-type", ""), response.text)
        if problem:
            report.findings.append(
                Finding(label, role, response.status_code, problem, _request_line(kwargs), response.text[:400])
            )

    return send


def fuzz(
    client: TestClient,
    auth: Mapping[str, Mapping[str, str]],
    examples: int,
    *,
    seed: int | None = None,
    known_ids: Mapping[str, list[str]] | None = None,
    only: Callable[[str, str], bool] | None = None,
    log: Callable[[str], None] | None = None,
) -> FuzzReport:
    """Fuzz every operation of the app behind ``client`` with ``examples`` cases each, and report.

    ``auth`` maps a role to its request headers (``anonymous`` sends none). ``seed`` None derandomizes
    (the same cases on every run, as CI wants); a number draws another set, reproducible with the same number.
    ``known_ids`` maps a path parameter name (``class_id``) to ids of real rows, used in about half the cases.
    """
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st
    from schemathesis import GenerationMode
    from schemathesis.core.result import Err

    started = time.perf_counter()
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    report = FuzzReport()
    roles = [role for role in ROLES if role == "anonymous" or role in auth]
    known = known_ids or {}
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()
        method, path = operation.method.upper(), operation.path
        label = _label(method, path)
        if (method, path) in EXCLUDED:
            report.excluded[label] = EXCLUDED[(method, path)]
            continue
        if only is not None and not only(method, path):
            continue
        report.operations += 1
        strategies = [operation.as_strategy(mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
        names = [p.name for p in operation.path_parameters]
        if names and all(known.get(name) for name in names):
            fixed = st.fixed_dictionaries({name: st.sampled_from(known[name]) for name in names})
            strategies.append(fixed.flatmap(partial(_with_path, operation)))
        test = _sender(client, auth, label, report)
        run = settings(
            max_examples=examples,
            derandomize=seed is None,
            database=None,
            deadline=None,
            phases=(Phase.explicit, Phase.generate),  # findings are collected, never shrunk
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )(given(role=st.sampled_from(roles), case=st.one_of(*strategies))(test))
        if seed is not None:
            run = hypothesis_seed(seed)(run)
        before = report.requests
        try:
            run()
        except Exception as exc:  # a strategy that cannot generate (e.g. no negative case): what ran counts
            if log:
                log(f"{label}: génération arrêtée ({type(exc).__name__}: {exc})")
        report.per_operation[label] = report.requests - before
        if log:
            log(f"{label}: {report.per_operation[label]} requêtes")
    report.seconds = time.perf_counter() - started
    return report
