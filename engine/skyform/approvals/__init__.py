"""Approvals bound to one plan: ``skyform approve PLANFILE`` records one, ``apply PLANFILE`` uses it.

An approval names exactly one saved plan (its digest), the state serial it was made
against, the plan's cost and its irreversible actions, who approved it and until when;
apply lets the plan through with it once, and fails closed on anything else: another plan
(a re-plan), a state that moved, a cost above the approver's cap, an expiry, a second use.

Approvals live in the state database (table ``approvals``, schema v3), not in a file next
to the plan: "usable once" must be decided where the apply's state is, in one conditional
update that two concurrent applies cannot both win, and a PostgreSQL state shares them
with every machine of a team. A file could be copied or restored after its use. (GitOps
approvals are files committed with the change by design: a pull-request review is the
approval, and the state serial they name moves with the apply, so they cannot be reused.)

Modules: :mod:`.binding` (the plan's digest, recording and checking an approval),
:mod:`.gitops_file` (the ``approvals/<mission>.json`` of a repository).
"""
