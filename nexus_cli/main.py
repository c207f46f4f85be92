"""``nexus``: ingest course files, search the knowledge base, inspect it, run benchmarks."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ingest.config import IngestSettings
from ingest.jobs import Job, JobStore, Worker
from ingest.parsers import SUPPORTED
from ingest.pipeline import LEVELS, DocumentOptions, Ingestor, IngestResult, default_collection, discover
from knowledge.config import KnowledgeSettings
from knowledge.factory import KnowledgeRuntime, open_knowledge
from knowledge.search import SearchScope
from knowledge.store import Filter, Match

app = typer.Typer(help="ARIA, le tuteur NSI de Nexus Réussite.", no_args_is_help=True, add_completion=False)
kb_app = typer.Typer(help="Inspect and edit the knowledge base.", no_args_is_help=True)
jobs_app = typer.Typer(help="Ingestion jobs.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks: print figures and write them under evals/results/.", no_args_is_help=True)
retention_app = typer.Typer(help="Retention of personal data (the periods of the NEXUS_RETENTION_* settings).")
app.add_typer(kb_app, name="kb")
app.add_typer(jobs_app, name="jobs")
app.add_typer(bench_app, name="bench")
app.add_typer(retention_app, name="retention")

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line error and return the exit to raise."""
    err_console.print(f"[red]erreur :[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _runtime() -> KnowledgeRuntime:
    try:
        return open_knowledge(KnowledgeSettings())
    except (ValueError, OSError, RuntimeError) as exc:
        raise fail(f"impossible d'ouvrir la base de connaissances : {exc}") from exc


def _check_level(level: str | None) -> tuple[str, ...]:
    if level is None:
        return ()
    if level not in LEVELS:
        raise fail(f"--level doit être premiere ou terminale (reçu : {level!r})")
    return (level,)


def ingest_handler(ingestor: Ingestor) -> Any:
    """The job handler: ingest the file a job names, with the job's options."""

    def handle(job: Job, progress: Any) -> dict[str, Any]:
        p = job.params
        result = ingestor.ingest_file(Path(p["path"]), p["source"], DocumentOptions.from_params(p), progress)
        return result.__dict__

    return handle


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (recursive).")],
    level: Annotated[str | None, typer.Option(help="premiere or terminale (default: front matter, else both).")] = None,
    visibility: Annotated[str, typer.Option(help="public, class or private.")] = "public",
    owner: Annotated[str | None, typer.Option(help="Owner user id.")] = None,
    class_id: Annotated[list[str] | None, typer.Option("--class", help="Class id (repeatable).")] = None,
    collection: Annotated[
        str | None,
        typer.Option(help="Collection the files belong to (default: per folder, its name and a hash of its path)."),
    ] = None,
) -> None:
    """Ingest course files: parse, chunk, embed, upsert. Unchanged files are skipped; exit 1 if any failed.

    A document's id is its collection and its path in the folder, so two folders with the same relative paths
    never replace each other; curriculum chapters keep their front-matter id wherever they are ingested from.
    """
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise fail(f"chemin introuvable : {', '.join(missing)}")
    try:
        options = DocumentOptions(_check_level(level), visibility, owner, tuple(class_id or ()))  # type: ignore[arg-type]
    except ValueError as exc:
        raise fail(str(exc)) from exc
    if visibility not in ("public", "class", "private"):
        raise fail(f"--visibility doit être public, class ou private (reçu : {visibility!r})")
    if collection is not None and not collection.strip():
        raise fail("--collection ne peut pas être vide")
    files = [
        (path, source, collection or default_collection(root)) for root in paths for path, source in discover([root])
    ]
    if not files:
        raise fail(f"aucun fichier pris en charge ({', '.join(sorted(SUPPORTED))}) dans ces chemins")
    settings = KnowledgeSettings()
    jobs = JobStore(settings.data_dir / "jobs.sqlite", max_attempts=IngestSettings().ingest_max_attempts)
    resumed = jobs.requeue_interrupted()
    if resumed:
        console.print(f"{resumed} tâche(s) interrompue(s) reprise(s).")
    # A run killed mid-folder left its files queued: they run below, once, instead of being queued again.
    waiting = {json.dumps(job.params, sort_keys=True) for job in jobs.list("queued", limit=100_000)}
    for path, source, name in files:
        params = {
            "path": str(path.resolve()),
            "source": source,
            "collection": name,
            "levels": list(options.levels),
            "visibility": options.visibility,
            "owner_id": options.owner_id,
            "class_ids": list(options.class_ids),
        }
        if json.dumps(params, sort_keys=True) not in waiting:
            jobs.enqueue(params)
    runtime = _runtime()
    ingestor = Ingestor(runtime.store, runtime.embedder, IngestSettings())
    handle = ingest_handler(ingestor)
    results: list[IngestResult] = []
    chunks_done = 0
    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("fichiers", total=len(jobs.list("queued", limit=100_000)), rate="")

        def counted(job: Job, progress: Any) -> dict[str, Any]:
            nonlocal chunks_done
            out = handle(job, progress)
            results.append(IngestResult(**out))
            chunks_done += out.get("chunks", 0)
            rate = chunks_done / max(time.perf_counter() - started, 1e-6)
            bar.update(task, advance=1, rate=f"{chunks_done} passages, {rate:.1f} passages/s")
            return dict(out)

        Worker(jobs, counted).drain()
    runtime.close()
    _summary(results)
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)


