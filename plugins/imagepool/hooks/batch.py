"""Azure Batch data plane (azure-batch 15.x): pools from gallery images, node counts, jobs and tasks.

Everything returned is plain data (dicts, sets), so operators and triggers never touch SDK models.
Resize, stop-resize and pool delete send only their initial request: the SDK's ``begin_*``
methods start a thread that polls ``get_pool`` every 5 s for as long as the worker lives, while
imagepool waits in a trigger instead (deferred, or the same loop in the worker).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from azure.batch import BatchClient, models
from azure.core.credentials import AzureNamedKeyCredential
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.core.rest import HttpRequest

from imagepool.errors import AzureOperationFailed
from imagepool.hooks.arm import text
from imagepool.hooks.base import ImagepoolAzureHook
from imagepool.hooks.connection import AzureConnection, CredentialKind, InvalidConnection
from imagepool.hooks.errors import code_of, translate

# What azure-batch 15.1.0 speaks (requirements.txt pins it); used by the initial-request-only calls.
API_VERSION = "2025-06-01"
JSON_BODY = {"content-type": "application/json; odata=minimalmetadata"}

SHARED_KEY_REFUSED = (
    "Batch rejects SharedKey authentication when Compute resources are linked: 'The specified type of "
    "authentication SharedKey is not allowed when external resources of type Compute are linked.' Use an Entra ID "
    "credential (service principal, managed identity, workload identity)"
)

# Batch error codes whose cure is known (the ARM ones in ``hooks.errors`` cover the rest).
NEXT_STEPS = {
    "PoolBeingDeleted": "the pool is being deleted; wait until it is gone, then re-run the task",
    "PoolBeingResized": "the pool is resizing; wait until it is steady, then re-run the task",
    "PoolQuotaReached": "delete unused pools or request a higher pool quota for the Batch account",
    "InvalidPropertyValue": "fix the property the error names in the pipeline spec",
    "MissingRequiredProperty": "add the property the error names to the pipeline spec",
    "JobBeingDeleted": "the previous try's job is still being deleted; the task's next retry creates it again",
    "AuthenticationFailed": "check the connection's credential and that it may use this Batch account",
}


@dataclass(frozen=True)
class StartTask:
    """A pool's start task: runs on every node as it joins the pool."""

    command_line: str
    wait_for_success: bool = True
    elevated: bool = False
    max_task_retry_count: int = 0


@dataclass(frozen=True)
class PoolSpec:
    """A fixed-size pool whose nodes boot a Compute Gallery image version."""

    pool_id: str
    vm_size: str
    image_id: str
    node_agent_sku_id: str
    target_dedicated_nodes: int
    target_low_priority_nodes: int
    resize_timeout: timedelta
    start_task: StartTask | None = None
    task_slots_per_node: int = 1
    security_type: str | None = None
    secure_boot: bool = True
    vtpm: bool = True
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SupportedImage:
    """A Marketplace image a Batch account supports, and the node agent SKU its pools name."""

    node_agent_sku_id: str
    publisher: str
    offer: str
    sku: str
    os_type: str  # linux / windows
    verification_type: str | None
    batch_support_end_of_life: str | None

    def matches(self, publisher: str, offer: str, sku: str) -> bool:
        return (self.publisher, self.offer, self.sku) == tuple(v.lower() for v in (publisher, offer, sku))


def _supported_image(image: models.BatchSupportedImage) -> SupportedImage:
    reference = image.image_reference
    end_of_life = image.batch_support_end_of_life
    return SupportedImage(
        node_agent_sku_id=image.node_agent_sku_id,
        # Batch matches image names case-insensitively; kept lower-case so facts compare as Batch does.
        publisher=(reference.publisher or "").lower(),
        offer=(reference.offer or "").lower(),
        sku=(reference.sku or "").lower(),
        os_type=(text(image.os_type) or "").lower(),
        verification_type=text(image.verification_type),
        batch_support_end_of_life=end_of_life.isoformat() if end_of_life else None,
    )


def _failure(exc: HttpResponseError, resource: str, action: str | None = None) -> AzureOperationFailed:
    """``translate`` plus Batch's error values (Reason, AuthenticationErrorDetail...), which carry the why."""
    found = translate(exc, resource, action or NEXT_STEPS.get(code_of(exc)))
    details = "; ".join(f"{d.code}: {d.message}" for d in getattr(getattr(exc, "error", None), "details", None) or [])
    if not details:
        return found
    return type(found)(found.resource, found.code, f"{found.azure_message} ({details})", found.action)


