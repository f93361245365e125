"""Sandbox: local simulators of the services' documented HTTP APIs, with time and faults."""