def _summary(results: list[IngestResult]) -> None:
    counts = {s: sum(r.status == s for r in results) for s in ("ingested", "skipped", "failed")}
    table = Table(title="Ingestion")
    table.add_column("statut")
    table.add_column("fichiers", justify="right")
    table.add_column("passages", justify="right")
    for status, label in (("ingested", "ingérés"), ("skipped", "inchangés (ignorés)"), ("failed", "en échec")):
        table.add_row(label, str(counts[status]), str(sum(r.chunks for r in results if r.status == status)))
    console.print(table)
    for r in results:
        if r.status == "failed":
            console.print(f"[red]échec[/red] {r.source} : {r.reason}", highlight=False)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="The question, in French.")],
    level: Annotated[str | None, typer.Option(help="premiere or terminale.")] = None,
    k: Annotated[int, typer.Option("-k", help="How many passages.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array on stdout, for scripts.")] = False,
) -> None:
    """Hybrid search of the knowledge base (public material, or all of it for a given level)."""
    if k < 1:
        raise fail(f"-k doit être au moins 1 (reçu : {k})")
    levels = _check_level(level)
    runtime = _runtime()
    hits = runtime.kb.search(query, k, SearchScope(levels=levels, unrestricted=True))
    runtime.close()
    if as_json:
        typer.echo(json.dumps([h.to_json() for h in hits], ensure_ascii=False))
        return
    if not hits:
        console.print("Aucun passage trouvé.")
        return
    for rank, hit in enumerate(hits, start=1):
        where = " > ".join([hit.title, *hit.section_path]) + (f" ({hit.location()})" if hit.page else "")
        console.print(
            f"[bold][{rank}][/bold] {where}  [dim]{hit.source} · score {hit.score:.4f}[/dim]", highlight=False
        )
        snippet = " ".join(hit.text.split())
        console.print(f"    {snippet[:300]}{'…' if len(snippet) > 300 else ''}", highlight=False)