def _is_request_error(exc: HttpResponseError) -> bool:
    """A 4xx the request itself caused; anything else (throttling, 5xx) is left to the caller's wait."""
    status = exc.status_code or 0
    return 400 <= status < 500 and status not in (408, 429)


def _image_id(pool: models.BatchPool) -> str | None:
    config = pool.virtual_machine_configuration
    image = config.image_reference if config else None
    return image.virtual_machine_image_id if image else None


def _pool_facts(pool: models.BatchPool) -> dict[str, Any]:
    config = pool.virtual_machine_configuration
    return {
        "id": pool.id,
        "state": text(pool.state),
        "allocation_state": text(pool.allocation_state),
        "vm_size": pool.vm_size,
        "image_id": _image_id(pool),
        "node_agent_sku_id": config.node_agent_sku_id if config else None,
        "target_dedicated_nodes": pool.target_dedicated_nodes or 0,
        "target_low_priority_nodes": pool.target_low_priority_nodes or 0,
        "current_dedicated_nodes": pool.current_dedicated_nodes or 0,
        "current_low_priority_nodes": pool.current_low_priority_nodes or 0,
        "enable_auto_scale": bool(pool.enable_auto_scale),
        "resize_errors": [
            {"code": e.code, "message": e.message, "values": {v.name: v.value for v in e.error_values or []}}
            for e in pool.resize_errors or []
        ],
    }


def _summed_counts(found: models.BatchPoolNodeCounts | None) -> dict[str, int]:
    """Dedicated and spot counters added up, named as Batch names them (``startTaskFailed``...)."""
    total: dict[str, int] = {}
    for kind in (found.dedicated, found.low_priority) if found else ():
        for state, count in (kind.as_dict() if kind else {}).items():
            total[state] = total.get(state, 0) + (count or 0)
    return total


def _task_facts(task: models.BatchTask) -> dict[str, Any]:
    info = task.execution_info
    failure = info.failure_info if info else None
    node = task.node_info
    return {
        "id": task.id,
        "state": text(task.state),
        "exit_code": info.exit_code if info else None,
        "result": text(info.result) if info else None,
        "failure": {"code": failure.code, "message": failure.message} if failure else None,
        "node_id": node.node_id if node else None,
    }


def _failed_node_facts(node: models.BatchNode) -> dict[str, Any]:
    """Why a node failed: its start task's exit code and failure, or the node's own errors (unusable)."""
    start = node.start_task_info
    failure = start.failure_info if start else None
    errors = [{"code": e.code, "message": e.message} for e in node.errors or []]
    if failure:
        errors.append({"code": failure.code, "message": failure.message})
    return {
        "id": node.id,
        "state": text(node.state),
        "start_task_exit_code": start.exit_code if start else None,
        "errors": errors,
    }


def _counts_filter(pool_id: str) -> str:
    return f"poolId eq '{pool_id}'"


# The node states that never become usable on their own (node-counts API names: unusable, startTaskFailed).
FAILED_NODES_FILTER = "state eq 'unusable' or state eq 'starttaskfailed'"


def _pick(entries, pool_id: str):
    # Pool ids are case-insensitive; the filter matches any spelling.
    return next((e for e in entries if (e.pool_id or "").lower() == pool_id.lower()), None)


