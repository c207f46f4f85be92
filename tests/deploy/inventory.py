"""What the deployment files must carry: every ``NEXUS_*`` setting the app reads, found in the code itself."""

from __future__ import annotations

import importlib
import tomllib
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PREFIX = "NEXUS_"


@dataclass(frozen=True)
class Setting:
    """One environment variable and the settings classes that read it."""

    env: str
    owners: tuple[str, ...]
    secret: bool


def project_packages() -> list[str]:
    """The top-level packages the wheel ships (pyproject's hatch target), so a new package is covered at once."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages: list[str] = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    return packages


def _modules_declaring_settings() -> Iterator[str]:
    # Only modules whose source names BaseSettings are imported: importing every module would load torch & co.
    for package in project_packages():
        for path in sorted((ROOT / package).rglob("*.py")):
            if "BaseSettings" in path.read_text(encoding="utf-8"):
                yield ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def settings_classes() -> list[type[BaseSettings]]:
    """Every pydantic-settings class of the project that reads ``NEXUS_*`` variables."""
    for module in _modules_declaring_settings():
        importlib.import_module(module)
    roots = tuple(f"{p}." for p in project_packages())
    found = {
        cls
        for cls in _subclasses(BaseSettings)
        if cls.__module__.startswith(roots) and cls.model_config.get("env_prefix") == PREFIX
    }
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


def _is_secret(annotation: object) -> bool:
    return annotation is SecretStr or SecretStr in typing.get_args(annotation)


def _env_name(cls: type[BaseSettings], field: str) -> str:
    info = cls.model_fields[field]
    alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
    return (alias or f"{PREFIX}{field}").upper()


def app_settings() -> dict[str, Setting]:
    """Environment variable name -> the setting, merged over the classes that share it (NEXUS_DATA_DIR...)."""
    owners: dict[str, list[str]] = {}
    secret: dict[str, bool] = {}
    for cls in settings_classes():
        for field, info in cls.model_fields.items():
            env = _env_name(cls, field)
            owners.setdefault(env, []).append(f"{cls.__module__}.{cls.__qualname__}")
            secret[env] = secret.get(env, False) or _is_secret(info.annotation)
    return {env: Setting(env, tuple(owners[env]), secret[env]) for env in sorted(owners)}


def env_example_entries(path: Path = DEPLOY / ".env.example") -> tuple[dict[str, str], set[str]]:
    """(assigned variables, variables only documented in a commented ``# NAME=value`` line) of a dotenv file."""
    assigned: dict[str, str] = {}
    documented: set[str] = set()
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            continue
        commented = line.startswith("#")
        body = line.lstrip("#").strip()
        name, sep, value = body.partition("=")
        if not sep or not name.replace("_", "").isalnum() or not name.isupper():
            continue
        if commented:
            documented.add(name)
        else:
            assigned[name] = value
    return assigned, documented
