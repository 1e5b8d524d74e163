"""Every pod QHub runs, and every dask cluster pod, admits only its clients and reaches only what
it needs, under the plan's NetworkPolicies (QHub's and z2jh's as its chart renders them).

The pods are the plan's own: QHub's Deployments, the rendered charts' Deployments (hub, proxy,
NGINX controller, dask-gateway's API server and proxy), and the scheduler and worker pods the
real dask-gateway controller makes for a cluster of the plan (tests/support/gateway.py). User
servers carry the labels z2jh's own singleuser policy selects them by. Nodes and pods get
addresses of the plan's node and pod networks (the cloud's node subnet or VPC, its pod range);
the allow/deny rules applied are the NetworkPolicy API's (tests/support/network_policy.py).

NFS mounts come from node addresses, which only an ipBlock names, and only on plugins that
match node addresses by CIDR. Where pods take addresses from the nodes' own range (AWS's VPC
CNI), that ipBlock covers pods too; where no ipBlock can name the nodes (DigitalOcean's Cilium)
or the plugin is not known (an existing cluster), the NFS port is open to any address. There a
pod whose own egress is not fenced (another tenant's, say) may reach the NFS port, while user
servers, dask pods, conda-store and SSH may not.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import pytest

from qhub.config import load_file
from qhub.offline.engine import Plan
from qhub.offline.mock_outputs import digitalocean as do_mocks
from qhub.platform.network_policies import CONDA_STORE_ACCESS_LABEL
from qhub.values.image_puller import APP_LABEL as PULLER_APP
from qhub.values import conda_store as conda_values
from tests.conftest import all_plans, plan_sources
from tests.support.container import plan_objects
from tests.support.gateway import GatewayRuns
from tests.support.helm import stack_kubernetes_version
from tests.support.network_policy import Endpoint, allowed, isolated, pod

PLANS = all_plans()
SOURCES = plan_sources()
INTERNET = Endpoint("somewhere on the internet", "203.0.113.7")
METADATA = Endpoint("cloud metadata server", "169.254.169.254")
PRIVATE = Endpoint("a private address (API server, VM, database)", "10.20.30.40")
NFS, HTTP, HTTPS = 2049, conda_values.SERVER_PORT, 443


@dataclass
class Cluster:
    """The pods and policies of one plan, by role."""

    namespace: str
    provider: str
    policies: list[dict[str, Any]]
    pods: dict[str, Endpoint]
    nodes: list[Endpoint]

    def __getitem__(self, role: str) -> Endpoint:
        return self.pods[role]

    def can(self, source: str | Endpoint, destination: str | Endpoint, port: int, protocol: str = "TCP") -> bool:
        src = self.pods[source] if isinstance(source, str) else source
        dst = self.pods[destination] if isinstance(destination, str) else destination
        return allowed(self.policies, src, dst, port, protocol)


def _node_ranges(plan: Plan) -> list[str]:
    """Where the plan's nodes get their addresses: the cloud's node network, as planned."""
    # AWS: the VPC (nodes are in its private subnets; NAT and load balancers in the others).
    ranges = [r.inputs["cidrBlock"] for r in plan.of_type("aws:ec2/vpc:Vpc")]
    ranges += [r.inputs["ipCidrRange"] for r in plan.of_type("gcp:compute/subnetwork:Subnetwork")]
    ranges += [r.inputs["addressPrefix"] for r in plan.of_type("azure-native:network:Subnet")]
    # An unset DigitalOcean VPC range is DigitalOcean's pick: the offline engine's answer.
    ranges += [r.inputs.get("ipRange") or do_mocks._vpc(r.name, {})["ipRange"] for r in plan.of_type("digitalocean:index/vpc:Vpc")]
    # An existing cluster's nodes may be anywhere private.
    return ranges or ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]


def _pod_range(plan: Plan) -> str:
    """Where the plan's pods get their addresses."""
    for subnet in plan.of_type("aws:ec2/subnet:Subnet"):
        if "-private-" in subnet.name:
            return str(subnet.inputs["cidrBlock"])  # the VPC CNI: pods share the nodes' subnets
    for subnet in plan.of_type("gcp:compute/subnetwork:Subnetwork"):
        return next(r["ipCidrRange"] for r in subnet.inputs["secondaryIpRanges"] if r["rangeName"] == "pods")
    for aks in plan.of_type("azure-native:containerservice:ManagedCluster"):
        return str(aks.inputs["networkProfile"]["podCidr"])
    # DOKS's default cluster subnet; for an existing cluster, a common CNI default.
    return "10.244.0.0/16"


