"""Mock answers of the Azure Native provider: ARM resource ids, AKS identities and credentials.

Subscription 00000000-0000-4000-8000-000000000001 unless the stack's provider names one; the
AKS user kubeconfig comes base64-encoded from listManagedClusterUserCredentials, as ARM returns it.
"""

from __future__ import annotations

import base64
from typing import Any

from qhub.offline.mocks import fake_id

TENANT = "00000000-0000-4000-8000-0000000000aa"
_state = {"subscription": "00000000-0000-4000-8000-000000000001", "location": "eastus"}


def _guid(name: str) -> str:
    h = fake_id(name, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:]}"


def _group_id(group: str) -> str:
    return f"/subscriptions/{_state['subscription']}/resourceGroups/{group}"


def _provider(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    _state["subscription"] = str(inputs.get("subscriptionId") or _state["subscription"])
    _state["location"] = str(inputs.get("location") or _state["location"])
    return {}


def _resource_group(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    group = str(inputs.get("resourceGroupName") or name)
    return {"__id": _group_id(group), "name": group, "type": "Microsoft.Resources/resourceGroups",
            "provisioningState": "Succeeded"}


def _vnet(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    vnet = str(inputs.get("virtualNetworkName") or name)
    return {"__id": f"{_group_id(inputs['resourceGroupName'])}/providers/Microsoft.Network/virtualNetworks/{vnet}",
            "name": vnet, "etag": f'W/"{_guid(name)}"', "resourceGuid": _guid(name + "guid"),
            "type": "Microsoft.Network/virtualNetworks"}


def _subnet(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    subnet = str(inputs.get("subnetName") or name)
    vnet_id = f"{_group_id(inputs['resourceGroupName'])}/providers/Microsoft.Network/virtualNetworks/{inputs['virtualNetworkName']}"
    return {"__id": f"{vnet_id}/subnets/{subnet}", "name": subnet, "etag": f'W/"{_guid(name)}"',
            "type": "Microsoft.Network/virtualNetworks/subnets"}


def _managed_cluster(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    cluster = str(inputs.get("resourceName") or name)
    location = str(inputs.get("location") or _state["location"])
    node_group = str(inputs.get("nodeResourceGroup") or f"MC_{inputs['resourceGroupName']}_{cluster}_{location}")
    kubelet = f"{cluster}-agentpool"
    return {
        "__id": f"{_group_id(inputs['resourceGroupName'])}/providers/Microsoft.ContainerService/managedClusters/{cluster}",
        "name": cluster,
        "fqdn": f"{inputs.get('dnsPrefix', cluster)}-{fake_id(name, 8)}.hcp.{location}.azmk8s.io",
        "azurePortalFQDN": f"{inputs.get('dnsPrefix', cluster)}-{fake_id(name, 8)}.portal.hcp.{location}.azmk8s.io",
        "currentKubernetesVersion": f"{inputs.get('kubernetesVersion', '1.35')}.2" if str(inputs.get("kubernetesVersion", "1.35")).count(".") == 1 else inputs.get("kubernetesVersion"),
        "identity": {"type": "SystemAssigned", "principalId": _guid(name + "principal"), "tenantId": TENANT},
        "identityProfile": {"kubeletidentity": {
            "clientId": _guid(name + "kubelet-client"), "objectId": _guid(name + "kubelet-object"),
            "resourceId": f"{_group_id(node_group)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{kubelet}",
        }},
        "nodeResourceGroup": node_group,
        "oidcIssuerProfile": {"enabled": True, "issuerURL": f"https://{location}.oic.prod-aks.azure.com/{TENANT}/{_guid(name + 'oidc')}/"},
        "provisioningState": "Succeeded",
        "powerState": {"code": "Running"},
        "maxAgentPools": 100,
    }


def _agent_pool(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    cluster_id = f"{_group_id(inputs['resourceGroupName'])}/providers/Microsoft.ContainerService/managedClusters/{inputs['resourceName']}"
    return {"__id": f"{cluster_id}/agentPools/{inputs['agentPoolName']}", "name": inputs["agentPoolName"],
            "provisioningState": "Succeeded", "currentOrchestratorVersion": inputs.get("orchestratorVersion")}


def _registry(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    registry = str(inputs.get("registryName") or name)
    return {"__id": f"{_group_id(inputs['resourceGroupName'])}/providers/Microsoft.ContainerRegistry/registries/{registry}",
            "name": registry, "loginServer": f"{registry}.azurecr.io", "provisioningState": "Succeeded",
            "creationDate": "2026-11-22T10:00:00Z"}


def _user_assigned_identity(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    identity = str(inputs.get("resourceName") or name)
    return {"__id": f"{_group_id(inputs['resourceGroupName'])}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{identity}",
            "name": identity, "type": "Microsoft.ManagedIdentity/userAssignedIdentities", "tenantId": TENANT,
            "clientId": _guid(name + "client"), "principalId": _guid(name + "principal")}


def _federated_credential(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    credential = str(inputs.get("federatedIdentityCredentialResourceName") or name)
    identity = f"{_group_id(inputs['resourceGroupName'])}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{inputs['resourceName']}"
    return {"__id": f"{identity}/federatedIdentityCredentials/{credential}", "name": credential,
            "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"}


def _role_assignment(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    assignment = str(inputs.get("roleAssignmentName") or _guid(name))
    return {"__id": f"{inputs.get('scope')}/providers/Microsoft.Authorization/roleAssignments/{assignment}",
            "name": assignment, "type": "Microsoft.Authorization/roleAssignments"}


PUBLIC_IPS: dict[str, str] = {}
"""Address of each public IP by name: what a Service naming one (`azure-pip-name`) gets."""


def _public_ip(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    ip_name = str(inputs.get("publicIpAddressName") or name)
    number = int(fake_id(name, 4), 16)
    PUBLIC_IPS[ip_name] = f"20.{number >> 8 & 0x7F}.{number & 0xFF}.{number % 250 + 2}"
    return {"__id": f"{_group_id(inputs['resourceGroupName'])}/providers/Microsoft.Network/publicIPAddresses/{ip_name}",
            "name": ip_name, "ipAddress": PUBLIC_IPS[ip_name],
            "etag": f'W/"{_guid(name)}"', "provisioningState": "Succeeded", "resourceGuid": _guid(name + "guid"),
            "type": "Microsoft.Network/publicIPAddresses"}


def _dns_record_set(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    relative = str(inputs.get("relativeRecordSetName") or "@")
    zone = inputs["zoneName"]
    return {"__id": f"{_group_id(inputs['resourceGroupName'])}/providers/Microsoft.Network/dnszones/{zone}/{inputs['recordType']}/{relative}",
            "name": relative, "fqdn": f"{zone}." if relative == "@" else f"{relative}.{zone}.", "etag": _guid(name),
            "provisioningState": "Succeeded", "type": f"Microsoft.Network/dnszones/{inputs['recordType']}"}


def _disk(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    disk = str(inputs.get("diskName") or name)
    return {"__id": f"{_group_id(inputs['resourceGroupName'])}/providers/Microsoft.Compute/disks/{disk}",
            "name": disk, "type": "Microsoft.Compute/disks", "diskState": "Unattached", "provisioningState": "Succeeded",
            "uniqueId": _guid(name), "timeCreated": "2026-11-22T10:00:00Z"}


def _backup_vault(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    vault = str(inputs.get("vaultName") or name)
    return {"__id": f"{_group_id(inputs['resourceGroupName'])}/providers/Microsoft.DataProtection/backupVaults/{vault}",
            "name": vault, "type": "Microsoft.DataProtection/backupVaults",
            "identity": {**(inputs.get("identity") or {}), "principalId": _guid(name + "identity"), "tenantId": TENANT}}


def _vault_child(kind: str, key: str) -> Any:
    def outputs(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        child = str(inputs.get(key) or name)
        vault = f"{_group_id(inputs['resourceGroupName'])}/providers/Microsoft.DataProtection/backupVaults/{inputs['vaultName']}"
        return {"__id": f"{vault}/{kind}/{child}", "name": child, "type": f"Microsoft.DataProtection/backupVaults/{kind}"}
    return outputs


def _user_credentials(args: dict[str, Any]) -> dict[str, Any]:
    cluster = str(args.get("resourceName"))
    server = f"https://{cluster}-{fake_id(cluster, 8)}.hcp.{_state['location']}.azmk8s.io:443"
    ca = base64.b64encode(f"-----BEGIN CERTIFICATE-----\nMIIE{fake_id(cluster, 60)}\n-----END CERTIFICATE-----\n".encode()).decode()
    document = (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- cluster:\n    certificate-authority-data: {ca}\n    server: {server}\n  name: {cluster}\n"
        f"contexts:\n- context:\n    cluster: {cluster}\n    user: clusterUser_{args.get('resourceGroupName')}_{cluster}\n  name: {cluster}\n"
        f"current-context: {cluster}\n"
        f"users:\n- name: clusterUser_{args.get('resourceGroupName')}_{cluster}\n  user:\n    token: {fake_id(cluster + 'token', 64)}\n"
    )
    return {"kubeconfigs": [{"name": "clusterUser", "value": base64.b64encode(document.encode()).decode()}]}


def _client_config(args: dict[str, Any]) -> dict[str, Any]:
    return {"clientId": _guid("client"), "objectId": _guid("deployer"), "subscriptionId": _state["subscription"], "tenantId": TENANT}


RESOURCES = {
    "pulumi:providers:azure-native": _provider,
    "azure-native:resources:ResourceGroup": _resource_group,
    "azure-native:network:VirtualNetwork": _vnet,
    "azure-native:network:Subnet": _subnet,
    "azure-native:containerservice:ManagedCluster": _managed_cluster,
    "azure-native:containerservice:AgentPool": _agent_pool,
    "azure-native:containerregistry:Registry": _registry,
    "azure-native:authorization:RoleAssignment": _role_assignment,
    "azure-native:managedidentity:UserAssignedIdentity": _user_assigned_identity,
    "azure-native:managedidentity:FederatedIdentityCredential": _federated_credential,
    "azure-native:compute:Disk": _disk,
    "azure-native:dataprotection:BackupVault": _backup_vault,
    "azure-native:dataprotection:BackupPolicy": _vault_child("backupPolicies", "backupPolicyName"),
    "azure-native:dataprotection:BackupInstance": _vault_child("backupInstances", "backupInstanceName"),
    "azure-native:network:PublicIPAddress": _public_ip,
    "azure-native:dns:RecordSet": _dns_record_set,
}
CALLS = {
    "azure-native:containerservice:listManagedClusterUserCredentials": _user_credentials,
    "azure-native:authorization:getClientConfig": _client_config,
}
