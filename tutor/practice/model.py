"""An exercise as data: the pydantic model of ``knowledge/exercises/<level>/<theme>/<id>.yaml`` and its tests."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_CAPACITY = re.compile(r"^[PT]-[A-Z]+-\d{2}$")
_CHAPTER = re.compile(r"^(premiere|terminale)/[a-z0-9-]+/[a-z0-9-]+$")

NonEmpty = Annotated[str, Field(min_length=1)]


class ExerciseFileError(ValueError):
    """An exercise file that cannot be read or does not follow the format; the message names file and field."""


@dataclass(frozen=True)
class TestCase:
    """One ``assert`` of an exercise's test block, ready to be sent to the harness.

    ``probe`` is the expression whose value is compared with the reference solution's (the left side of a
    top-level ``==``, else the whole expression); ``rhs`` is the right side of that ``==`` (or ``None``).
    ``setup`` holds the non-``assert`` statements that precede the test in its block (run before it, in order).
    """

    index: int
    hidden: bool
    source: str
    probe: str
    rhs: str | None
    message: str | None
    line: int
    setup: tuple[str, ...] = ()


def parse_tests(source: str, *, hidden: bool, first_index: int = 0) -> list[TestCase]:
    """Split a test block (Python: ``assert`` lines and optional setup statements) into test cases.

    Raises:
        ValueError: the block is not valid Python, has no ``assert``, or an assert's message is not a plain string.
    """
    try:
        module = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"line {exc.lineno}: {exc.msg}") from exc
    tests: list[TestCase] = []
    setup: list[str] = []
    for node in module.body:
        text = ast.get_source_segment(source, node) or ast.unparse(node)
        if not isinstance(node, ast.Assert):
            setup.append(text)
            continue
        message: str | None = None
        if node.msg is not None:
            if not (isinstance(node.msg, ast.Constant) and isinstance(node.msg.value, str)):
                raise ValueError(f"line {node.lineno}: an assert's message must be a plain string literal")
            message = node.msg.value
        test = node.test
        rhs: str | None = None
        probe = ast.unparse(test)
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            probe, rhs = ast.unparse(test.left), ast.unparse(test.comparators[0])
        tests.append(
            TestCase(
                index=first_index + len(tests),
                hidden=hidden,
                source=ast.unparse(test),
                probe=probe,
                rhs=rhs,
                message=message,
                line=node.lineno,
                setup=tuple(setup),
            )
        )
        setup = []
    if not tests:
        raise ValueError("no assert statement")
    return tests


class SqlDatabase(BaseModel):
    """The SQLite database of a SQL exercise: a schema and two sets of rows (public, hidden variant)."""

    model_config = ConfigDict(extra="forbid")

    schema_sql: NonEmpty = Field(alias="schema", description="CREATE TABLE statements.")
    public: NonEmpty = Field(description="INSERT statements of the database the student sees.")
    hidden: NonEmpty = Field(description="INSERT statements of a variant, so that hard-coded answers fail.")


class Exercise(BaseModel):
    """One exercise of the bank (see README, "Exercises").

    Args:
        id: kebab-case id, equal to the file stem and unique in the bank.
        chapter: the curriculum chapter id (``level/theme/stem``) whose course the hints cite.
        capacities: programme capacity ids (``P-…``, ``T-…``) the exercise practises.
        public_tests, hidden_tests: Python test blocks (``assert`` lines), for ``language: python`` only.
        database, ordered, check_query: for ``language: sql`` only.

    Example:
        >>> ex = load_exercise(Path("knowledge/exercises/premiere/algorithmique/somme-des-elements.yaml"))
        >>> [t.source for t in ex.tests()][:1]
        ['somme([1, 2, 3]) == 6']
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: NonEmpty
    title: NonEmpty
    level: Literal["premiere", "terminale"]
    chapter: NonEmpty
    capacities: list[str] = Field(min_length=1)
    language: Literal["python", "sql"]
    difficulty: int = Field(ge=1, le=3)
    statement: NonEmpty
    starter: str
    solution: NonEmpty
    hints: list[NonEmpty] = Field(min_length=3, max_length=3, description="idea, method, skeleton with `...`")
    public_tests: str | None = None
    hidden_tests: str | None = None
    database: SqlDatabase | None = None
    ordered: bool = Field(False, description="SQL: the rows must come in the reference's order (ORDER BY).")
    check_query: str | None = Field(None, description="SQL: SELECT run after the student's INSERT/UPDATE/DELETE.")
    tags: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _kebab_id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"must be kebab-case ascii (a-z, 0-9, -), got {value!r}")
        return value

    @field_validator("chapter")
    @classmethod
    def _chapter_shape(cls, value: str) -> str:
        if not _CHAPTER.match(value):
            raise ValueError(f"must look like 'terminale/structures-de-donnees/piles', got {value!r}")
        return value

    @field_validator("capacities")
    @classmethod
    def _capacity_shape(cls, value: list[str]) -> list[str]:
        bad = [c for c in value if not _CAPACITY.match(c)]
        if bad:
            raise ValueError(f"capacity ids look like 'P-ALGO-03' or 'T-SD-04', got {bad}")
        return value

    @field_validator("hints")
    @classmethod
    def _skeleton_has_blanks(cls, value: list[str]) -> list[str]:
        if len(value) == 3 and "..." not in value[2]:
            raise ValueError("the third hint is a skeleton and must contain blanks '...'")
        return value

    @model_validator(mode="after")
    def _language_fields(self) -> Exercise:
        if not self.chapter.startswith(f"{self.level}/"):
            raise ValueError(f"chapter {self.chapter!r} is not of level {self.level!r}")
        if self.language == "python":
            if self.database is not None or self.check_query is not None:
                raise ValueError("database and check_query are for SQL exercises only")
            if not self.public_tests or not self.hidden_tests:
                raise ValueError("a Python exercise needs public_tests and hidden_tests")
            for name, block, hidden in (
                ("public_tests", self.public_tests, False),
                ("hidden_tests", self.hidden_tests, True),
            ):
                try:
                    cases = parse_tests(block, hidden=hidden)
                except ValueError as exc:
                    raise ValueError(f"{name}: {exc}") from exc
                loose = [c.line for c in cases if hidden and c.rhs is None]
                if loose:
                    raise ValueError(
                        f"{name}: line {loose[0]}: a hidden test must be 'assert expression == expected', so that "
                        "the expected value never enters the student's sandbox"
                    )
            for name, code in (("solution", self.solution), ("starter", self.starter)):
                try:
                    ast.parse(code)
                except SyntaxError as exc:
                    raise ValueError(f"{name}: line {exc.lineno}: {exc.msg}") from exc
        else:
            if self.database is None:
                raise ValueError("a SQL exercise needs a database (schema, public, hidden)")
            if self.public_tests or self.hidden_tests:
                raise ValueError("a SQL exercise has no test blocks: results are compared on both databases")
        return self

    @property
    def theme(self) -> str:
        """The curriculum theme, the folder the file lives in."""
        return self.chapter.split("/")[1]

    def tests(self, *, hidden: bool = True) -> list[TestCase]:
        """The public tests, then (unless ``hidden=False``) the hidden ones, numbered in that order."""
        if self.language == "sql":
            cases = [_sql_case(0, hidden=False)]
            return cases + ([_sql_case(1, hidden=True)] if hidden else [])
        assert self.public_tests is not None
        assert self.hidden_tests is not None
        public = parse_tests(self.public_tests, hidden=False)
        if not hidden:
            return public
        return public + parse_tests(self.hidden_tests, hidden=True, first_index=len(public))


def _sql_case(index: int, *, hidden: bool) -> TestCase:
    where = "la base cachée" if hidden else "la base fournie"
    return TestCase(index, hidden, f"résultat sur {where}", "public" if not hidden else "hidden", None, None, 0)


def _field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(file)"


def load_exercise(path: Path) -> Exercise:
    """Read and validate one exercise file.

    Raises:
        ExerciseFileError: invalid YAML or a field that breaks the format; the message names the file and field.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ExerciseFileError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ExerciseFileError(f"{path}: the file must be a YAML mapping")
    try:
        exercise = Exercise.model_validate(data)
    except ValidationError as exc:
        details = "; ".join(f"field {_field_path(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ExerciseFileError(f"{path}: {details}") from exc
    if path.stem != exercise.id:
        raise ExerciseFileError(f"{path}: field id: {exercise.id!r} must equal the file name {path.stem!r}")
    parts = path.parent.parts
    if len(parts) >= 2 and parts[-2:] != (exercise.level, exercise.theme):
        raise ExerciseFileError(
            f"{path}: field chapter: the file must live in {exercise.level}/{exercise.theme}/, "
            f"not {'/'.join(parts[-2:])}/"
        )
    return exercise
