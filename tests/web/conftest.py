"""Browser tests of the web app: a real uvicorn server on 127.0.0.1 and Debian's Chromium driven by Playwright.

The server runs in a thread of the test process, on a temporary SQLite database (migrated by Alembic, the
curriculum courses seeded) and a small knowledge base (three curriculum chapters, the hash embedder), with the
in-process ingestion worker. Chromium is ``/usr/bin/chromium`` (``make test`` installs it with apt when it is
missing; ``playwright install`` is never used: it downloads a browser). Each browser context gets a fresh
user-data directory. A failing test leaves screenshots of its open pages in ``tests/artifacts/``.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from alembic import command

from ingest.config import IngestSettings
from ingest.pipeline import Ingestor
from knowledge.embedder import HashEmbedder
from knowledge.factory import KnowledgeRuntime
from knowledge.search import KnowledgeBase
from knowledge.store import EdgeStore
from platform_api.app import create_app
from platform_api.core.db import build_engine, build_sessionmaker, unit_of_work
from platform_api.core.mail import ConsoleMailSender
from platform_api.core.state import Platform
from platform_api.courses.service import seed_curriculum
from platform_api.users import schemas as user_schemas
from platform_api.users import service as users
from tests.platform_api.conftest import PASSWORD, alembic_config, make_settings
from tutor.engine import Tutor
from tutor.types import TokenEvent

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("ARIA_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHAPTERS = [
    "terminale/structures-de-donnees/piles.md",
    "premiere/algorithmique/tri-par-insertion.md",
    "terminale/bases-de-donnees/modele-relationnel.md",
]
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 20_000


class SlowTutor:
    """The real tutor with a pause between tokens, as a remote LLM has: the browser must paint them as they come."""

    def __init__(self, inner: Any, pause_s: float = 0.01) -> None:
        self.inner = inner
        self.pause_s = pause_s

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def stream(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        async for event in self.inner.stream(*args, **kwargs):
            if isinstance(event, TokenEvent):
                await asyncio.sleep(self.pause_s)
            yield event


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Person:
    id: str
    email: str
    role: str
    first_name: str
    token: str


@dataclass
class WebServer:
    """The running app: its URL, its platform (database, vector store), helpers to make people and call the API."""

    url: str
    platform: Platform
    mailer: ConsoleMailSender
    people: list[Person] = field(default_factory=list)

    def person(self, role: str, first_name: str | None = None, level: str | None = "terminale") -> Person:
        """A user made directly in the database, with an access token for API calls made by the test."""
        email = f"{role}-{secrets.token_hex(4)}@exemple.fr"
        first = first_name or role.capitalize()
        data = user_schemas.UserCreate(
            email=email,
            password=PASSWORD,
            first_name=first,
            last_name="Martin",
            role=role,  # type: ignore[arg-type]
            class_level=level if role == "student" else None,  # type: ignore[arg-type]
        )
        with unit_of_work(self.platform.sessions) as db:
            user = users.create_user(db, self.platform.settings, data)
            uid = user.id
        token, _ = self.platform.tokens.issue(uid, "access", role=role)
        person = Person(uid, email, role, first, token)
        self.people.append(person)
        return person

    def api(self, method: str, path: str, as_: Person, **kw: Any) -> Any:
        response = httpx.request(
            method, self.url + path, headers={"Authorization": f"Bearer {as_.token}"}, timeout=30, **kw
        )
        assert response.status_code < 400, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    root = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{root / 'aria.sqlite'}"
    command.upgrade(alembic_config(url), "head")
    engine = build_engine(url)
    with unit_of_work(build_sessionmaker(engine)) as db:
        seed_curriculum(db)
    engine.dispose()

    embedder = HashEmbedder(dim=64)
    store = EdgeStore(root / "vectors", embedder.dim)
    ingestor = Ingestor(store, embedder, IngestSettings(chunk_tokens=200, chunk_overlap=20))
    for rel in CHAPTERS:
        result = ingestor.ingest_file(ROOT / "knowledge" / "curriculum" / rel, rel)
        assert result.status == "ingested", result
    runtime = KnowledgeRuntime(None, embedder, store, KnowledgeBase(store, embedder))  # type: ignore[arg-type]

    settings = make_settings(url, root / "data")
    mailer = ConsoleMailSender()
    app = create_app(settings, runtime=runtime, mailer=mailer, tutor=SlowTutor(Tutor(runtime.kb)))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="web-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the test server stopped while starting"
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    yield WebServer(f"http://127.0.0.1:{port}", app.state.platform, mailer)
    server.should_exit = True
    thread.join(timeout=15)
    store.close()


# Module scope: while Playwright's sync API is open, the main thread counts as running an event loop, which
# would break the async tests of the modules that run after this one.
@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: `apt-get install chromium` (make test does it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def browser(
    playwright_driver: Any, web_server: WebServer, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., Any]]:
    """Open a page in a new Chromium (fresh user-data dir): ``browser()`` or ``browser(width=390, height=844)``."""
    contexts: list[Any] = []

    def open_page(width: int = 1280, height: int = 860) -> Any:
        profile = tmp_path / f"profile-{len(contexts)}"
        context = playwright_driver.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=LAUNCH_ARGS,
            viewport={"width": width, "height": height},
            locale="fr-FR",
            base_url=web_server.url,
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.pages[0] if context.pages else context.new_page()
        page.errors = []  # console errors and uncaught exceptions, checked by the tests
        page.on("pageerror", lambda exc: page.errors.append(f"pageerror: {exc}"))
        page.on("console", lambda msg: _console(page, msg))
        page.on("response", lambda r: _asset(page, r))
        return page

    yield open_page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        for i, context in enumerate(contexts):
            for j, page in enumerate(context.pages):
                try:
                    page.screenshot(path=str(ARTIFACTS / f"{name}-{i}-{j}.png"), full_page=True)
                except Exception as exc:  # a crashed page must not hide the test's own failure
                    print(f"no screenshot of {name}-{i}-{j}: {exc}")  # noqa: T201
    for context in contexts:
        context.close()


def _console(page: Any, message: Any) -> None:
    # The browser logs every 4xx answer of the API as "Failed to load resource"; the tests check those answers
    # themselves (a refused upload is expected), and missing assets are caught by ``_asset``.
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        page.errors.append(f"console: {message.text}")


def _asset(page: Any, response: Any) -> None:
    if response.status >= 400 and "/api/" not in response.url:
        page.errors.append(f"{response.status} {response.url}")


def sign_in(page: Any, person: Person, expect_path: str) -> None:
    """Sign in through the form, like a person, and wait for the role's home page."""
    page.goto("/connexion")
    page.get_by_label("Adresse email").fill(person.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"**{expect_path}")
    page.wait_for_selector("body[data-ready=true]")


def screenshot(page: Any, name: str, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture(scope="session", autouse=True)
def _clean_screenshots() -> None:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
