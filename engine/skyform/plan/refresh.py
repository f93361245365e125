"""Refresh: observe what the state records, before the plan decides anything.

Every recorded resource is read (or, for an interrupted create, looked for by its
idempotency key) concurrently: per provider, a bounded pool of at most the run's
``parallelism`` and the provider's own ``Provider.parallelism`` workers, over chunks of
resources. Errors become :class:`Observation` s (gone, refused credentials, transient,
other), never exceptions, so the planner decides what each means.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..errors import AdoptError, AuthError, NotFound, RemoteError, SkyformError, TransientError
from ..providers.base import DEFAULT_PARALLELISM, Result
from ..retrying import with_retries
from ..runtime import Runtime
from ..state.base import ResourceState
from ..state.records import to_record

log = logging.getLogger("skyform.plan")


@dataclass
class Observation:
    """What refresh saw of one recorded resource."""

    result: Result | None = None  # None with gone=True: the remote object no longer exists
    gone: bool = False
    adopted: Result | None = None
    adopt_error: str | None = None
    error: str | None = None
    fatal: bool = False  # credentials refused: nothing of this provider can be planned
    transient: bool = False  # the service kept failing for now: plan from the recorded state


def refresh(
    runtime: Runtime, records: Mapping[str, ResourceState], parallelism: int = DEFAULT_PARALLELISM
) -> dict[str, Observation]:
    """Observe every recorded resource (read, or adopt for interrupted creates): per provider, a
    bounded pool of at most ``parallelism`` (and the provider's own cap) workers over chunks."""

    def observe(rs: ResourceState) -> Observation:
        try:
            _, kind = runtime.kind(rs.type)
        except SkyformError:
            return Observation()  # provider not installed: the plan blocks its delete with a hint
        record = to_record(rs)
        try:
            ctx = runtime.context(rs.address, rs.type, idempotency_key=rs.idempotency_key, intent_at=rs.intent_at)
            if rs.status == "creating" or (rs.remote_id is None and rs.status != "ready"):
                try:
                    found = with_retries(lambda: kind.adopt(record.spec, ctx))
                except AdoptError as exc:  # the hint is the user's next step: keep it in the plan
                    return Observation(adopt_error=f"{exc} ({exc.hint})" if exc.hint else str(exc))
                return Observation(adopted=found)
            result = with_retries(lambda: kind.read(record, ctx))
        except NotFound:
            return Observation(gone=True)
        except AuthError as exc:
            return Observation(error=str(exc), fatal=True)
        except TransientError as exc:
            return Observation(error=str(exc), transient=True)
        except RemoteError as exc:
            return Observation(error=str(exc))
        except Exception as exc:  # a provider bug or an answer it did not expect
            log.debug("reading %s failed", rs.address, exc_info=True)
            return Observation(
                error=f"{rs.type} failed unexpectedly: {type(exc).__name__}: {exc} "
                "(a provider bug or an unexpected answer; -vv shows the traceback)"
            )
        return Observation(result=result, gone=result is None)

    def observe_chunk(chunk: list[ResourceState]) -> list[tuple[str, Observation]]:
        return [(rs.address, observe(rs)) for rs in chunk]

    seen: dict[str, Observation] = {}
    for provider, items in _by_provider(records).items():
        limit = runtime.registry.providers[provider].parallelism if provider in runtime.registry.providers else None
        workers = max(1, min(parallelism, limit or parallelism, len(items)))
        if workers == 1:
            seen.update(observe_chunk(items))
            continue
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"refresh-{provider}") as pool:
            for observed in pool.map(observe_chunk, refresh_chunks(items, workers)):
                seen.update(observed)
    return {address: seen[address] for address in records}  # the records' order, whatever the grouping


def _by_provider(records: Mapping[str, ResourceState]) -> dict[str, list[ResourceState]]:
    """Records grouped by provider: each provider's reads run under its own parallelism cap."""
    groups: dict[str, list[ResourceState]] = {}
    for rs in records.values():
        groups.setdefault(rs.type.partition(".")[0], []).append(rs)
    return groups


REFRESH_CHUNK_MAX = 64


def refresh_chunks(items: list[ResourceState], workers: int) -> list[list[ResourceState]]:
    """``items`` cut into chunks for ``workers`` threads: about four per worker (so a slow
    chunk does not hold the others up) and at most REFRESH_CHUNK_MAX resources each.

    One future per resource made 10,000 submissions contend on the pool's one lock and
    churn the garbage collector; a chunk is one future and one result list.
    """
    size = max(1, min(REFRESH_CHUNK_MAX, -(-len(items) // (workers * 4))))
    return [items[i : i + size] for i in range(0, len(items), size)]
