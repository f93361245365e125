"""Planning: refresh what state knows, diff desired against recorded, the Plan artifact.

Start at :class:`.planner.Planner`. :mod:`.refresh` reads the recorded resources,
:mod:`.planner` decides one action per resource, :mod:`.model` is the serialisable
:class:`~.model.Plan` (action kinds, plan symbols, changes), :mod:`.file` tells a saved plan
from a mission, :mod:`.targeting` is ``--target``/``--exclude`` and :mod:`.budget` flags
estimates above ``lifecycle.max_cost``, :mod:`.schema` is the documented JSON Schema of a
plan (``schemas/plan.schema.json``). Nothing here acts on the world: :mod:`skyform.apply`
does.
"""
