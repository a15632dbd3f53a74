"""A URL table with case-insensitive regular expressions (Azure paths are case-insensitive:
``resourceGroups`` and ``resourcegroups`` are the same segment) and the call object handlers get.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from azure_emulator.errors import AzureError

if TYPE_CHECKING:
    from starlette.requests import Request

Handler = Callable[["Call"], Awaitable[Response]]

# Named path pieces shared by every route table.
NAME = r"[^/]+"


@dataclass
class Call:
    """One request as a handler sees it: matched path parameters, query, body, caller, backend."""

    request: Request
    backend: Any
    service: str
    params: dict[str, str]
    query: dict[str, str]
    raw_body: bytes
    identity: dict = field(default_factory=dict)
    request_id: str = ""

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def base_url(self) -> str:
        return f"https://{self.request.headers.get('host', '127.0.0.1')}"

    @property
    def now(self) -> float:
        return self.backend.clock.now()

    def json(self, *, invalid_code: str, required: bool = True) -> dict:
        if not self.raw_body.strip():
            if required:
                raise AzureError(
                    invalid_code,
                    "The request content was invalid and could not be deserialized: the request body is empty.",
                    status=400,
                )
            return {}
        try:
            body = json.loads(self.raw_body)
        except ValueError as exc:
            raise AzureError(
                invalid_code, f"The request content was invalid and could not be deserialized: {exc}", status=400
            ) from None
        # Every ARM and Batch request body is an object; handlers may rely on that.
        if not isinstance(body, dict):
            raise AzureError(
                invalid_code,
                "The request content was invalid and could not be deserialized: "
                f"expected a JSON object, got {type(body).__name__}.",
                status=400,
            )
        return body


class Router:
    def __init__(self, not_found: Callable[[str, str], AzureError], not_allowed: Callable[[str, str], AzureError]):
        self._routes: list[tuple[str, re.Pattern, Handler]] = []
        self._not_found = not_found
        self._not_allowed = not_allowed

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method.upper(), re.compile(f"^{pattern}/?$", re.IGNORECASE), handler))

    def extend(self, routes: Iterable[tuple[str, str, Handler]]) -> None:
        for method, pattern, handler in routes:
            self.add(method, pattern, handler)

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        path_matched = False
        for route_method, pattern, handler in self._routes:
            found = pattern.match(path)
            if not found:
                continue
            if route_method == method.upper():
                return handler, found.groupdict()
            path_matched = True
        raise (self._not_allowed if path_matched else self._not_found)(method, path)
