"""Azure portal links: the operator pushes the portal URL of what it made; the link reads it back."""

from __future__ import annotations

from typing import ClassVar

from airflow.sdk import BaseOperatorLink
from airflow.sdk.execution_time.xcom import XCom

RESOURCE_URL = "{portal}/#@{tenant}/resource{resource_id}/overview"


def portal_url(portal: str, tenant: str | None, resource_id: str) -> str:
    return RESOURCE_URL.format(portal=portal.rstrip("/"), tenant=tenant or "", resource_id=resource_id)


class AzurePortalLink(BaseOperatorLink):
    """Subclasses set ``name`` (the button) and ``key`` (the XCom key the URL is stored under)."""

    name: ClassVar[str] = "Azure portal"
    key: ClassVar[str] = "azure_portal_url"

    def get_link(self, operator, *, ti_key) -> str:
        try:
            return XCom.get_value(key=self.key, ti_key=ti_key) or ""
        except Exception:  # a link must never break the page; no URL means no link
            return ""

    @classmethod
    def persist(cls, context, settings, resource_id: str) -> str:
        url = portal_url(settings.cloud.portal_url, settings.tenant_id, resource_id)
        context["ti"].xcom_push(key=cls.key, value=url)
        return url


class GalleryLink(AzurePortalLink):
    name = "Gallery"
    key = "gallery_portal_url"


class ImageDefinitionLink(AzurePortalLink):
    name = "Image definition"
    key = "image_definition_portal_url"


class BuildVmLink(AzurePortalLink):
    name = "Build VM"
    key = "build_vm_portal_url"


class SnapshotLink(AzurePortalLink):
    name = "Snapshot"
    key = "snapshot_portal_url"


class ManagedImageLink(AzurePortalLink):
    name = "Managed image"
    key = "managed_image_portal_url"


class ImageVersionLink(AzurePortalLink):
    name = "Image version"
    key = "image_version_portal_url"


class BatchPoolLink(AzurePortalLink):
    name = "Batch pool"
    key = "batch_pool_portal_url"


ALL_LINKS = [
    GalleryLink,
    ImageDefinitionLink,
    BuildVmLink,
    SnapshotLink,
    ManagedImageLink,
    ImageVersionLink,
    BatchPoolLink,
]
