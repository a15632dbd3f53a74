"""Azure Compute Gallery: galleries and image definitions (image versions: ``hooks.versions``)."""

from __future__ import annotations

from azure.mgmt.compute.models import (
    Gallery,
    GalleryImage,
    GalleryImageFeature,
    GalleryImageIdentifier,
    GalleryImageProperties,
    GalleryProperties,
)

from imagepool.errors import AzureOperationFailed
from imagepool.hooks.arm import ArmHook, ArmOperation, text


def _definition_facts(image) -> dict:
    security = next((f.value for f in (image.features or []) if f.name == "SecurityType"), "Standard")
    return {
        "os_type": text(image.os_type),
        "os_state": text(image.os_state),
        "hyper_v_generation": text(image.hyper_v_generation) or "V1",
        "security_type": security,
        "publisher": image.identifier.publisher,
        "offer": image.identifier.offer,
        "sku": image.identifier.sku,
    }


class GalleryHook(ArmHook):
    """Galleries and image definitions; idempotent "ensure" calls that only write what is missing."""

    def get_gallery(self, resource_group: str, gallery: str) -> dict | None:
        found = self.lookup(lambda: self.connection.galleries.get(resource_group, gallery), f"gallery {gallery}")
        if found is None:
            return None
        return {"id": found.id, "location": found.location, "provisioning_state": found.provisioning_state}

    def begin_gallery(
        self, resource_group: str, gallery: str, location: str, description: str | None, tags: dict[str, str]
    ) -> ArmOperation:
        body = Gallery(location=location, tags=tags, properties=GalleryProperties(description=description))
        return self.start(
            lambda **kw: self.connection.galleries.begin_create_or_update(resource_group, gallery, body, **kw),
            resource_id=self.compute_id(resource_group, "galleries", gallery),
            description=f"gallery {gallery}",
        )

    def get_image_definition(self, resource_group: str, gallery: str, image: str) -> dict | None:
        found = self.lookup(
            lambda: self.connection.gallery_images.get(resource_group, gallery, image),
            f"image definition {gallery}/{image}",
        )
        if found is None:
            return None
        return {
            "id": found.id,
            "provisioning_state": text(found.provisioning_state),
            "location": found.location,
            "tags": dict(found.tags or {}),
            **_definition_facts(found),
        }

    def begin_image_definition(
        self,
        resource_group: str,
        gallery: str,
        image: str,
        *,
        location: str,
        os_type: str,
        hyper_v_generation: str,
        security_type: str,
        publisher: str,
        offer: str,
        sku: str,
        tags: dict[str, str],
        description: str | None = None,
    ) -> ArmOperation:
        features = [GalleryImageFeature(name="SecurityType", value=security_type)]
        body = GalleryImage(
            location=location,
            tags=tags,
            properties=GalleryImageProperties(
                os_type=os_type,
                os_state="Generalized",
                hyper_v_generation=hyper_v_generation,
                features=features,
                identifier=GalleryImageIdentifier(publisher=publisher, offer=offer, sku=sku),
                description=description,
            ),
        )
        return self.start(
            lambda **kw: self.connection.gallery_images.begin_create_or_update(
                resource_group, gallery, image, body, **kw
            ),
            resource_id=self.compute_id(resource_group, "galleries", gallery, "images", image),
            description=f"image definition {gallery}/{image}",
            action="image definitions cannot change OS type, generation or identifier: use a new definition name",
        )


def definition_mismatch(existing: dict, wanted: dict) -> AzureOperationFailed | None:
    """The error to raise when an existing definition cannot serve the wanted image, else None."""
    differing = {k: (existing.get(k), v) for k, v in wanted.items() if k in existing and existing.get(k) != v}
    if not differing:
        return None
    detail = ", ".join(f"{k} is {have!r}, spec wants {want!r}" for k, (have, want) in differing.items())
    return AzureOperationFailed(
        f"image definition {existing['id']}",
        "DefinitionMismatch",
        detail,
        "these properties cannot change on an existing definition: fix the spec, or name a new image definition",
    )
