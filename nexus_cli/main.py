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
from ingest.pipeline import LEVELS, DocumentOptions, Ingestor, IngestResult, discover
from knowledge.config import KnowledgeSettings
from knowledge.factory import KnowledgeRuntime, open_knowledge
from knowledge.search import SearchScope
from knowledge.store import Filter, Match

app = typer.Typer(help="ARIA, le tuteur NSI de Nexus Réussite.", no_args_is_help=True, add_completion=False)
kb_app = typer.Typer(help="Inspect and edit the knowledge base.", no_args_is_help=True)
jobs_app = typer.Typer(help="Ingestion jobs.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks: print figures and write them under evals/results/.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
app.add_typer(jobs_app, name="jobs")
app.add_typer(bench_app, name="bench")

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
        options = DocumentOptions(
            levels=tuple(p.get("levels") or ()),
            visibility=p.get("visibility", "public"),
            owner_id=p.get("owner_id"),
            class_ids=tuple(p.get("class_ids") or ()),
            course=p.get("course"),
            doc_id=p.get("doc_id"),
        )
        result = ingestor.ingest_file(Path(p["path"]), p["source"], options, progress)
        return result.__dict__

    return handle


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (recursive).")],
    level: Annotated[str | None, typer.Option(help="premiere or terminale (default: front matter, else both).")] = None,
    visibility: Annotated[str, typer.Option(help="public, class or private.")] = "public",
    owner: Annotated[str | None, typer.Option(help="Owner user id.")] = None,
    class_id: Annotated[list[str] | None, typer.Option("--class", help="Class id (repeatable).")] = None,
) -> None:
    """Ingest course files: parse, chunk, embed, upsert. Unchanged files are skipped; exit 1 if any failed."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise fail(f"chemin introuvable : {', '.join(missing)}")
    try:
        options = DocumentOptions(_check_level(level), visibility, owner, tuple(class_id or ()))  # type: ignore[arg-type]
    except ValueError as exc:
        raise fail(str(exc)) from exc
    if visibility not in ("public", "class", "private"):
        raise fail(f"--visibility doit être public, class ou private (reçu : {visibility!r})")
    files = discover(paths)
    if not files:
        raise fail("aucun fichier pris en charge (.md, .pdf, .docx, .html, .txt) dans ces chemins")
    settings = KnowledgeSettings()
    jobs = JobStore(settings.data_dir / "jobs.sqlite")
    resumed = jobs.requeue_interrupted()
    if resumed:
        console.print(f"{resumed} tâche(s) interrompue(s) reprise(s).")
    for path, source in files:
        jobs.enqueue(
            {
                "path": str(path.resolve()),
                "source": source,
                "levels": list(options.levels),
                "visibility": options.visibility,
                "owner_id": options.owner_id,
                "class_ids": list(options.class_ids),
            }
        )
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
        where = " > ".join([hit.title, *hit.section_path]) + (f" (p. {hit.page})" if hit.page else "")
        console.print(
            f"[bold][{rank}][/bold] {where}  [dim]{hit.source} · score {hit.score:.4f}[/dim]", highlight=False
        )
        snippet = " ".join(hit.text.split())
        console.print(f"    {snippet[:300]}{'…' if len(snippet) > 300 else ''}", highlight=False)


@app.command()
def init() -> None:
    """Prepare the embedded default: ingest the shipped curriculum (idempotent: unchanged chapters are skipped)."""
    curriculum = Path(__file__).resolve().parent.parent / "knowledge" / "curriculum"
    ingest([curriculum])


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Serve the web app and API with uvicorn."""
    import uvicorn

    from platform_api.app import create_app

    console.print(f"ARIA est prêt : [bold]http://{host}:{port}/[/bold]  (API : http://{host}:{port}/docs)")
    uvicorn.run(create_app(), host=host, port=port, log_level="info")


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
        where = " > ".join([source.title, *source.section_path]) + (f" (p. {source.page})" if source.page else "")
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


if __name__ == "__main__":
    app()
