"""Azure clouds: where ARM, Entra ID, Batch and the portal live in each.

A connection names one of the sovereign clouds or gives custom endpoints; the local emulator is
just a custom cloud whose endpoints and CA bundle come from its ready file.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Cloud:
    name: str
    arm_endpoint: str
    arm_scope: str
    authority_host: str
    batch_scope: str
    portal_url: str
    # Where a Batch account's data plane lives, from its name and region.
    batch_endpoint_template: str
    ca_bundle: str | None = None

    def batch_account_url(self, account: str, location: str) -> str:
        return self.batch_endpoint_template.format(account=account, location=location)

    def with_overrides(self, **overrides: str | None) -> Cloud:
        return replace(self, **{k: v for k, v in overrides.items() if v})


PUBLIC = Cloud(
    name="AzurePublicCloud",
    arm_endpoint="https://management.azure.com/",
    arm_scope="https://management.azure.com/.default",
    authority_host="https://login.microsoftonline.com",
    batch_scope="https://batch.core.windows.net//.default",
    portal_url="https://portal.azure.com",
    batch_endpoint_template="https://{account}.{location}.batch.azure.com",
)
US_GOVERNMENT = Cloud(
    name="AzureUSGovernment",
    arm_endpoint="https://management.usgovcloudapi.net/",
    arm_scope="https://management.usgovcloudapi.net/.default",
    authority_host="https://login.microsoftonline.us",
    batch_scope="https://batch.core.usgovcloudapi.net//.default",
    portal_url="https://portal.azure.us",
    batch_endpoint_template="https://{account}.{location}.batch.usgovcloudapi.net",
)
CHINA = Cloud(
    name="AzureChinaCloud",
    arm_endpoint="https://management.chinacloudapi.cn/",
    arm_scope="https://management.chinacloudapi.cn/.default",
    authority_host="https://login.chinacloudapi.cn",
    batch_scope="https://batch.chinacloudapi.cn//.default",
    portal_url="https://portal.azure.cn",
    batch_endpoint_template="https://{account}.{location}.batch.chinacloudapi.cn",
)

KNOWN_CLOUDS = {cloud.name: cloud for cloud in (PUBLIC, US_GOVERNMENT, CHINA)}
CUSTOM = "Custom"