def _deployment(objects: list[dict[str, Any]], namespace: str, **labels: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == "Deployment" and o["metadata"].get("namespace") == namespace
                and all(o["spec"]["template"]["metadata"].get("labels", {}).get(k) == v for k, v in labels.items())]
    return found["spec"]["template"]


_CLUSTERS: dict[str, Cluster] = {}


def cluster_of(label: str, gateway_runs: GatewayRuns) -> Cluster:
    if label in _CLUSTERS:
        return _CLUSTERS[label]
    plan = PLANS[label]()
    config = load_file(SOURCES[label]).config
    ns = config.namespace
    objects = plan_objects(plan, stack_kubernetes_version(config))
    pod_network = ipaddress.ip_network(_pod_range(plan))
    addresses = (str(pod_network[index]) for index in range(10, 1000))

    def make(role: str, namespace: str, **labels: str) -> Endpoint:
        return pod(role, next(addresses), namespace, _deployment(objects, namespace, **labels))

    pods = {
        "hub": make("hub", ns, component="hub", app="jupyterhub"),
        "proxy": make("proxy", ns, component="proxy", app="jupyterhub"),
        "ingress-controller": make("ingress-controller", ns, **{"app.kubernetes.io/name": "nginx-ingress"}),
        "gateway-api": make("gateway-api", ns, **{"app.kubernetes.io/name": "dask-gateway", "app.kubernetes.io/component": "gateway"}),
        "gateway-proxy": make("gateway-proxy", ns, **{"app.kubernetes.io/name": "dask-gateway", "app.kubernetes.io/component": "traefik"}),
        "conda-store": make("conda-store", ns, **{"app.kubernetes.io/name": "conda-store"}),
        "ssh": make("ssh", ns, **{"app.kubernetes.io/name": "jupyterhub-ssh"}),
        "kube-dns": Endpoint("kube-dns", next(addresses), "kube-system", {"k8s-app": "kube-dns"}, {"dns": 53}),
        "other-namespace": Endpoint("a pod of another tenant", next(addresses), "other-team", {"app": "anything"}),
        "plain-pod": Endpoint("an unlabelled pod of the namespace", next(addresses), ns, {"app": "anything"}),
        "metrics-reader": Endpoint("Prometheus (labelled)", next(addresses), ns, {CONDA_STORE_ACCESS_LABEL: "true"}),
    }
    if any(r.inputs.get("metadata", {}).get("name") == "qhub-nfs-server" for r in plan.of_type("kubernetes:apps/v1:Deployment")):
        pods["nfs-server"] = make("nfs-server", ns, **{"app.kubernetes.io/name": "qhub-nfs-server"})
    # QHub's image pullers (DaemonSets): they need no network at all.
    for puller in (o for o in objects if o["kind"] == "DaemonSet" and o["metadata"].get("namespace") == ns
                   and o["metadata"].get("labels", {}).get("app.kubernetes.io/name") == PULLER_APP):
        role = f"image-puller {puller['metadata']['name']}"
        pods[role] = pod(role, next(addresses), ns, puller["spec"]["template"])
    (singleuser,) = [o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "singleuser"]
    # Plus the chart's default singleuser.extraLabels, which KubeSpawner puts on every user pod.
    user_labels = {**singleuser["spec"]["podSelector"]["matchLabels"], "hub.jupyter.org/network-access-hub": "true"}
    pods["user-server"] = Endpoint("user server", next(addresses), ns, user_labels, {"notebook-port": 8888})
    made = gateway_runs[label].for_request({})
    for role in ("scheduler", "worker"):
        pods[role] = pod(role, next(addresses), ns, made[role])
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    nodes = [Endpoint(f"node in {cidr}", str(ipaddress.ip_network(cidr)[4])) for cidr in _node_ranges(plan)]
    _CLUSTERS[label] = Cluster(ns, config.provider.value, policies, pods, nodes)
    return _CLUSTERS[label]


