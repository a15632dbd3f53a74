"""Image version hook helpers: version names, sources, and the SDK model read as plain data."""

from __future__ import annotations

import json

import pytest
from azure.mgmt.compute.models import GalleryImageVersion

from imagepool.hooks.versions import _storage_profile, parse_version, same_source, version_facts, version_source

IMAGE_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/img"
SNAP = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/"


@pytest.mark.parametrize(
    ("name", "parts"),
    [("1.0.0", (1, 0, 0)), ("2024.12.01", (2024, 12, 1)), ("2147483647.0.2147483647", (2147483647, 0, 2147483647))],
)
def test_parse_version(name, parts):
    assert parse_version(name) == parts


@pytest.mark.parametrize(
    "name", ["1.0", "1.0.0.0", "a.b.c", "2147483648.0.0", "-1.0.0", " 1.0.0", "1.0.0\n", "1..0", "", "１.0.0"]
)
def test_parse_version_refuses(name):
    with pytest.raises(ValueError, match="2147483647") as err:
        parse_version(name)
    assert repr(name) in str(err.value)
    assert "2147483647" in str(err.value)


def test_sources_compare_ignoring_case_and_lun_type():
    snapshots = version_source(os_snapshot_id=SNAP + "os", data_snapshot_ids={0: SNAP + "d0"})
    assert snapshots == {"os_snapshot_id": SNAP + "os", "data_snapshot_ids": {"0": SNAP + "d0"}}
    assert same_source(
        snapshots, version_source(os_snapshot_id=(SNAP + "OS").upper(), data_snapshot_ids={"0": SNAP + "d0"})
    )
    assert not same_source(snapshots, version_source(os_snapshot_id=SNAP + "os"))
    assert not same_source(snapshots, version_source(os_snapshot_id=SNAP + "os", data_snapshot_ids={1: SNAP + "d0"}))
    assert not same_source(snapshots, version_source(image_id=IMAGE_ID))
    assert same_source(version_source(image_id=IMAGE_ID), version_source(image_id=IMAGE_ID.lower()))


def test_storage_profile_bodies_as_the_sdk_sends_them():
    image = _storage_profile(version_source(image_id=IMAGE_ID)).as_dict()
    assert image == {"source": {"id": IMAGE_ID}}
    snapshots = _storage_profile(
        version_source(os_snapshot_id=SNAP + "os", data_snapshot_ids={"2": SNAP + "d2", "0": SNAP + "d0"})
    ).as_dict()
    assert snapshots == {
        "osDiskImage": {"source": {"id": SNAP + "os"}},
        "dataDiskImages": [{"lun": 0, "source": {"id": SNAP + "d0"}}, {"lun": 2, "source": {"id": SNAP + "d2"}}],
    }


# Azure's example GalleryImageVersion_Get_WithReplicationStatus (display names, as Azure answers).
EXAMPLE = {
    "id": IMAGE_ID.replace("/images/img", "/galleries/g/images/def/versions/1.0.0"),
    "name": "1.0.0",
    "location": "West US",
    "properties": {
        "publishingProfile": {
            "targetRegions": [
                {
                    "name": "West US",
                    "regionalReplicaCount": 1,
                    "storageAccountType": "Standard_LRS",
                    "excludeFromLatest": False,
                },
                {"name": "East US", "regionalReplicaCount": 2, "storageAccountType": "Standard_ZRS"},
                {"name": "North Europe"},
            ],
            "replicaCount": 3,
            "publishedDate": "2018-01-01T00:00:00Z",
            "storageAccountType": "Standard_LRS",
        },
        "storageProfile": {
            "source": {"id": IMAGE_ID},
            "osDiskImage": {"sizeInGB": 10, "hostCaching": "ReadOnly"},
            "dataDiskImages": [{"lun": 1, "sizeInGB": 10, "hostCaching": "None"}],
        },
        "replicationStatus": {
            "aggregatedState": "InProgress",
            "summary": [
                {"region": "West US", "state": "Completed", "details": "", "progress": 100},
                {"region": "East US", "state": "Replicating", "details": "", "progress": 40},
            ],
        },
        "provisioningState": "Creating",
    },
}


def test_version_facts_are_plain_json():
    facts = version_facts(GalleryImageVersion(EXAMPLE))
    assert json.loads(json.dumps(facts)) == facts
    assert facts["location"] == "westus"
    assert facts["provisioning_state"] == "Creating"
    assert facts["source"] == {"image_id": IMAGE_ID}
    assert (facts["published_date"], facts["end_of_life_date"]) == ("2018-01-01T00:00:00+00:00", None)
    assert facts["target_regions"] == [
        {
            "name": "westus",
            "regional_replica_count": 1,
            "storage_account_type": "Standard_LRS",
            "exclude_from_latest": False,
        },
        {
            "name": "eastus",
            "regional_replica_count": 2,
            "storage_account_type": "Standard_ZRS",
            "exclude_from_latest": False,
        },
        # no count of its own: the version's replicaCount applies
        {
            "name": "northeurope",
            "regional_replica_count": 3,
            "storage_account_type": None,
            "exclude_from_latest": False,
        },
    ]
    assert facts["replication"] == {
        "aggregated_state": "InProgress",
        "regions": [
            {"region": "West US", "state": "Completed", "progress": 100, "details": ""},
            {"region": "East US", "state": "Replicating", "progress": 40, "details": ""},
        ],
    }


def test_version_facts_of_a_snapshot_version_without_replication_status():
    body = json.loads(json.dumps(EXAMPLE))
    body["properties"]["storageProfile"] = {
        "osDiskImage": {"source": {"id": SNAP + "os"}},
        "dataDiskImages": [{"lun": 0, "source": {"id": SNAP + "d0"}}],
    }
    del body["properties"]["replicationStatus"]
    facts = version_facts(GalleryImageVersion(body))
    assert facts["source"] == {"os_snapshot_id": SNAP + "os", "data_snapshot_ids": {"0": SNAP + "d0"}}
    assert facts["replication"] is None
