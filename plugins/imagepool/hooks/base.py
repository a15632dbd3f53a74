"""The base of every imagepool hook: one place that turns an Airflow connection into Azure clients.

Subclasses must implement ``_client_class`` / ``_async_client_class`` / ``_client_kwargs`` and
``_probe`` (a cheap authenticated call for ``test_connection``).
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any

from airflow.sdk import BaseHook

from imagepool.hooks.connection import AzureConnection, InvalidConnection, parse_connection
from imagepool.hooks.credentials import build_credential

# The SDKs log every HTTP request and response at INFO; in task logs that buries the progress lines
# (replication percent, nodes ready) users watch. Failures still surface through exceptions.
logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)


class ImagepoolAzureHook(BaseHook):
    """Azure clients (sync and aio) for one connection.

    :param azure_conn_id: Airflow connection of type ``azure`` (or ``azure_batch`` for a shared key);
        default ``azure_default``.
    """

    conn_name_attr = "azure_conn_id"
    default_conn_name = "azure_default"
    conn_type = "azure"
    hook_name = "Azure (imagepool)"

    def __init__(self, azure_conn_id: str = default_conn_name, *, settings: AzureConnection | None = None):
        super().__init__()
        self.azure_conn_id = azure_conn_id
        if settings is not None:
            self.__dict__["settings"] = settings
        self._async_closers: list[Any] = []
        self._async_client = None

    @cached_property
    def settings(self) -> AzureConnection:
        return parse_connection(self.get_connection(self.azure_conn_id))

    async def aload_settings(self) -> AzureConnection:
        """Read the connection without blocking the triggerer's event loop."""
        if "settings" not in self.__dict__:
            self.__dict__["settings"] = parse_connection(await self.aget_connection(self.azure_conn_id))
        return self.settings

    # --- sync ------------------------------------------------------------------------------------
    @cached_property
    def credential(self):
        return self._credential(self.settings)

    def get_conn(self):
        return self.connection

    @cached_property
    def connection(self):
        return self._client_class()(**self._client_kwargs(self.credential))

    def test_connection(self) -> tuple[bool, str]:
        """For the Airflow UI's connection test; never raises."""
        try:
            return True, self._probe()
        except InvalidConnection as exc:
            return False, str(exc)
        except Exception as exc:  # the UI shows the message; any failure is a failed test
            return False, f"{type(exc).__name__}: {exc}"

    # --- async -----------------------------------------------------------------------------------
    async def get_async_conn(self):
        """The hook's aio client (made once); closed with its credential by :meth:`close` or ``async with``."""
        if self._async_client is None:
            settings = await self.aload_settings()
            credential = self._credential(settings, aio=True)
            self._async_client = self._async_client_class()(**self._client_kwargs(credential))
            # A key credential holds no session, so it has nothing to close.
            self._async_closers += [c for c in (self._async_client, credential) if hasattr(c, "close")]
        return self._async_client

    async def close(self) -> None:
        closers, self._async_closers, self._async_client = self._async_closers, [], None
        for closer in closers:
            await closer.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    # --- for subclasses --------------------------------------------------------------------------
    def _client_class(self):
        raise NotImplementedError

    @staticmethod
    def _async_client_class():
        raise NotImplementedError

    def _client_kwargs(self, credential) -> dict[str, Any]:
        raise NotImplementedError

    def _probe(self) -> str:
        raise NotImplementedError

    def _credential(self, settings: AzureConnection, aio: bool = False):
        """An Entra ID credential; a hook whose service also takes an account key overrides this."""
        return build_credential(settings, aio=aio)

    def _transport_kwargs(self) -> dict[str, Any]:
        ca_bundle = self.settings.cloud.ca_bundle
        return {"connection_verify": ca_bundle} if ca_bundle else {}