@app.command()
def init(
    skip_ingest: Annotated[bool, typer.Option("--skip-ingest", help="Do not ingest the curriculum.")] = False,
) -> None:
    """Prepare everything (idempotent): migrate the database, seed the courses, create the first admin, ingest."""
    from platform_api.core.config import PlatformSettings
    from platform_api.core.db import build_engine, build_sessionmaker, unit_of_work
    from platform_api.core.migrate import migrate
    from platform_api.courses.service import seed_curriculum
    from platform_api.users.repository import UserRepository

    try:
        settings = PlatformSettings()
    except ValueError as exc:
        raise fail(f"réglages invalides : {exc}") from exc
    try:
        migrate(settings.sqlalchemy_url)
    except Exception as exc:
        raise fail(f"migration de la base impossible : {type(exc).__name__}: {exc}", 1) from exc
    console.print("Base de données à jour.")
    try:
        _signing_key(settings)
    except (OSError, ValueError) as exc:
        raise fail(f"clé de signature des jetons : {exc}", 1) from exc
    engine = build_engine(settings.sqlalchemy_url)
    sessions = build_sessionmaker(engine)
    with unit_of_work(sessions) as db:
        counts = seed_curriculum(db)
    console.print(
        f"Cours du programme : {counts['created']} créé(s), {counts['updated']} mis à jour, "
        f"{counts['unchanged']} inchangé(s)."
    )
    with unit_of_work(sessions) as db:
        has_admin = UserRepository(db).count_admins() > 0
    email = settings.admin_email
    password = settings.admin_password.get_secret_value() if settings.admin_password else None
    if (not email or not password) and not has_admin:
        if _interactive():
            email = email or typer.prompt("Email du premier administrateur")
            password = password or typer.prompt(
                "Mot de passe (8 caractères, une lettre, un chiffre)", hide_input=True, confirmation_prompt=True
            )
        else:
            console.print(
                "Aucun administrateur : définis NEXUS_ADMIN_EMAIL et NEXUS_ADMIN_PASSWORD puis relance `nexus init`."
            )
    if email and password:
        _create_admin(sessions, settings, email, password)
    engine.dispose()
    if not skip_ingest:
        curriculum = Path(__file__).resolve().parent.parent / "knowledge" / "curriculum"
        ingest([curriculum])


def _interactive() -> bool:
    """Prompt only on a terminal: ``nexus init`` in a script or CI never waits for input."""
    import sys

    return sys.stdin.isatty()


def _create_admin(sessions: Any, settings: Any, email: str, password: str) -> None:
    from platform_api.core.db import unit_of_work
    from platform_api.core.errors import AppError
    from platform_api.users.service import ensure_admin

    try:
        with unit_of_work(sessions) as db:
            _, created = ensure_admin(db, settings, email, password)
    except AppError as exc:
        raise fail(f"administrateur non créé : {exc.message}", 1) from exc
    console.print(f"Administrateur {email} : {'créé' if created else 'déjà présent'}.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Serve the web app and API with uvicorn (the database is migrated first)."""
    import uvicorn

    from platform_api.app import create_app
    from platform_api.core.config import PlatformSettings
    from platform_api.core.logging import uvicorn_config
    from platform_api.core.migrate import migrate

    try:
        settings = PlatformSettings()
        migrate(settings.sqlalchemy_url)
        _signing_key(settings)
    except Exception as exc:
        raise fail(f"démarrage impossible : {type(exc).__name__}: {exc}", 1) from exc
    console.print(f"ARIA est prêt : [bold]http://{host}:{port}/[/bold]  (API : http://{host}:{port}/docs)")
    # Event streams (GET /api/events) never end by themselves: a stopping server gives open requests 25 s
    # (under compose's 30 s stop grace), then closes them; browsers' EventSource reconnects to another replica.
    # uvicorn_config keeps our log setup: uvicorn's own access line would print `?token=` in clear.
    uvicorn.Server(uvicorn_config(create_app(settings), host, port)).run()


def _signing_key(settings: Any) -> None:
    """Without NEXUS_JWT_SECRET, make sure the data dir holds the generated signing key (created once)."""
    from platform_api.core.security import SECRET_FILE, load_or_create_secret

    if settings.jwt_secret is not None:
        return
    path = settings.secrets_dir / SECRET_FILE
    existed = path.exists()
    load_or_create_secret(settings.secrets_dir)
    if not existed:
        console.print(f"Clé de signature des jetons générée : {path} (NEXUS_JWT_SECRET non défini).")


@app.command("migrate")
def migrate_cmd() -> None:
    """Bring the database to the latest schema (Alembic upgrade head), then exit; run once per release."""
    from platform_api.core.config import PlatformSettings
    from platform_api.core.migrate import current_revision, migrate

    try:
        settings = PlatformSettings()
        before = current_revision(settings.sqlalchemy_url)
        migrate(settings.sqlalchemy_url)
        after = current_revision(settings.sqlalchemy_url)
    except Exception as exc:
        raise fail(f"migration de la base impossible : {type(exc).__name__}: {exc}", 1) from exc
    database = settings.sqlalchemy_url.split(":", 1)[0]
    if before == after:
        console.print(f"Base de données déjà à jour ({database}, révision {after}).")
    else:
        console.print(f"Base de données migrée ({database}) : {before or 'vide'} → {after}.")


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(min=1, max=64, help="Jobs run at once (default: NEXUS_WORKER_CONCURRENCY).")
    ] = None,
) -> None:
    """Run ingestion jobs from the production queue (procrastinate on PostgreSQL) until SIGTERM; start N of them."""
    from platform_api.core.config import PlatformSettings
    from platform_api.documents.worker import serve_worker

    try:
        settings = PlatformSettings()
    except ValueError as exc:
        raise fail(f"réglages invalides : {exc}") from exc
    if settings.queue != "procrastinate":
        raise fail(
            "`nexus worker` exécute la file de production : définis NEXUS_QUEUE=procrastinate (avec une base "
            "PostgreSQL). Avec la file en processus (NEXUS_QUEUE=inprocess), l'API exécute elle-même les "
            "ingestions (NEXUS_INGEST_WORKER=true)."
        )
    console.print(f"Worker d'ingestion : {concurrency or settings.worker_concurrency} tâche(s) à la fois.")
    try:
        serve_worker(settings, concurrency)
    except Exception as exc:
        raise fail(f"worker arrêté : {type(exc).__name__}: {exc}", 1) from exc


