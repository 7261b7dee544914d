"""The command line in-process, as the console script runs it: `healthscore.cli.app.main` (which turns a user
error into one line on stderr and its exit code) under Typer's CliRunner isolation, with its own stdin,
stdout, stderr and environment. The result is a `subprocess.CompletedProcess`, so a test reads it as it
would read a real process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping

from typer.testing import CliRunner

from healthscore.cli.app import main


def invoke(*args: str, input: str | None = None,
           env: Mapping[str, str | None] | None = None) -> subprocess.CompletedProcess[str]:
    with CliRunner().isolation(input=input, env=env) as (stdout, stderr, _):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        return subprocess.CompletedProcess(["healthscore", *args], code, stdout.getvalue().decode(),
                                           stderr.getvalue().decode())


def ok(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    proc = invoke(*args, input=input)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc


def assert_user_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    for f in fragments:
        assert f in proc.stderr, proc.stderr
