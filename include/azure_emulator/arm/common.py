"""What every ARM handler shares: api-version rules, resource ids, resource groups, responses."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.responses import Response

from azure_emulator import regions, shapes, timeline
from azure_emulator.arm import apiversions
from azure_emulator.errors import AzureError
from azure_emulator.routing import NAME, Call

API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
SUB = rf"/subscriptions/(?P<subscription>{NAME})"
RG = rf"{SUB}/resourceGroups/(?P<resource_group>{NAME})"
COMPUTE = rf"{RG}/providers/Microsoft\.Compute"
NETWORK = rf"{RG}/providers/Microsoft\.Network"

RESOURCE_GROUPS = "arm/resourceGroups"


def api_version(call: Call) -> str:
    version = call.query.get("api-version")
    if not version:
        raise AzureError(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    if not API_VERSION.match(version):
        raise AzureError(
            "InvalidApiVersionParameter",
            f"The api-version '{version}' is invalid. The supported versions are dates of the form "
            "'yyyy-mm-dd' with an optional '-preview' suffix.",
        )
    apiversions.check(call.request.url.path, version, call.params.get("location") or call.backend.settings.location)
    return version


def rg_id(subscription: str, resource_group: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{resource_group}"


def compute_id(call: Call, *segments: str) -> str:
    """``/subscriptions/../resourceGroups/../providers/Microsoft.Compute/<segments...>``."""
    return (
        f"{rg_id(call.params['subscription'], call.params['resource_group'])}/providers/Microsoft.Compute/"
        + "/".join(segments)
    )


def resource_group(call: Call) -> dict:
    """The request's resource group, or ARM's ResourceGroupNotFound."""
    found = call.backend.view(RESOURCE_GROUPS, rg_id(call.params["subscription"], call.params["resource_group"]))
    if found is None:
        raise AzureError(
            "ResourceGroupNotFound", f"Resource group '{call.params['resource_group']}' could not be found."
        )
    return found


def location_of(backend, body: dict, *, default: str | None = None) -> str:
    raw = body.get("location") or default
    if not raw:
        raise AzureError("LocationRequired", "The location property is required for this definition.", status=400)
    if not isinstance(raw, str):
        raise AzureError(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: 'location' must be a string.",
        )
    location = regions.normalize(backend, raw)
    if location is None:
        raise AzureError(
            "LocationNotAvailableForResourceType",
            f"The provided location '{raw}' is not available for resource type. List of available "
            f"regions is '{','.join(regions.physical_names(backend))}'.",
            status=400,
        )
    return location


def check_same_location(existing: dict, location: str) -> None:
    if existing["location"] != location:
        raise AzureError(
            "InvalidResourceLocation",
            f"The resource '{existing['name']}' already exists in location '{existing['location']}' in "
            f"resource group. A resource with the same name cannot be created in location '{location}'. "
            "Please select a new resource name.",
            status=409,
        )


# The contract type names ARM's JSON.NET deserializer prints, per JSON kind (the service names its own
# contract classes for objects and arrays; the emulator has none).
_NET_TYPES = {
    "string": "System.String",
    "integer": "System.Int32",
    "number": "System.Double",
    "boolean": "System.Boolean",
    "object": "Object",
    "array": "Array",
}


def _deserialization_error(found: shapes.Mismatch) -> str:
    """What JSON.NET says about ``found``, in the words ARM passes on."""
    wanted = _NET_TYPES[found.expected]
    kind = shapes.kind_of(found.value)
    if kind == "null":
        return f"Error converting value {{null}} to type '{wanted}'."
    if kind in ("object", "array") and found.expected not in ("object", "array"):
        return f"Unexpected character encountered while parsing value: {'{' if kind == 'object' else '['}."
    if kind in ("object", "array"):
        example = '{"name":"value"}' if kind == "object" else "[1,2,3]"
        needed = '{"name":"value"}' if found.expected == "object" else "[1,2,3]"
        return (
            f"Cannot deserialize the current JSON {kind} (e.g. {example}) into type '{wanted}' because the type "
            f"requires a JSON {found.expected} (e.g. {needed}) to deserialize correctly."
        )
    shown = f'"{found.value}"' if kind == "string" else str(found.value)
    return f"Error converting value {shown} to type '{wanted}'."


def request_body(call: Call, shape: dict) -> dict:
    """The request's JSON object, whose values have the JSON types of ``shape`` (see :mod:`..shapes`), or
    the InvalidRequestContent ARM answers a body it cannot deserialize with, naming the property path.
    """
    body = shapes.with_literals_read(call.json(invalid_code="InvalidRequestContent"), shape)
    found = shapes.mismatch(body, shape)
    if found:
        raise AzureError(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: "
            f"'{_deserialization_error(found)} Path '{found.path}'.'.",
        )
    return body


def properties(body: dict) -> dict:
    """``properties`` of a body checked by :func:`request_body` ({} when absent)."""
    return body.get("properties") or {}


def tags(body: dict) -> dict:
    value = body.get("tags")
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise AzureError(
            "InvalidTagNameCharacters" if isinstance(value, dict) else "InvalidRequestContent",
            "Tags must be an object of string names to string values.",
            status=400,
        )
    return value


def tracked(resource_id: str, resource_type: str, location: str, resource_tags: dict, props: dict) -> dict:
    """A tracked ARM resource document (the shape GET returns)."""
    return {
        "id": resource_id,
        "name": resource_id.rsplit("/", 1)[-1],
        "type": resource_type,
        "location": location,
        "tags": resource_tags,
        "properties": props,
    }


def public(doc: dict) -> dict:
    """A document without the emulator's private fields (those starting with an underscore)."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def respond(body: Any = None, status: int = 200, headers: dict | None = None) -> Response:
    content = b"" if body is None else json.dumps(body).encode()
    media = "application/json; charset=utf-8" if body is not None else None
    return Response(content, status_code=status, headers=headers or {}, media_type=media)


