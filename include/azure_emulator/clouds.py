"""The Azure clouds the emulator can play (``--cloud``): the public cloud, Azure Government, Azure China.

A cloud decides the regions served, the token audiences ARM and Batch accept (``https://management.
usgovcloudapi.net/`` rather than ``https://management.azure.com/``...), the Batch account endpoints'
domain and what ARM's cloud metadata endpoint answers. Every endpoint is still the emulator itself: a
client treats it as a custom cloud whose Resource Manager, authority and Batch accounts are local.

Sources: the ``az cloud show`` definitions of AzureCloud, AzureUSGovernment and AzureChinaCloud (the
Azure CLI's built-in cloud list) and ARM's ``/metadata/endpoints`` document.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Cloud:
    name: str  # as imagepool connections name it (``cloud_environment``)
    metadata_name: str  # as ARM's metadata endpoint and the Azure CLI name it
    management: str  # the classic management audience, the first the metadata document lists
    resource_manager: str
    batch: str
    portal: str
    batch_domain: str
    location: str
    other_location: str
    graph: str
    microsoft_graph: str
    suffixes: dict[str, str] = field(default_factory=dict)

    @property
    def arm_audiences(self) -> frozenset[str]:
        both = (self.management, self.resource_manager)
        return frozenset(a.rstrip("/") for a in both) | frozenset(both)

    @property
    def batch_audiences(self) -> frozenset[str]:
        return frozenset({self.batch, self.batch.rstrip("/")})

    @property
    def arm_scope(self) -> str:
        return f"{self.resource_manager.rstrip('/')}/.default"

    @property
    def batch_scope(self) -> str:
        # The Batch SDKs ask for the audience with its trailing slash, then "/.default".
        return f"{self.batch}/.default"


PUBLIC = Cloud(
    name="AzurePublicCloud",
    metadata_name="AzureCloud",
    management="https://management.core.windows.net/",
    resource_manager="https://management.azure.com/",
    batch="https://batch.core.windows.net/",
    portal="https://portal.azure.com",
    batch_domain="batch.azure.com",
    location="westeurope",
    other_location="northeurope",
    graph="https://graph.windows.net/",
    microsoft_graph="https://graph.microsoft.com/",
    suffixes={
        "storage": "core.windows.net",
        "keyVaultDns": "vault.azure.net",
        "acrLoginServer": "azurecr.io",
        "sqlServerHostname": "database.windows.net",
    },
)
US_GOVERNMENT = Cloud(
    name="AzureUSGovernment",
    metadata_name="AzureUSGovernment",
    management="https://management.core.usgovcloudapi.net/",
    resource_manager="https://management.usgovcloudapi.net/",
    batch="https://batch.core.usgovcloudapi.net/",
    portal="https://portal.azure.us",
    batch_domain="batch.usgovcloudapi.net",
    location="usgovvirginia",
    other_location="usgovarizona",
    graph="https://graph.windows.net/",
    microsoft_graph="https://graph.microsoft.us/",
    suffixes={
        "storage": "core.usgovcloudapi.net",
        "keyVaultDns": "vault.usgovcloudapi.net",
        "acrLoginServer": "azurecr.us",
        "sqlServerHostname": "database.usgovcloudapi.net",
    },
)
CHINA = Cloud(
    name="AzureChinaCloud",
    metadata_name="AzureChinaCloud",
    management="https://management.core.chinacloudapi.cn/",
    resource_manager="https://management.chinacloudapi.cn/",
    batch="https://batch.chinacloudapi.cn/",
    portal="https://portal.azure.cn",
    batch_domain="batch.chinacloudapi.cn",
    location="chinanorth3",
    other_location="chinaeast3",
    graph="https://graph.chinacloudapi.cn/",
    microsoft_graph="https://microsoftgraph.chinacloudapi.cn/",
    suffixes={
        "storage": "core.chinacloudapi.cn",
        "keyVaultDns": "vault.azure.cn",
        "acrLoginServer": "azurecr.cn",
        "sqlServerHostname": "database.chinacloudapi.cn",
    },
)

CLOUDS: dict[str, Cloud] = {c.name: c for c in (PUBLIC, US_GOVERNMENT, CHINA)}
# The Azure CLI's names, accepted as well.
ALIASES = {c.metadata_name.lower(): c.name for c in CLOUDS.values()} | {n.lower(): n for n in CLOUDS}


def named(name: str) -> Cloud:
    """The cloud ``name`` names (``AzurePublicCloud`` or the CLI's ``AzureCloud``, any case); KeyError if none."""
    return CLOUDS[ALIASES[name.lower()]]
