"""Azure regions the emulator knows: ARM takes either spelling and answers ``location`` in the
short form, while gallery target regions and replication status come back in the display form
(``"West Europe"``), as the real service does.
"""

from __future__ import annotations

DISPLAY_NAMES: dict[str, str] = {
    "westeurope": "West Europe",
    "northeurope": "North Europe",
    "uksouth": "UK South",
    "francecentral": "France Central",
    "germanywestcentral": "Germany West Central",
    "swedencentral": "Sweden Central",
    "eastus": "East US",
    "eastus2": "East US 2",
    "centralus": "Central US",
    "southcentralus": "South Central US",
    "westus": "West US",
    "westus2": "West US 2",
    "westus3": "West US 3",
    "canadacentral": "Canada Central",
    "australiaeast": "Australia East",
    "japaneast": "Japan East",
    "southeastasia": "Southeast Asia",
    "centralindia": "Central India",
}


def normalize(name: str | None) -> str | None:
    """``"West Europe"``, ``"westeurope"`` and ``"WestEurope"`` all name one region; None if unknown."""
    if not name:
        return None
    key = name.replace(" ", "").lower()
    return key if key in DISPLAY_NAMES else None


def display(name: str) -> str:
    return DISPLAY_NAMES[normalize(name) or name]
