"""The fast schema path (jsonschema-rs) changes nothing a user sees: every bad document prints the
same errors, byte for byte, with it, without it, and where it cannot be imported; and it never
accepts a document jsonschema rejects (a document it accepts is not checked again)."""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer import schema_check
from syncer.desired import check_file, load_project
from syncer.emulator.samples import sample_integration
from syncer.interpolate import interpolate
from syncer.load import load_yaml
from syncer.losant import INTEGRATION_TYPES
from tests.builders import APP
from tests.helpers import Run, syncer
from tests.test_fuzz import VALUES

CORPUS = Path(__file__).parent / "corpus" / "validate"
ENV = {"X": "value"}

# values that break some rule somewhere: types, bounds, lengths, enums, ids, patterns (Python's
# `\d` and `$` accept what ECMA's reject), uniqueness, unknown and missing fields
BAD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    1.5,
    65536,
    "",
    "x" * 300,
    "mqqt",
    "0" * 23,
    "\u0663" * 24,
    "a" * 24 + "\n",
    [],
    ["a", "a"],
    [1],
    {},
    {"junk": 1},
]


def _valid_documents() -> list[tuple[str, dict[str, Any]]]:
    """One valid document of each kind: every integration type, an absent entry, a previous
    name, a pinned id, an export file, and a full project file."""
    entries = [sample_integration(n, kind) for n, kind in enumerate(INTEGRATION_TYPES)]
    entries[0] = {**entries[0], "id": "a" * 24, "previousNames": ["old name"]}
    entries.append({"name": "gone", "absent": True})
    export = {
        "application": APP,
        "resourceType": "Integration",
        "version": 1,
        "resources": [{**sample_integration(1), "id": "x", "exportHash": "h"}],
    }
    project = {
        "apiUrl": "https://api.losant.com",
        "prune": True,
        "maxDeletes": 3,
        "allowBreakingWorkflows": False,
        "neverTouch": ["legacy-*"],
        "ignoreFields": {"all": ["enabled"], "mqtt": ["mqttConfig.clean"]},
        "applications": {APP: {"prune": False, "neverTouch": ["x"], "ignoreFields": {"sqs": ["topics"]}}},
    }
    return [
        ("file", {"application": APP, "integrations": entries}),
        ("file", export),
        ("project", project),
    ]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _at(document: dict[str, Any], path: tuple[Any, ...]) -> Any:
    for part in path:
        document = document[part]
    return document


