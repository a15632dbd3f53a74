"""Ensure the gallery and the image definition exist (created when missing, never changed behind
the user's back).
"""

from __future__ import annotations

from collections.abc import Sequence

from imagepool.hooks.gallery import GalleryHook, definition_mismatch
from imagepool.links.portal import GalleryLink, ImageDefinitionLink
from imagepool.operators.base import ImagepoolBaseOperator
from imagepool.triggers.arm import ArmOperationTrigger


class AzureGalleryEnsureOperator(ImagepoolBaseOperator):
    """Create the Azure Compute Gallery if it does not exist; return its resource id.

    :param gallery_name: gallery name (templated).
    :param location: Azure region for a new gallery (templated).
    :param resource_group_name: resource group (templated); default: the connection's ``resource_group``.
    :param description: description for a new gallery.
    :param tags: tags for a new gallery.
    :param timeout: seconds to wait for creation (default 1800).
    """

    template_fields: Sequence[str] = (
        *ImagepoolBaseOperator.template_fields,
        "gallery_name",
        "location",
        "resource_group_name",
        "tags",
    )
    operator_extra_links = (GalleryLink(),)

    def __init__(
        self,
        *,
        gallery_name: str,
        location: str,
        resource_group_name: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        timeout: float = 1800,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.gallery_name = gallery_name
        self.location = location
        self.resource_group_name = resource_group_name
        self.description = description
        self.tags = tags or {}
        self.timeout = timeout

    def execute(self, context):
        hook = GalleryHook(self.azure_conn_id)
        group = hook.resource_group(self.resource_group_name)
        existing = hook.get_gallery(group, self.gallery_name)
        GalleryLink.persist(context, hook.settings, hook.compute_id(group, "galleries", self.gallery_name))
        if existing and existing["provisioning_state"] == "Succeeded":
            self.log.info("Gallery %s already exists", existing["id"])
            return existing["id"]
        operation = hook.begin_gallery(group, self.gallery_name, self.location, self.description, self.tags)
        return self.wait_for(context, ArmOperationTrigger(operation=operation.to_dict(), **self.polling(self.timeout)))

    def execute_complete(self, context, event=None):
        return self.check_event(event)["resource_id"]


class AzureGalleryImageDefinitionEnsureOperator(ImagepoolBaseOperator):
    """Create the gallery image definition if missing; fail clearly if an existing one cannot hold the image.

    The definition's OS type, Hyper-V generation and security type must match the build VM's and
    what the Batch pool expects; Azure refuses to change them later, so a mismatch is reported
    before anything is built.

    :param gallery_name: gallery (templated).
    :param image_name: image definition name (templated).
    :param location: region of the definition (the gallery's region).
    :param os_type: ``Linux`` or ``Windows``.
    :param hyper_v_generation: ``V1`` or ``V2``.
    :param security_type: ``Standard``, ``TrustedLaunchSupported``, ``TrustedLaunch``...
    :param publisher: identifier publisher.
    :param offer: identifier offer.
    :param sku: identifier SKU.
    :param resource_group_name: resource group (templated); default: the connection's.
    :param tags: tags the definition must carry (added to an existing definition's tags; templated).
    :param timeout: seconds to wait for creation (default 1800).
    """

    template_fields: Sequence[str] = (
        *ImagepoolBaseOperator.template_fields,
        "gallery_name",
        "image_name",
        "location",
        "resource_group_name",
        "tags",
    )
    operator_extra_links = (ImageDefinitionLink(),)

    def __init__(
        self,
        *,
        gallery_name: str,
        image_name: str,
        location: str,
        os_type: str,
        hyper_v_generation: str,
        security_type: str,
        publisher: str,
        offer: str,
        sku: str,
        resource_group_name: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        timeout: float = 1800,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.gallery_name = gallery_name
        self.image_name = image_name
        self.location = location
        self.os_type = os_type
        self.hyper_v_generation = hyper_v_generation
        self.security_type = security_type
        self.publisher, self.offer, self.sku = publisher, offer, sku
        self.resource_group_name = resource_group_name
        self.description = description
        self.tags = tags or {}
        self.timeout = timeout

    def execute(self, context):
        hook = GalleryHook(self.azure_conn_id)
        group = hook.resource_group(self.resource_group_name)
        wanted = {
            "os_type": self.os_type,
            "os_state": "Generalized",
            "hyper_v_generation": self.hyper_v_generation,
            "security_type": self.security_type,
            "publisher": self.publisher,
            "offer": self.offer,
            "sku": self.sku,
        }
        existing = hook.get_image_definition(group, self.gallery_name, self.image_name)
        ImageDefinitionLink.persist(
            context, hook.settings, hook.compute_id(group, "galleries", self.gallery_name, "images", self.image_name)
        )
        tags = dict(self.tags)
        if existing:
            mismatch = definition_mismatch(existing, wanted)
            if mismatch:
                raise mismatch
            tags = {**existing["tags"], **self.tags}
            if existing["provisioning_state"] == "Succeeded" and tags == existing["tags"]:
                self.log.info("Image definition %s already exists and matches", existing["id"])
                return existing["id"]
        operation = hook.begin_image_definition(
            group,
            self.gallery_name,
            self.image_name,
            location=self.location,
            os_type=self.os_type,
            hyper_v_generation=self.hyper_v_generation,
            security_type=self.security_type,
            publisher=self.publisher,
            offer=self.offer,
            sku=self.sku,
            tags=tags,
            description=self.description,
        )
        return self.wait_for(context, ArmOperationTrigger(operation=operation.to_dict(), **self.polling(self.timeout)))

    def execute_complete(self, context, event=None):
        return self.check_event(event)["resource_id"]