@retention_app.command("run")
def retention_run() -> None:
    """Delete what is older than its retention period (messages, uploads, finished jobs), once; for a CronJob."""
    from platform_api.core.config import PlatformSettings
    from platform_api.core.db import build_engine, build_sessionmaker
    from platform_api.retention.service import run_retention

    try:
        settings = PlatformSettings()
    except ValueError as exc:
        raise fail(f"réglages invalides : {exc}") from exc
    runtime = _runtime()
    engine = build_engine(settings.sqlalchemy_url)
    try:
        run = run_retention(
            build_sessionmaker(engine), engine, settings, Ingestor(runtime.store, runtime.embedder), "cli"
        )
    except Exception as exc:
        raise fail(f"conservation : exécution impossible : {type(exc).__name__}: {exc}", 1) from exc
    finally:
        engine.dispose()
        runtime.close()
    if run.status != "succeeded":
        raise fail(f"conservation : échec ({run.error})", 1)
    table = Table(title="Données supprimées (durées de conservation)")
    table.add_column("type")
    table.add_column("supprimés", justify="right")
    for kind, count in run.counts.items():
        table.add_row(kind, str(count))
    console.print(table)


@kb_app.command("stats")
def kb_stats() -> None:
    """Documents and chunks in the knowledge base, by source kind and level."""
    runtime = _runtime()
    docs: dict[str, dict[str, Any]] = {}
    for payload in runtime.store.scroll(Filter(must=(Match("state", "live"),))):
        doc = docs.setdefault(payload["doc_id"], {"chunks": 0, **payload})
        doc["chunks"] += 1
    total = runtime.store.count()
    runtime.close()
    table = Table(title="Base de connaissances")
    for col in ("documents", "passages", "curriculum", "uploads", "première", "terminale"):
        table.add_column(col, justify="right")
    table.add_row(
        str(len(docs)),
        str(total),
        str(sum(d["source_kind"] == "curriculum" for d in docs.values())),
        str(sum(d["source_kind"] == "upload" for d in docs.values())),
        str(sum("premiere" in d["level"] for d in docs.values())),
        str(sum("terminale" in d["level"] for d in docs.values())),
    )
    console.print(table)


@kb_app.command("delete")
def kb_delete(doc_id: Annotated[str, typer.Argument(help="Document id (see `nexus search --json`).")]) -> None:
    """Delete a document's chunks from the knowledge base."""
    runtime = _runtime()
    ingestor = Ingestor(runtime.store, runtime.embedder)
    removed = ingestor.delete(doc_id)
    runtime.close()
    if not removed:
        raise fail(f"document inconnu : {doc_id}", 1)
    console.print(f"{removed} passage(s) supprimé(s) pour {doc_id}.")


