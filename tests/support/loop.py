"""Running a coroutine from synchronous test code."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a private loop: asyncio.run would unset the thread's loop, which the
    Pulumi engine of later tests in this process relies on. Tasks the coroutine left behind
    (KubeSpawner's client closer) are cancelled and awaited, as asyncio.run does, so none is
    destroyed pending."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:  # gather() of nothing would make its future on the thread's loop, not this one
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
