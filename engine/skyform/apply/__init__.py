"""Applying a plan: the walk of the graph, one step per action kind, the journal of intents.

Start at :class:`.scheduler.Scheduler` (the walk: ready set, timers, executor). Then
:mod:`.steps` (how each action kind starts: create, update, replace, delete, resume, poll),
:mod:`.outcomes` (what a call's answer does: record, wait, retry, fail), :mod:`.calls`
(provider calls as values, and :func:`~.calls.perform`), :mod:`.executor` (where calls run:
the seam for other executors), :mod:`.journal` (state rows and events written before the
calls that depend on them), :mod:`.records`, :mod:`.failure`, :mod:`.node` (node states,
steps, outcomes), :mod:`.retry` (backoff) and :mod:`.summary` (what an apply changed).
"""
