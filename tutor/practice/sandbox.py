"""Run the harness on untrusted code in a bubblewrap jail, with rlimits, a wall clock and an output cap.

The confinement, outermost first (``Sandbox.command`` builds it):

- ``prlimit``: CPU time, address space, file size, open files, no core dumps, and a process count that only
  this run can use up (each run gets its own throw-away uid, so a fork bomb stops at ``processes``);
- ``setpriv`` (when the service runs as root): that unprivileged uid/gid, no supplementary groups, no
  capabilities (inheritable and bounding sets cleared), ``no_new_privs``;
- ``bwrap``: new user, pid, network (no interface but a private loopback), IPC, UTS and cgroup namespaces,
  no further user namespaces; a file system made of ``/usr`` read-only, a fresh ``/proc`` and ``/dev``, and an
  8 MiB ``tmpfs`` as ``/tmp`` (the working directory); no ``/etc``, no home, no data dir; an empty environment;
  killed with its parent;
- the host kills the whole process group at the wall-clock limit or when the output passes its cap.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tutor.practice.config import SandboxSettings, get_sandbox_settings

HARNESS_SOURCE = (Path(__file__).parent / "harness.py").read_text(encoding="utf-8")
MAX_EVENT_BYTES = 4 * 1024 * 1024
Reason = Literal["timeout", "output", "cpu", "crashed"]


class SandboxUnavailable(RuntimeError):
    """bubblewrap (or the interpreter) is missing or cannot create its namespaces here."""


@dataclass
class SandboxRun:
    """What came out of one run: the harness's events, the code's output, and why it stopped early if it did."""

    events: list[dict[str, Any]]
    output: str
    output_truncated: bool
    reason: Reason | None
    returncode: int | None
    wall_s: float
    stats: dict[str, float] = field(default_factory=dict)


class Sandbox:
    """Runs ``tutor/practice/harness.py`` on one request inside the jail described in the module docstring.

    Args:
        settings: limits and interpreter (default: ``NEXUS_SANDBOX_*``).
        bwrap: the bubblewrap executable.

    Example:
        >>> run = Sandbox().run({"language": "python", "code": "x = 1", "tests": []})
        >>> run.events[0]
        {'e': 'load', 'ok': True}
    """

    def __init__(self, settings: SandboxSettings | None = None, bwrap: str = "bwrap") -> None:
        self.settings = settings or get_sandbox_settings()
        self.bwrap = shutil.which(bwrap) or bwrap
        if not self.settings.python.startswith("/usr/"):
            raise ValueError(f"the sandbox interpreter must live under /usr, got {self.settings.python!r}")

    def check_available(self) -> None:
        """Raise ``SandboxUnavailable`` with the reason when the jail cannot start here."""
        if not Path(self.bwrap).is_file():
            raise SandboxUnavailable("bubblewrap is not installed: run `make sandbox` (apt-get install bubblewrap)")
        if not Path(self.settings.python).is_file():
            raise SandboxUnavailable(f"no interpreter at {self.settings.python} (NEXUS_SANDBOX_PYTHON)")
        run = self.run({"language": "python", "code": "", "tests": []})
        if not run.events or run.events[0].get("ok") is not True:
            raise SandboxUnavailable(f"the sandbox does not start here: {run.output.strip()[-300:]!r}")

    def command(self, result_fd: int) -> list[str]:
        """The full command line of one run; the harness writes its events on ``result_fd``."""
        s = self.settings
        limits = [
            "prlimit",
            f"--cpu={s.cpu_seconds}:{s.cpu_seconds + 1}",  # SIGXCPU at the soft limit tells "cpu" apart
            f"--as={s.memory_mb * 1024 * 1024}",
            f"--fsize={4 * 1024 * 1024}",
            "--nofile=64",
            "--core=0",
            f"--nproc={s.processes}",
            "--",
        ]
        drop: list[str] = []
        if os.geteuid() == 0:
            uid = 200_000 + secrets.randbelow(800_000)  # a fresh uid: RLIMIT_NPROC then counts this run only
            drop = [
                "setpriv",
                f"--reuid={uid}",
                f"--regid={uid}",
                "--clear-groups",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--no-new-privs",
                "--",
            ]
        jail = [
            self.bwrap,
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            "--die-with-parent",
            "--new-session",
            "--clearenv",
            "--setenv", "PATH", "/usr/bin",
            "--setenv", "HOME", "/tmp",
            "--setenv", "LANG", "C.UTF-8",
            "--hostname", "sandbox",
            "--ro-bind", "/usr", "/usr",
            "--symlink", "usr/lib", "/lib",
            "--symlink", "usr/lib64", "/lib64",
            "--symlink", "usr/bin", "/bin",
            "--proc", "/proc",
            "--dev", "/dev",
            "--size", str(8 * 1024 * 1024), "--tmpfs", "/tmp",
            "--chdir", "/tmp",
            "--uid", "65534",
            "--gid", "65534",
        ]  # fmt: skip
        harness = [s.python, "-I", "-S", "-B", "-X", "utf8", "-c", HARNESS_SOURCE, str(result_fd)]
        return limits + drop + jail + harness

    def run(self, request: dict[str, Any]) -> SandboxRun:
        """Run one request (see ``harness.py``) and collect its events; never raises for what the code does."""
        s = self.settings
        request = {"test_timeout": s.test_seconds, **request}
        payload = json.dumps(request).encode()
        read_fd, write_fd = os.pipe()
        started = time.perf_counter()
        try:
            proc = subprocess.Popen(  # noqa: S603 - a fixed argv, no shell
                self.command(write_fd),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                start_new_session=True,
                cwd="/",
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
            )
        except OSError as exc:
            os.close(read_fd)
            raise SandboxUnavailable(f"cannot start the sandbox: {exc}") from exc
        finally:
            os.close(write_fd)
        spawned = time.perf_counter()
        assert proc.stdin is not None
        assert proc.stdout is not None
        output, events_raw, reason = self._pump(proc, payload, read_fd, started + s.wall_seconds)
        if reason is not None:
            _kill(proc)
        try:
            returncode: int | None = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _kill(proc)
            returncode = proc.wait()
        events = _parse_events(events_raw)
        if reason is None and returncode in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
            reason = "cpu"
        if reason is None and not any(e.get("e") == "end" for e in events):
            reason = "crashed"
        wall = time.perf_counter() - started
        cap = s.output_kb * 1024
        return SandboxRun(
            events=events,
            output=output[:cap].decode("utf-8", errors="replace"),
            output_truncated=len(output) > cap,
            reason=reason,
            returncode=returncode,
            wall_s=wall,
            stats={"spawn_s": spawned - started},
        )

    def _pump(
        self, proc: subprocess.Popen[bytes], payload: bytes, read_fd: int, deadline: float
    ) -> tuple[bytes, bytes, Reason | None]:
        cap = self.settings.output_kb * 1024
        assert proc.stdin is not None
        assert proc.stdout is not None
        output = bytearray()
        events = bytearray()
        selector = selectors.DefaultSelector()
        os.set_blocking(proc.stdin.fileno(), False)
        selector.register(proc.stdin, selectors.EVENT_WRITE)
        selector.register(proc.stdout, selectors.EVENT_READ)
        selector.register(read_fd, selectors.EVENT_READ)
        sent = 0
        reason: Reason | None = None
        try:
            while len(selector.get_map()) > 0:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    reason = "timeout"
                    break
                for key, _ in selector.select(timeout=min(remaining, 0.5)):
                    if key.fileobj is proc.stdin:
                        try:
                            sent += os.write(proc.stdin.fileno(), payload[sent : sent + 65536])
                        except BlockingIOError:
                            continue
                        except BrokenPipeError:  # the code closed its stdin early: nothing more to send
                            sent = len(payload)
                        if sent >= len(payload):
                            selector.unregister(proc.stdin)
                            proc.stdin.close()
                        continue
                    fd = key.fd
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        selector.unregister(key.fileobj)
                        continue
                    if key.fileobj is proc.stdout:
                        output += chunk
                        if len(output) > cap:
                            reason = "output"
                    else:
                        events += chunk
                        if len(events) > MAX_EVENT_BYTES:
                            reason = "output"
                if reason is not None:
                    break
        finally:
            selector.close()
            os.close(read_fd)
            if not proc.stdin.closed:
                proc.stdin.close()
            proc.stdout.close()
        return bytes(output), bytes(events), reason


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _parse_events(raw: bytes) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events