class BatchHook(ImagepoolAzureHook):
    """BatchClient (sync and aio) for one Batch account.

    :param azure_conn_id: ``azure`` connection (Entra ID), or ``azure_batch`` with the account name and
        key (SharedKey: enough to read the account, refused before any call for gallery-image pools).
    :param batch_account_url: account endpoint, ``https://{account}.{region}.batch.azure.com``;
        default: the connection's ``batch_account_url``.
    """

    hook_name = "Azure Batch (imagepool)"

    def __init__(
        self, azure_conn_id: str = ImagepoolAzureHook.default_conn_name, batch_account_url: str | None = None, **kwargs
    ):
        super().__init__(azure_conn_id, **kwargs)
        self.batch_account_url = batch_account_url

    @property
    def endpoint(self) -> str:
        if self.batch_account_url:
            return self.batch_account_url.rstrip("/")
        self.settings.require("batch_account_url")
        return str(self.settings.batch_account_url).rstrip("/")

    def account_name(self, explicit: str | None = None) -> str:
        """The account's name: ``explicit``, the connection's ``batch_account_name``, or the URL's first label."""
        return explicit or self.settings.batch_account_name or (urlparse(self.endpoint).hostname or "").split(".")[0]

    def require_entra_id(self, purpose: str) -> None:
        """Refuse, before any call, work Batch does not accept from an account key."""
        if self.settings.credential_kind is CredentialKind.SHARED_KEY:
            raise InvalidConnection(
                f"Connection '{self.azure_conn_id}' authenticates with the Batch account key, "
                f"which cannot {purpose}. {SHARED_KEY_REFUSED}."
            )

    # --- what the base class needs -----------------------------------------------------------------
    def _client_class(self):
        return BatchClient

    @staticmethod
    def _async_client_class():
        # Imported when a wait first needs it, as ArmHook's.
        from azure.batch.aio import BatchClient as AsyncBatchClient

        return AsyncBatchClient

    def _credential(self, settings: AzureConnection, aio: bool = False):
        if settings.credential_kind is CredentialKind.SHARED_KEY:
            # The connection model requires both for a shared key (see AzureConnection._consistent).
            key = settings.batch_account_key
            return AzureNamedKeyCredential(str(settings.batch_account_name), key.get_secret_value() if key else "")
        return super()._credential(settings, aio=aio)

    def _client_kwargs(self, credential) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "credential": credential,
            "credential_scopes": [self.settings.cloud.batch_scope],
            **self._transport_kwargs(),
        }

    def _probe(self) -> str:
        images = self.connection.list_supported_images(max_results=1)
        next(iter(images), None)
        return f"Connected to Azure Batch account {self.endpoint} ({self.settings.credential_kind.value})."

    # --- sync: account ----------------------------------------------------------------------------
    def supported_images(self) -> list[SupportedImage]:
        """Every Marketplace image the account supports, with the node agent SKU Batch runs on it."""
        try:
            return [_supported_image(image) for image in self.connection.list_supported_images()]
        except HttpResponseError as exc:
            raise _failure(exc, f"Batch account {self.endpoint}") from exc

    def supported_node_agent_skus(self) -> dict[str, str]:
        """Node agent SKU id -> OS type (``linux`` / ``windows``) of every image the account supports."""
        return {image.node_agent_sku_id: image.os_type for image in self.supported_images()}

    def pool_image_ids(self) -> set[str]:
        """Lower-cased ``virtualMachineImageId`` of every pool in the account (images still in use)."""
        try:
            pools = self.connection.list_pools(select=["id", "virtualMachineConfiguration"])
            return {image_id.lower() for image_id in map(_image_id, pools) if image_id}
        except HttpResponseError as exc:
            raise _failure(exc, f"Batch account {self.endpoint}") from exc

    def list_pools(self) -> list[dict[str, Any]]:
        """Every pool in the account as plain data (as :meth:`get_pool`), by id."""
        try:
            return sorted((_pool_facts(pool) for pool in self.connection.list_pools()), key=lambda p: p["id"])
        except HttpResponseError as exc:
            raise _failure(exc, f"Batch account {self.endpoint}") from exc

    def node_counts_by_pool(self) -> dict[str, dict[str, int]]:
        """Node counts by state (dedicated + spot) of every pool in the account, in one call, by pool id."""
        try:
            return {entry.pool_id: _summed_counts(entry) for entry in self.connection.list_pool_node_counts()}
        except HttpResponseError as exc:
            raise _failure(exc, f"Batch account {self.endpoint}") from exc

    def failed_node(self, pool_id: str) -> dict[str, Any] | None:
        """One node of the pool that is unusable or failed its start task (its id and why), or None."""
        try:
            for node in self.connection.list_nodes(pool_id, filter=FAILED_NODES_FILTER, max_results=1):
                return _failed_node_facts(node)
        except HttpResponseError as exc:
            raise _failure(exc, f"pool {pool_id}") from exc
        return None

    def pool_ids(self) -> list[str]:
        """Ids of every pool in the account."""
        try:
            return sorted(pool.id for pool in self.connection.list_pools(select=["id"]))
        except HttpResponseError as exc:
            raise _failure(exc, f"Batch account {self.endpoint}") from exc

    # --- sync: pools ------------------------------------------------------------------------------
    def create_pool(self, spec: PoolSpec) -> bool:
        """Create the pool; False if a pool with its id already exists (the caller checks it matches)."""
        self.require_entra_id(f"create pool {spec.pool_id} from a Compute Gallery image")
        return self._create(
            lambda: self.connection.create_pool(self._pool_body(spec)), "PoolExists", f"pool {spec.pool_id}"
        )

    @staticmethod
    def _pool_body(spec: PoolSpec) -> models.BatchPoolCreateOptions:
        security = None
        if spec.security_type:
            security = models.SecurityProfile(
                security_type=spec.security_type,
                uefi_settings=models.BatchUefiSettings(secure_boot_enabled=spec.secure_boot, vtpm_enabled=spec.vtpm),
            )
        start = None
        if spec.start_task:
            start = models.BatchStartTask(
                command_line=spec.start_task.command_line,
                wait_for_success=spec.start_task.wait_for_success,
                max_task_retry_count=spec.start_task.max_task_retry_count,
                user_identity=_auto_user(spec.start_task.elevated),
            )
        return models.BatchPoolCreateOptions(
            id=spec.pool_id,
            vm_size=spec.vm_size,
            virtual_machine_configuration=models.VirtualMachineConfiguration(
                image_reference=models.BatchVmImageReference(virtual_machine_image_id=spec.image_id),
                node_agent_sku_id=spec.node_agent_sku_id,
                security_profile=security,
            ),
            target_dedicated_nodes=spec.target_dedicated_nodes,
            target_low_priority_nodes=spec.target_low_priority_nodes,
            resize_timeout=spec.resize_timeout,
            enable_auto_scale=False,
            start_task=start,
            task_slots_per_node=spec.task_slots_per_node,
            metadata=[models.BatchMetadataItem(name=k, value=v) for k, v in spec.metadata.items()] or None,
        )

    def get_pool(self, pool_id: str) -> dict[str, Any] | None:
        """The pool as plain data, or None if it does not exist."""
        try:
            return _pool_facts(self.connection.get_pool(pool_id))
        except ResourceNotFoundError:
            return None
        except HttpResponseError as exc:
            raise _failure(exc, f"pool {pool_id}") from exc

    def pool_node_counts(self, pool_id: str) -> dict[str, int]:
        """Node counts by state (dedicated + spot), from the account's node-counts API, never by listing nodes."""
        try:
            return _summed_counts(_pick(self.connection.list_pool_node_counts(filter=_counts_filter(pool_id)), pool_id))
        except HttpResponseError as exc:
            raise _failure(exc, f"pool {pool_id}") from exc

    def resize(
        self,
        pool_id: str,
        *,
        dedicated: int,
        low_priority: int,
        resize_timeout: timedelta | None = None,
        node_deallocation_option: str | None = None,
    ) -> None:
        """Start a resize (the pool must be steady); wait with a trigger."""
        body = models.BatchPoolResizeOptions(
            target_dedicated_nodes=dedicated,
            target_low_priority_nodes=low_priority,
            resize_timeout=resize_timeout,
            node_deallocation_option=node_deallocation_option,
        )
        self._send("POST", f"/pools/{pool_id}/resize", f"pool {pool_id}", body.as_dict())

    def stop_resize(self, pool_id: str) -> None:
        self._send("POST", f"/pools/{pool_id}/stopresize", f"pool {pool_id}")

    def delete_pool(self, pool_id: str) -> bool:
        """Start deleting the pool; False if it does not exist. A pool already being deleted counts as started."""
        return self._start_delete(f"/pools/{pool_id}", f"pool {pool_id}", "PoolNotFound", "PoolBeingDeleted")

    def _create(self, create, exists_code: str, resource: str) -> bool:
        """Run ``create``; False when Batch answers that it already exists (a retry finds what it made)."""
        try:
            create()
        except ResourceExistsError as exc:
            if code_of(exc) == exists_code:
                return False
            raise _failure(exc, resource) from exc
        except HttpResponseError as exc:
            raise _failure(exc, resource) from exc
        return True

    def _start_delete(self, path: str, resource: str, missing_code: str, deleting_code: str) -> bool:
        """DELETE ``path``; False if it is already gone, True once deletion has started (now or before)."""
        try:
            self._send("DELETE", path, resource)
        except AzureOperationFailed as exc:
            if exc.code == missing_code:
                return False
            if exc.code != deleting_code:
                raise
        return True

    def _send(self, method: str, path: str, resource: str, body: dict | None = None) -> None:
        request = HttpRequest(
            method,
            path,
            params={"api-version": API_VERSION},
            json=body,
            headers=JSON_BODY if body is not None else None,
        )
        try:
            self.connection.send_request(request).raise_for_status()
        except HttpResponseError as exc:
            raise _failure(exc, resource) from exc

    # --- sync: jobs and tasks ---------------------------------------------------------------------
    def create_job(self, job_id: str, pool_id: str) -> bool:
        """Create a job on the pool; False if it already exists."""
        body = models.BatchJobCreateOptions(id=job_id, pool_info=models.BatchPoolInfo(pool_id=pool_id))
        return self._create(lambda: self.connection.create_job(body), "JobExists", f"job {job_id}")

    def create_task(
        self,
        job_id: str,
        task_id: str,
        command_line: str,
        *,
        elevated: bool = False,
        max_wall_clock: timedelta | None = None,
    ) -> bool:
        """Add a task to the job; False if it already exists."""
        body = models.BatchTaskCreateOptions(
            id=task_id,
            command_line=command_line,
            user_identity=_auto_user(elevated),
            constraints=models.BatchTaskConstraints(max_wall_clock_time=max_wall_clock, max_task_retry_count=0),
        )
        return self._create(lambda: self.connection.create_task(job_id, body), "TaskExists", f"task {job_id}/{task_id}")

    def get_task(self, job_id: str, task_id: str) -> dict[str, Any]:
        try:
            return _task_facts(self.connection.get_task(job_id, task_id))
        except HttpResponseError as exc:
            raise _failure(exc, f"task {job_id}/{task_id}") from exc

    def delete_job(self, job_id: str) -> bool:
        """Start deleting the job (Batch removes its tasks with it); False if it does not exist."""
        return self._start_delete(f"/jobs/{job_id}", f"job {job_id}", "JobNotFound", "JobBeingDeleted")

    # --- async, for triggers ----------------------------------------------------------------------
    async def aget_pool(self, pool_id: str) -> dict[str, Any] | None:
        client = await self.get_async_conn()
        try:
            return _pool_facts(await client.get_pool(pool_id))
        except ResourceNotFoundError:
            return None
        except HttpResponseError as exc:
            if _is_request_error(exc):
                raise _failure(exc, f"pool {pool_id}") from exc
            raise

    async def apool_node_counts(self, pool_id: str) -> dict[str, int]:
        client = await self.get_async_conn()
        try:
            entries = [entry async for entry in client.list_pool_node_counts(filter=_counts_filter(pool_id))]
        except HttpResponseError as exc:
            if _is_request_error(exc):
                raise _failure(exc, f"pool {pool_id}") from exc
            raise
        return _summed_counts(_pick(entries, pool_id))

    async def afailed_node(self, pool_id: str) -> dict[str, Any] | None:
        """One node of the pool that is unusable or failed its start task (its id and why), or None."""
        client = await self.get_async_conn()
        try:
            async for node in client.list_nodes(pool_id, filter=FAILED_NODES_FILTER, max_results=1):
                return _failed_node_facts(node)
        except HttpResponseError as exc:
            if _is_request_error(exc):
                raise _failure(exc, f"pool {pool_id}") from exc
            raise
        return None

    async def aget_task(self, job_id: str, task_id: str) -> dict[str, Any]:
        client = await self.get_async_conn()
        try:
            return _task_facts(await client.get_task(job_id, task_id))
        except HttpResponseError as exc:
            if _is_request_error(exc):
                raise _failure(exc, f"task {job_id}/{task_id}") from exc
            raise


def _auto_user(elevated: bool) -> models.UserIdentity:
    """The pool-wide auto user, as an admin when the command needs root / Administrator."""
    return models.UserIdentity(
        auto_user=models.AutoUserSpecification(
            scope=models.AutoUserScope.POOL,
            elevation_level=models.ElevationLevel.ADMIN if elevated else models.ElevationLevel.NON_ADMIN,
        )
    )
