"""`dx reminders run`: the choices it refuses before touching a database."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from services.cli import app


@pytest.mark.parametrize("narrowing", [["--program", "E2E"], ["--indicator", "IT-01"]])
def test_a_scheduled_run_is_never_narrowed(narrowing: list[str]) -> None:
    # Without --period the run is the scheduled job, recorded as such: all of it or nothing.
    result = CliRunner().invoke(app, ["reminders", "run", *narrowing])
    assert result.exit_code == 2
    assert "--program and --indicator need --period" in result.output
