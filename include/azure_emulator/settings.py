"""The emulated tenant, subscription and Batch accounts, generated once per data dir.

Ids are fixed so examples and docs can show them; secrets (client secret, managed identity header,
Batch account keys) are random per data dir and handed out only through the ready file. Key
material (the app's certificate, the federated token issuer's key) lives in files in the data dir,
see ``entra.credentials``.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import asdict, dataclass, field

from azure_emulator import clouds

# Batch accepts Entra ID tokens, account keys and task tokens unless an account is set otherwise.
AUTHENTICATION_MODES = ("SharedKey", "AAD", "TaskAuthenticationToken")


@dataclass
class BatchAccount:
    """A Batch account: its data plane (``/batch/{name}``) and its ARM resource (Microsoft.Batch/batchAccounts)."""

    name: str
    location: str
    key: str
    dedicated_core_quota: int = 20000
    low_priority_core_quota: int = 20000
    pool_quota: int = 100
    allowed_authentication_modes: list[str] = field(default_factory=lambda: list(AUTHENTICATION_MODES))
    # Per VM family dedicated cores; a family not listed has the account's dedicated core quota.
    dedicated_core_quota_per_vm_family: dict[str, int] = field(default_factory=dict)
    dedicated_core_quota_per_vm_family_enforced: bool = True
    # Its ARM resource's group; empty: the settings' resource group.
    resource_group: str = ""


@dataclass
class Settings:
    tenant_id: str = "72f988bf-0000-4000-8000-00000000e1d0"
    client_id: str = "5c0ffee0-0000-4000-8000-0000000a0001"
    client_secret: str = ""
    # The app's federated identity credential: tokens of this Kubernetes service account, from an
    # AKS-style OIDC issuer the emulator stands in for (it writes the token file itself).
    federated_issuer: str = (
        "https://westeurope.oic.prod-aks.azure.com/72f988bf-0000-4000-8000-00000000e1d0/"
        "6b1f0e2c-0000-4000-8000-00000000a45e/"
    )
    federated_subject: str = "system:serviceaccount:airflow:imagepool"
    federated_audience: str = "api://AzureADTokenExchange"
    # A user-assigned managed identity, served App Service-style; the header value guards its endpoint.
    managed_identity_client_id: str = "5c0ffee0-0000-4000-8000-0000000a0002"
    identity_header: str = ""
    subscription_id: str = "00000000-0000-4000-8000-00000000cafe"
    # The Azure cloud played (clouds.CLOUDS): fixed when the data dir is made, as resources live in its regions.
    cloud: str = "AzurePublicCloud"
    resource_group: str = "imagepool-rg"
    location: str = "westeurope"
    other_location: str = "northeurope"
    vnet_name: str = "imagepool-vnet"
    subnet_name: str = "build"
    batch_accounts: list[BatchAccount] = field(default_factory=list)

    @property
    def subnet_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}/providers/"
            f"Microsoft.Network/virtualNetworks/{self.vnet_name}/subnets/{self.subnet_name}"
        )

    def batch_account(self, name: str) -> BatchAccount | None:
        return next((a for a in self.batch_accounts if a.name.lower() == name.lower()), None)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Settings:
        accounts = [BatchAccount(**a) for a in data.pop("batch_accounts", [])]
        return cls(**data, batch_accounts=accounts)


class CloudMismatch(ValueError):
    """The data dir was made for another cloud than the one asked for."""


def load_or_create(store, cloud: str | None = None) -> Settings:
    """The data dir's settings, made on first use for ``cloud`` (default: the public cloud)."""
    saved = store.meta_get("settings")
    if saved:
        settings = Settings.from_dict(saved)
        if cloud is not None and clouds.named(cloud).name != settings.cloud:
            raise CloudMismatch(
                f"the data dir was made for {settings.cloud}, not {clouds.named(cloud).name}: its resources live in "
                "that cloud's regions; use another --data-dir for another cloud"
            )
        if saved.get("identity_header"):
            return settings
        # A data dir from before the managed identity: keep everything, add its secret.
    else:
        played = clouds.named(cloud or clouds.PUBLIC.name)
        settings = Settings(
            client_secret=secrets.token_urlsafe(30),
            cloud=played.name,
            location=played.location,
            other_location=played.other_location,
        )
        settings.batch_accounts = [
            BatchAccount("imagepoolbatch", settings.location, base64.b64encode(secrets.token_bytes(64)).decode()),
            BatchAccount(
                "imagepoolbatchne", settings.other_location, base64.b64encode(secrets.token_bytes(64)).decode()
            ),
        ]
    settings.identity_header = secrets.token_urlsafe(30)
    store.meta_put("settings", settings.to_dict())
    return settings