def listing(items: list[dict]) -> Response:
    return respond({"value": [public(i) for i in items]})


# Lists that page: at most this many items per page, the rest behind ``nextLink`` (a ``$skiptoken``), which
# the SDKs follow verbatim. Azure's page sizes vary by service; clients must follow nextLink either way.
PAGE_SIZE = 10


def paged(call: Call, items: list[dict], page_size: int = PAGE_SIZE) -> Response:
    """One page of ``items``, from the request's ``$skiptoken`` on, with ``nextLink`` to the next page."""
    raw = call.query.get("$skiptoken") or "0"
    if not raw.isdigit():
        raise AzureError("InvalidParameter", f"The value '{raw}' of parameter '$skiptoken' is not valid.")
    start = int(raw)
    body: dict[str, Any] = {"value": [public(i) for i in items[start : start + page_size]]}
    if start + page_size < len(items):
        body["nextLink"] = str(call.request.url.include_query_params(**{"$skiptoken": start + page_size}))
    return respond(body)


def region_in_path(call: Call, resource_type: str = "locations") -> str:
    """The physical region a ``.../locations/{location}/...`` URL names (either spelling), or ARM's 400."""
    version = api_version(call)
    location = regions.normalize(call.backend, call.params["location"])
    if location is None:
        raise AzureError(
            "NoRegisteredProviderFound",
            f"No registered resource provider found for location '{call.params['location']}' and API version "
            f"'{version}' for type '{resource_type}'. The supported locations are "
            f"'{', '.join(regions.physical_names(call.backend))}'.",
        )
    return location


def not_found(resource_type: str, name: str, call: Call) -> AzureError:
    return AzureError(
        "ResourceNotFound",
        f"The Resource '{resource_type}/{name}' under resource group "
        f"'{call.params['resource_group']}' was not found. For more details please go to "
        "https://aka.ms/ARMResourceNotFoundFix",
    )


def injected_failure(backend, resource_type: str, name: str) -> dict | None:
    """The ARM error an ``operation_failed`` fault gives the operation starting now (its LRO then fails)."""
    rule = backend.faults.take("operation_failed", resource_type=resource_type, name=name)
    if rule is None:
        return None
    return {
        "code": rule.get("code", "InternalOperationError"),
        "message": rule.get("message", f"The operation on '{name}' failed with an internal error. Retry it."),
    }


def provision(backend, kind: str, key: str, resource_type: str, doc: dict, end: float) -> tuple[dict, dict | None]:
    """Save ``doc`` under ``key`` with its operation ending at ``end``: Succeeded, or Failed when an
    ``operation_failed`` fault takes the operation (every put is an operation of its own, a second one
    after a failure too). Returns the saved document and the fault's error.
    """
    error = injected_failure(backend, resource_type, doc["name"])
    timeline.schedule(doc, end, {"properties.provisioningState": "Failed" if error else "Succeeded"})
    return backend.save(kind, key, doc), error
