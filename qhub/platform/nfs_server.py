"""The in-cluster NFS server container, shared by the shared drive and conda-store's store.

Used where the cloud gives no managed NFS. The image is OpenEBS's NFSv4 server (what its
dynamic NFS provisioner runs), not the registry.k8s.io `volume-nfs:0.8` image many charts
still name: that one is in the deprecated image-manifest v1 format, which current container
runtimes refuse to pull (nebari#2873).
"""

from __future__ import annotations

import pulumi_kubernetes as k8s

from qhub import versions
from qhub.platform.security import privileged_container

# NFSv4 needs only its own port: no rpcbind or mountd, so the Service exposes one port.
NFS_PORTS = {"nfs": 2049}
EXPORT_PATH = "/exports"


def nfs_server_container(data_volume: str, sub_path: str | None = None) -> k8s.core.v1.ContainerArgs:
    """A container exporting `data_volume` (or its `sub_path`) as the NFSv4 root `/`."""
    return k8s.core.v1.ContainerArgs(
        name="nfs-server",
        image=versions.NFS_SERVER_IMAGE,
        env=[k8s.core.v1.EnvVarArgs(name="SHARED_DIRECTORY", value=EXPORT_PATH)],
        ports=[k8s.core.v1.ContainerPortArgs(name=name, container_port=port) for name, port in NFS_PORTS.items()],
        # The image starts the kernel's NFS server (rpc.nfsd, exportfs), which needs the host's
        # privileges: there is no capability set that serves NFS from a container.
        security_context=privileged_container(),
        # Liveness: the NFS port answers (the kernel server keeps no process to probe).
        liveness_probe=k8s.core.v1.ProbeArgs(tcp_socket=k8s.core.v1.TCPSocketActionArgs(port=NFS_PORTS["nfs"]),
                                             initial_delay_seconds=30, period_seconds=30),
        readiness_probe=k8s.core.v1.ProbeArgs(tcp_socket=k8s.core.v1.TCPSocketActionArgs(port=NFS_PORTS["nfs"]),
                                              period_seconds=10),
        resources=k8s.core.v1.ResourceRequirementsArgs(requests={"cpu": "100m", "memory": "256Mi"}, limits={"memory": "1Gi"}),
        volume_mounts=[k8s.core.v1.VolumeMountArgs(name=data_volume, mount_path=EXPORT_PATH, sub_path=sub_path)],
    )


def nfs_service_ports() -> list[k8s.core.v1.ServicePortArgs]:
    """The Service ports in front of an NFS server container."""
    return [k8s.core.v1.ServicePortArgs(name=name, port=port, target_port=port) for name, port in NFS_PORTS.items()]
