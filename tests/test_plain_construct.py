"""The loader's fast path (`_EventBuilder`) against PyYAML's own composer and constructor: for any
document the two must give the same data, down to the type of every value, the same problems,
and the same location for every path; the fast path may only decline (and leave the document to
PyYAML), never differ."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer import load
from syncer.desired import check_file
from syncer.interpolate import interpolate
from syncer.load import load_yaml

CI = settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
CORPUS = Path(__file__).parent / "corpus" / "validate"


def _typed(value: Any) -> Any:
    """`value` with the type of every scalar spelled out: `1`, `1.0` and `True` differ."""
    if isinstance(value, dict):
        return [("dict", [(_typed(k), _typed(v)) for k, v in value.items()])]
    if isinstance(value, list):
        return [("list", [_typed(v) for v in value])]
    return (type(value).__name__, repr(value))


def _both_ways(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    fast = load_yaml("f.yaml", raw)
    with monkeypatch.context() as patched:
        patched.setattr(load, "_built", _always_declines)
        slow = load_yaml("f.yaml", raw)
    asked = _paths_to_locate(fast.data)
    return (
        (_typed(fast.data), fast.plain, [str(p) for p in fast.problems], _located(fast, asked)),
        (_typed(slow.data), slow.plain, [str(p) for p in slow.problems], _located(slow, asked)),
    )


def _paths_to_locate(data: Any) -> list[list[Any]]:
    """Every path in `data`, and beside each one paths that are not there (a missing key, an
    index past the end, a key written as a number or a boolean, a step below a scalar)."""
    paths: list[list[Any]] = [[]]
    if isinstance(data, (dict, list)):
        paths += [list(at) for _, _, _, at in load.pairs_in_order(data)]
    out = []
    for path in paths:
        out += [path, [*path, "missing"], [*path, 0], [*path, 1], [*path, 99], [*path, True]]
        out += [[*path[:-1], str(path[-1])]] if path else []
    return out


def _located(loaded: Any, asked: list[list[Any]]) -> list[Any]:
    """Where `location` and `item_locations` put each path (what every error message names)."""
    return [
        (str(loaded.location(parts)), str(loaded.location(parts, key=True)), loaded.item_locations(parts))
        for parts in asked
    ]


def _always_declines(*_: Any) -> None:
    return None


def test_fast_path_serves_plain_documents_and_finds_their_templates() -> None:
    loaded = load_yaml(
        "f.yaml",
        b"application: a\nintegrations:\n  - {name: x, enabled: yes, port: 0x10, topics: ['${env:T}']}\n",
    )
    assert loaded.data == {
        "application": "a",
        "integrations": [{"name": "x", "enabled": True, "port": 16, "topics": ["${env:T}"]}],
    }
    assert loaded.templated is not None  # the fast path ran: only it finds them
    assert [path for _, _, path in loaded.templated] == [("integrations", 0, "topics", 0)]


def test_an_aliased_document_is_left_to_pyyaml() -> None:
    loaded = load_yaml("f.yaml", b"a: &x {b: '${env:T}'}\nc: *x\n")
    assert loaded.data["a"] is loaded.data["c"]  # one shared object, as PyYAML makes it
    assert loaded.templated is None


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.yaml")), ids=lambda p: p.name)
def test_corpus_files_load_the_same_both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = _both_ways(path.read_bytes(), monkeypatch)
    assert fast == slow


SCALARS = st.sampled_from(
    [
        "1", "-0", "0x1F", "0o17", "1_000", "1:30", "1.5", ".inf", "-.Inf", ".nan", "1e400",
        "9007199254740993", "yes", "No", "on", "~", "null", "", "'1'", '"x"', "2024-01-01",
        "!!int abc", "!!float 1", "!!bool maybe", "!!str 1", "!!binary aGk=", "=", "a b", "<<",
        "'${env:SET}'", "'${env:UNSET}'", "'x ${env:SET} $${y} ${env:UNSET:-d}'", "'${bad'", "'${var:V}'",
        "'${env:SET}${env:SET}'", "&a 1", "&a x", "&b '${env:SET}'",
    ]
)  # fmt: skip
KEYS = st.sampled_from(["a", "b", "1", "true", "1.0", "~", "<<", "=", "!!int 2", "[1]", "{x: 1}"])


@st.composite
def documents(draw: st.DrawFn, depth: int = 0) -> str:
    """Flow-style YAML: mappings, lists and scalars of every kind the resolver tells apart,
    with duplicate, merge and odd keys, and anchors (some names used twice: an error)."""
    if depth >= 3 or draw(st.booleans()):
        return draw(SCALARS)
    anchor = draw(st.sampled_from(["", "", "", "&a ", "&c "]))
    if draw(st.booleans()):
        items = draw(st.lists(documents(depth + 1), max_size=3))
        return anchor + "[" + ", ".join(items) + "]"
    pairs = draw(st.lists(st.tuples(KEYS, documents(depth + 1)), max_size=4))
    return anchor + "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"


@CI
@given(documents())
def test_any_document_loads_the_same_both_ways(text: str) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, slow = _both_ways(text.encode(), monkeypatch)
    assert fast == slow


@CI
@given(documents())
def test_any_document_in_block_style_loads_the_same_both_ways(text: str) -> None:
    """Block style (how files are written) puts marks where flow style does not: at a key,
    at a `- `, on the line below."""
    try:
        data = yaml.safe_load(text)
    except Exception:  # PyYAML's constructors raise what they meet: KeyError, ValueError
        return
    block = yaml.safe_dump({"top": data, "list": [data, {"k": data}]}, default_flow_style=False)
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, slow = _both_ways(block.encode(), monkeypatch)
    assert fast == slow


def test_an_anchor_named_twice_is_an_error_wherever_it_is_located() -> None:
    """An anchor without an alias builds nothing shared, but a name used twice is invalid
    YAML; and a file holding one must not be taken as valid, nor crash when a deep value of
    it is located."""
    text = (
        "application: 5f3e6a1b2c4d5e6f7a8b9c0d\n"
        "integrations:\n"
        "  - name: &n Dispatch feed\n"
        "    integrationType: &n websocket\n"
        "    websocketConfig: {headers: [{headerKey: Authorization}]}\n"
    )
    loaded = load_yaml("f.yaml", text.encode())
    check_file(loaded, {})
    assert [str(p) for p in loaded.problems] == [
        "f.yaml:4:22: invalid YAML: found duplicate anchor; first occurrence at line 3, column 11: "
        "second occurrence"
    ]


def test_deep_nesting_is_left_to_pyyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    deep = json.dumps(json.loads("[" * 200 + "]" * 200)).encode()
    fast, slow = _both_ways(deep, monkeypatch)
    assert fast == slow
    assert yaml.safe_load(deep) is not None  # the document itself is valid YAML


def _checked(loaded: Any) -> Any:
    result = check_file(loaded, {"SET": "value"}, require_env=False)
    return (
        _typed(loaded.data),
        sorted(str(p) for p in loaded.problems),
        [(repr(item), where) for item, where in result.integrations],
        sorted(result.env_values),
        sorted(result.missing_env),
    )


ENTRY_FIELDS = st.sampled_from(["name", "integrationType", "topics", "mqttConfig", "enabled", "x"])


@st.composite
def files(draw: st.DrawFn) -> str:
    """Integration files whose entries hold references of every kind, well formed or not."""
    entries = []
    for _ in range(draw(st.integers(0, 3))):
        pairs = draw(st.lists(st.tuples(ENTRY_FIELDS, documents(1)), max_size=4))
        entries.append("{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}")
    return f"{{application: {'0' * 24}, integrations: [{', '.join(entries)}]}}"


def _interpolated(loaded: Any) -> Any:
    """What interpolation found, in the order it found it (later stages take the first)."""
    found = interpolate(loaded.data, {"SET": "value"}, {"V": 1}, loaded.templated)
    return [list(found.references.items()), list(found.variables.items()), found.missing, found.undefined]


@CI
@given(files())
def test_interpolation_is_the_same_from_what_the_loader_found(text: str) -> None:
    found = load_yaml("f.yaml", text.encode())
    walked = load_yaml("f.yaml", text.encode())
    walked.templated = None
    assert _checked(found) == _checked(walked)
    found, walked = load_yaml("f.yaml", text.encode()), load_yaml("f.yaml", text.encode())
    walked.templated = None
    assert _interpolated(found) == _interpolated(walked)


def test_references_are_found_in_document_order_either_way() -> None:
    text = b"a: '${env:A}'\nb: {c: '${env:C}', d: ['${env:D}', {e: '${env:E}'}]}\nf: '${env:F}'\n"
    found, walked = load_yaml("f.yaml", text), load_yaml("f.yaml", text)
    walked.templated = None
    order = [[("a",), ("b", "c"), ("b", "d", 0), ("b", "d", 1, "e"), ("f",)]]
    assert [[path for path, _ in _interpolated(found)[0]]] == order
    assert [[path for path, _ in _interpolated(walked)[0]]] == order


def test_loading_leaves_nothing_for_the_garbage_collector() -> None:
    """The GC is paused while files load: anything cyclic a load leaves behind (the loader and
    the file's text, held by a cycle) stays until the run ends."""
    import gc

    text = b"application: a\nintegrations:\n  - {name: x, enabled: yes, topics: ['${env:T}']}\n"
    gc.collect()
    gc.disable()
    try:
        for _ in range(20):
            load_yaml("f.yaml", text)
        assert gc.collect() == 0
    finally:
        gc.enable()
