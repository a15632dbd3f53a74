"""What every Batch handler shares: the account, bodies, OData entities and lists with $filter,
$select and paging (``maxresults`` + ``odata.nextLink``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from azure_emulator import shapes
from azure_emulator.clock import rfc1123
from azure_emulator.errors import AzureError
from azure_emulator.routing import NAME, Call

if TYPE_CHECKING:
    from azure_emulator.batch.models.contracts import Contract

ACCOUNT = rf"/batch/(?P<account>{NAME})"
MEDIA = "application/json;odata=minimalmetadata"
MAX_RESULTS = 1000
# How ``Call.json`` starts the detail of a body it cannot parse.
PARSE_PREFIX = "The request content was invalid and could not be deserialized: "
# The data plane version emulated: what azure-batch 15.1 sends.
API_VERSION = "2025-06-01"
# Earlier versions Batch still serves (the Azure CLI's azure-batch 14 sends 2024-02-01.19.0): answered with the
# same contract, whose operations the emulator serves did not change, plus the properties since retired.
EARLIER_VERSIONS = (
    "2024-07-01.20.0",
    "2024-02-01.19.0",
    "2023-11-01.18.0",
    "2023-05-01.17.0",
    "2022-10-01.16.0",
    "2022-01-01.15.0",
)


def api_version(call: Call) -> str:
    """The request's api-version; every Batch operation requires it, and only the emulated one is served."""
    version = call.query.get("api-version")
    if not version:
        raise AzureError(
            "MissingRequiredQueryParameter",
            "A query parameter that's mandatory for this request is not specified.",
            values=[("QueryParameterName", "api-version")],
        )
    if version != API_VERSION and version not in EARLIER_VERSIONS:
        raise invalid_query(
            "api-version",
            version,
            f"The api-version is not supported. The supported versions are {', '.join((API_VERSION, *EARLIER_VERSIONS))}.",
        )
    return version


def account(call: Call) -> str:
    return call.identity["account"]


def account_url(call: Call) -> str:
    return f"{call.base_url}/batch/{account(call)}"


def shared_key(call: Call) -> bool:
    return call.identity.get("auth") == "sharedkey"


# The OData (Edm) types Batch's reader names, per JSON kind of a primitive property.
_EDM_TYPES = {"string": "Edm.String", "integer": "Edm.Int32", "number": "Edm.Double", "boolean": "Edm.Boolean"}
# The JSON reader's node names, per JSON kind.
_NODES = {"object": "StartObject", "array": "StartArray"}


def _reader_error(found: shapes.Mismatch) -> str:
    """What Batch's OData reader says about ``found``."""
    kind = shapes.kind_of(found.value)
    if kind == "null":
        return "A null value was found for an item of a collection that does not allow null values."
    if found.expected in _EDM_TYPES and kind in _EDM_TYPES:
        return (
            f"Cannot convert a primitive value to the expected type '{_EDM_TYPES[found.expected]}'. See the inner "
            "exception for more details."
        )
    return (
        f"An unexpected '{_NODES.get(kind, 'PrimitiveValue')}' node was found when reading from the JSON reader. "
        f"A '{_NODES.get(found.expected, 'PrimitiveValue')}' node was expected."
    )


def _unreadable(reason: str, prop: str | None = None) -> AzureError:
    values = [("PropertyName", prop)] if prop else []
    return AzureError(
        "InvalidRequestBody",
        "The specified Request Body is not syntactically valid.",
        values=[*values, ("Reason", reason)],
    )


def body(call: Call, shape: dict, contract: Contract, *, required: bool = True) -> dict:
    """The request's JSON object, read into ``contract``: its values have the JSON types of ``shape`` (see
    :mod:`...shapes`) and it has no property the contract lacks; otherwise the InvalidRequestBody Batch answers
    a body its reader cannot read with, naming the property.
    """
    try:
        data = call.json(invalid_code="InvalidRequestBody", required=required)
    except AzureError as err:
        # Batch words a body that does not parse as JSON its own way; the parser's detail is the Reason.
        raise _unreadable(err.message.removeprefix(PARSE_PREFIX)) from None
    members = contract.members if call.query.get("api-version") == API_VERSION else contract.members | contract.retired
    unknown = sorted(set(data) - members)
    if unknown:
        raise _unreadable(
            f"The property '{unknown[0]}' does not exist on type '{contract.qualified_name}'. Make sure to only use "
            "property names that are defined by the type.",
            unknown[0],
        )
    data = shapes.with_literals_read(data, shape)
    found = shapes.mismatch(data, shape)
    if found:
        raise _unreadable(_reader_error(found), found.path)
    return data


def public(doc: dict) -> dict:
    """A stored document as the wire shows it: no private fields, no empty values."""
    return {k: v for k, v in doc.items() if not k.startswith("_") and v is not None}


