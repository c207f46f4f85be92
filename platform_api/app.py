"""The web service. For now: health, readiness and curriculum search; the platform domains come with issue 5."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from knowledge.config import KnowledgeSettings
from knowledge.factory import KnowledgeRuntime, open_knowledge
from knowledge.search import SearchScope


def create_app(settings: KnowledgeSettings | None = None, runtime: KnowledgeRuntime | None = None) -> FastAPI:
    """Build the app; the knowledge runtime is opened once in the lifespan (or given, in tests)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if runtime is not None:
            app.state.knowledge = runtime
            yield
            return
        owned = await anyio.to_thread.run_sync(open_knowledge, settings or KnowledgeSettings())
        app.state.knowledge = owned
        try:
            yield
        finally:
            owned.close()

    app = FastAPI(title="ARIA — Nexus Réussite", lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    async def ready(request: Request) -> JSONResponse:
        rt: KnowledgeRuntime = request.app.state.knowledge
        try:
            chunks = await anyio.to_thread.run_sync(rt.store.count)
        except Exception as exc:  # a store that cannot answer makes the service not ready
            return JSONResponse({"status": "unavailable", "detail": str(exc)}, status_code=503)
        return JSONResponse({"status": "ready", "chunks": chunks})

    @app.get("/api/search")
    async def search(
        request: Request,
        q: Annotated[str, Query(min_length=1, max_length=500)],
        level: Annotated[str | None, Query(pattern="^(premiere|terminale)$")] = None,
        k: Annotated[int, Query(ge=1, le=20)] = 5,
    ) -> list[dict[str, Any]]:
        rt: KnowledgeRuntime = request.app.state.knowledge
        scope = SearchScope(levels=(level,) if level else ())  # public material only
        hits = await anyio.to_thread.run_sync(lambda: rt.kb.search(q, k, scope))
        return [h.to_json() for h in hits]

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request, q: str = "") -> str:
        results = ""
        if q.strip():
            rt: KnowledgeRuntime = request.app.state.knowledge
            hits = await anyio.to_thread.run_sync(lambda: rt.kb.search(q[:500], 5, SearchScope()))
            items = (
                "".join(
                    f"<li><strong>{html.escape(' > '.join([h.title, *h.section_path]))}</strong>"
                    f"<p>{html.escape(h.text[:400])}…</p></li>"
                    for h in hits
                )
                or "<li>Aucun passage trouvé.</li>"
            )
            results = f"<ol>{items}</ol>"
        return (
            "<!doctype html><html lang='fr'><head><meta charset='utf-8'><meta name='viewport' "
            "content='width=device-width, initial-scale=1'><title>ARIA — NSI</title></head><body>"
            "<main><h1>ARIA, ton tuteur NSI</h1><form method='get'><label for='q'>Ta question</label> "
            f"<input id='q' name='q' value='{html.escape(q)}' placeholder=\"c'est quoi une pile ?\">"
            f"<button type='submit'>Chercher</button></form>{results}</main></body></html>"
        )

    return app