@pytest.fixture(params=list(PLANS))
def label(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def cluster(label: str, gateway_runs: GatewayRuns) -> Cluster:
    return cluster_of(label, gateway_runs)


def _only(cluster: Cluster, destination: str, port: int, admitted: set[str], protocol: str = "TCP") -> None:
    """`destination`'s port admits exactly the `admitted` pods of the cluster's pods."""
    reach = {role for role in cluster.pods if role != destination and cluster.can(role, destination, port, protocol)}
    assert reach == admitted, f"{destination}:{port} admits {sorted(reach)}, meant for {sorted(admitted)}"


# Clouds whose network plugin QHub knows to match node addresses by ipBlock.
NODES_BY_CIDR = ("aws", "gcp", "azure")


def _nfs_rule_sources(cluster: Cluster, policy_name: str) -> list[str] | None:
    """The CIDRs the policy's NFS rule admits, None for any address."""
    (policy,) = [p for p in cluster.policies if p["metadata"]["name"] == policy_name]
    (rule,) = [r for r in policy["spec"]["ingress"] if any(port.get("port") == NFS for port in r.get("ports", []))]
    return [peer["ipBlock"]["cidr"] for peer in rule["from"]] if "from" in rule else None


def _pods_in_node_ranges(cluster: Cluster, destination: str, port: int) -> set[str]:
    """Pods the NFS rule admits too (see the module's docstring), among those whose own egress
    lets them try: those in the node ranges, or any where the rule cannot name the nodes."""
    policy = "conda-store" if destination == "conda-store" else "qhub-nfs-server"
    if cluster.provider in NODES_BY_CIDR:
        ranges = [ipaddress.ip_network(node.name.removeprefix("node in ")) for node in cluster.nodes]
        assert sorted(_nfs_rule_sources(cluster, policy) or []) == sorted(map(str, ranges))
    else:
        assert _nfs_rule_sources(cluster, policy) is None
        ranges = [ipaddress.ip_network("0.0.0.0/0")]
    address_only = Endpoint("its address", cluster[destination].ip)  # the source's egress alone
    return {role for role, endpoint in cluster.pods.items()
            if role != destination and any(ipaddress.ip_address(endpoint.ip) in r for r in ranges)
            and allowed(cluster.policies, endpoint, address_only, port)}


def test_every_pod_qhub_runs_is_fenced_both_ways(cluster: Cluster) -> None:
    pullers = [role for role in cluster.pods if role.startswith("image-puller ")]
    assert pullers
    for role in ("conda-store", "ssh", "scheduler", "worker", *(["nfs-server"] if "nfs-server" in cluster.pods else []), *pullers):
        assert isolated(cluster.policies, cluster[role], "Ingress"), role
        assert isolated(cluster.policies, cluster[role], "Egress"), role
    for role in pullers:  # nothing in, nothing out: the kubelet pulls, not the pod
        assert not any(cluster.can(other, role, port) or cluster.can(role, other, port)
                       for other in cluster.pods if other != role for port in (53, 80, 443, 8081)), role
        assert not cluster.can(role, INTERNET, 443) and not cluster.can(role, "kube-dns", 53, "UDP"), role


def test_conda_store_admits_the_ingress_controller_and_the_nodes_nfs_mounts(cluster: Cluster) -> None:
    _only(cluster, "conda-store", HTTP, {"ingress-controller", "metrics-reader"})
    assert not cluster.can(INTERNET, "conda-store", HTTP)
    for node in cluster.nodes:
        assert cluster.can(node, "conda-store", NFS), node.name
        assert not cluster.can(node, "conda-store", HTTP), node.name
    assert cluster.can(INTERNET, "conda-store", NFS) == (cluster.provider not in NODES_BY_CIDR)
    _only(cluster, "conda-store", NFS, _pods_in_node_ranges(cluster, "conda-store", NFS))
    # User code (user servers, dask pods) cannot reach the store's NFS export itself.
    for role in ("user-server", "scheduler", "worker", "ssh"):
        assert not cluster.can(role, "conda-store", NFS), role


def test_conda_store_reaches_dns_the_hub_and_the_internet_only(cluster: Cluster) -> None:
    assert cluster.can("conda-store", "kube-dns", 53, "UDP")
    assert cluster.can("conda-store", "hub", 8081)  # and z2jh's hub policy admits it
    assert cluster.can("conda-store", INTERNET, HTTPS)
    for blocked in (PRIVATE, METADATA):
        assert not cluster.can("conda-store", blocked, HTTPS), blocked.name
    for role in ("proxy", "gateway-api", "scheduler", "other-namespace", "plain-pod", *(["nfs-server"] if "nfs-server" in cluster.pods else [])):
        assert not any(cluster.can("conda-store", role, port) for port in (80, 8000, 8786, NFS)), role


def test_the_shared_drive_nfs_server_admits_node_mounts_only(cluster: Cluster) -> None:
    if "nfs-server" not in cluster.pods:
        pytest.skip("the shared drive is the cloud's managed NFS")
    _only(cluster, "nfs-server", NFS, _pods_in_node_ranges(cluster, "nfs-server", NFS))
    for node in cluster.nodes:
        assert cluster.can(node, "nfs-server", NFS), node.name
    # Any address reaches the port only where no ipBlock can name the nodes (the load
    # balancers never route to it: the NFS Services are ClusterIP).
    assert cluster.can(INTERNET, "nfs-server", NFS) == (cluster.provider not in NODES_BY_CIDR)
    for destination in (INTERNET, PRIVATE, cluster["kube-dns"], cluster["hub"]):
        assert not cluster.can("nfs-server", destination, 443) and not cluster.can("nfs-server", destination, 53, "UDP")


def test_ssh_admits_its_port_and_reaches_only_the_hub_and_proxy(cluster: Cluster) -> None:
    ssh = cluster["ssh"]
    assert set(ssh.ports) == {"ssh"}  # no SFTP server (qhub/platform/ssh.py says why)
    assert cluster.can(INTERNET, "ssh", ssh.ports["ssh"])
    for closed in (2222, 8080):
        assert not cluster.can(INTERNET, "ssh", closed), closed
    # Both ends' policies: z2jh's hub and proxy policies admit the ssh pod by its labels.
    assert cluster.can("ssh", "hub", 8081) and cluster.can("ssh", "proxy", 8000)
    assert cluster.can("ssh", "kube-dns", 53, "UDP")
    for destination in (INTERNET, PRIVATE, METADATA, cluster["conda-store"], cluster["user-server"], cluster["worker"]):
        assert not any(cluster.can("ssh", destination, port) for port in (22, 443, 8888, NFS, 8786)), destination.name


def test_dask_pods_admit_the_gateway_and_their_cluster_only(cluster: Cluster) -> None:
    scheduler = cluster["scheduler"]
    _only(cluster, "scheduler", scheduler.ports["scheduler"], {"gateway-proxy", "worker"})
    _only(cluster, "scheduler", scheduler.ports["dashboard"], {"gateway-proxy", "worker"})
    _only(cluster, "scheduler", scheduler.ports["api"], {"gateway-api", "worker"})
    # Workers listen on ports they pick: only their cluster reaches them.
    _only(cluster, "worker", 40123, {"scheduler"})
    assert not cluster.can(INTERNET, "scheduler", scheduler.ports["scheduler"])


def test_dask_pods_reach_no_more_than_user_servers_do(cluster: Cluster) -> None:
    """Egress as strict as z2jh's for user servers: DNS, the gateway, their cluster, the internet."""
    for role in ("scheduler", "worker"):
        assert cluster.can(role, "kube-dns", 53, "UDP") and cluster.can(role, INTERNET, HTTPS), role
        assert cluster.can(role, "gateway-api", 8000), role
    assert cluster.can("worker", "scheduler", cluster["scheduler"].ports["scheduler"])
    assert cluster.can("scheduler", "worker", 40123)
    probes: list[tuple[Endpoint, int]] = [(PRIVATE, 443), (PRIVATE, 6443), (METADATA, 80), (cluster["conda-store"], NFS),
                                          (cluster["conda-store"], HTTP), (cluster["hub"], 8081), (cluster["proxy"], 8000),
                                          (cluster["ssh"], 8022), (cluster["other-namespace"], 80), (cluster["plain-pod"], 80)]
    probes += [(node, port) for node in cluster.nodes for port in (NFS, 10250, 22)]
    if "nfs-server" in cluster.pods:
        probes.append((cluster["nfs-server"], NFS))
    for role in ("scheduler", "worker"):
        for destination, port in probes:
            if cluster.can(role, destination, port):
                # Only where a user server may go too (z2jh lets them reach the hub and proxy).
                assert cluster.can("user-server", destination, port), f"{role} reaches {destination.name}:{port}"
        for destination, port in probes[:5]:
            assert not cluster.can(role, destination, port), f"{role} reaches {destination.name}:{port}"


def test_the_evaluator_reads_z2jhs_policies_as_the_chart_means_them(cluster: Cluster) -> None:
    """The chart's own comments: user servers reach the hub on 8081 and public addresses, never
    private ones; the hub admits only pods labelled network-access-hub."""
    assert cluster.can("user-server", "hub", 8081)
    assert cluster.can("user-server", INTERNET, HTTPS)
    assert not cluster.can("user-server", PRIVATE, HTTPS) and not cluster.can("user-server", METADATA, 80)
    assert cluster.can("proxy", "hub", 8081) and not cluster.can("plain-pod", "hub", 8081)
