"""No request body makes the emulator fail. For every write route (ARM PUT, PATCH and POST of each family, Batch
POST and PATCH of each, the control endpoint's), a valid body is sent with each of its fields in turn, recursively,
replaced by a value of every other JSON type. The answer must be a 4xx in the calling service's error format (a
null, which stands for an omitted property, may also succeed), never a 5xx, and the emulator must log no
traceback. The cases are generated from the valid bodies below: a field added to one of them is fuzzed too.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.emulator_process import start_emulator
from tests.integration import clients
from tests.integration.emulator.builders import GEN2_IMAGE
from tests.integration.emulator.vm_builders import ADMIN, BUILD_SCRIPT, SSH_KEY
from tests.integration.emulator.wire import EmulatorLog

# One value of each JSON type. The number is fractional, so that it is of the wrong type for integer properties too.
WRONG_VALUES = (2.5, "x", [], {}, True, None)
# How deep into a body fields are replaced: deeper than any body below (the VM's public IP settings are at 11).
MAX_DEPTH = 12
# What keeps the run short: requests take a few milliseconds, so the whole module takes well under a minute.
MAX_REQUESTS = 3000
# Every operation of the fuzzing emulator ends at once, so each mutant meets its resource in a settled state.
INSTANT = {
    name: 0
    for name in (
        "vm_create",
        "build_linux",
        "build_windows",
        "vm_power_off",
        "vm_start",
        "vm_deallocate",
        "vm_delete",
        "vm_update",
        "vm_power_off_skip_shutdown",
        "disk_create",
        "disk_delete",
        "nic_delete",
        "snapshot_create",
        "snapshot_delete",
        "image_create",
        "image_delete",
        "gallery_create",
        "gallery_delete",
        "gallery_image_create",
        "gallery_image_delete",
        "version_prepare",
        "replication_per_region",
        "replication_per_extra_replica",
        "version_delete",
        "version_update",
        "pool_allocation_start",
        "pool_allocation_per_replica_batch",
        "node_boot",
        "node_agent_start",
        "start_task",
        "pool_delete",
        "node_remove",
        "task_schedule",
        "task_run",
        "pool_resize_stop",
        "job_delete",
        "job_terminate",
    )
}
ARM_API = {
    "resourcegroups": "2024-11-01",
    "virtualMachines": "2026-04-01",
    "images": "2026-04-01",
    "disks": "2026-03-02",
    "snapshots": "2026-03-02",
    "galleries": "2026-03-03",
}
BATCH_API = "2025-06-01"
WINDOWS_PASSWORD = "Fuzz-Passw0rd!"


@dataclass
class Route:
    """A write route and a valid body for it. ``{n}`` in the path or in body strings becomes a new number for
    every request (a resource of its own); ``body=None`` is a route that takes no body.
    """

    service: str  # arm, batch or control
    method: str
    path: str
    body: dict | None
    api_version: str | None = None
    after: str | None = None  # a request that undoes what a successful mutant left behind (control faults)
    # A PUT to a resource that exists: a body is checked before create and update part ways, so the create route
    # already shows wrong types refused; here only nulls (omitted properties, which take the update's paths) are sent.
    update: bool = False


# --- the valid bodies -------------------------------------------------------------------------------------------


def _compute(info: dict, *segments: str) -> str:
    return (
        f"/subscriptions/{info['subscription_id']}/resourceGroups/{info['resource_group']}/providers/"
        "Microsoft.Compute/" + "/".join(segments)
    )


def _disk_bodies(info: dict) -> dict[str, dict]:
    location = info["location"]
    return {
        "empty": {
            "location": location,
            "tags": {"owner": "fuzz"},
            "sku": {"name": "Standard_LRS"},
            "properties": {
                "creationData": {"createOption": "Empty"},
                "diskSizeGB": 30,
                "osType": "Linux",
                "hyperVGeneration": "V2",
            },
        },
        "copy": {
            "location": location,
            "sku": {"name": "Premium_LRS"},
            "properties": {
                "creationData": {"createOption": "Copy", "sourceResourceId": _compute(info, "disks", "fz-disk")},
                "diskSizeGB": 40,
            },
        },
        "image": {
            "location": location,
            "properties": {
                "creationData": {
                    "createOption": "FromImage",
                    "imageReference": {"id": GEN2_IMAGE.format(sub=info["subscription_id"])},
                },
                "securityProfile": {"securityType": "TrustedLaunch"},
            },
        },
    }


def _nic_configuration(info: dict, delete_option: str = "Delete") -> dict:
    public_ip = {
        "name": "pip",
        "tags": {"owner": "fuzz"},
        "sku": {"name": "Standard", "tier": "Regional"},
        "properties": {
            "deleteOption": "Delete",
            "publicIPAddressVersion": "IPv4",
            "publicIPAllocationMethod": "Static",
            "idleTimeoutInMinutes": 4,
        },
    }
    return {
        "name": "nic",
        "tags": {"owner": "fuzz"},
        "properties": {
            "primary": True,
            "deleteOption": delete_option,
            "enableAcceleratedNetworking": False,
            "enableIPForwarding": False,
            "ipConfigurations": [
                {
                    "name": "ipconfig",
                    "properties": {
                        "primary": True,
                        "subnet": {"id": info["subnet_id"]},
                        "publicIPAddressConfiguration": public_ip,
                    },
                }
            ],
        },
    }


def _vm_bodies(info: dict) -> dict[str, dict]:
    location = info["location"]
    managed = {"storageAccountType": "Premium_LRS"}
    linux = {
        "location": location,
        "tags": {"owner": "fuzz"},
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "storageProfile": {
                "imageReference": {
                    "publisher": "Canonical",
                    "offer": "0001-com-ubuntu-server-jammy",
                    "sku": "22_04-lts-gen2",
                    "version": "latest",
                },
                "osDisk": {
                    "createOption": "FromImage",
                    "caching": "ReadWrite",
                    "diskSizeGB": 64,
                    "deleteOption": "Delete",
                    "managedDisk": managed,
                },
                "dataDisks": [
                    {
                        "lun": 0,
                        "createOption": "Empty",
                        "caching": "None",
                        "diskSizeGB": 32,
                        "deleteOption": "Delete",
                        "managedDisk": managed,
                    }
                ],
            },
            "securityProfile": {
                "securityType": "TrustedLaunch",
                "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True},
            },
            "osProfile": {
                "computerName": "fuzz",
                "adminUsername": ADMIN,
                "adminPassword": WINDOWS_PASSWORD,
                "customData": BUILD_SCRIPT,
                "secrets": [],
                "allowExtensionOperations": True,
                "linuxConfiguration": {
                    "disablePasswordAuthentication": False,
                    "provisionVMAgent": True,
                    "ssh": {"publicKeys": [{"path": f"/home/{ADMIN}/.ssh/authorized_keys", "keyData": SSH_KEY}]},
                },
            },
            "networkProfile": {
                "networkApiVersion": "2020-11-01",
                "networkInterfaceConfigurations": [_nic_configuration(info)],
            },
            "userData": "dXNlcmRhdGE=",
        },
    }
    windows = {
        "location": location,
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "storageProfile": {
                "imageReference": {
                    "publisher": "MicrosoftWindowsServer",
                    "offer": "WindowsServer",
                    "sku": "2022-datacenter-g2",
                    "version": "latest",
                },
                "osDisk": {
                    "createOption": "FromImage",
                    "name": "fz-win-os-{n}",
                    "deleteOption": "Delete",
                    "managedDisk": managed,
                },
            },
            "securityProfile": {"securityType": "Standard"},
            "osProfile": {
                "computerName": "fzwin",
                "adminUsername": "builder",
                "adminPassword": WINDOWS_PASSWORD,
                "windowsConfiguration": {
                    "provisionVMAgent": True,
                    "enableAutomaticUpdates": False,
                    "timeZone": "UTC",
                    "patchSettings": {"patchMode": "Manual"},
                    "additionalUnattendContent": [{"passName": "OobeSystem", "content": "<AutoLogon/>"}],
                },
            },
            "networkProfile": {
                "networkInterfaces": [
                    {
                        "id": (
                            f"/subscriptions/{info['subscription_id']}/resourceGroups/{info['resource_group']}/providers/"
                            "Microsoft.Network/networkInterfaces/fz-left-nic"
                        ),
                        "properties": {"primary": True, "deleteOption": "Detach"},
                    }
                ]
            },
        },
    }
    return {"linux": linux, "windows": windows}


def _image_bodies(info: dict) -> dict[str, dict]:
    disk = {"caching": "None", "diskSizeGB": 30, "storageAccountType": "Standard_LRS"}
    return {
        "snapshots": {
            "location": info["location"],
            "properties": {
                "hyperVGeneration": "V2",
                "storageProfile": {
                    "osDisk": {
                        **disk,
                        "osType": "Linux",
                        "osState": "Generalized",
                        "caching": "ReadWrite",
                        "snapshot": {"id": _compute(info, "snapshots", "fz-snap")},
                    },
                    "dataDisks": [{**disk, "lun": 0, "managedDisk": {"id": _compute(info, "disks", "fz-disk-copy")}}],
                    "zoneResilient": False,
                },
            },
        },
        "vm": {
            "location": info["location"],
            "properties": {
                "hyperVGeneration": "V2",
                "sourceVirtualMachine": {"id": _compute(info, "virtualMachines", "fz-gen")},
            },
        },
    }


def _gallery_bodies(info: dict) -> dict[str, dict]:
    location = info["location"]
    regions = [
        {
            "name": "West Europe",
            "regionalReplicaCount": 2,
            "storageAccountType": "Standard_LRS",
            "excludeFromLatest": False,
        },
        {
            "name": "northeurope",
            "regionalReplicaCount": 1,
            "storageAccountType": "Standard_ZRS",
            "excludeFromLatest": True,
        },
    ]
    return {
        "gallery": {"location": location, "tags": {"owner": "fuzz"}, "properties": {"description": "fuzzing"}},
        "definition": {
            "location": location,
            "properties": {
                "osType": "Linux",
                "osState": "Generalized",
                "hyperVGeneration": "V2",
                "architecture": "x64",
                "identifier": {"publisher": "fuzz", "offer": "fuzz", "sku": "fz-{n}"},
                "features": [{"name": "SecurityType", "value": "TrustedLaunchSupported"}],
                "description": "fuzzed",
                "eula": "none",
                "endOfLifeDate": "2099-01-01T00:00:00Z",
                "releaseNoteUri": "https://example.com/notes",
                "privacyStatementUri": "https://example.com/privacy",
                "recommended": {"vCPUs": {"min": 2, "max": 16}, "memory": {"min": 4, "max": 64}},
            },
        },
        "version": {
            "location": location,
            "tags": {"owner": "fuzz"},
            "properties": {
                "publishingProfile": {
                    "targetRegions": regions,
                    "replicaCount": 1,
                    "storageAccountType": "Standard_LRS",
                    "excludeFromLatest": False,
                    "endOfLifeDate": "2099-01-01T00:00:00Z",
                },
                "storageProfile": {
                    "osDiskImage": {
                        "source": {"id": _compute(info, "snapshots", "fz-snap")},
                        "hostCaching": "ReadOnly",
                    },
                    "dataDiskImages": [
                        {"lun": 0, "source": {"id": _compute(info, "disks", "fz-disk-copy")}, "hostCaching": "None"}
                    ],
                },
            },
        },
        "version_from_image": {
            "location": location,
            "properties": {
                "publishingProfile": {"targetRegions": [{"name": location}]},
                "storageProfile": {"source": {"id": _compute(info, "images", "fz-image")}},
            },
        },
    }


def _batch_bodies() -> dict[str, dict]:
    settings = [{"name": "STAGE", "value": "fuzz"}]
    start_task = {
        "commandLine": "/bin/sh -c 'echo ready'",
        "waitForSuccess": True,
        "maxTaskRetryCount": 1,
        "environmentSettings": settings,
        "resourceFiles": [],
        "userIdentity": {"autoUser": {}},
        "containerSettings": {"imageName": "busybox"},
    }
    config = {
        "imageReference": {
            "publisher": "Canonical",
            "offer": "0001-com-ubuntu-server-jammy",
            "sku": "22_04-lts-gen2",
            "version": "latest",
        },
        "nodeAgentSKUId": "batch.node.ubuntu 22.04",
        "securityProfile": {
            "securityType": "trustedLaunch",
            "encryptionAtHost": False,
            "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True},
        },
    }
    packages = [{"applicationId": "tools", "version": "1"}]
    pool = {
        "id": "fz-pool-{n}",
        "displayName": "fuzz",
        "vmSize": "Standard_D2s_v3",
        "virtualMachineConfiguration": config,
        "resizeTimeout": "PT15M",
        "targetDedicatedNodes": 1,
        "targetLowPriorityNodes": 0,
        "enableAutoScale": False,
        "enableInterNodeCommunication": False,
        "taskSlotsPerNode": 2,
        "taskSchedulingPolicy": {"nodeFillType": "pack"},
        "startTask": start_task,
        "networkConfiguration": {},
        "userAccounts": [],
        "metadata": settings,
        "applicationPackageReferences": packages,
        "mountConfiguration": [],
        "upgradePolicy": {"mode": "manual"},
    }
    autoscale = {
        "id": "fz-auto-{n}",
        "vmSize": "Standard_D2s_v3",
        "virtualMachineConfiguration": config,
        "enableAutoScale": True,
        "autoScaleFormula": "$TargetDedicatedNodes = 1;",
        "autoScaleEvaluationInterval": "PT5M",
    }
    return {
        "pool": pool,
        "autoscale": autoscale,
        "update": {
            "displayName": "patched",
            "vmSize": "Standard_D4s_v3",
            "virtualMachineConfiguration": config,
            "taskSlotsPerNode": 4,
            "taskSchedulingPolicy": {"nodeFillType": "spread"},
            "enableInterNodeCommunication": True,
            "startTask": start_task,
            "metadata": settings,
            "applicationPackageReferences": packages,
        },
        "properties": {"startTask": start_task, "applicationPackageReferences": packages, "metadata": settings},
        "resize": {
            "targetDedicatedNodes": 2,
            "targetLowPriorityNodes": 0,
            "resizeTimeout": "PT10M",
            "nodeDeallocationOption": "requeue",
        },
        "job": {
            "id": "fz-job-{n}",
            "displayName": "fuzz",
            "priority": 10,
            "maxParallelTasks": 4,
            "allowTaskPreemption": False,
            "usesTaskDependencies": True,
            "metadata": settings,
            "commonEnvironmentSettings": settings,
            "jobManagerTask": {"id": "manager", "commandLine": "true"},
            "jobPreparationTask": {"commandLine": "true"},
            "jobReleaseTask": {"commandLine": "true"},
            "networkConfiguration": {},
            "onAllTasksComplete": "terminatejob",
            "onTaskFailure": "noaction",
            "poolInfo": {"poolId": "fz-pool"},
            "constraints": {"maxWallClockTime": "PT1H", "maxTaskRetryCount": 1},
        },
        "terminate": {"terminateReason": "fuzzed"},
        "task": {
            "id": "fz-task-{n}",
            "displayName": "fuzz",
            "commandLine": "/bin/sh -c 'exit 3'",
            "requiredSlots": 1,
            "constraints": {"maxWallClockTime": "PT1H", "retentionTime": "P1D", "maxTaskRetryCount": 0},
            "exitConditions": {"default": {"jobAction": "none"}},
            "resourceFiles": [],
            "outputFiles": [],
            "environmentSettings": settings,
            "affinityInfo": {"affinityId": "TVM:none"},
            "userIdentity": {"userName": "builder", "autoUser": {"scope": "task", "elevationLevel": "admin"}},
            "containerSettings": {"imageName": "busybox"},
            "applicationPackageReferences": packages,
            "multiInstanceSettings": {"numberOfInstances": 1},
            "dependsOn": {"taskIds": ["fz-task-0"], "taskIdRanges": [{"start": 1, "end": 2}]},
        },
    }


def routes(info: dict) -> dict[str, Route]:
    """Every write route, by name."""
    disk, vm, image, gallery, batch = (
        _disk_bodies(info),
        _vm_bodies(info),
        _image_bodies(info),
        _gallery_bodies(info),
        _batch_bodies(),
    )
    rg = f"/subscriptions/{info['subscription_id']}/resourcegroups"
    compute = _compute(info)
    definition = f"{compute}galleries/fz_gallery/images/fz-def"
    pools, jobs = f"/batch/{info['batch_account']}/pools", f"/batch/{info['batch_account']}/jobs"
    snapshot = {
        "location": info["location"],
        "sku": {"name": "Standard_LRS"},
        "properties": {
            "creationData": {"createOption": "Copy", "sourceResourceId": f"{compute}disks/fz-disk"},
            "incremental": True,
        },
    }

    def arm(method: str, path: str, body: dict | None, family: str, *, update: bool = False) -> Route:
        return Route("arm", method, path, body, ARM_API[family], update=update)

    found = {
        "resource group": arm(
            "PUT", f"{rg}/fz-rg-{{n}}", {"location": info["location"], "tags": {"a": "b"}}, "resourcegroups"
        ),
        "disk create (empty)": arm("PUT", f"{compute}disks/fz-d{{n}}", disk["empty"], "disks"),
        "disk create (copy)": arm("PUT", f"{compute}disks/fz-d{{n}}", disk["copy"], "disks"),
        "disk create (image)": arm("PUT", f"{compute}disks/fz-d{{n}}", disk["image"], "disks"),
        "disk update": arm("PUT", f"{compute}disks/fz-disk", disk["empty"], "disks", update=True),
        "snapshot create": arm("PUT", f"{compute}snapshots/fz-s{{n}}", snapshot, "snapshots"),
        "snapshot update": arm("PUT", f"{compute}snapshots/fz-snap", snapshot, "snapshots", update=True),
        "image create (snapshots)": arm("PUT", f"{compute}images/fz-i{{n}}", image["snapshots"], "images"),
        "image create (vm)": arm("PUT", f"{compute}images/fz-i{{n}}", image["vm"], "images"),
        "image update": arm("PUT", f"{compute}images/fz-image", image["snapshots"], "images", update=True),
        "gallery create": arm("PUT", f"{compute}galleries/fz_g{{n}}", gallery["gallery"], "galleries"),
        "gallery update": arm("PUT", f"{compute}galleries/fz_gallery", gallery["gallery"], "galleries", update=True),
        "image definition create": arm(
            "PUT", f"{compute}galleries/fz_gallery/images/fz-def{{n}}", gallery["definition"], "galleries"
        ),
        "image version create (snapshots)": arm(
            "PUT", f"{definition}/versions/1.0.{{n}}", gallery["version"], "galleries"
        ),
        "image version create (image)": arm(
            "PUT", f"{definition}/versions/2.0.{{n}}", gallery["version_from_image"], "galleries"
        ),
        "image version update": arm(
            "PUT", f"{definition}/versions/1.0.0", gallery["version"], "galleries", update=True
        ),
        "image version patch": arm("PATCH", f"{definition}/versions/1.0.0", gallery["version"], "galleries"),
        "vm create (linux)": arm("PUT", f"{compute}virtualMachines/fz-vm{{n}}", vm["linux"], "virtualMachines"),
        "vm create (windows, existing nic)": arm(
            "PUT", f"{compute}virtualMachines/fz-w{{n}}", vm["windows"], "virtualMachines"
        ),
        "vm update": arm("PUT", f"{compute}virtualMachines/fz-vm", vm["linux"], "virtualMachines", update=True),
        "pool add": Route("batch", "POST", pools, batch["pool"], BATCH_API),
        "pool add (autoscale)": Route("batch", "POST", pools, batch["autoscale"], BATCH_API),
        "pool patch": Route("batch", "PATCH", f"{pools}/fz-pool-empty", batch["update"], BATCH_API),
        "pool updateproperties": Route(
            "batch", "POST", f"{pools}/fz-pool/updateproperties", batch["properties"], BATCH_API
        ),
        "pool resize": Route("batch", "POST", f"{pools}/fz-pool/resize", batch["resize"], BATCH_API),
        "pool stopresize": Route("batch", "POST", f"{pools}/fz-pool/stopresize", None, BATCH_API),
        "job add": Route("batch", "POST", jobs, batch["job"], BATCH_API),
        "job terminate": Route("batch", "POST", f"{jobs}/fz-job-ended/terminate", batch["terminate"], BATCH_API),
        "task add": Route("batch", "POST", f"{jobs}/fz-job/tasks", batch["task"], BATCH_API),
        "control faults": Route(
            "control",
            "POST",
            "/_emulator/faults",
            {"kind": "start_task_failed", "match": {"pool": "^never$"}, "count": 1, "fraction": 0.5, "exit_code": 2},
            after="/_emulator/faults",
        ),
        "control durations": Route("control", "PATCH", "/_emulator/durations", {"task_run": 0.0}),
        "control marketplace": Route(
            "control",
            "POST",
            "/_emulator/marketplace/versions",
            {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "24.04.209901010"},
        ),
    }
    for action in ("deallocate", "powerOff", "start", "restart", "generalize"):
        found[f"vm {action}"] = arm("POST", f"{compute}virtualMachines/fz-vm/{action}", None, "virtualMachines")
    return found


# --- mutants --------------------------------------------------------------------------------------------------


def _same_type(original: Any, value: Any) -> bool:
    """Whether ``value`` is of the JSON type of ``original``: a whole number is a number too."""
    if isinstance(original, bool) or isinstance(value, bool) or original is None or value is None:
        return type(original) is type(value)
    return type(original) is type(value) or (isinstance(original, float) and isinstance(value, int))


def _fields(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """Every (path, value) below ``value``: members of objects and items of arrays, depth-first."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield path + (key,), item
        if len(path) + 1 < MAX_DEPTH:
            yield from _fields(item, path + (key,))


