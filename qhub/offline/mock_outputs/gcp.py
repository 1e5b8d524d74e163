"""Mock answers of the Google Cloud provider: resource ids, GKE endpoint and CA, invokes.

Ids follow GCP's relative resource names (projects/P/locations/L/clusters/C, ...). The project
and region are those the stack's `pulumi:providers:gcp` was given (it registers first).
"""

from __future__ import annotations

import base64
from typing import Any

from qhub.offline.mocks import fake_id

_state = {"project": "offline-project", "region": "us-central1"}
# Zones per region as GCP lists them; other regions get a, b, c.
_ZONES = {"us-central1": ("a", "b", "c", "f"), "europe-west1": ("b", "c", "d"), "us-east1": ("b", "c", "d")}


def _project(inputs: dict[str, Any]) -> str:
    return str(inputs.get("project") or _state["project"])


def _provider(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    _state["project"] = str(inputs.get("project") or _state["project"])
    _state["region"] = str(inputs.get("region") or _state["region"])
    return {}


def _ip(name: str, first: int) -> str:
    number = int(fake_id(name, 4), 16)
    return f"{first}.{number >> 8 & 0xFF}.{number & 0xFF}.{number % 250 + 2}"


def _certificate(name: str) -> str:
    pem = f"-----BEGIN CERTIFICATE-----\nMIIC{fake_id(name, 60)}\n-----END CERTIFICATE-----\n"
    return base64.b64encode(pem.encode()).decode()


def _self_link(path: str) -> str:
    return f"https://www.googleapis.com/compute/v1/{path}"


def _network(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    path = f"projects/{_project(inputs)}/global/networks/{inputs.get('name') or name}"
    return {"__id": path, "selfLink": _self_link(path), "numericId": str(int(fake_id(name, 12), 16))}


def _subnetwork(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    region = inputs.get("region") or _state["region"]
    path = f"projects/{_project(inputs)}/regions/{region}/subnetworks/{inputs.get('name') or name}"
    cidr = str(inputs.get("ipCidrRange", "10.10.0.0/20"))
    gateway = cidr.split("/")[0].rsplit(".", 1)[0] + ".1"
    return {"__id": path, "selfLink": _self_link(path), "gatewayAddress": gateway, "region": region}


def _regional(kind: str) -> Any:
    def outputs(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        region = inputs.get("region") or _state["region"]
        path = f"projects/{_project(inputs)}/regions/{region}/{kind}/{inputs.get('name') or name}"
        return {"__id": path, "region": region}
    return outputs


def _cluster(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    location = inputs.get("location") or _state["region"]
    cluster = inputs.get("name") or name
    version = str(inputs.get("minMasterVersion") or "1.35.4-gke.1100000")
    return {
        "__id": f"projects/{_project(inputs)}/locations/{location}/clusters/{cluster}",
        "endpoint": _ip(name, 34),
        "masterAuth": {"clusterCaCertificate": _certificate(name), "clientCertificateConfig": {"issueClientCertificate": False}},
        "masterVersion": version,
        "selfLink": f"https://container.googleapis.com/v1/projects/{_project(inputs)}/locations/{location}/clusters/{cluster}",
        "servicesIpv4Cidr": "10.20.0.0/20",
        "labelFingerprint": fake_id(name, 8),
    }


def _node_pool(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    location = inputs.get("location") or _state["region"]
    pool = inputs.get("name") or name
    group = f"gke-{inputs.get('cluster', 'cluster')}-{pool}-{fake_id(name, 8)}-grp"
    zone = location if location.count("-") == 2 else f"{location}-a"
    return {
        "__id": f"projects/{_project(inputs)}/locations/{location}/clusters/{inputs.get('cluster')}/nodePools/{pool}",
        "instanceGroupUrls": [_self_link(f"projects/{_project(inputs)}/zones/{zone}/instanceGroupManagers/{group}")],
        "operation": "",
    }


def _service_account(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    email = f"{inputs['accountId']}@{_project(inputs)}.iam.gserviceaccount.com"
    return {
        "__id": f"projects/{_project(inputs)}/serviceAccounts/{email}",
        "email": email, "member": f"serviceAccount:{email}",
        "name": f"projects/{_project(inputs)}/serviceAccounts/{email}",
        "uniqueId": str(int(fake_id(name, 14), 16)),
    }


def _iam_member(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"etag": "BwY" + fake_id(name, 9)}


def _repository(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    path = f"projects/{_project(inputs)}/locations/{inputs.get('location')}/repositories/{inputs.get('repositoryId')}"
    return {"__id": path, "name": path, "createTime": "2026-11-22T10:00:00Z"}


def _address(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    region = inputs.get("region") or _state["region"]
    path = f"projects/{_project(inputs)}/regions/{region}/addresses/{inputs.get('name') or name}"
    return {"__id": path, "selfLink": _self_link(path), "address": _ip(name, 35), "region": region,
            "addressType": inputs.get("addressType", "EXTERNAL"), "users": []}


def _record_set(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"__id": f"projects/{_project(inputs)}/managedZones/{inputs['managedZone']}/rrsets/{inputs['name']}/{inputs['type']}"}


def _disk(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    zone = inputs.get("zone") or f"{_state['region']}-a"
    path = f"projects/{_project(inputs)}/zones/{zone}/disks/{inputs.get('name') or name}"
    return {"__id": path, "selfLink": _self_link(path), "zone": zone, "diskId": str(int(fake_id(name, 12), 16)),
            "labelFingerprint": fake_id(name, 8), "creationTimestamp": "2026-11-22T10:00:00.000-08:00"}


def _resource_policy(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    region = inputs.get("region") or _state["region"]
    # Without a `name` input the provider auto-names it: the logical name and a random suffix.
    policy = inputs.get("name") or f"{name}-{fake_id(name, 7)}"
    path = f"projects/{_project(inputs)}/regions/{region}/resourcePolicies/{policy}"
    return {"__id": path, "name": policy, "selfLink": _self_link(path), "region": region}


def _disk_policy_attachment(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"__id": f"{_project(inputs)}/{inputs.get('zone')}/{inputs.get('disk')}/{inputs.get('name')}"}


def _project_number(inputs: dict[str, Any]) -> str:
    return str(int(fake_id(_project(inputs), 11), 16) % 10**12)


def _identity_pool(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    # Workload identity names carry the project's number, not its id.
    path = f"projects/{_project_number(inputs)}/locations/global/workloadIdentityPools/{inputs['workloadIdentityPoolId']}"
    return {"__id": path, "name": path, "state": "ACTIVE"}


def _identity_pool_provider(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    path = (f"projects/{_project_number(inputs)}/locations/global/workloadIdentityPools/"
            f"{inputs['workloadIdentityPoolId']}/providers/{inputs['workloadIdentityPoolProviderId']}")
    return {"__id": path, "name": path, "state": "ACTIVE"}


def _engine_versions(args: dict[str, Any]) -> dict[str, Any]:
    """GKE's builds of the asked-for minor: the newest patch first, as the API orders them."""
    prefix = str(args.get("versionPrefix") or "1.35.")
    builds = [f"{prefix}{patch}-gke.{build}" for patch, build in ((4, 1100000), (3, 1420000), (2, 1062000))]
    return {
        "id": args.get("location", ""), "location": args.get("location"), "project": args.get("project", _state["project"]),
        "latestMasterVersion": builds[0], "latestNodeVersion": builds[0], "defaultClusterVersion": builds[1],
        "validMasterVersions": builds, "validNodeVersions": builds,
        "releaseChannelDefaultVersion": {"REGULAR": builds[1], "STABLE": builds[2]},
        "releaseChannelLatestVersion": {"REGULAR": builds[0], "STABLE": builds[1]},
    }


def _zones(args: dict[str, Any]) -> dict[str, Any]:
    region = str(args.get("region") or _state["region"])
    names = [f"{region}-{letter}" for letter in _ZONES.get(region, ("a", "b", "c"))]
    return {"id": f"projects/{args.get('project', _state['project'])}/regions/{region}", "names": names,
            "project": args.get("project", _state["project"]), "region": region}


RESOURCES = {
    "pulumi:providers:gcp": _provider,
    "gcp:compute/network:Network": _network,
    "gcp:compute/subnetwork:Subnetwork": _subnetwork,
    "gcp:compute/router:Router": _regional("routers"),
    "gcp:compute/routerNat:RouterNat": lambda name, inputs: {"__id": f"{_project(inputs)}/{inputs.get('region')}/{inputs.get('router')}/{inputs.get('name')}"},
    "gcp:container/cluster:Cluster": _cluster,
    "gcp:compute/disk:Disk": _disk,
    "gcp:compute/resourcePolicy:ResourcePolicy": _resource_policy,
    "gcp:compute/diskResourcePolicyAttachment:DiskResourcePolicyAttachment": _disk_policy_attachment,
    "gcp:container/nodePool:NodePool": _node_pool,
    "gcp:serviceaccount/account:Account": _service_account,
    "gcp:projects/iAMMember:IAMMember": _iam_member,
    "gcp:projects/service:Service": lambda name, inputs: {"__id": f"{_project(inputs)}/{inputs.get('service')}"},
    "gcp:artifactregistry/repository:Repository": _repository,
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": _iam_member,
    "gcp:iam/workloadIdentityPool:WorkloadIdentityPool": _identity_pool,
    "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider": _identity_pool_provider,
    "gcp:serviceaccount/iAMMember:IAMMember": _iam_member,
    "gcp:compute/address:Address": _address,
    "gcp:dns/recordSet:RecordSet": _record_set,
}
CALLS = {
    "gcp:container/getEngineVersions:getEngineVersions": _engine_versions,
    "gcp:compute/getZones:getZones": _zones,
}
