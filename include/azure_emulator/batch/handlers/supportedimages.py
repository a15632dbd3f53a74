"""The images Batch supports, with their node agent SKUs."""

from __future__ import annotations

from ...routing import Call
from ..models import supportedimages as model
from .common import ACCOUNT, listing


async def list_supported_images(call: Call):
    return listing(call, model.listing(call.backend), "supportedimages")


ROUTES = [("GET", rf"{ACCOUNT}/supportedimages", list_supported_images)]