def _replaced(body: dict, path: tuple, value: Any) -> dict:
    changed = copy.deepcopy(body)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


def _dotted(path: tuple) -> str:
    return "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in path).lstrip(".") or "(body)"


def mutants(route: Route) -> Iterator[tuple[str, Any, str | None]]:
    """(where, the value put there, the JSON sent) for every field of the route's body and the body itself replaced
    by a value of each other JSON type (by null only for an update); for a route without a body, a body of each JSON
    type and none.
    """
    if route.body is None:
        yield "(no body)", None, None
        for value in WRONG_VALUES:
            yield "(body)", value, json.dumps(value)
        return
    values = (None,) if route.update else WRONG_VALUES
    for value in values:
        if not isinstance(value, dict):
            yield "(body)", value, json.dumps(value)
    for path, original in _fields(route.body):
        for value in values:
            if not _same_type(original, value):
                yield _dotted(path), value, json.dumps(_replaced(route.body, path, value))


# --- sending and judging --------------------------------------------------------------------------------------


class Sender:
    """Requests to the fuzzing emulator with the right token per service; ``{n}`` made unique per request."""

    def __init__(self, info: dict):
        credential = clients.credential(info)
        self.base = info["authority_host"]
        self.session = requests.Session()
        self.session.verify = info["ca_bundle"]
        self.tokens = {service: credential.get_token(info[f"{service}_scope"]).token for service in ("arm", "batch")}
        self.numbers = itertools.count(1)

    def send(self, route: Route, data: str | None, *, path: str | None = None) -> requests.Response:
        number = str(next(self.numbers))
        headers = {"Content-Type": "application/json"}
        if route.service in self.tokens:
            headers["Authorization"] = f"Bearer {self.tokens[route.service]}"
        params = {"api-version": route.api_version} if route.api_version else {}
        body = data.replace("{n}", number) if data is not None else None
        # verify per request: requests lets REQUESTS_CA_BUNDLE from the environment override Session.verify.
        return self.session.request(
            route.method,
            self.base + (path or route.path).replace("{n}", number),
            params=params,
            data=body,
            headers=headers,
            verify=self.session.verify,
            timeout=30,
        )

    def undo(self, route: Route) -> None:
        if route.after:
            self.session.delete(self.base + route.after, verify=self.session.verify, timeout=30)

    def valid(self, route: Route, path: str | None = None) -> requests.Response:
        response = self.send(route, None if route.body is None else json.dumps(route.body), path=path)
        assert response.status_code < 300, (route.path, response.status_code, response.text)
        return response


