"""Mock answers of the Cloudflare provider: zones found by name, DNS records with their ids.

Ids are 32 hexadecimal characters, as Cloudflare's API gives them.
"""

from __future__ import annotations

from typing import Any

from qhub.offline.mocks import fake_id

ACCOUNT = fake_id("account", 32)


def _zone(args: dict[str, Any]) -> dict[str, Any]:
    """get_zone by filter: the active zone of that name."""
    name = str((args.get("filter") or {}).get("name") or "example.org")
    zone_id = fake_id(name, 32)
    return {"id": zone_id, "name": name, "status": "active", "type": "full", "paused": False,
            "account": {"id": ACCOUNT, "name": "offline"}, "nameServers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
            "filter": args.get("filter")}


def _dns_record(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"__id": fake_id(name, 32), "createdOn": "2026-11-23T10:00:00Z", "modifiedOn": "2026-11-23T10:00:00Z",
            "proxiable": True}


RESOURCES = {
    "cloudflare:index/dnsRecord:DnsRecord": _dns_record,
}
CALLS = {
    "cloudflare:index/getZone:getZone": _zone,
}
