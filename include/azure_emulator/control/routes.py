from __future__ import annotations

from azure_emulator.control import handlers
from azure_emulator.errors import AzureError
from azure_emulator.routing import NAME, Router

BASE = "/_emulator"

ROUTES = [
    ("GET", f"{BASE}/health", handlers.health),
    ("GET", f"{BASE}/resources", handlers.resources),
    ("POST", f"{BASE}/reset", handlers.reset),
    ("GET", f"{BASE}/faults", handlers.list_faults),
    ("POST", f"{BASE}/faults", handlers.add_fault),
    ("DELETE", f"{BASE}/faults", handlers.clear_faults),
    ("DELETE", rf"{BASE}/faults/(?P<fault>{NAME})", handlers.remove_fault),
    ("GET", f"{BASE}/durations", handlers.get_durations),
    ("PATCH", f"{BASE}/durations", handlers.patch_durations),
    ("DELETE", f"{BASE}/durations", handlers.reset_durations),
    ("GET", f"{BASE}/requests", handlers.requests),
    ("GET", f"{BASE}/clock", handlers.clock),
    ("POST", f"{BASE}/marketplace/versions", handlers.publish_marketplace_version),
    ("DELETE", f"{BASE}/variants", handlers.clear_variants),
    ("PUT", rf"{BASE}/regions/(?P<location>{NAME})", handlers.put_region),
    ("PUT", rf"{BASE}/skus/(?P<location>{NAME})/(?P<name>{NAME})", handlers.put_sku),
    ("PUT", rf"{BASE}/usages/(?P<location>{NAME})/(?P<name>{NAME})", handlers.put_usage),
    ("PUT", rf"{BASE}/batch-accounts/(?P<account>{NAME})", handlers.put_batch_account),
]


def _not_found(method: str, path: str) -> AzureError:
    return AzureError("NotFound", f"No control operation at {method} {path}.")


def router() -> Router:
    r = Router(_not_found, _not_found)
    r.extend(ROUTES)
    return r
