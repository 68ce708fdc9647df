"""The bad-input corpus, end to end: every mistake gets a located one-line error, exit 1, no
traceback, and not a single write reaches Losant (checked in the emulator's request log)."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from syncer.emulator.server import RunningEmulator
from syncer.planfile import FORMAT_VERSION as PLAN_FORMAT
from tests.builders import APP, PARTICLE
from tests.e2e import auto_apply, run, tree, writes
from tests.helpers import Run

CORPUS = Path(__file__).parent / "corpus" / "validate"
EXPECTED: dict[str, list[str]] = {}
for _line in (CORPUS / "expected.txt").read_text().splitlines():
    EXPECTED.setdefault(_line.split(":", 1)[0], []).append(_line)


def _no_traceback_one_error(result: Run) -> list[str]:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines, "an error must be printed"
    return lines


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_file_mistakes_stop_apply_before_any_request(
    name: str, losant_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CORPUS)
    result = auto_apply(losant_emulator, "--prune", name)
    lines = _no_traceback_one_error(result)
    assert lines[:-1] == EXPECTED[name]
    assert losant_emulator.emulator.log == []  # not even a read


def _click_refuses(command: str, option: str, value: str, why: str) -> tuple[list[str], str]:
    """`COMMAND OPTION VALUE`, and click's refusal of the value, which names the option."""
    return [command, option, value], f"Error: Invalid value for '{option}': {why}"


CLI_MISUSE = [
    _click_refuses("apply", "--parallelism", "0", "0 is not in the range 1<=x<=64."),
    _click_refuses("plan", "--format", "yaml", "'yaml' is not one of 'text', 'json', 'markdown'."),
    _click_refuses("apply", "--max-deletes", "-1", "-1 is not in the range x>=0."),
    (["plan", "--token", "abc"], "Error: No such option '--token'. Did you mean '--token-file'?"),
    (["export"], "Error: Missing option '--application'."),
    (["plann"], "Error: No such command 'plann'."),
    _click_refuses("plan", "--timeout", "soon", "'soon' is not a valid float range."),
    (
        ["plan", "--api-url", "ftp://api.losant.com"],
        "API URL 'ftp://api.losant.com' (--api-url) is not an http(s) URL; e.g. https://api.losant.com",
    ),
    (
        ["plan", "--api-url", "http://api.losant.com"],
        "refusing http:// to api.losant.com: the token would travel unencrypted",
    ),
    _click_refuses("plan", "--token-file", "/nonexistent/token", "File '/nonexistent/token' does not exist."),
    (
        ["export", "--application", "plant-floor"],
        "--application 'plant-floor' is not a Losant id (24 hexadecimal characters)",
    ),
    _click_refuses("emulator", "--port", "70000", "70000 is not in the range 0<=x<=65535."),
]


