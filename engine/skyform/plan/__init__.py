"""Planning: refresh what state knows, diff desired against recorded, the Plan artifact.

:mod:`.planner` reads and decides; :mod:`.model` is the serialisable :class:`~.model.Plan`
of :class:`~.model.Action` s. Nothing here acts on the world: :mod:`skyform.apply` does.
"""
