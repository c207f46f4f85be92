"""Service routes: health, readiness, metrics, public curriculum search and the administrators' system status."""

from __future__ import annotations

import hmac
import json
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from platform_api.assessments.service import public_search_scope
from platform_api.core.config import PlatformSettings
from platform_api.core.db import unit_of_work
from platform_api.core.deps import AdminUser, ApiRateLimit, rate_limit
from platform_api.core.state import Platform
from platform_api.documents.repository import DocumentRepository

router = APIRouter(tags=["system"])
# Reports of `nexus eval` (eval-<dataset>.json) and the committed baseline, shown on the admin system page.
EVAL_RESULTS = Path(__file__).resolve().parents[2] / "evals" / "results"


def _platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is up (liveness)."""
    return {"status": "ok"}


def _checks(platform: Platform) -> tuple[dict[str, str], dict[str, Any]]:
    checks: dict[str, str] = {}
    extra: dict[str, Any] = {}
    try:
        with platform.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure makes the service not ready
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        extra["chunks"] = platform.knowledge.store.count()
        checks["vectors"] = "ok"
    except Exception as exc:
        checks["vectors"] = f"error: {type(exc).__name__}"
    if platform.redis is not None:
        try:
            platform.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    return checks, extra


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    """Ready to serve (readiness): the database, the vector store and Redis (when configured) answer; 503 otherwise."""
    platform = _platform(request)
    checks, extra = await anyio.to_thread.run_sync(lambda: _checks(platform))
    ok = all(v == "ok" for v in checks.values())
    body = {"status": "ready" if ok else "unavailable", "checks": checks, **extra}
    return JSONResponse(body, status_code=200 if ok else 503)


def _job_counts(platform: Platform) -> dict[str, int]:
    with unit_of_work(platform.sessions) as db:
        return DocumentRepository(db).job_counts()


_LOOPBACK = ("127.", "::1", "localhost")
_PROXY_HEADERS = ("x-forwarded-for", "x-real-ip", "forwarded")


def metrics_allowed(request: Request, settings: PlatformSettings) -> bool:
    """With NEXUS_METRICS_TOKEN: that bearer token; without: a direct (unproxied) loopback client only."""
    if settings.metrics_token is not None:
        given = request.headers.get("authorization", "")
        expected = f"Bearer {settings.metrics_token.get_secret_value()}"
        return hmac.compare_digest(given.encode(), expected.encode())
    host = request.client.host if request.client else ""
    proxied = any(h in request.headers for h in _PROXY_HEADERS)
    return host.startswith(_LOOPBACK) and not proxied


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus metrics (404 to anybody but the scraper: the route is not advertised)."""
    platform = _platform(request)
    if not metrics_allowed(request, platform.settings):
        return JSONResponse({"error": "not_found", "detail": "Page introuvable."}, status_code=404)
    try:
        counts = await anyio.to_thread.run_sync(lambda: _job_counts(platform))
    except Exception:  # metrics must render even when the database is down
        counts = {}
    for status in ("queued", "running", "succeeded", "failed"):
        platform.metrics.ingestion_queue.labels(status).set(counts.get(status, 0))
    return Response(platform.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/search", dependencies=[ApiRateLimit, Depends(rate_limit("search"))])
async def search(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    level: Annotated[str | None, Query(pattern="^(premiere|terminale)$")] = None,
    k: Annotated[int, Query(ge=1, le=20)] = 5,
) -> list[dict[str, Any]]:
    """Hybrid search of the public curriculum (no account needed)."""
    platform = _platform(request)
    levels = (level,) if level else ()
    hits = await anyio.to_thread.run_sync(
        lambda: platform.knowledge.kb.search(q, k, public_search_scope(platform.sessions, levels))
    )
    return [h.to_json() for h in hits]


def _status(platform: Platform) -> dict[str, Any]:
    checks, extra = _checks(platform)
    with unit_of_work(platform.sessions) as db:
        repo = DocumentRepository(db)
        counts = repo.job_counts()
        jobs = [
            {
                "id": job.id,
                "documentId": job.document_id,
                "filename": doc.filename if doc else None,
                "status": job.status,
                "progress": job.progress,
                "total": job.total,
                "error": job.error,
                "attempts": job.attempts,
                "updatedAt": job.updated_at.isoformat(),
            }
            for job, doc in repo.recent_jobs(20)
        ]
    return {
        "status": "ready" if all(v == "ok" for v in checks.values()) else "unavailable",
        "checks": checks,
        **extra,
        "jobCounts": counts,
        "recentJobs": jobs,
        "evals": latest_evals(EVAL_RESULTS),
    }


def latest_evals(folder: Path, keep: int = 5) -> list[dict[str, Any]]:
    """Summaries of the newest evaluation reports (the baseline's when no report was written here)."""
    reports: list[tuple[float, dict[str, Any]]] = []
    for path in folder.glob("eval-*.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            reports.append((path.stat().st_mtime, {**_eval_summary(data), "file": path.name}))
    if not reports and (folder / "baseline.json").exists():
        try:
            baseline = json.loads((folder / "baseline.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            baseline = {}
        for data in baseline.values() if isinstance(baseline, dict) else []:
            if isinstance(data, dict):
                reports.append((0.0, {**_eval_summary(data), "file": "baseline.json"}))
    reports.sort(key=lambda r: r[0], reverse=True)
    return [r for _, r in reports[:keep]]


def _eval_summary(data: dict[str, Any]) -> dict[str, Any]:
    metrics = data.get("metrics") if isinstance(data.get("metrics"), dict) else {}
    return {
        "dataset": data.get("dataset"),
        "date": data.get("date"),
        "questions": data.get("questions"),
        "metrics": {k: v for k, v in (metrics or {}).items() if isinstance(v, int | float)},
    }


@router.get("/api/system/status", dependencies=[ApiRateLimit])
async def system_status(request: Request, _admin: AdminUser) -> dict[str, Any]:
    """Readiness checks, ingestion jobs and the latest evaluation summary (administrators)."""
    platform = _platform(request)
    return await anyio.to_thread.run_sync(lambda: _status(platform))
