"""The bad-input corpus (``bad_input.yaml``): broken specs, build scripts and trigger parameters that the
pipeline must refuse before any Azure call, each with the field its error must name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CORPUS = Path(__file__).with_name("bad_input.yaml")


@dataclass(frozen=True)
class BadInput:
    id: str
    category: str
    field: str
    advice: str | None = None
    spec: dict[str, Any] = field(default_factory=dict)
    delete: list[str] = field(default_factory=list)
    script: str | None = None
    script_bytes: int | None = None
    params: dict[str, Any] | None = None
    form: bool = False
    shared_key: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """Where the input goes wrong: ``spec`` (the spec or its build script), ``params`` or ``connection``."""
        if self.params is not None:
            return "params"
        return "connection" if self.shared_key else "spec"

    def apply(self, spec_path: Path) -> None:
        """Break the spec file (and its build script) in place."""
        data = yaml.safe_load(spec_path.read_text())
        for path, value in self.spec.items():
            parent, leaf = _walk(data, path)
            parent[leaf] = value
        for path in self.delete:
            parent, leaf = _walk(data, path)
            del parent[leaf]
        spec_path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        script = spec_path.parent / data["build"]["script"]
        if self.script is not None:
            script.write_text(self.script)
        if self.script_bytes is not None:
            script.write_text("#" * self.script_bytes)

    def names_field(self, message: str) -> bool:
        """Whether an error message names this case's field (as ``<field>: ...``) and gives its advice."""
        return f"{self.field}:" in message and (self.advice is None or self.advice in message)


def _walk(data: Any, dotted: str) -> tuple[Any, Any]:
    *parents, leaf = dotted.split(".")
    for part in parents:
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data, int(leaf) if isinstance(data, list) else leaf


def shared_key_connection(account: str, account_url: str) -> dict:
    """An Airflow connection holding a Batch account key (the Azure provider's ``azure_batch`` type)."""
    return {
        "conn_type": "azure_batch",
        "login": account,
        "password": "c2hhcmVkLWtleQ==",
        "extra": {"account_url": account_url},
    }


def load() -> list[BadInput]:
    return [BadInput(**case) for case in yaml.safe_load(CORPUS.read_text())]


CASES = load()
