"""Every Azure SDK module the hooks use, imported at once rather than on first use.

A process that forks task processes (a LocalExecutor or Celery worker) calls this once, through the
imagepool plugin: each task then starts with the SDKs loaded instead of importing them again, a second
or two of CPU per task on a small machine. The aio clients are among them: a wait looks at Azure from
the worker (``defer_after``) before it defers.
"""

from __future__ import annotations

from imagepool.hooks.arm import ArmHook
from imagepool.hooks.batch import BatchHook
from imagepool.hooks.credentials import identity_module


def preload_sdks() -> None:
    """Import the sync and aio clients and credentials of every hook."""
    for hook in (ArmHook, BatchHook):
        hook._async_client_class()
    identity_module(aio=False)
    identity_module(aio=True)
    # The clients' HTTP transports (requests, aiohttp), which azure-core imports when a client is built.
    from azure.core.pipeline.transport import AioHttpTransport, RequestsTransport  # noqa: F401
