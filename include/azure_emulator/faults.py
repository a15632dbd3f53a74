"""Injected faults, added and removed through the control endpoint and kept across restarts.

A rule is a dict with a ``kind``, optional ``match`` (field -> regular expression, matched
case-insensitively against what the caller passes), optional ``count`` (how many times it fires;
absent means every time) and kind-specific parameters.

Transport faults, applied before a request reaches its handler:
  ``throttle``      429 + Retry-After (``retry_after`` real seconds, default 1)
  ``server_error``  5xx (``status``, default 503), no Retry-After
  ``drop``          the connection is closed without an answer; with ``applied: true`` only after the
                    request was handled (a write happened, its answer is lost: a client that crashed)
  matched on ``service`` (arm | batch | entra | msi), ``method`` and ``path``.
Behaviour faults, consulted by the models when an operation starts (see each model):
  ``vm_provisioning_failed`` (name), ``build_never_finishes`` (name), ``operation_failed``
  (resource_type, name; ``code``, ``message``), ``replication_failed`` (region, version; ``message``),
  ``allocation_timeout`` (account, pool), ``core_quota`` (account; ``dedicated_cores``,
  ``low_priority_cores``), ``start_task_failed`` (account, pool; ``fraction``), ``unusable_nodes``
  (account, pool; ``fraction``), ``task_failed`` (job, task; ``exit_code``).
"""

from __future__ import annotations

import re
import uuid

from azure_emulator import shapes

TRANSPORT_KINDS = {"throttle", "server_error", "drop"}
TRANSPORT_MATCH_FIELDS = {"service", "method", "path"}
BEHAVIOUR_KINDS = {
    "vm_provisioning_failed",
    "build_never_finishes",
    "operation_failed",
    "replication_failed",
    "allocation_timeout",
    "core_quota",
    "start_task_failed",
    "unusable_nodes",
    "task_failed",
}
# The JSON types of a rule's id and of each behaviour fault's parameters (see shapes.py), as the models use them.
RULE = {"id": str}
PARAMETERS = {
    "vm_provisioning_failed": {"code": str, "message": str},
    "operation_failed": {"code": str, "message": str},
    "replication_failed": {"message": str},
    "core_quota": {"dedicated_cores": float, "low_priority_cores": float},
    "start_task_failed": {"fraction": float, "exit_code": int},
    "unusable_nodes": {"fraction": float},
    "task_failed": {"exit_code": int},
}


class FaultBook:
    def __init__(self, store):
        self._store = store

    def rules(self) -> list[dict]:
        return self._store.meta_get("faults", [])

    def _save(self, rules: list[dict]) -> None:
        self._store.meta_put("faults", rules)

    def add(self, rule: dict) -> dict:
        kind = rule.get("kind")
        if not isinstance(kind, str) or kind not in TRANSPORT_KINDS | BEHAVIOUR_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {sorted(TRANSPORT_KINDS | BEHAVIOUR_KINDS)}")
        match = rule.get("match", {})
        if not isinstance(match, dict):
            raise ValueError("'match' must be an object of field -> regular expression")
        for field, pattern in match.items():
            if not isinstance(pattern, str):
                raise ValueError(f"'match.{field}' must be a string (a regular expression)")
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"'match.{field}' is not a valid regular expression: {exc}") from None
        count = rule.get("count")
        if count is not None and (not _is_int(count) or count < 1):
            raise ValueError("'count' must be a positive integer, or absent for a fault that always fires")
        if kind in TRANSPORT_KINDS:
            _check_transport_rule(rule, match)
        wrong = shapes.mismatch(rule, {**RULE, **PARAMETERS.get(kind, {})})
        if wrong:
            raise ValueError(f"'{wrong.path}' must be a{'n' if wrong.expected == 'integer' else ''} {wrong.expected}")
        rule = dict(rule, id=rule.get("id") or uuid.uuid4().hex[:12], match=match)
        self._save(self.rules() + [rule])
        return rule

    def remove(self, rule_id: str) -> bool:
        rules = self.rules()
        kept = [r for r in rules if r["id"] != rule_id]
        self._save(kept)
        return len(kept) != len(rules)

    def clear(self) -> None:
        self._save([])

    def take(self, kind: str, **attributes) -> dict | None:
        """The first rule of ``kind`` matching ``attributes``; one firing is used up."""
        rules = self.rules()
        for rule in rules:
            if rule["kind"] != kind or not _matches(rule["match"], attributes):
                continue
            if rule.get("count") is not None:
                rule["count"] -= 1
                if rule["count"] <= 0:
                    rules.remove(rule)
            rule["fired"] = rule.get("fired", 0) + 1
            self._save(rules)
            return rule
        return None

    def transport_fault(self, service: str, method: str, path: str) -> dict | None:
        for kind in ("drop", "server_error", "throttle"):
            rule = self.take(kind, service=service, method=method, path=path)
            if rule:
                return rule
        return None


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_transport_rule(rule: dict, match: dict) -> None:
    """Refuse a transport rule that would never fire or could not be answered."""
    unknown = sorted(set(match) - TRANSPORT_MATCH_FIELDS)
    if unknown:
        raise ValueError(f"transport faults match only on {sorted(TRANSPORT_MATCH_FIELDS)}, not {unknown}")
    retry_after = rule.get("retry_after", 1)
    if rule["kind"] == "throttle" and (not _is_int(retry_after) or retry_after < 0):
        raise ValueError("'retry_after' must be a whole number of seconds (0 or more)")
    if "applied" in rule and (rule["kind"] != "drop" or not isinstance(rule["applied"], bool)):
        raise ValueError("'applied' (true or false) goes with a drop fault only")
    status = rule.get("status", 503)
    if rule["kind"] == "server_error" and (not _is_int(status) or not 500 <= status <= 599):
        raise ValueError(f"'status' must be a 5xx HTTP status, not {status!r}")


def _matches(match: dict, attributes: dict) -> bool:
    for field, pattern in match.items():
        value = attributes.get(field)
        if value is None or not re.search(str(pattern), str(value), re.IGNORECASE):
            return False
    return True