def wire_problem(service: str, response: requests.Response) -> str | None:
    """What is wrong with an error answer's format for ``service``, or None."""
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.text[:200]!r}"
    if service == "batch":
        message = body.get("message") if isinstance(body, dict) else None
        if not (
            response.headers.get("content-type", "").startswith("application/json;odata=minimalmetadata")
            and isinstance(body.get("code"), str)
            and isinstance(message, dict)
            and message.get("lang") == "en-US"
            and isinstance(message.get("value"), str)
        ):
            return f"not a Batch OData error: {body}"
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not (
        isinstance(error, dict)
        and isinstance(error.get("code"), str)
        and isinstance(error.get("message"), str)
        and error["message"]
    ):
        return f"not an ARM error: {body}"
    return None


def judge(route: Route, where: str, value: Any, response: requests.Response) -> str | None:
    """Why this answer breaks the promise, or None. Only a null may be accepted (it is an omitted property);
    bodies a route does not take may be ignored.
    """
    status = response.status_code
    if status >= 500:
        return f"{status} {response.text[:300]}"
    if status < 400:
        ignored = route.body is None or (value is None and where != "(body)")
        return None if ignored else f"accepted ({status})"
    problem = wire_problem(route.service, response)
    return f"{status} {problem}" if problem else None


# --- the run ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzzing(tmp_path_factory):
    """An emulator of its own (what the mutants create stays out of the other tests' way), with instant durations
    and the resources the routes refer to, made from the same valid bodies.
    """
    running = start_emulator(tmp_path_factory.mktemp("no500"), speed=600)
    try:
        info = running.info
        control = clients.control_session(info)
        assert control.patch("/durations", json=INSTANT).status_code == 200
        table, sender = routes(info), Sender(info)
        compute = _compute(info)
        pools, jobs = f"/batch/{info['batch_account']}/pools", f"/batch/{info['batch_account']}/jobs"
        vm_bodies = _vm_bodies(info)
        prerequisites = [
            ("disk create (empty)", f"{compute}disks/fz-disk"),
            ("disk create (copy)", f"{compute}disks/fz-disk-copy"),
            ("snapshot create", f"{compute}snapshots/fz-snap"),
            ("image create (snapshots)", f"{compute}images/fz-image"),
            ("gallery create", f"{compute}galleries/fz_gallery"),
            ("image definition create", f"{compute}galleries/fz_gallery/images/fz-def"),
            ("image version create (snapshots)", f"{compute}galleries/fz_gallery/images/fz-def/versions/1.0.0"),
            ("vm create (linux)", f"{compute}virtualMachines/fz-vm"),
        ]
        for name, path in prerequisites:
            sender.valid(table[name], path)
        # Tasks are added to fz-job, which stays active; fz-job-ended is terminated.
        pool, job = table["pool add"].body, table["job add"].body
        for body, collection in (
            (dict(pool, id="fz-pool"), pools),
            (dict(pool, id="fz-pool-empty", targetDedicatedNodes=0), pools),
            (dict(job, id="fz-job", onAllTasksComplete="noaction"), jobs),
            (dict(job, id="fz-job-ended"), jobs),
        ):
            sender.valid(Route("batch", "POST", collection, body, BATCH_API))
        # A generalized VM to capture, and a NIC left behind by a deleted VM for VMs that attach one.
        generalized = Route(
            "arm",
            "PUT",
            f"{compute}virtualMachines/fz-gen",
            vm_bodies["linux"]
            | {"properties": {**vm_bodies["linux"]["properties"], "securityProfile": {"securityType": "Standard"}}},
            ARM_API["virtualMachines"],
        )
        sender.valid(generalized)
        for action in ("deallocate", "generalize"):
            sender.valid(Route("arm", "POST", f"{generalized.path}/{action}", None, ARM_API["virtualMachines"]))
        leaver = f"{compute}virtualMachines/fz-left"
        sender.valid(
            Route(
                "arm",
                "PUT",
                leaver,
                vm_bodies["linux"]
                | {
                    "properties": {
                        **vm_bodies["linux"]["properties"],
                        "networkProfile": {
                            "networkApiVersion": "2020-11-01",
                            "networkInterfaceConfigurations": [_nic_configuration(info, "Detach")],
                        },
                    }
                },
                ARM_API["virtualMachines"],
            )
        )
        sender.valid(Route("arm", "DELETE", leaver, None, ARM_API["virtualMachines"]))
        yield running, table, sender
    finally:
        running.stop()


# The table with placeholder ids: for its names and size, known before any emulator runs.
TABLE = routes(
    {"subscription_id": "s", "resource_group": "g", "location": "westeurope", "subnet_id": "n", "batch_account": "a"}
)


def test_the_run_is_bounded():
    assert sum(1 for route in TABLE.values() for _ in mutants(route)) <= MAX_REQUESTS


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", list(TABLE))
def test_wrong_types_are_4xx_never_5xx(fuzzing, name):
    running, table, sender = fuzzing
    route = table[name]
    log = EmulatorLog(running.log_path).mark()
    if route.body is not None:
        sender.valid(route)  # the starting point is valid: what the mutants break is theirs
        sender.undo(route)
    failures = []
    count = 0
    for where, value, data in mutants(route):
        response = sender.send(route, data)
        count += 1
        problem = judge(route, where, value, response)
        if problem:
            failures.append(f"{where} = {json.dumps(value)}: {problem}")
        sender.undo(route)
    assert not failures, f"{len(failures)} of {count} mutants of {name}:\n" + "\n".join(failures[:25])
    log.assert_clean()
