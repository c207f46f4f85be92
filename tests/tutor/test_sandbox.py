"""Escape attempts against the sandbox: each one fails safely, with a reason, and leaves this process alone."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from tutor.practice import Exercise, Runner, Sandbox
from tutor.practice.config import SandboxSettings

ROOT = Path(__file__).resolve().parents[2]
LIMITS = SandboxSettings(cpu_seconds=1, wall_seconds=4, test_seconds=1, output_kb=64, memory_mb=256)


@pytest.fixture(scope="module")
def runner() -> Runner:
    sandbox = Sandbox(LIMITS)
    sandbox.check_available()  # a missing bubblewrap is a failure here, not a skip (`make sandbox` installs it)
    return Runner(sandbox)


@pytest.fixture(scope="module")
def exercise() -> Exercise:
    return Exercise.model_validate(
        {
            "id": "escape",
            "title": "f renvoie 1",
            "level": "premiere",
            "chapter": "premiere/langages-programmation/constructions-elementaires",
            "capacities": ["P-LP-01"],
            "language": "python",
            "difficulty": 1,
            "statement": "Écrire `f()` qui renvoie 1.",
            "starter": "def f():\n    ...\n",
            "solution": "def f():\n    return 1\n",
            "public_tests": "assert f() == 1\n",
            "hidden_tests": "assert f() + 1 == 2\n",
            "hints": ["a", "b", "def f():\n    return ...\n"],
        }
    )


def test_os_system_runs_confined(runner: Runner, exercise: Exercise, tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    code = f"import os\nrc = os.system('id -u; cat /etc/passwd; touch {target}')\ndef f():\n    return rc\n"
    result = runner.check(exercise, code)
    assert not result.passed
    assert result.verdicts[0].message
    assert "vaut" in result.verdicts[0].message
    assert result.output.splitlines()[0] == "65534"  # nobody inside the jail
    assert "root:" not in result.output
    assert not target.exists()


def test_etc_passwd_is_absent(runner: Runner, exercise: Exercise) -> None:
    result = runner.check(exercise, "def f():\n    return open('/etc/passwd').read()\n")
    assert {v.error_type for v in result.verdicts} == {"FileNotFoundError"}
    assert all("bac à sable" in (v.explanation or "") for v in result.verdicts)


def test_project_and_data_dir_are_invisible(runner: Runner, exercise: Exercise, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("jeton-secret")
    code = (
        "import os\n"
        f"seen = [os.path.exists(p) for p in ({str(secret)!r}, {str(ROOT / 'README.md')!r}, {str(ROOT / 'data')!r})]\n"
        "print(seen)\n"
        f"text = open({str(secret)!r}).read()\n"
        "def f():\n    return 1\n"
    )
    result = runner.check(exercise, code)
    assert result.output.strip() == "[False, False, False]"
    assert result.load_error is not None
    assert result.load_error["type"] == "FileNotFoundError"
    assert "jeton-secret" not in json.dumps(result.to_dict())


def test_no_network_even_to_loopback(runner: Runner, exercise: Exercise) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.setblocking(False)
        port = server.getsockname()[1]
        code = (
            f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=1)\ndef f():\n    return 1\n"
        )
        result = runner.check(exercise, code)
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody connected to the host's loopback
    assert result.load_error is not None
    assert result.load_error["type"] in ("ConnectionRefusedError", "OSError", "TimeoutError")


def test_fork_bomb_stops_at_the_process_limit(runner: Runner, exercise: Exercise) -> None:
    code = "import os\nwhile True:\n    os.fork()\n"
    result = runner.check(exercise, code)
    assert not result.passed
    assert all(v.status == "error" for v in result.verdicts)
    assert subprocess.run(["true"], check=False).returncode == 0  # this machine can still start processes


def test_infinite_loop_is_a_timeout(runner: Runner, exercise: Exercise) -> None:
    result = runner.check(exercise, "def f():\n    while True:\n        pass\n")
    # On a loaded machine the wall clock may stop the run before the second test's own alarm.
    assert result.verdicts[0].error_type == "TestTimeout"
    assert {v.error_type for v in result.verdicts} <= {"TestTimeout", "NotRun"}
    assert "boucle infinie" in (result.verdicts[0].explanation or "")


def test_loop_that_swallows_the_alarm_is_killed(runner: Runner, exercise: Exercise) -> None:
    code = (
        "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        "while True:\n    try:\n        pass\n    except BaseException:\n        pass\n"
    )
    result = runner.check(exercise, code)
    assert result.stopped in ("cpu", "timeout")
    assert all(v.status == "error" for v in result.verdicts)
    assert "boucle infinie" in (result.verdicts[0].explanation or "")


def test_ten_gigabytes_is_a_memory_error(runner: Runner, exercise: Exercise) -> None:
    result = runner.check(exercise, "data = bytearray(10 * 1024 ** 3)\ndef f():\n    return 1\n")
    assert result.load_error is not None
    assert result.load_error["type"] == "MemoryError"


def test_hundred_megabytes_of_output_are_cut(runner: Runner, exercise: Exercise) -> None:
    result = runner.check(exercise, "import sys\nfor _ in range(1000):\n    sys.stdout.write('x' * 100_000)\n")
    assert result.stopped == "output"
    assert result.output_truncated
    assert len(result.output) <= LIMITS.output_kb * 1024
    assert all(v.status == "error" for v in result.verdicts)
    assert "trop de texte" in (result.verdicts[0].explanation or "")


def test_sys_exit_is_reported(runner: Runner, exercise: Exercise) -> None:
    result = runner.check(exercise, "import sys\ndef f():\n    sys.exit(0)\n")
    assert [v.error_type for v in result.verdicts] == ["SystemExit", "SystemExit"]
    assert "return" in (result.verdicts[0].explanation or "")


def test_deep_recursion_is_a_recursion_error(runner: Runner, exercise: Exercise) -> None:
    result = runner.check(exercise, "def f(n=0):\n    return f(n + 1)\n")
    assert [v.error_type for v in result.verdicts] == ["RecursionError", "RecursionError"]


def test_raised_recursion_limit_crashes_only_the_sandbox(runner: Runner, exercise: Exercise) -> None:
    code = "import sys\nsys.setrecursionlimit(10 ** 7)\ndef f(n=0):\n    return f(n + 1)\n"
    result = runner.check(exercise, code)
    assert all(v.status == "error" for v in result.verdicts)
    assert {v.error_type for v in result.verdicts} <= {
        "RecursionError",
        "MemoryError",
        "TestTimeout",
        "crashed",
        "NotRun",
    }


def test_killing_every_process_it_sees_stays_inside(runner: Runner, exercise: Exercise) -> None:
    # In its own pid namespace, the jail's code is alone: kill(-1) finds nobody to kill (not even this process).
    result = runner.check(exercise, "import os, signal\nos.kill(-1, signal.SIGKILL)\ndef f():\n    return 1\n")
    assert result.load_error is not None
    assert result.load_error["type"] == "ProcessLookupError"
    assert all(v.status == "error" for v in result.verdicts)


def test_forged_results_are_not_believed(runner: Runner, exercise: Exercise) -> None:
    # The code knows the result fd (argv) and prints a fake report: it can only claim values, and claims wrong ones.
    code = (
        "import os, sys\n"
        "fd = int(sys.argv[1])\n"
        "for i in range(2):\n"
        '    os.write(fd, (\'{"e": "done", "i": %d, "value": 7, "holds": true}\\n\' % i).encode())\n'
        'print(\'{"passed": true, "counts": {"passed": 2}}\')\n'
        "def f():\n    return 0\n"
    )
    result = runner.check(exercise, code)
    assert not result.passed
    assert [v.status for v in result.verdicts] == ["failed", "failed"]


def test_an_object_equal_to_everything_fails(runner: Runner, exercise: Exercise) -> None:
    code = (
        "class Toujours:\n    def __eq__(self, other):\n        return True\n"
        "    def __add__(self, other):\n        return self\n"
        "def f():\n    return Toujours()\n"
    )
    result = runner.check(exercise, code)
    assert [v.status for v in result.verdicts] == ["failed", "failed"]
    assert "Toujours" in (result.verdicts[0].message or "")