@jobs_app.command("list")
def jobs_list(status: Annotated[str | None, typer.Option(help="queued, running, succeeded or failed.")] = None) -> None:
    """List ingestion jobs."""
    store = JobStore(KnowledgeSettings().data_dir / "jobs.sqlite")
    table = Table(title="Tâches d'ingestion")
    for col in ("id", "statut", "fichier", "progression", "erreur"):
        table.add_column(col)
    for job in store.list(status, limit=1000):  # type: ignore[arg-type]
        table.add_row(
            job.id[:12], job.status, job.params.get("source", ""), f"{job.progress}/{job.total}", job.error or ""
        )
    console.print(table)


@jobs_app.command("retry")
def jobs_retry(job_id: Annotated[str, typer.Argument(help="Job id or its first characters.")]) -> None:
    """Queue a failed job again (run it with `nexus ingest` or the API worker)."""
    store = JobStore(KnowledgeSettings().data_dir / "jobs.sqlite")
    matches = [j for j in store.list("failed", limit=100_000) if j.id.startswith(job_id)]
    if len(matches) != 1:
        raise fail(f"aucune tâche en échec unique ne correspond à {job_id!r}", 1)
    store.retry(matches[0].id)
    console.print(f"Tâche {matches[0].id} remise en file.")


def _profile(role: str, level: str | None) -> Any:
    from tutor.types import LearnerProfile

    if role not in ("student", "parent", "teacher", "admin"):
        raise fail(f"--role doit être student, parent, teacher ou admin (reçu : {role!r})")
    levels = _check_level(level)
    return LearnerProfile(role=role, user_id="cli", level=levels[0] if levels else None)  # type: ignore[arg-type]


def _tutor(backend: str | None) -> tuple[Any, KnowledgeRuntime]:
    from tutor.config import TutorSettings
    from tutor.engine import Tutor

    if backend not in (None, "extractive", "openai"):
        raise fail(f"--backend doit être extractive ou openai (reçu : {backend!r})")
    settings = TutorSettings(llm_backend=backend) if backend else TutorSettings()
    runtime = _runtime()
    return Tutor(runtime.kb, settings), runtime


async def _stream_answer(tutor: Any, question: str, profile: Any, history: list[Any], quiet: bool) -> Any:
    from tutor.types import DoneEvent, ErrorEvent, TokenEvent

    final: Any = None
    async for event in tutor.stream(question, profile, history):
        if isinstance(event, TokenEvent) and not quiet:
            console.print(event.text, end="", markup=False, highlight=False, soft_wrap=True)
        elif isinstance(event, DoneEvent | ErrorEvent):
            final = event
    if not quiet:
        console.print()
    return final


def _print_sources(done: Any) -> None:
    if done.sources:
        console.print("\n[bold]Sources[/bold]")
    for source in done.sources:
        where = " > ".join([source.title, *source.section_path]) + (f" ({source.location})" if source.location else "")
        console.print(
            f"  {escape(f'[{source.n}]')} {escape(where)}  [dim]{escape(source.source)}[/dim]", highlight=False
        )
    console.print(
        f"[dim]confiance {done.confidence:.2f} · {done.metadata['responseTime']:.2f} s · {done.metadata['model']}[/dim]"
    )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in French.")],
    level: Annotated[str | None, typer.Option(help="premiere or terminale.")] = None,
    role: Annotated[str, typer.Option(help="student, parent, teacher or admin.")] = "student",
    backend: Annotated[str | None, typer.Option(help="extractive or openai (default: settings).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the final event as one JSON object.")] = False,
) -> None:
    """Ask ARIA: the answer streams, with its numbered sources under it."""
    import asyncio
    import dataclasses

    from tutor.types import ErrorEvent

    profile = _profile(role, level)
    tutor, runtime = _tutor(backend)
    try:
        final = asyncio.run(_stream_answer(tutor, question, profile, [], quiet=as_json))
    finally:
        runtime.close()
    if isinstance(final, ErrorEvent) or final is None:
        raise fail(final.message if final else "réponse interrompue", 1)
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(final), ensure_ascii=False))
    else:
        _print_sources(final)


