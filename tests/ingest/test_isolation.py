"""Parsing in killable children: the budgets really fire, a bad file fails alone, shutdown interrupts a parse."""

from __future__ import annotations

import os
import resource
import threading
from pathlib import Path
from typing import Any

import pytest

from ingest.config import IngestSettings
from ingest.errors import IngestInterrupted, ParseError, UnusableFileError
from ingest.isolation import ParseLimits, ParserPool
from ingest.jobs import Job, JobStore, Worker
from ingest.pipeline import Ingestor
from knowledge.embedder import HashEmbedder
from knowledge.store import EdgeStore

COURSE = b"# Les piles\n\n## Cours\n\nUne pile est une structure LIFO.\n"


@pytest.fixture
def pool() -> Any:
    pool = ParserPool()
    yield pool
    pool.shutdown()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead too
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"


def test_a_file_is_parsed_in_a_warm_child_reused_for_the_next(pool: ParserPool) -> None:
    limits = ParseLimits(timeout_s=30)
    first = pool.parse(Path("a.md"), COURSE, limits, "tests.ingest.nasty:pid")
    second = pool.parse(Path("b.md"), COURSE, limits, "tests.ingest.nasty:pid")
    assert first.title == second.title != str(os.getpid())
    assert pool.pids() == [int(first.title)]
    doc = pool.parse(Path("piles.md"), COURSE, limits)
    assert doc.title == "Les piles"
    assert [doc.text[b.start : b.end] for b in doc.blocks] == ["Une pile est une structure LIFO."]


def test_a_parser_refusal_crosses_the_process_boundary_and_keeps_the_child(pool: ParserPool) -> None:
    limits = ParseLimits(timeout_s=30)
    with pytest.raises(UnusableFileError, match="n'est pas un PDF") as refused:
        pool.parse(Path("faux.pdf"), b"du texte", limits)
    assert refused.value.code == "type_mismatch"
    with pytest.raises(ParseError, match="YAML"):
        pool.parse(Path("x.md"), b"---\ntitle: [\n---\n# T\n\ntexte\n", limits)
    assert len(pool.pids()) == 1


def test_a_parser_over_the_memory_budget_is_stopped_and_the_parent_stays_small(pool: ParserPool) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    with pytest.raises(UnusableFileError, match="mémoire autorisée \\(300 Mo\\)") as refused:
        pool.parse(Path("bombe.md"), COURSE, ParseLimits(timeout_s=60, memory_mb=300), "tests.ingest.nasty:greedy")
    assert refused.value.code == "parse_memory"
    assert pool.pids() == []  # a child that ran out of memory is never reused
    # the child tried to take 10 GB; this process's peak did not move by the size of one of its blocks
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000


def test_a_parser_over_the_wall_time_is_killed(pool: ParserPool) -> None:
    with pytest.raises(UnusableFileError, match="temps imparti \\(1 s\\)") as refused:
        pool.parse(Path("lent.md"), COURSE, ParseLimits(timeout_s=1), "tests.ingest.nasty:sleepy")
    assert refused.value.code == "parse_timeout"
    assert pool.pids() == []
    assert pool.parse(Path("piles.md"), COURSE, ParseLimits(timeout_s=30)).title == "Les piles"  # next file is fine


def test_a_crashing_parser_fails_the_file_with_a_reason(pool: ParserPool) -> None:
    with pytest.raises(ParseError, match="arrêté le programme d'analyse") as refused:
        pool.parse(Path("crash.md"), COURSE, ParseLimits(timeout_s=30), "tests.ingest.nasty:crashing")
    assert refused.value.code == "parser_crashed"


def test_shutdown_kills_a_busy_child_and_interrupts_its_parse(pool: ParserPool) -> None:
    outcome: list[BaseException] = []

    def parse() -> None:
        try:
            pool.parse(Path("lent.md"), COURSE, ParseLimits(timeout_s=600), "tests.ingest.nasty:sleepy")
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=parse)
    thread.start()
    while not pool.pids():
        thread.join(0.05)
    [pid] = pool.pids()
    pool.shutdown()
    thread.join(30)
    assert not thread.is_alive()
    assert [type(e) for e in outcome] == [IngestInterrupted]
    assert not alive(pid)


def test_stopping_the_worker_interrupts_the_running_parse_and_keeps_the_job(
    tmp_path: Path, edge_store: EdgeStore, hash_embedder: HashEmbedder, pool: ParserPool, monkeypatch: Any
) -> None:
    """What SIGTERM does to the server (the lifespan stops the worker): no wait for the parse, the job runs again."""
    monkeypatch.setattr("ingest.pipeline.POOL", pool)
    ingestor = Ingestor(edge_store, hash_embedder, IngestSettings(parse_timeout_seconds=600, _env_file=None))  # type: ignore[call-arg]
    ingestor.parse_target = "tests.ingest.nasty:sleepy"
    (tmp_path / "lent.md").write_bytes(COURSE)
    store = JobStore(tmp_path / "jobs.sqlite")
    job = store.enqueue({"path": str(tmp_path / "lent.md"), "source": "lent.md"})

    def handler(job: Job, progress: Any) -> dict[str, Any]:
        return ingestor.ingest_file(Path(job.params["path"]), job.params["source"]).__dict__

    worker = Worker(store, handler, poll_seconds=0.05, interrupt=pool.shutdown)
    worker.start()
    while not pool.pids():
        threading.Event().wait(0.05)
    [pid] = pool.pids()
    worker.stop()
    assert worker._thread is not None
    assert not worker._thread.is_alive()
    assert not alive(pid)
    assert store.get(job.id).status == "running"  # not failed: the file did nothing wrong
    assert store.requeue_interrupted() == 1
    assert store.get(job.id).attempts == 1
