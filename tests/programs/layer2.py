"""A Pulumi program with only platform layer II (dask-gateway, conda-store, SSH) on a stand-in cluster.

Lets the layer-II tests plan these components under the offline engine whatever state the rest
of the platform is in; the whole stacks are planned by the stack tests.
"""

import pulumi
import pulumi_kubernetes as k8s

from qhub.cluster import ClusterOutputs
from qhub.config import load_file
from qhub.platform.conda_store import CondaStore, CondaStoreArgs
from qhub.platform.dask_gateway import DaskGateway, DaskGatewayArgs
from qhub.platform.ssh import Ssh, SshArgs
from qhub.values.conda_store import CondaMount

config = load_file(__import__("pathlib").Path(pulumi.Config("qhub").require("configFile"))).config
provider = k8s.Provider("layer2-k8s", context="offline")
groups = config.node_group_names
cluster = ClusterOutputs(
    name="offline", kubeconfig=pulumi.Output.secret(""), k8s_provider=provider,
    node_selectors={g: {"qhub.dev/node-group": g} for g in groups}, storage_class="gp3",
    gpu_node_groups=config.gpu_node_groups,
    ingress_service_annotations={"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"},
)
namespace = k8s.core.v1.Namespace("layer2-namespace", metadata={"name": config.namespace},
                                  opts=pulumi.ResourceOptions(provider=provider))
ns = namespace.metadata.name
conda = CondaStore("layer2-conda-store", config, cluster,
                   CondaStoreArgs(namespace=ns, hub_internal_url=f"http://hub.{config.namespace}:8081"))
gateway = DaskGateway("layer2-dask-gateway", config, cluster, DaskGatewayArgs(
    namespace=ns, hub_api_url=f"http://hub.{config.namespace}:8081/hub/api", conda=CondaMount(),
    depends_on=(conda.environments_claim,)))
ssh = Ssh("layer2-ssh", config, cluster, SshArgs(namespace=ns))
pulumi.export("dask_gateway_address", gateway.address)
pulumi.export("conda_store_url", conda.url)
pulumi.export("ssh_command", ssh.command)