@app.command()
def chat(
    level: Annotated[str | None, typer.Option(help="premiere or terminale.")] = None,
    role: Annotated[str, typer.Option(help="student, parent, teacher or admin.")] = "student",
    backend: Annotated[str | None, typer.Option(help="extractive or openai (default: settings).")] = None,
) -> None:
    """A multi-turn conversation with ARIA in the terminal (empty line or Ctrl-D to quit)."""
    import asyncio

    from tutor.types import DoneEvent, Turn

    profile = _profile(role, level)
    tutor, runtime = _tutor(backend)
    history: list[Turn] = []
    console.print("ARIA, ton tuteur NSI. Pose ta question (ligne vide pour quitter).")
    try:
        while True:
            try:
                question = console.input("[bold]toi>[/bold] ").strip()
            except EOFError:
                break
            if not question:
                break
            console.print("[bold]ARIA>[/bold] ", end="")
            final = asyncio.run(_stream_answer(tutor, question, profile, history, quiet=False))
            if isinstance(final, DoneEvent):
                _print_sources(final)
                history += [Turn("user", question), Turn("assistant", final.response)]
            elif final is not None:
                console.print(f"[red]{final.message}[/red]")
    finally:
        runtime.close()


@bench_app.command("chat")
def bench_chat(
    queries: Annotated[int, typer.Option(help="Questions per backend.")] = 50,
    openai_url: Annotated[
        str | None, typer.Option(help="Also measure an OpenAI-compatible server at this URL.")
    ] = None,
    openai_model: Annotated[str, typer.Option(help="Model name on that server.")] = "smollm2",
    out: Annotated[Path, typer.Option(help="Results folder.")] = Path("evals/results"),
) -> None:
    """Time to the sources event, to the first token, and our overhead before the LLM call (p50, p95)."""
    from evals.bench import bench_chat as run

    runtime = _runtime()
    try:
        report = run(runtime.kb, queries, openai_url, openai_model, out, console)
    finally:
        runtime.close()
    console.print_json(data=report)


@bench_app.command("ingest")
def bench_ingest(
    corpus: Annotated[list[Path] | None, typer.Option(help="Folders or files (default: the curriculum).")] = None,
    out: Annotated[Path, typer.Option(help="Results folder.")] = Path("evals/results"),
) -> None:
    """Parse pages/s, embed chunks/s and end-to-end ingest chunks/s, into a throw-away store."""
    from evals.bench import bench_ingest as run

    report = run(corpus or [Path(__file__).resolve().parent.parent / "knowledge" / "curriculum"], out, console)
    console.print_json(data=report)


@bench_app.command("ocr")
def bench_ocr(
    pages: Annotated[int, typer.Option(min=1, help="Pages of the scanned exam paper made for the bench.")] = 20,
    engine: Annotated[
        list[str] | None, typer.Option(help="tesseract and/or rapidocr (repeatable; default: both).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Results folder.")] = Path("evals/results"),
) -> None:
    """Word accuracy and pages/s of Tesseract (fra) and RapidOCR on a scanned French exam paper made here."""
    from evals.ocr_bench import ENGINES
    from evals.ocr_bench import bench_ocr as run

    engines = engine or list(ENGINES)
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        raise fail(f"--engine doit être tesseract ou rapidocr (reçu : {', '.join(unknown)})")
    try:
        report = run(pages, engines, out, console)
    except RuntimeError as exc:
        raise fail(str(exc)) from exc
    console.print_json(data=report)


@bench_app.command("bombs")
def bench_bombs(
    out: Annotated[Path, typer.Option(help="Results folder.")] = Path("evals/results"),
) -> None:
    """Hostile files through the pipeline (outcome, seconds, peak RSS of the server and the parsing child)."""
    from evals.bench import bench_bombs as run

    console.print_json(data=run(out, console))


@bench_app.command("api")
def bench_api(
    concurrency: Annotated[int, typer.Option(help="Simultaneous clients.")] = 8,
    requests: Annotated[int, typer.Option(help="Requests per scenario (login: a fifth of it).")] = 400,
    chat_requests: Annotated[int, typer.Option(help="Chat requests.")] = 100,
    database_url: Annotated[
        str | None, typer.Option(help="An empty database to use (default: a throw-away SQLite file).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Results folder.")] = Path("evals/results"),
) -> None:
    """Requests/s and p95 of login, course list, progress update and chat, from a second process on loopback."""
    from platform_api.bench import bench_api as run

    if concurrency < 1 or requests < 1 or chat_requests < 1:
        raise fail("--concurrency, --requests et --chat-requests doivent être au moins 1")
    report = run(out, concurrency, requests, chat_requests, log=console.print, database_url=database_url)
    console.print_json(data=report)


