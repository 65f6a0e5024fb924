"""Coroutines run from a test, whatever earlier tests of the session left behind."""
from __future__ import annotations

import asyncio
import concurrent.futures


def run_async(coroutine):
    """asyncio.run in a thread of its own: earlier tests of the same session (the browser tier's
    Playwright sync API) can leave an event loop running in the main thread, where asyncio.run
    refuses ("cannot be called from a running event loop")."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
