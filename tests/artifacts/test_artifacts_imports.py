"""Importing skyform, and running with the mission's own store, loads neither fsspec, s3fs nor
botocore: only a run whose store is an s3:// URL pays for them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("fsspec", "s3fs", "botocore", "aiobotocore", "boto3")


def loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return eval(done.stdout)  # a printed list of module names


def test_the_engine_and_a_local_store_import_no_remote_filesystem(tmp_path: Path) -> None:
    code = (
        "import skyform, skyform.providers, skyform.runtime, skyform.cli.main, skyform.cli.artifacts\n"
        "from pathlib import Path\n"
        "from skyform.artifacts import open_store\n"
        f"store = open_store(None, Path({str(tmp_path)!r}) / '.skyform')\n"
        "import io; store.put(io.BytesIO(b'x')); store.ls()"
    )
    assert loaded_after(code) == []


def test_an_s3_url_loads_s3fs_only_then(tmp_path: Path) -> None:
    code = (
        "from pathlib import Path\nfrom skyform.artifacts import store_at\n"
        f"store_at('s3://bucket/p', Path({str(tmp_path)!r}))"
    )
    assert {"fsspec", "s3fs"} <= set(loaded_after(code))
