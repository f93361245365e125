"""Validation: every problem of a mission at once, each pointing at ``file:line:col``.

Start at :func:`.checks.validate_mission`. :mod:`.scope` is what expressions resolve
against and which resources a spec refers to (shared with the graph, planning and apply);
:mod:`.expression_types`, :mod:`.lifecycle_fields` and :mod:`.schema_paths` check what the
schema check cannot see before apply.
"""
