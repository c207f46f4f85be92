"""Pages of the web app. Each route renders a page shell; its ES module loads the data from the JSON API.

No page carries private data: the shells are the same for everybody, and the modules fetch what the signed-in
user may see with their access token. The one exception is the public home page, which renders the public
curriculum search on the server (escaped by Jinja2's autoescaping) so that it works without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from platform_api.assessments.service import public_search_scope
from platform_api.core.deps import client_key
from platform_api.core.errors import RateLimited
from platform_api.core.state import Platform

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)

ALL_ROLES = ("student", "parent", "teacher", "admin")


@dataclass(frozen=True)
class Page:
    """A page: its URL, template, title and the roles it is for (empty: public)."""

    path: str
    name: str
    title: str
    roles: tuple[str, ...] = ()


PAGES = (
    Page("/connexion", "login", "Connexion"),
    Page("/inscription", "register", "Créer un compte"),
    Page("/mot-de-passe-oublie", "forgot", "Mot de passe oublié"),
    Page("/reinitialiser-mot-de-passe", "reset", "Nouveau mot de passe"),
    Page("/aria", "chat", "ARIA, ton tuteur", ALL_ROLES),
    Page("/eleve", "student", "Ma progression", ("student",)),
    Page("/cours", "courses", "Cours", ALL_ROLES),
    Page("/cours/{course_id}", "course", "Cours", ALL_ROLES),
    Page("/quiz", "quizzes", "Quiz et évaluations", ("student",)),
    Page("/quiz/{assessment_id}", "quiz", "Quiz", ("student",)),
    Page("/enseignant/classes", "classes", "Mes classes", ("teacher", "admin")),
    Page("/enseignant/classes/{class_id}", "class", "Tableau de bord de la classe", ("teacher", "admin")),
    Page("/enseignant/documents", "documents", "Mes documents", ("teacher", "admin")),
    Page("/parent", "parent", "Suivi de mes enfants", ("parent",)),
    Page("/admin/utilisateurs", "users", "Utilisateurs", ("admin",)),
    Page("/admin/systeme", "system", "État du système", ("admin",)),
)


def render(request: Request, page: Page, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        f"{page.name}.html",
        {"page": page.name, "title": page.title, "roles": ",".join(page.roles), **context},
    )


def _page_route(page: Page) -> Any:
    async def show(request: Request) -> HTMLResponse:
        return render(request, page)

    show.__name__ = f"page_{page.name}"
    return show


for _page in PAGES:
    router.add_api_route(_page.path, _page_route(_page), methods=["GET"], response_class=HTMLResponse)

HOME = Page("/", "home", "Accueil")


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, q: Annotated[str, Query(max_length=500)] = "") -> HTMLResponse:
    """The public home page: what ARIA is, sign-in links and a search of the public curriculum."""
    hits: list[Any] = []
    if q.strip():
        platform: Platform = request.app.state.platform
        try:  # each search embeds the question: counted per client like the API's search
            platform.limiter.hit("search", client_key(request, platform.settings))
        except RateLimited as exc:
            response = render(request, HOME, q=q, hits=[], searched=False, limited=exc.message)
            response.status_code = 429
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        hits = await anyio.to_thread.run_sync(
            lambda: platform.knowledge.kb.search(q, 5, public_search_scope(platform.sessions))
        )
    return render(request, HOME, q=q, hits=hits, searched=bool(q.strip()))


def install_web(app: FastAPI) -> None:
    """Serve the pages at ``/`` and their assets (ours and the vendored libraries) at ``/static``."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
