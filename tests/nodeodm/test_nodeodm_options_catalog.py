"""The simulator's ``GET /options``: ODM 3.5.5's definitions through NodeODM 2.2.4's rule.

The rule itself (odmInfo.getOptions) is checked against the real NodeODM in
``tests/fidelity``; here the data file, the rule's details and the dump tool are checked
without a node.
"""

from __future__ import annotations

import json
import os
import tarfile
import textwrap
from pathlib import Path

import pytest

from skyform_nodeodm.simulator import catalog, taskflow
from skyform_nodeodm.simulator.jsvalues import number_string
from skyform_nodeodm.simulator.odm_dump import DUMP_CORES, dump
from skyform_nodeodm.simulator.odm_info import NOT_PUBLISHED, option, published_options

# the real servers' folder: ../shared/peers beside the checkout, or SKYFORM_PEERS_DIR
PEERS = Path(os.environ.get("SKYFORM_PEERS_DIR") or Path(__file__).resolve().parents[3] / "shared" / "peers")
NODEODM_SOURCE = PEERS / "nodeodm-2.2.4.tar.gz"


def test_served_options_are_the_odm_dump_through_nodeodms_rule() -> None:
    served = catalog.options()
    assert served == published_options(catalog.odm_dump())
    names = [o["name"] for o in served]
    assert len(names) == len(catalog.odm_dump()) - len(NOT_PUBLISHED & set(catalog.odm_dump())) == 80
    # NodeODM 2.2.4 never publishes these; the hand-written list of before did
    assert {"align", "copy-to", "split-image-groups", "rerun", "rerun-all", "gcp", "geo", "time"}.isdisjoint(names)


def test_the_data_file_is_odm_3_5_5() -> None:
    """ODM 3.5.5 has --pc-rectify and no --gps-z-offset (that came with 3.5.6)."""
    dump_ = catalog.odm_dump()
    assert taskflow.ENGINE_VERSION == "3.5.5"
    assert "--pc-rectify" in dump_ and "--gps-z-offset" not in dump_
    assert all(isinstance(v, str) for values in dump_.values() for v in values.values())
    assert dump_["--max-concurrency"]["default"] == str(DUMP_CORES)


@pytest.mark.parametrize(
    "flag, values, expected",
    [
        (
            "--smrf-window",
            {"metavar": "<positive float>", "type": "<class 'float'>", "default": "18.0", "help": "h"},
            {"name": "smrf-window", "type": "float", "value": "18", "domain": "positive float", "help": "h"},
        ),
        (
            "--split",
            {"metavar": "<positive integer>", "type": "<class 'int'>", "default": "999999"},
            {"name": "split", "type": "int", "value": "999999", "domain": "positive integer", "help": ""},
        ),
        (
            "--dsm",
            {"action": "<class 'config.StoreTrue'>", "nargs": "0", "default": "False", "help": "d"},
            {"name": "dsm", "type": "bool", "value": "false", "domain": "", "help": "d"},
        ),
        (
            "--rerun-from",
            {"metavar": "<string>", "choices": "['dataset', 'split']"},
            {"name": "rerun-from", "type": "enum", "value": "", "domain": ["", "dataset", "split"], "help": ""},
        ),
        (
            "--sm-cluster",
            {"metavar": "<string>", "type": "<function url_string>", "default": "None"},
            {"name": "sm-cluster", "type": "string", "value": "None", "domain": "string", "help": ""},
        ),
        (
            "--crop",
            {"metavar": "<positive float>", "type": "<class 'float'>"},  # no default: 0
            {"name": "crop", "type": "float", "value": "0", "domain": "positive float", "help": ""},
        ),
        (
            "--odd",
            {"metavar": "<string>", "default": "x", "choices": "not a list"},  # unparsable: not an enum
            {"name": "odd", "type": "string", "value": "x", "domain": "string", "help": ""},
        ),
    ],
)
def test_one_option_is_converted_as_odminfo_does(flag, values, expected) -> None:
    assert option(flag, values) == expected


@pytest.mark.parametrize(
    "value, text",
    [
        (18.0, "18"),
        (0.15, "0.15"),
        (1e-7, "1e-7"),
        (1e-6, "0.000001"),
        (1e21, "1e+21"),
        (-2.5, "-2.5"),
        (float("nan"), "NaN"),
    ],
)
def test_numbers_print_as_javascript_prints_them(value, text) -> None:
    assert number_string(value) == text


@pytest.mark.skipif(not NODEODM_SOURCE.is_file(), reason=f"NodeODM's source is not at {NODEODM_SOURCE}")
def test_nodeodms_canned_test_list_goes_through_the_same_rule() -> None:
    """NodeODM's --test list (an older ODM) and ODM 3.5.5 differ in names, never in the rule."""
    with tarfile.open(NODEODM_SOURCE) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/tests/odm_options.json"))
        canned = json.load(tar.extractfile(member))  # type: ignore[arg-type]
    published = {o["name"] for o in published_options(canned)}
    assert published == {f.removeprefix("--") for f in canned} - {f.removeprefix("--") for f in NOT_PUBLISHED}
    ours = {o["name"] for o in catalog.options()}
    dropped = {f.removeprefix("--") for f in NOT_PUBLISHED}
    assert not (ours & dropped) and not (published & dropped)


def test_the_dump_tool_records_add_argument_like_nodeodms_helper(tmp_path: Path) -> None:
    """odm_dump runs an ODM tree's config() with NodeODM's recorder; a tiny ODM tree shows it."""
    (tmp_path / "opendm").mkdir()
    (tmp_path / "opendm" / "context.py").write_text("import multiprocessing\nnum_cores = multiprocessing.cpu_count()\n")
    (tmp_path / "opendm" / "io.py").write_text("")
    (tmp_path / "opendm" / "config.py").write_text(
        textwrap.dedent("""
        from opendm import context, io, log
        from appsettings import SettingsParser

        def url_string(s):
            return s

        def config(argv=None, parser=None):
            parser.add_argument('--project-path', metavar='<path>')
            parser.add_argument('--max-concurrency', metavar='<positive integer>', type=int,
                                default=context.num_cores)
            parser.add_argument('--smrf-window', metavar='<positive float>', type=float, default=18.0)
            parser.add_argument('--sm-cluster', metavar='<string>', type=url_string, default=None)
            group = parser.add_mutually_exclusive_group()
            group.add_argument('--dsm', action='store_true', default=False)
            return parser.parse_known_args(argv)[0]
    """)
    )
    out = dump(tmp_path)
    assert out == {
        "-h": {"action": "help", "default": "==SUPPRESS==", "help": "show this help message and exit"},
        "--project-path": {"metavar": "<path>"},
        "--max-concurrency": {"metavar": "<positive integer>", "type": "<class 'int'>", "default": str(DUMP_CORES)},
        "--smrf-window": {"metavar": "<positive float>", "type": "<class 'float'>", "default": "18.0"},
        "--sm-cluster": {"metavar": "<string>", "type": "<function url_string>", "default": "None"},
        "--dsm": {"action": "store_true", "default": "False"},
    }
    assert [o["value"] for o in published_options(out)] == [str(DUMP_CORES), "18", "None", "false"]
