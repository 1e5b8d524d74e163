"""Security contexts of the containers QHub defines itself: least privilege unless a need is named.

Every pod runs under the container runtime's default seccomp profile. Every container runs as
a non-root user with no privilege escalation and no capabilities; the only exceptions are the
privileged containers that cannot work otherwise (the in-kernel NFS servers), and each says
why where it is defined.
"""

from __future__ import annotations

import pulumi_kubernetes as k8s

RUNTIME_DEFAULT_SECCOMP = k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault")


def pod_security(run_as_user: int | None = None, run_as_group: int | None = None, *,
                 fs_group: int | None = None) -> k8s.core.v1.PodSecurityContextArgs:
    """The pod's defaults: the runtime's seccomp profile and, where given, the image's user."""
    return k8s.core.v1.PodSecurityContextArgs(
        seccomp_profile=RUNTIME_DEFAULT_SECCOMP, run_as_user=run_as_user, run_as_group=run_as_group,
        fs_group=fs_group,
    )


def non_root_container() -> k8s.core.v1.SecurityContextArgs:
    """A container that needs no privilege at all."""
    return k8s.core.v1.SecurityContextArgs(
        run_as_non_root=True,
        allow_privilege_escalation=False,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=RUNTIME_DEFAULT_SECCOMP,
    )


def privileged_container() -> k8s.core.v1.SecurityContextArgs:
    """A container the kernel only serves privileged (the caller says why). Kubernetes refuses
    allowPrivilegeEscalation: false on it, and the runtime applies no seccomp profile to it."""
    return k8s.core.v1.SecurityContextArgs(privileged=True, run_as_user=0)
