"""Data files for ConfigMaps, compact: JSON without spaces, gzip-compressed, deterministic.

Per-user data (the hub's users and groups, conda-store's role bindings) grows with the number
of users; a ConfigMap holds at most 1 MiB. Compressed, 10,000 users take a few hundred kB less
than plain JSON would, and the same data always gives the same bytes (no spurious diffs).
"""

from __future__ import annotations

import gzip
import json
from typing import Any

CONFIG_MAP_LIMIT = 1024 * 1024


def pack_json(document: Any, what: str) -> bytes:
    """`document` as gzip-compressed compact JSON; raises when it cannot fit a ConfigMap."""
    text = json.dumps(document, separators=(",", ":"), sort_keys=True)
    # mtime=0: the same data gives the same bytes, so plans show no change when nothing changed.
    data = gzip.compress(text.encode(), compresslevel=9, mtime=0)
    if len(data) > CONFIG_MAP_LIMIT:
        raise ValueError(f"{what} takes {len(data)} bytes compressed, more than a ConfigMap holds ({CONFIG_MAP_LIMIT})")
    return data