def respond(content: Any = None, status: int = 200, headers: dict | None = None) -> Response:
    if content is None:
        return Response(b"", status_code=status, headers=headers or {})
    return Response(
        json.dumps(content),
        status_code=status,
        headers={"DataServiceVersion": "3.0", **(headers or {})},
        media_type=MEDIA,
    )


def resource_headers(doc: dict) -> dict[str, str]:
    modified = dt.datetime.fromisoformat(doc["lastModified"].replace("Z", "+00:00")).timestamp()
    return {"ETag": doc["eTag"], "Last-Modified": rfc1123(modified)}


def changed_headers(doc: dict, url: str) -> dict[str, str]:
    """What Batch's spec declares on an answer that creates or changes an entity: its ETag, Last-Modified and
    DataServiceId (the entity's URL).
    """
    return {**resource_headers(doc), "DataServiceId": url}


def created(doc: dict, url: str) -> Response:
    return respond(None, 201, {**changed_headers(doc, url), "Location": url})


def _selected(call: Call, item: dict) -> dict:
    wanted = [name.strip() for name in call.query.get("$select", "").split(",") if name.strip()]
    return {k: v for k, v in item.items() if k in wanted} if wanted else item


def entity(call: Call, item: dict, metadata: str, headers: dict | None = None) -> Response:
    content = {"odata.metadata": f"{account_url(call)}/$metadata#{metadata}/@Element", **_selected(call, item)}
    return respond(content, headers=headers)


def listing(call: Call, items: list[dict], metadata: str) -> Response:
    """One page of ``items`` after ``$filter``; ``odata.nextLink`` points at the next page."""
    text = call.query.get("$filter")
    if text:
        keep = odata_filter(text)
        items = [item for item in items if keep(item)]
    size = _query_int(call, "maxresults", MAX_RESULTS, 1, MAX_RESULTS)
    offset = _query_int(call, "$skiptoken", 0, 0, len(items))
    content: dict[str, Any] = {
        "odata.metadata": f"{account_url(call)}/$metadata#{metadata}",
        "value": [_selected(call, item) for item in items[offset : offset + size]],
    }
    if offset + size < len(items):
        content["odata.nextLink"] = str(call.request.url.include_query_params(**{"$skiptoken": offset + size}))
    return respond(content)


def _query_int(call: Call, name: str, default: int, least: int, most: int) -> int:
    raw = call.query.get(name.lower())
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = least - 1
    if not least <= value <= most:
        raise invalid_query(name, raw, f"The value must be an integer between {least} and {most}.")
    return value


def invalid_query(name: str, value: str, reason: str) -> AzureError:
    return AzureError(
        "InvalidQueryParameterValue",
        "Value for one of the query parameters specified in the request URI is invalid.",
        values=[("QueryParameterName", name), ("QueryParameterValue", value), ("Reason", reason)],
    )


# --- $filter: comparisons joined by and / or, the subset Batch's list filters are used with ------------

_CLAUSE = re.compile(
    r"^(?P<field>[\w/.]+)\s+(?P<op>eq|ne)\s+(?P<value>'(?:[^']|'')*'|[\w.:-]+)$"
    r"|^startswith\(\s*(?P<prefix_field>[\w/.]+)\s*,\s*(?P<prefix>'(?:[^']|'')*')\s*\)$",
    re.IGNORECASE,
)


def _field(item: dict, path: str) -> str | None:
    value: Any = item
    for part in re.split(r"[/.]", path):
        value = value.get(part) if isinstance(value, dict) else None
    return None if value is None else str(value).lower()


def _literal(text: str) -> str:
    return text[1:-1].replace("''", "'").lower() if text.startswith("'") else text.lower()


def _clause(text: str, whole: str) -> Callable[[dict], bool]:
    found = _CLAUSE.match(text.strip())
    if found is None:
        raise invalid_query("$filter", whole, f"The clause '{text.strip()}' is not supported.")
    if found["prefix_field"]:
        field, prefix = found["prefix_field"], _literal(found["prefix"])
        return lambda item: (_field(item, field) or "").startswith(prefix)
    field, value, equal = found["field"], _literal(found["value"]), found["op"].lower() == "eq"
    return lambda item: (_field(item, field) == value) == equal


def odata_filter(text: str) -> Callable[[dict], bool]:
    parts = re.split(r"\s+(and|or)\s+", text.strip(), flags=re.IGNORECASE)
    joins = {join.lower() for join in parts[1::2]}
    if len(joins) > 1:
        raise invalid_query("$filter", text, "Mixing 'and' and 'or' without parentheses is not supported.")
    clauses = [_clause(part, text) for part in parts[0::2]]
    combine = any if joins == {"or"} else all
    return lambda item: combine(clause(item) for clause in clauses)
