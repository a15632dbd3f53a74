"""The regions of each Azure cloud the emulator can play, as Subscriptions - List Locations gives them.

ARM takes either spelling of a region and answers ``location`` in the short form, while gallery target
regions and replication status come back in the display form (``"West Europe"``), as the real service
does. Only physical regions hold resources; logical ones (``europe``, ``global``) are listed, as Azure
lists them, and refused as a resource's location.

Sources (docs/emulator.md has the full list): names, display names, geographies, physical locations,
pairs and availability zone support follow Microsoft's "Azure regions list" and "Azure regions with
availability zone support" pages, the Azure Government and Azure China region pages, and
``az account list-locations`` output; where those disagree or are silent the entry says "estimate".
Latitude and longitude are not served.

Regions can be added or changed at run time through the control endpoint (a region with no zones, a
region opened after this table was written); those variants live in the store (``VARIANTS``) and go
with a reset.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

VARIANTS = "catalogue/regions"


@dataclass(frozen=True)
class Region:
    name: str
    display_name: str
    geography_group: str = ""
    geography: str = ""
    physical_location: str = ""
    paired: str | None = None
    zones: bool = False
    # The portal's "Recommended" regions; the rest are "Other".
    recommended: bool = False
    # Access restricted to customers with a need (in-country disaster recovery): listed, but no VM size is
    # available to an ordinary subscription (Resource SKUs restriction NotAvailableForSubscription).
    restricted: bool = False
    logical: bool = False

    @property
    def regional_display_name(self) -> str:
        return f"({self.geography_group}) {self.display_name}" if self.geography_group else self.display_name

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


def _r(name, display, group, geography, place, paired=None, *, zones=False, rec=False, restricted=False) -> Region:
    return Region(name, display, group, geography, place, paired, zones, rec, restricted)


def _logical(name: str, display: str) -> Region:
    return Region(name, display, logical=True)


US, EU, UK, APAC, ME, AF = "US", "Europe", "UK", "Asia Pacific", "Middle East", "Africa"

PUBLIC: tuple[Region, ...] = (
    # Americas
    _r("eastus", "East US", US, "United States", "Virginia", "westus", zones=True, rec=True),
    _r("eastus2", "East US 2", US, "United States", "Virginia", "centralus", zones=True, rec=True),
    _r("centralus", "Central US", US, "United States", "Iowa", "eastus2", zones=True, rec=True),
    _r("northcentralus", "North Central US", US, "United States", "Illinois", "southcentralus"),
    _r("southcentralus", "South Central US", US, "United States", "Texas", "northcentralus", zones=True, rec=True),
    _r("westcentralus", "West Central US", US, "United States", "Wyoming", "westus2"),
    # West US lists zone mappings in current ``az account list-locations`` output.
    _r("westus", "West US", US, "United States", "California", "eastus", zones=True),
    _r("westus2", "West US 2", US, "United States", "Washington", "westcentralus", zones=True, rec=True),
    _r("westus3", "West US 3", US, "United States", "Phoenix", "eastus", zones=True, rec=True),
    _r("canadacentral", "Canada Central", "Canada", "Canada", "Toronto", "canadaeast", zones=True, rec=True),
    _r("canadaeast", "Canada East", "Canada", "Canada", "Quebec", "canadacentral"),
    _r("brazilsouth", "Brazil South", "South America", "Brazil", "Sao Paulo State", "southcentralus", zones=True),
    _r("brazilsoutheast", "Brazil Southeast", "South America", "Brazil", "Rio", "brazilsouth", restricted=True),
    _r("mexicocentral", "Mexico Central", "Mexico", "Mexico", "Querétaro State", zones=True, rec=True),
    _r("chilecentral", "Chile Central", "South America", "Chile", "Santiago", zones=True),
    # Europe
    _r("northeurope", "North Europe", EU, "Europe", "Ireland", "westeurope", zones=True, rec=True),
    _r("westeurope", "West Europe", EU, "Europe", "Netherlands", "northeurope", zones=True, rec=True),
    _r("uksouth", "UK South", UK, "United Kingdom", "London", "ukwest", zones=True, rec=True),
    _r("ukwest", "UK West", UK, "United Kingdom", "Cardiff", "uksouth"),
    _r("francecentral", "France Central", EU, "France", "Paris", "francesouth", zones=True, rec=True),
    _r("francesouth", "France South", EU, "France", "Marseille", "francecentral", restricted=True),
    _r("germanywestcentral", "Germany West Central", EU, "Germany", "Frankfurt", "germanynorth", zones=True, rec=True),
    _r("germanynorth", "Germany North", EU, "Germany", "Berlin", "germanywestcentral", restricted=True),
    _r("swedencentral", "Sweden Central", EU, "Sweden", "Gävle", "swedensouth", zones=True, rec=True),
    _r("swedensouth", "Sweden South", EU, "Sweden", "Malmo", "swedencentral", restricted=True),
    _r("switzerlandnorth", "Switzerland North", EU, "Switzerland", "Zurich", "switzerlandwest", zones=True, rec=True),
    _r("switzerlandwest", "Switzerland West", EU, "Switzerland", "Geneva", "switzerlandnorth", restricted=True),
    _r("norwayeast", "Norway East", EU, "Norway", "Norway", "norwaywest", zones=True, rec=True),
    _r("norwaywest", "Norway West", EU, "Norway", "Norway", "norwayeast", restricted=True),
    _r("polandcentral", "Poland Central", EU, "Poland", "Warsaw", zones=True, rec=True),
    _r("italynorth", "Italy North", EU, "Italy", "Milan", zones=True, rec=True),
    _r("spaincentral", "Spain Central", EU, "Spain", "Madrid", zones=True, rec=True),
    _r("austriaeast", "Austria East", EU, "Austria", "Vienna", zones=True),
    _r("belgiumcentral", "Belgium Central", EU, "Belgium", "Brussels", zones=True),
    # Middle East and Africa
    _r("uaenorth", "UAE North", ME, "UAE", "Dubai", "uaecentral", zones=True, rec=True),
    _r("uaecentral", "UAE Central", ME, "UAE", "Abu Dhabi", "uaenorth", restricted=True),
    _r("qatarcentral", "Qatar Central", ME, "Qatar", "Doha", zones=True, rec=True),
    _r("israelcentral", "Israel Central", ME, "Israel", "Israel", zones=True, rec=True),
    _r("southafricanorth", "South Africa North", AF, "South Africa", "Johannesburg", "southafricawest", zones=True),
    _r("southafricawest", "South Africa West", AF, "South Africa", "Cape Town", "southafricanorth", restricted=True),
    # Asia Pacific
    _r("eastasia", "East Asia", APAC, "Asia Pacific", "Hong Kong", "southeastasia", zones=True, rec=True),
    _r("southeastasia", "Southeast Asia", APAC, "Asia Pacific", "Singapore", "eastasia", zones=True, rec=True),
    _r("australiaeast", "Australia East", APAC, "Australia", "New South Wales", "australiasoutheast", zones=True),
    _r("australiasoutheast", "Australia Southeast", APAC, "Australia", "Victoria", "australiaeast"),
    _r("australiacentral", "Australia Central", APAC, "Australia", "Canberra", "australiacentral2"),
    _r("australiacentral2", "Australia Central 2", APAC, "Australia", "Canberra", "australiacentral", restricted=True),
    _r("japaneast", "Japan East", APAC, "Japan", "Tokyo, Saitama", "japanwest", zones=True, rec=True),
    _r("japanwest", "Japan West", APAC, "Japan", "Osaka", "japaneast", zones=True),
    _r("koreacentral", "Korea Central", APAC, "Korea", "Seoul", "koreasouth", zones=True, rec=True),
    _r("koreasouth", "Korea South", APAC, "Korea", "Busan", "koreacentral"),
    _r("centralindia", "Central India", APAC, "India", "Pune", "southindia", zones=True, rec=True),
    _r("southindia", "South India", APAC, "India", "Chennai", "centralindia"),
    _r("westindia", "West India", APAC, "India", "Mumbai", "southindia", restricted=True),
    _r("newzealandnorth", "New Zealand North", APAC, "New Zealand", "Auckland", zones=True),
    _r("indonesiacentral", "Indonesia Central", APAC, "Indonesia", "Jakarta", zones=True),
    _r("malaysiawest", "Malaysia West", APAC, "Malaysia", "Kuala Lumpur", zones=True),
    # Logical regions: listed by ARM, never a resource's location.
    _logical("asia", "Asia"),
    _logical("asiapacific", "Asia Pacific"),
    _logical("europe", "Europe"),
    _logical("global", "Global"),
    _logical("india", "India"),
    _logical("japan", "Japan"),
    _logical("uk", "United Kingdom"),
    _logical("unitedstates", "United States"),
)

# Azure Government: availability zones in US Gov Virginia only (estimate for the others: not listed as zonal).
US_GOVERNMENT: tuple[Region, ...] = (
    _r("usgovvirginia", "US Gov Virginia", US, "United States", "Virginia", "usgovtexas", zones=True, rec=True),
    _r("usgovtexas", "US Gov Texas", US, "United States", "Texas", "usgovvirginia", rec=True),
    _r("usgovarizona", "US Gov Arizona", US, "United States", "Arizona", "usgovtexas", rec=True),
    _r("usdodeast", "US DoD East", US, "United States", "Virginia", "usdodcentral"),
    _r("usdodcentral", "US DoD Central", US, "United States", "Iowa", "usdodeast"),
    _logical("usgov", "US Gov"),
)

# Azure operated by 21Vianet: availability zones in China North 3 only.
CHINA: tuple[Region, ...] = (
    _r("chinanorth3", "China North 3", APAC, "China", "Hebei", "chinaeast3", zones=True, rec=True),
    _r("chinaeast3", "China East 3", APAC, "China", "Shanghai", "chinanorth3", rec=True),
    _r("chinanorth2", "China North 2", APAC, "China", "Beijing", "chinaeast2"),
    _r("chinaeast2", "China East 2", APAC, "China", "Shanghai", "chinanorth2"),
    _r("chinanorth", "China North", APAC, "China", "Beijing", "chinaeast"),
    _r("chinaeast", "China East", APAC, "China", "Shanghai", "chinanorth"),
)

BUILT_IN: dict[str, tuple[Region, ...]] = {
    "AzurePublicCloud": PUBLIC,
    "AzureUSGovernment": US_GOVERNMENT,
    "AzureChinaCloud": CHINA,
}


def key(name: str) -> str:
    """``"West Europe"``, ``"westeurope"`` and ``"WestEurope"`` all name one region."""
    return name.replace(" ", "").lower()


def _from_variant(doc: dict, base: Region | None) -> Region:
    fields = {k: v for k, v in doc.items() if k in Region.__dataclass_fields__}
    return replace(base, **fields) if base else Region(**fields)


def all_regions(backend) -> list[Region]:
    """Every region of the cloud the emulator plays, physical and logical, with run-time variants."""
    found = {r.name: r for r in BUILT_IN[backend.cloud.name]}
    for name, doc in backend.store.items(VARIANTS):
        found[name] = _from_variant(doc, found.get(name))
    return list(found.values())


def find(backend, name: str | None) -> Region | None:
    """The region ``name`` names in either spelling (physical or logical), or None."""
    if not name or not isinstance(name, str):
        return None
    wanted = key(name)
    return next((r for r in all_regions(backend) if r.name == wanted or key(r.display_name) == wanted), None)


def normalize(backend, name: str | None) -> str | None:
    """The short name of the physical region ``name`` names; None if there is no such region here."""
    found = find(backend, name)
    return found.name if found and not found.logical else None


def physical_names(backend) -> list[str]:
    return sorted(r.name for r in all_regions(backend) if not r.logical)


def display(backend, name: str) -> str:
    found = find(backend, name)
    return found.display_name if found else name


def set_variant(backend, name: str, changes: dict) -> Region:
    """Add a region, or change one (its zones, its access), until the next reset."""
    base = find(backend, name)
    short = base.name if base else key(name)
    stored = dict(backend.store.get(VARIANTS, short) or {}, **changes, name=short)
    region = _from_variant(stored, base)
    backend.store.put(VARIANTS, short, stored)
    return region
