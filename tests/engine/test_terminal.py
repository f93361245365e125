"""On a terminal: colours (unless NO_COLOR / --no-color) and the approval prompt (only 'yes' applies).

skyform runs in a pseudo-terminal (pty) so that stdin and stdout are TTYs, as for a person.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

ANSI = "\x1b["


def run_in_pty(
    ws, *args: str, answer: str | None = None, env: dict[str, str] | None = None, timeout: float = 60
) -> tuple[int, str]:
    """Run skyform with a pty as stdin/stdout/stderr; type ``answer`` when the prompt appears."""
    master, slave = pty.openpty()
    environment = {k: v for k, v in ws.env.items() if k != "NO_COLOR"}  # a person's terminal
    environment.update(env or {})
    proc = subprocess.Popen(
        [sys.executable, "-c", "from skyform.cli.main import main; main()", *args],
        cwd=ws.path,
        env=environment,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    output = b""
    answered = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the child closed the pty
                    break
                if not chunk:
                    break
                output += chunk
                if answer is not None and not answered and b"Only 'yes' will be accepted" in output:
                    os.write(master, answer.encode() + b"\n")
                    answered = True
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return code, output.decode(errors="replace")


PAIR = """
    resources:
      a: {type: fake.Thing, spec: {name: a}}
      b: {type: fake.Thing, spec: {name: b}, depends_on: [a]}
"""


def test_plan_is_coloured_on_a_terminal_and_plain_with_no_color(ws):
    """On a TTY the plan uses colours; NO_COLOR=1 turns them off (--no-color sets it: see the prompt test)."""
    ws.write(PAIR)
    code, out = run_in_pty(ws, "plan", "--sandbox", ".")
    assert code == 0, out
    import re

    assert ANSI in out
    assert "+ a (fake.Thing) will be created" in re.sub(r"\x1b\[[0-9;]*m", "", out)
    code, out = run_in_pty(ws, "plan", "--sandbox", ".", env={"NO_COLOR": "1"})
    assert code == 0 and ANSI not in out and "+ a (fake.Thing) will be created" in out


def test_approval_prompt_applies_only_on_yes(ws):
    """On a terminal apply asks; anything but 'yes' cancels (exit 7, nothing created); 'yes' applies."""
    ws.write(PAIR)
    code, out = run_in_pty(ws, "--no-color", "apply", "--sandbox", ".", answer="y")
    assert code == 7, out
    assert "Do you want to perform these actions? Only 'yes' will be accepted" in out
    assert "perform these actions cancelled" in out
    assert ws.remote_objects() == []
    code, out = run_in_pty(ws, "--no-color", "apply", "--sandbox", ".", answer="yes")
    assert code == 0, out
    assert ANSI not in out
    assert "Apply complete!" in out
    assert sorted(o["name"] for o in ws.remote_objects()) == ["a", "b"]