def _mutants(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every value replaced by each bad value, every key removed, an unknown key in every mapping."""
    for path in list(_paths(document)):
        if not path:
            yield from ({"top": bad} for bad in BAD_VALUES)
        for bad in BAD_VALUES if path else ():
            mutant = copy.deepcopy(document)
            _at(mutant, path[:-1])[path[-1]] = bad
            yield mutant
        if path and isinstance(_at(document, path[:-1]), dict):
            mutant = copy.deepcopy(document)
            del _at(mutant, path[:-1])[path[-1]]
            yield mutant
        if isinstance(_at(document, path), dict):
            mutant = copy.deepcopy(document)
            _at(mutant, path)["colour"] = "red"
            yield mutant


def _problems(kind: str, text: str, tmp: Path) -> list[str]:
    """What a user is told about one document, as the validate stage says it."""
    if kind == "project":
        path = tmp / "syncer.yaml"
        path.write_text(text)
        return [str(p) for p in load_project(str(path), ENV)[1]]
    loaded = load_yaml("integrations.yaml", text.encode())
    check_file(loaded, ENV)
    return [str(p) for p in loaded.problems]


def _both_paths(
    kind: str, text: str, tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[str], list[str]]:
    with monkeypatch.context() as patch:
        patch.setattr(schema_check, "FAST_PATH", True)
        fast = _problems(kind, text, tmp)
        patch.setattr(schema_check, "FAST_PATH", False)
        slow = _problems(kind, text, tmp)
    return fast, slow


def _fast_says_valid(kind: str, document: Any) -> bool:
    return schema_check._fast_accepts(kind, document)


def _slow_says_valid(kind: str, document: Any) -> bool:
    return not list(schema_check._slow(kind).iter_errors(document))


def test_every_mutant_of_a_valid_document_is_told_the_same_on_both_paths(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    compared = rejected = 0
    for kind, document in _valid_documents():
        assert _fast_says_valid(kind, document)
        assert _slow_says_valid(kind, document)
        for mutant in _mutants(document):
            text = yaml.safe_dump(mutant, sort_keys=False)
            fast, slow = _both_paths(kind, text, tmp_path, monkeypatch)
            assert fast == slow, text
            data = yaml.safe_load(text)
            if not _slow_says_valid(kind, data):
                rejected += 1
                assert not _fast_says_valid(kind, data), text  # never accepted by the fast path
            compared += 1
    assert compared > 1500
    assert rejected > 1000


def _cli(args: list[str], monkeypatch: pytest.MonkeyPatch, *, fast: bool) -> Run:
    with monkeypatch.context() as patch:
        patch.setattr(schema_check, "FAST_PATH", fast)
        return syncer(*args)


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.yaml")))
def test_the_bad_input_corpus_prints_the_same_on_both_paths(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CORPUS)
    for args in (["validate", name], ["validate", "--format", "json", name]):
        fast, slow = _cli(args, monkeypatch, fast=True), _cli(args, monkeypatch, fast=False)
        assert fast.exit_code == slow.exit_code == 1
        assert (fast.stdout, fast.stderr) == (slow.stdout, slow.stderr)


def test_the_fast_path_rejects_every_document_of_the_corpus_jsonschema_rejects() -> None:
    rejected = 0
    for path in sorted(CORPUS.glob("*.yaml")):
        loaded = load_yaml(path.name, path.read_bytes())
        if loaded.data is None:
            continue  # not YAML: never validated
        if isinstance(loaded.data, dict):
            interpolate(loaded.data, ENV)
        if not _slow_says_valid("file", loaded.data):
            rejected += 1
            assert not (loaded.plain and _fast_says_valid("file", loaded.data)), path.name
    assert rejected >= 45  # 49 of the 74 files: the others are not YAML, or fail later checks


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(document=st.dictionaries(st.sampled_from(["application", "integrations", "resources"]), VALUES))
def test_a_fuzzed_document_is_never_accepted_by_the_fast_path_alone(document: dict[str, Any]) -> None:
    for kind in ("file", "project"):
        if _fast_says_valid(kind, document):
            assert _slow_says_valid(kind, document)


@pytest.mark.parametrize("tag", ["!!omap", "!!pairs", "!!set", "!!binary", "!!timestamp"])
def test_a_value_json_has_no_type_for_is_left_to_jsonschema(
    tag: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # jsonschema-rs reads a `!!omap` (a list of tuples) as arrays of arrays: never asked
    value = {
        "!!omap": "[a: 1]",
        "!!pairs": "[a: 1]",
        "!!set": "{a}",
        "!!binary": "aGk=",
        "!!timestamp": "2024-01-01",
    }
    entry = f"  - name: n\n    integrationType: mqtt\n    topics: {tag} {value[tag]}\n"
    text = f"application: {APP}\nintegrations:\n{entry}"
    loaded = load_yaml("tagged.yaml", text.encode())
    assert not loaded.plain
    fast, slow = _both_paths("file", text, tmp_path, monkeypatch)
    assert fast == slow
    assert any("topics" in line for line in fast)


def test_without_jsonschema_rs_syncer_works_the_same_and_says_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(CORPUS)
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump({"application": APP, "integrations": [sample_integration(1)]}))
    cases = [["validate", "11-enabled-not-boolean.yaml"], ["validate", str(good)]]
    expected = [_cli(args, monkeypatch, fast=True) for args in cases]
    schema_check._fast.cache_clear()
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "jsonschema_rs", None)  # `import jsonschema_rs` raises ImportError
        assert schema_check._fast("file") is None
        runs = [syncer(*args) for args in cases]
    schema_check._fast.cache_clear()
    assert runs == expected
    assert runs[1].exit_code == 0
    assert runs[1].stderr == ""
    assert runs[0].exit_code == 1
