"""A recorded resource as providers see it, and the lifecycle options the state keeps.

Planning and apply both hand recorded resources to provider operations, and both read the
lifecycle options the state keeps for a resource (they still decide on its delete after
its spec is gone), so these live with the state rather than in either of them.
"""

from __future__ import annotations

from ..providers.base import Record
from ..spec.values import from_storable
from .base import ResourceState

#: The key of ``ResourceState.private`` under which the engine keeps lifecycle options.
LIFECYCLE_KEY = "skyform.lifecycle"


def to_record(rs: ResourceState) -> Record:
    """The provider's read-only view of a recorded resource (secrets stay digests)."""
    return Record(
        address=rs.address,
        type=rs.type,
        remote_id=rs.remote_id,
        status=rs.status,
        spec=from_storable(rs.spec),
        outputs=rs.outputs,
        observed=rs.observed,
        private=rs.private,
        idempotency_key=rs.idempotency_key,
        intent_at=rs.intent_at,
    )
