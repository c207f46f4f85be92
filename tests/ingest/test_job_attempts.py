"""A job interrupted by crashes (kill -9 mid-parse) is queued again at most NEXUS_INGEST_MAX_ATTEMPTS times."""

from __future__ import annotations

from pathlib import Path

from ingest.jobs import JobStore


def crash_while_running(path: Path, max_attempts: int = 3) -> JobStore:
    """A process starts, requeues what was interrupted, claims the job and dies (the next one reopens the file)."""
    store = JobStore(path, max_attempts=max_attempts)
    store.requeue_interrupted()
    store.claim()
    return store


def test_a_job_that_keeps_killing_its_worker_ends_failed(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite"
    job = JobStore(path).enqueue({"path": "bombe.md", "source": "bombe.md"})
    for attempt in (1, 2, 3):
        store = crash_while_running(path)
        assert store.get(job.id).status == "running"
        assert store.get(job.id).attempts == attempt
    store = JobStore(path, max_attempts=3)
    assert store.requeue_interrupted() == 0  # not queued a fourth time
    failed = store.get(job.id)
    assert failed.status == "failed"
    assert failed.error is not None
    assert "interrompue 3 fois" in failed.error
    assert failed.result == {"status": "failed", "code": "too_many_attempts", "reason": failed.error}
    assert store.claim() is None
    # a teacher's explicit retry starts a fresh count
    assert store.retry(job.id)
    assert store.get(job.id).attempts == 0


def test_below_the_cap_an_interrupted_job_is_queued_again(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite"
    job = JobStore(path).enqueue({"path": "cours.md", "source": "cours.md"})
    crash_while_running(path, max_attempts=2)
    store = JobStore(path, max_attempts=2)
    assert store.requeue_interrupted() == 1
    assert store.get(job.id).status == "queued"
