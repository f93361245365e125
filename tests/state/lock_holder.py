"""A separate process for the lock tests: ``lock_holder.py URL DIR MISSION MODE [ARG]``.

Modes: ``hold`` takes the lock, prints ``locked`` and sleeps until killed; ``exit`` takes it
and exits at once without releasing; ``race START`` waits until the epoch time START, tries
once and prints ``won`` (holding for a second) or ``lost <message>``; ``writes N`` takes the
lock, records N writes, prints ``done`` and releases.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from skyform.errors import LockHeld
from skyform.state import Event, open_store
from skyform.state.plugin import skyform_state_backends

url, directory, mission, mode, *extra = sys.argv[1:]
store = open_store(url, Path(directory), skyform_state_backends())
if mode == "race":
    time.sleep(max(0.0, float(extra[0]) - time.time()))
    try:
        store.acquire_lock(mission, "apply", warn=print)
    except LockHeld as exc:
        print("lost", exc, flush=True)
        sys.exit(0)
    print("won", flush=True)
    time.sleep(1.5)
    store.release_lock(mission)
    sys.exit(0)
store.acquire_lock(mission, "apply", warn=print)
if mode == "writes":
    for i in range(int(extra[0])):
        store.write(mission, events=[Event(kind="step", data={"i": i})])
    print("done", time.time(), flush=True)
    store.release_lock(mission)
    sys.exit(0)
print("locked", flush=True)
if mode == "exit":
    os._exit(0)
while True:
    time.sleep(1)
