"""``nexus eval``'s argument checks (the full run is the eval gate's job: it needs the whole curriculum)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nexus_cli.main import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "nope"], "--dataset doit être"),
        (["--backend", "gpt"], "--backend doit être"),
        (["-k", "5"], "-k doit être au moins 10"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEXUS_DATA_DIR", str(tmp_path / "data"))
    result = runner.invoke(app, ["eval", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "data").exists()  # nothing opened before the arguments are checked
