"""``nexus exercises``: list the bank, check a file against an exercise in the sandbox, validate the bank."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tutor.practice import CheckResult, ExerciseBank, ExerciseBroken, ExerciseFileError, Runner, SandboxUnavailable

exercises_app = typer.Typer(help="The exercise bank: list, check code in the sandbox, validate.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)
STATUS = {"passed": "[green]réussi[/green]", "failed": "[red]échoué[/red]", "error": "[yellow]erreur[/yellow]"}


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[red]erreur :[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _bank() -> ExerciseBank:
    try:
        return ExerciseBank.load()
    except ExerciseFileError as exc:
        raise _fail(str(exc)) from exc


@exercises_app.command("list")
def list_(
    capacity: Annotated[str | None, typer.Option(help="Only the exercises of this capacity (P-ALGO-03…).")] = None,
    level: Annotated[str | None, typer.Option(help="premiere or terminale.")] = None,
    chapter: Annotated[str | None, typer.Option(help="Only this chapter id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
) -> None:
    """The exercises of the bank: id, level, chapter, capacities, language, difficulty, number of tests."""
    if level is not None and level not in ("premiere", "terminale"):
        raise _fail(f"--level doit être premiere ou terminale (reçu : {level!r})")
    exercises = list(_bank())
    if capacity:
        exercises = [e for e in exercises if capacity in e.capacities]
    if level:
        exercises = [e for e in exercises if e.level == level]
    if chapter:
        exercises = [e for e in exercises if e.chapter == chapter]
    rows: list[dict[str, Any]] = [
        {
            "id": e.id,
            "title": e.title,
            "level": e.level,
            "chapter": e.chapter,
            "capacities": e.capacities,
            "language": e.language,
            "difficulty": e.difficulty,
            "public_tests": sum(not t.hidden for t in e.tests()),
            "hidden_tests": sum(t.hidden for t in e.tests()),
        }
        for e in exercises
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("id", "titre", "chapitre", "capacités", "langage", "diff.", "tests")
    for r in rows:
        table.add_row(
            r["id"], r["title"], r["chapter"], ", ".join(r["capacities"]), r["language"], str(r["difficulty"]),
            f"{r['public_tests']} + {r['hidden_tests']} cachés",
        )  # fmt: skip
    console.print(table)
    console.print(f"{len(rows)} exercice(s)")


def _print_result(result: CheckResult) -> None:
    table = Table("n°", "test", "verdict", "message")
    for v in result.verdicts:
        label = escape(v.test) if v.test else "[dim](test caché)[/dim]"
        message = escape(v.message or "")
        if v.explanation:
            message += f"\n[dim]{escape(v.explanation)}[/dim]"
        table.add_row(str(v.index + 1), label, STATUS[v.status], message)
    console.print(table)
    if result.output.strip():
        console.print("[bold]Sortie du programme[/bold]" + (" (tronquée)" if result.output_truncated else ""))
        console.print(escape(result.output[-2000:]), highlight=False)
    counts = result.counts()
    verdict = "[green]tous les tests passent[/green]" if result.passed else "[red]des tests échouent[/red]"
    console.print(
        f"{verdict} : {counts['passed']} réussi(s), {counts['failed']} échoué(s), {counts['error']} erreur(s) "
        f"en {result.duration_s:.2f} s",
        highlight=False,
    )


@exercises_app.command("check")
def check(
    exercise_id: Annotated[str, typer.Argument(metavar="ID", help="The exercise id.")],
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The code (or SQL query) to check.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdicts as JSON.")] = False,
) -> None:
    """Run FILE against all the exercise's tests (public and hidden) in the sandbox; exit 1 when a test fails."""
    bank = _bank()
    try:
        exercise = bank.get(exercise_id)
    except KeyError as exc:
        raise _fail(f"exercice inconnu : {exercise_id}") from exc
    try:
        code = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"impossible de lire {file} : {exc}") from exc
    try:
        result = Runner().check(exercise, code)
    except (SandboxUnavailable, ExerciseBroken) as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_result(result)
    if not result.passed:
        raise typer.Exit(1)


@exercises_app.command("validate")
def validate(
    strict: Annotated[
        bool, typer.Option(help="Also fail when a programming capacity has fewer than 2 exercises.")
    ] = False,
    workers: Annotated[int, typer.Option(help="Sandboxes run at a time (default: the CPU count).")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """The bank's self-check: every reference passes, every starter fails a hidden test, ids exist, coverage."""
    from tutor.practice.validate import validate_bank

    bank = _bank()
    try:
        report = validate_bank(bank, workers=workers or os.cpu_count() or 2)
    except SandboxUnavailable as exc:
        raise _fail(str(exc)) from exc
    data: dict[str, Any] = {
        "ok": report.ok,
        "summary": report.summary,
        "seconds": round(report.seconds, 2),
        "workers": report.workers,
        "problems": report.problems,
        "broken": {e.exercise_id: e.problems for e in report.exercises if e.problems},
        "gaps": report.gaps,
    }
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        for exercise_id, problems in data["broken"].items():
            for problem in problems:
                console.print(f"[red]{exercise_id}[/red] {escape(problem)}", highlight=False)
        for problem in report.problems:
            console.print(f"[red]banque[/red] {escape(problem)}", highlight=False)
        if report.gaps:
            gaps = ", ".join(f"{c} ({n})" for c, n in sorted(report.gaps.items()))
            console.print(f"[yellow]capacités avec moins de 2 exercices[/yellow] : {gaps}", highlight=False)
        s = report.summary
        console.print(
            f"{s['exercises']} exercices ({s['python']} Python, {s['sql']} SQL), {s['broken']} à corriger ; "
            f"{s['covered']}/{s['programming_capacities']} capacités de programmation couvertes ; "
            f"{report.seconds:.1f} s avec {report.workers} bac(s) à sable en parallèle",
            highlight=False,
        )
    if not report.ok or (strict and report.gaps):
        raise typer.Exit(1)


def bench_exercises(
    checks: Annotated[int, typer.Option(help="Checks per measurement.")] = 40,
    graders: Annotated[str, typer.Option(help="Numbers of parallel graders, comma-separated.")] = "1,2,4",
    out: Annotated[Path, typer.Option(help="Results folder.")] = Path("evals/results"),
) -> None:
    """Sandbox start-up and a typical check (p50/p95), checks/s with N graders; writes bench-exercises.json."""
    from evals.bench_exercises import bench_exercises as run

    try:
        report = run(checks, [int(g) for g in graders.split(",")], out, console)
    except SandboxUnavailable as exc:
        raise _fail(str(exc)) from exc
    console.print_json(data=report)