@bench_app.command("chat-load")
def bench_chat_load(
    clients: Annotated[int, typer.Option(min=1, help="SSE chats held at once.")] = 200,
    duration: Annotated[float, typer.Option(min=1, help="Seconds of load; streams under way then finish.")] = 120,
    users: Annotated[int | None, typer.Option(min=1, help="Students logged in (default: one per client).")] = None,
    url: Annotated[
        str | None, typer.Option(help="Load this server instead of starting one (students are registered on it).")
    ] = None,
    server_pid: Annotated[int | None, typer.Option(help="With --url: its process id, for the memory samples.")] = None,
    database_url: Annotated[
        str | None, typer.Option(help="An empty database for the started server (default: a throw-away SQLite file).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Results folder.")] = Path("evals/results"),
) -> None:
    """Hold N concurrent SSE chats (extractive) for a while: completed streams, errors, first-event p50/p95, RSS."""
    from platform_api.bench import bench_chat_load as run

    report = run(out, clients, duration, users, url, server_pid, database_url=database_url, log=console.print)
    console.print_json(data=report)
    if report["results"]["errors"]:
        raise typer.Exit(1)


@bench_app.command("fuzz")
def bench_fuzz(
    examples: Annotated[int, typer.Option(help="Cases per API operation.")] = 100,
    seed: Annotated[int | None, typer.Option(help="Hypothesis seed (default: the derandomized cases of CI).")] = None,
    database_url: Annotated[
        str | None, typer.Option(help="An empty database to use (default: a throw-away SQLite file).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Results folder.")] = Path("evals/results"),
) -> None:
    """Schemathesis on every API operation as every role, in-process: requests sent, 5xx and contract breaks."""
    from platform_api.bench import bench_fuzz as run

    if examples < 1:
        raise fail("--examples doit être au moins 1")
    report = run(out, examples, seed, log=console.print, database_url=database_url)
    console.print(
        f"{report['requests']} requêtes sur {report['operations']} opérations : {report['server_errors']} erreurs "
        f"serveur (5xx), {report['contract_violations']} réponses hors contrat"
    )
    console.print_json(data={k: v for k, v in report.items() if k != "findings"})
    if report["contract_violations"]:
        for finding in report["findings"]:
            console.print(f"{finding['status']} {finding['operation']} ({finding['role']}) : {finding['problem']}")
            console.print(f"    {finding['request']}", markup=False)
        raise typer.Exit(1)


@bench_app.command("search")
def bench_search(
    sizes: Annotated[str, typer.Option(help="Collection sizes, comma-separated.")] = "1000,10000,20000",
    queries: Annotated[int, typer.Option(help="Queries per measurement.")] = 100,
    out: Annotated[Path, typer.Option(help="Results folder.")] = Path("evals/results"),
) -> None:
    """Hybrid search latency p50/p95 by collection size, with and without filters, query embedding included."""
    from evals.bench import bench_search as run

    report = run([int(s) for s in sizes.split(",")], queries, out, console)
    console.print_json(data=report)


def _stage_progress(bar: Progress) -> Any:
    """A progress callback that opens one bar per stage (questions, refusals, peer)."""
    tasks: dict[str, Any] = {}

    def advance(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done)

    return advance


