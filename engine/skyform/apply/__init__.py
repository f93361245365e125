"""Applying a plan: the walk of the graph, one step per action kind, the journal of intents.

Start at :class:`.scheduler.Scheduler`.
"""