@pytest.mark.parametrize(("args", "message"), CLI_MISUSE, ids=[" ".join(a) for a, _ in CLI_MISUSE])
def test_cli_misuse(args: list[str], message: str, losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    files = str(tree(tmp_path, PARTICLE))
    extra = [files] if args[0] in ("plan", "apply") else []
    result = run(losant_emulator, *args, *extra)
    lines = _no_traceback_one_error(result)
    assert lines[0].startswith(message), lines
    assert writes(losant_emulator) == []


def test_missing_token(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    result = auto_apply(losant_emulator, str(tree(tmp_path, PARTICLE)), env={"LOSANT_API_TOKEN": None})
    assert _no_traceback_one_error(result)[0].startswith("no API token: set LOSANT_API_TOKEN")
    assert losant_emulator.emulator.log == []


def _saved_plan(running: RunningEmulator, tmp_path: Path) -> Path:
    out = tmp_path / "plan.json"
    assert run(running, "plan", str(tree(tmp_path / "f", PARTICLE)), "--out", str(out)).exit_code == 0
    running.emulator.log.clear()
    return out


PLAN_DAMAGE: list[tuple[str, Callable[[str], str], str]] = [
    ("truncated", lambda t: t[: len(t) // 3], "the plan file is truncated or not JSON"),
    ("cut at the end", lambda t: t.rstrip()[:-1], "the plan file is truncated or not JSON"),
    ("empty", lambda t: "", "the plan file is truncated or not JSON"),
    (
        "tampered body",
        lambda t: t.replace('"create"', '"delete"'),
        "the plan file's signature does not match",
    ),
    (
        "tampered mac",
        lambda t: t.replace('"mac": "', '"mac": "00'),
        "the plan file's signature does not match",
    ),
    (
        "mac removed",
        lambda t: json.dumps({k: v for k, v in json.loads(t).items() if k != "mac"}),
        "the plan file's signature does not match",
    ),
    (
        "other version",
        lambda t: t.replace(f'"syncerPlanFile": {PLAN_FORMAT}', '"syncerPlanFile": 7'),
        f"a plan file of format version 7, and this syncer reads version {PLAN_FORMAT}",
    ),
    (
        "not a plan",
        lambda t: f'{{"syncerPlanFile": {PLAN_FORMAT}, "hello": "world"}}',
        "the plan file's signature does not match",
    ),
]


@pytest.mark.parametrize(("label", "damage", "message"), PLAN_DAMAGE, ids=[p[0] for p in PLAN_DAMAGE])
def test_damaged_plan_files(
    label: str, damage: Callable[[str], str], message: str, losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    out = _saved_plan(losant_emulator, tmp_path)
    out.write_text(damage(out.read_text()))
    result = auto_apply(losant_emulator, str(out))
    lines = _no_traceback_one_error(result)
    assert lines[0].startswith(str(out))
    assert message in lines[0]
    assert writes(losant_emulator) == []


def test_saved_plan_with_prune_is_misuse(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    out = _saved_plan(losant_emulator, tmp_path)
    result = auto_apply(losant_emulator, "--prune", str(out))
    assert _no_traceback_one_error(result) == [
        "--prune, --push-secrets, --target and --application cannot change a saved plan; "
        "make a new plan with them"
    ]
    assert losant_emulator.emulator.log == []


def test_plan_file_against_another_api(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    out = _saved_plan(losant_emulator, tmp_path)
    result = auto_apply(losant_emulator, str(out), "--api-url", "http://localhost:1")
    assert "the plan was made against" in _no_traceback_one_error(result)[0]
    assert losant_emulator.emulator.log == []


IDENTITY: list[tuple[str, list[dict[str, object]], list[dict[str, object]], str]] = [
    (
        "two live integrations share the entry's name",
        [PARTICLE, PARTICLE],
        [PARTICLE],
        "live integrations named 'Trackers'",
    ),
    (
        "pinned id not live",
        [],
        [{**PARTICLE, "id": "ab" * 12}],
        f"pinned id {'ab' * 12} is not a live integration",
    ),
    (
        "entry covered by neverTouch",
        [],
        [{**PARTICLE, "name": "Manual bridge"}],
        "matches the neverTouch pattern",
    ),
    (
        "two entries match one live integration",
        [PARTICLE],
        [{**PARTICLE, "name": "A", "previousNames": ["Trackers"]}, {**PARTICLE, "name": "B", "id": "PINNED"}],
        "is also matched by the entry at",
    ),
]


@pytest.mark.parametrize(("label", "live", "files", "message"), IDENTITY, ids=[i[0] for i in IDENTITY])
def test_identity_clashes_with_live(
    label: str,
    live: list[dict[str, object]],
    files: list[dict[str, object]],
    message: str,
    losant_emulator: RunningEmulator,
    tmp_path: Path,
) -> None:
    seeded = losant_emulator.emulator.seed(APP, live)
    entries = [{**f, "id": seeded[0]["id"]} if f.get("id") == "PINNED" else f for f in files]
    root = tree(tmp_path, *entries, project={"neverTouch": ["Manual *"]})
    result = auto_apply(losant_emulator, "--prune", str(root))
    lines = _no_traceback_one_error(result)
    assert lines[0].startswith(f"{tmp_path}/integrations.yaml:")
    assert message in lines[0]
    assert lines[-1].startswith("cannot plan: ")
    assert writes(losant_emulator) == []


def test_corpus_size() -> None:
    cases = (
        len(EXPECTED)
        + len(CLI_MISUSE)
        + 1
        + len(PLAN_DAMAGE)
        + 2
        + len(IDENTITY)
        + len(NOT_FILES)
        + len(PROJECT_NUMBERS)
    )
    assert cases >= 117  # SECURITY.md promises this many


# --- files that are not files ---------------------------------------------------------------

_REGULAR_ONLY = "only a regular file, or a symlink to one, is read"


@pytest.fixture
def no_hang() -> Iterator[None]:
    """A read that blocks (a FIFO with no writer) fails the test instead of hanging it."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError("syncer hung on a file that is not a file")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, 20)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _to_dev_zero(path: Path) -> Path:
    path.symlink_to("/dev/zero")
    return path


def _plan_text(text: str) -> Callable[[Path], Path]:
    def write(path: Path) -> Path:
        path.write_text(text)
        return path

    return write


class NotAFile(NamedTuple):
    label: str
    make: Callable[[Path], Path]  # makes it at the path given: tmp_path/NAME, or NAME among the files
    name: str
    passed: str  # how it is passed: as the "file", in the "dir" of files, as the "token" file, or "plan"
    message: str  # the first line of the error, {p} the path made


# NaN and a number Python will not parse get the same refusal
_UNREADABLE_NUMBER = (
    "{p}: not a plan file syncer wrote (it holds NaN, Infinity or an integer of over 4,300 digits); "
    "make a new plan"
)

NOT_FILES = [
    NotAFile(
        "integration file is a FIFO",
        _fifo,
        "a.yaml",
        "file",
        f"{{p}}:1:1: cannot read file: it is a FIFO; {_REGULAR_ONLY}",
    ),
    NotAFile(
        "integration file is a symlink to /dev/zero",
        _to_dev_zero,
        "a.yaml",
        "file",
        f"{{p}}:1:1: cannot read file: it is a character device; {_REGULAR_ONLY}",
    ),
    NotAFile(
        "a FIFO found in a directory",
        _fifo,
        "b.yaml",
        "dir",
        f"{{p}}:1:1: cannot read file: it is a FIFO; {_REGULAR_ONLY}",
    ),
    NotAFile(
        "a symlink to /dev/zero found in a directory",
        _to_dev_zero,
        "b.yaml",
        "dir",
        f"{{p}}:1:1: cannot read file: it is a character device; {_REGULAR_ONLY}",
    ),
    NotAFile(
        "project file is a FIFO",
        _fifo,
        "syncer.yaml",
        "dir",
        f"{{p}}:1:1: cannot read file: it is a FIFO; {_REGULAR_ONLY}",
    ),
    NotAFile(
        "token file is a FIFO",
        _fifo,
        "token",
        "token",
        f"{{p}}: cannot read the token file (it is a FIFO; {_REGULAR_ONLY})",
    ),
    NotAFile(
        "token file is a symlink to /dev/zero",
        _to_dev_zero,
        "token",
        "token",
        f"{{p}}: cannot read the token file (it is a character device; {_REGULAR_ONLY})",
    ),
    NotAFile(
        "plan file is a FIFO",
        _fifo,
        "plan.json",
        "plan",
        f"{{p}}:1:1: cannot read file: it is a FIFO; {_REGULAR_ONLY}",
    ),
    NotAFile(
        "plan file is a symlink to /dev/zero",
        _to_dev_zero,
        "plan.json",
        "plan",
        f"{{p}}:1:1: cannot read file: it is a character device; {_REGULAR_ONLY}",
    ),
    NotAFile(
        "plan file nested 200,000 levels deep",
        _plan_text('{"syncerPlanFile": 1, "changes": ' + "[" * 200_000 + "]" * 200_000 + "}"),
        "plan.json",
        "plan",
        "{p}: not a plan file syncer wrote (it is nested too deeply); make a new plan",
    ),
    NotAFile(
        "plan file holding NaN",
        _plan_text('{"syncerPlanFile": NaN}'),
        "plan.json",
        "plan",
        _UNREADABLE_NUMBER,
    ),
    NotAFile(
        "plan file holding a 5,000-digit integer",
        _plan_text('{"syncerPlanFile": ' + "9" * 5000 + "}"),
        "plan.json",
        "plan",
        _UNREADABLE_NUMBER,
    ),
]


@pytest.mark.usefixtures("no_hang")
@pytest.mark.parametrize("case", NOT_FILES, ids=[case.label for case in NOT_FILES])
def test_files_that_are_not_files(case: NotAFile, losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    files = tree(tmp_path / "files", PARTICLE)
    target = case.make((files if case.passed == "dir" else tmp_path) / case.name)
    args = {
        "file": [str(target)],
        "dir": [str(files)],
        "token": ["--token-file", str(target), str(files)],
        "plan": [str(target)],
    }[case.passed]
    result = auto_apply(
        losant_emulator, *args, env={"LOSANT_API_TOKEN": None} if case.passed == "token" else None
    )
    lines = _no_traceback_one_error(result)
    assert lines[0] == case.message.format(p=target)
    assert losant_emulator.emulator.log == []


# --- numbers in the project file ------------------------------------------------------------

PROJECT_NUMBERS = [
    (
        "maxDeletes is NaN",
        "maxDeletes: .nan\n",
        "syncer.yaml:1:13: maxDeletes: NaN (not a number) is not JSON, and Losant cannot store it; "
        "write a number, or quote the value if it is text",
    ),
    (
        "maxDeletes beyond 2**53",
        "maxDeletes: 99999999999999999999\n",
        "syncer.yaml:1:13: maxDeletes: an integer beyond ±9007199254740991 (2**53 - 1) loses digits in JSON "
        "and in Losant; write a smaller number, or quote the value if it is text",
    ),
    (
        "an application id read as a number",
        "applications:\n  123456: {prune: true}\n",
        "syncer.yaml:2:3: applications.123456: expected a string, found a number (123456); quote the value "
        "(YAML reads yes/no/on/off as booleans and digits as numbers)",
    ),
    (
        "an application key that is infinity",
        "applications:\n  ? -.inf\n  : {prune: true}\n",
        "syncer.yaml:2:5: applications: in a key, infinity is not JSON, and Losant cannot store it; "
        "write a finite number, or quote the value if it is text",
    ),
]


@pytest.mark.parametrize(("label", "text", "message"), PROJECT_NUMBERS, ids=[p[0] for p in PROJECT_NUMBERS])
def test_numbers_in_the_project_file(
    label: str, text: str, message: str, losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    files = tree(tmp_path, PARTICLE)
    (files / "syncer.yaml").write_text(text)
    result = auto_apply(losant_emulator, str(files))
    lines = _no_traceback_one_error(result)
    assert lines == [f"{files}/{message}", "1 error in 1 of 2 files"]
    assert losant_emulator.emulator.log == []