@app.command("eval")
def eval_(
    dataset: Annotated[str, typer.Option(help="curriculum, uploads, all, or a .jsonl gold file.")] = "curriculum",
    backend: Annotated[str | None, typer.Option(help="extractive or openai (default: settings).")] = None,
    k: Annotated[int, typer.Option("-k", help="Ranking depth (at least 10: MRR@10, nDCG@10).")] = 10,
    report: Annotated[Path, typer.Option("--report", help="Folder of the JSON, Markdown and PNG reports.")] = Path(
        "evals/results"
    ),
    peer: Annotated[
        bool, typer.Option("--peer/--no-peer", help="Also run the llama-index peer (built once in the data dir).")
    ] = True,
    save_baseline: Annotated[
        bool, typer.Option("--save-baseline", help="Record the figures in evals/results/baseline.json.")
    ] = False,
) -> None:
    """Evaluate retrieval, answers, citations, refusals and latency on a gold set; exit 1 below the thresholds."""
    try:
        from evals.cases import DATASET_NAMES
        from evals.evaluate import run_eval
        from evals.report import LABELS, behind_peer, check_thresholds, load_thresholds
        from evals.report import save_baseline as record_baseline
    except ImportError as exc:
        raise fail(f"dépendances d'évaluation absentes ({exc.name}) : pip install 'nexus-aria[eval]'", 1) from exc
    from tutor.config import TutorSettings

    if dataset not in (*DATASET_NAMES, "all") and not (dataset.endswith(".jsonl") and Path(dataset).is_file()):
        raise fail(f"--dataset doit être curriculum, uploads, all ou un fichier .jsonl (reçu : {dataset!r})")
    if backend not in (None, "extractive", "openai"):
        raise fail(f"--backend doit être extractive ou openai (reçu : {backend!r})")
    if k < 10:
        raise fail(f"-k doit être au moins 10 (reçu : {k})")
    backend = backend or TutorSettings().llm_backend
    runtime = _runtime()
    try:
        curriculum = Path(__file__).resolve().parent.parent / "knowledge" / "curriculum"
        files = discover([curriculum])
        ingestor = Ingestor(runtime.store, runtime.embedder, IngestSettings())
        with Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
        ) as bar:
            task = bar.add_task("programme", total=len(files))
            results = []
            for path, source in files:
                results.append(ingestor.ingest_file(path, source))
                bar.update(task, advance=1)
        failed = [r for r in results if r.status == "failed"]
        if failed:
            raise fail(f"ingestion du programme en échec : {failed[0].source} : {failed[0].reason}", 1)
        console.print(
            f"Programme : {sum(r.status == 'ingested' for r in results)} chapitre(s) ingéré(s), "
            f"{sum(r.status == 'skipped' for r in results)} inchangé(s)."
        )
        peer_pipeline = None
        if peer:
            from evals.peer import PeerPipeline

            console.print("Pipeline de comparaison (llama-index) : construction ou réutilisation de l'index…")
            peer_pipeline = PeerPipeline(files, runtime.embedder, runtime.settings.data_dir / "eval-peer")
        thresholds = load_thresholds()
        below: list[str] = []
        try:
            for name in DATASET_NAMES if dataset == "all" else (dataset,):
                with Progress(
                    TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
                ) as bar:
                    advance = _stage_progress(bar)
                    result = run_eval(runtime.kb, name, backend, k, report, peer=peer_pipeline, progress=advance)
                table = Table(title=f"Évaluation : {result['dataset']} ({result['questions']} questions)")
                for col in ("métrique", "ARIA", "pair (llama-index)"):
                    table.add_column(col, justify="left" if col == "métrique" else "right")
                theirs = result.get("peer", {}).get("metrics", {})
                for key, value in result["metrics"].items():
                    other = theirs.get(key)
                    table.add_row(
                        LABELS.get(key, key),
                        "—" if value is None else f"{value:.3f}",
                        "—" if other is None else f"{other:.3f}",
                    )
                console.print(table)
                for line in behind_peer(result):
                    console.print(f"[yellow]en retrait sur le pair[/yellow] {line}", highlight=False)
                stem = report / f"eval-{result['dataset']}"
                console.print(f"Rapports : {stem}.json, {stem}.md, {stem}.png", highlight=False)
                if save_baseline:
                    console.print(f"Référence enregistrée : {record_baseline(result)}", highlight=False)
                if backend == "extractive":
                    below += check_thresholds(result, thresholds)
        finally:
            if peer_pipeline:
                peer_pipeline.close()
    finally:
        runtime.close()
    for line in below:
        err_console.print(f"[red]sous le seuil :[/red] {line}", highlight=False)
    if below:
        raise typer.Exit(1)


# --- exercises: the exercise bank and its sandbox (commands in nexus_cli/exercises.py) ---
from nexus_cli.exercises import bench_exercises, exercises_app  # noqa: E402

app.add_typer(exercises_app, name="exercises")
bench_app.command("exercises")(bench_exercises)


if __name__ == "__main__":
    app()
