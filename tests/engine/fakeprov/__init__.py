"""A provider for the engine's tests: a controllable remote service behind a real simulator.

``fake.Thing`` is created at once; ``fake.Job`` runs for ``duration`` simulated seconds.
Specs steer behaviour: ``fail: true`` makes the remote job fail, ``stuck: true`` never
finishes, ``create_error: 400`` makes the create request fail permanently. Request faults
(429, 503, dropped connections) come from the simulator's fault rules. Register it with
``SKYFORM_PLUGIN_MODULES=fakeprov.plugin`` (with tests/engine on PYTHONPATH).
"""
