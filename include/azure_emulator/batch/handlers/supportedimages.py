"""The images Batch supports, with their node agent SKUs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from azure_emulator.batch.handlers.common import ACCOUNT, listing
from azure_emulator.batch.models import supportedimages as model

if TYPE_CHECKING:
    from azure_emulator.routing import Call


async def list_supported_images(call: Call):
    return listing(call, model.listing(call.backend), "supportedimages")


ROUTES = [("GET", rf"{ACCOUNT}/supportedimages", list_supported_images)]
