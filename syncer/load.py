"""Load stage: YAML files -> plain data, keeping where values sit so errors can name file:line:column.

Safety rules (every one is an error with a location, never a traceback):
- anything but a regular file (a FIFO, a device such as /dev/zero), files over MAX_FILE_BYTES,
  non-UTF-8 bytes, empty files and several documents in one file;
- duplicate keys (PyYAML silently keeps the last one);
- aliases that expand beyond MAX_EXPANDED_NODES ("billion laughs"), recursive aliases,
  nesting deeper than MAX_DEPTH;
- numbers JSON and Losant cannot hold, anywhere, keys included: NaN, infinities, integers beyond
  ±MAX_SAFE_INTEGER; and scalars whose explicit tag does not fit them (`!!int abc`).
Dates stay strings (no timestamp resolver), so values round-trip to JSON unchanged.
"""

from __future__ import annotations

import math
import os
import re
import stat
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from syncer.errors import Location, Problem, document_path
from syncer.losant import MAX_DEPTH

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_EXPANDED_NODES = 1_000_000
# JavaScript's Number.MAX_SAFE_INTEGER: Losant reads JSON as JavaScript does, and beyond it
# integers lose digits (Python would also refuse to print one of over 4,300 digits)
MAX_SAFE_INTEGER = 2**53 - 1

_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_OR_QUOTE = "or quote the value if it is text"
NOT_A_NUMBER = f"NaN (not a number) is not JSON, and Losant cannot store it; write a number, {_OR_QUOTE}"
INFINITY = f"infinity is not JSON, and Losant cannot store it; write a finite number, {_OR_QUOTE}"
TOO_LARGE = f"this number is too large for JSON (it reads as infinity); write a smaller number, {_OR_QUOTE}"
TOO_BIG = (
    f"an integer beyond ±{MAX_SAFE_INTEGER} (2**53 - 1) loses digits in JSON and in Losant; "
    f"write a smaller number, {_OR_QUOTE}"
)
_LONG_DECIMAL = re.compile(r"[1-9][0-9]{16,}")  # 17 digits or more: beyond MAX_SAFE_INTEGER


class Unfit:
    """Stands in for a value JSON cannot carry (see the module rules), so the rest of the file is
    still checked. The loader reports each one, located; later stages skip it. Never shows the
    value: it may sit in a secret field."""

    __slots__ = ("column", "line", "message")

    def __init__(self, node: Node, message: str) -> None:
        self.line, self.column = node.start_mark.line + 1, node.start_mark.column + 1
        self.message = message

    def __repr__(self) -> str:
        return "<a value JSON cannot carry>"


class _StrictLoader(_BaseLoader):  # type: ignore[misc]
    """CSafeLoader that records duplicate keys instead of silently keeping the last one, and
    numbers (and mistagged scalars) JSON cannot carry instead of constructing them."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[Node, Node]] = []  # (first key node, repeated key node)
        self.unfit: list[Unfit] = []
        self.plain = True  # no value of a type JSON does not have (a tag such as !!omap or !!set)

    def refuse(self, node: Node, message: str) -> Unfit:
        placeholder = Unfit(node, message)
        self.unfit.append(placeholder)
        return placeholder

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[tuple[str, str], Node] = {}
        for key_node, _ in node.value if isinstance(node, MappingNode) else ():
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            # every entry repeats the same keys: one string each, not one per entry (a fifth
            # of the memory of 50,000 loaded entries)
            key_node.value = sys.intern(key_node.value)
            ident = (key_node.tag, key_node.value)
            if ident in seen:
                self.duplicates.append((seen[ident], key_node))
            seen[ident] = key_node
        result: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return result

    def construct_int(self, node: ScalarNode) -> Any:
        digits = str(node.value).replace("_", "").lstrip("+-")
        # decided before converting: 60**9 > 2**53, and PyYAML's base-60 conversion is quadratic
        if _LONG_DECIMAL.fullmatch(digits) or digits.count(":") > 9:
            return self.refuse(node, TOO_BIG)
        try:
            value = SafeConstructor.construct_yaml_int(self, node)
        except (ValueError, IndexError):
            return self.refuse(node, _mistagged("!!int"))
        return self.refuse(node, TOO_BIG) if abs(value) > MAX_SAFE_INTEGER else value

    def construct_float(self, node: ScalarNode) -> Any:
        try:
            value = SafeConstructor.construct_yaml_float(self, node)
        except OverflowError:  # a base-60 float with hundreds of parts
            return self.refuse(node, TOO_LARGE)
        except (ValueError, IndexError):
            return self.refuse(node, _mistagged("!!float"))
        if math.isnan(value):
            return self.refuse(node, NOT_A_NUMBER)
        if math.isinf(value):
            return self.refuse(node, INFINITY if "inf" in str(node.value).lower() else TOO_LARGE)
        return value

    def construct_bool(self, node: ScalarNode) -> Any:
        try:
            return SafeConstructor.construct_yaml_bool(self, node)
        except KeyError:
            return self.refuse(node, _mistagged("!!bool"))

    def construct_timestamp(self, node: ScalarNode) -> Any:
        self.plain = False  # a date, or an Unfit
        try:
            return SafeConstructor.construct_yaml_timestamp(self, node)
        except (ValueError, AttributeError):
            return self.refuse(node, _mistagged("!!timestamp"))


def _mistagged(tag: str) -> str:
    return f"the value does not fit its tag {tag}; write a value of that type, or remove the tag"


for _tag, _construct in (
    ("int", _StrictLoader.construct_int),
    ("float", _StrictLoader.construct_float),
    ("bool", _StrictLoader.construct_bool),
    ("timestamp", _StrictLoader.construct_timestamp),
):
    _StrictLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _construct)


def _not_json(construct: Any) -> Any:
    def marked(loader: _StrictLoader, node: Node) -> Any:
        loader.plain = False
        return construct(loader, node)

    return marked


for _tag in ("omap", "pairs", "set", "binary"):  # tuples, sets, bytes: no JSON type
    _StrictLoader.add_constructor(
        f"tag:yaml.org,2002:{_tag}", _not_json(_BaseLoader.yaml_constructors[f"tag:yaml.org,2002:{_tag}"])
    )


class _NotPlain(Exception):
    """The document needs PyYAML's own composition and construction (see `_EventBuilder`)."""


_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_STR, _NULL = "tag:yaml.org,2002:str", "tag:yaml.org,2002:null"
_SCALARS: dict[str, Any] = {
    "tag:yaml.org,2002:int": _StrictLoader.construct_int,
    "tag:yaml.org,2002:float": _StrictLoader.construct_float,
    "tag:yaml.org,2002:bool": _StrictLoader.construct_bool,
}
_NO_KEY = object()  # in a mapping: the next scalar is a key

Templated = list[tuple[Any, Any, tuple[str | int, ...]]]  # (container, key or index, path)

# Where a value sits, recorded while loading: (its mark, its key's mark, what is under it). A list
# item's key mark is its own. Under it: None for a scalar; for a mapping, a dict from each key
# as written to its spot; for a list, the list of its items' spots; _DEEPER below RECORDED_DEPTH.
Spot = tuple[Any, Any, Any]
RECORDED_DEPTH = 3  # an entry's own fields: what a run locates when nothing is wrong
_DEEPER: Any = ("deeper",)


class _EventBuilder:
    """The data of a document made only of mappings, lists, strings, numbers, booleans and
    nulls, without anchors, merge keys, duplicate keys nor refused values, built from the
    parser's events: no node tree is built, which is faster than composing one and walking
    it, and keeps the memory of one large file to its data. It records `spot`, where each
    value down to RECORDED_DEPTH sits (`LoadedFile.location` composes the tree for a deeper
    one), and `templated`, where the strings holding `${` sit, so interpolation need not walk
    the document again. Anything else raises _NotPlain, and PyYAML composes and constructs
    the document (same result, same errors). A class, not nested functions: functions that
    call each other through their closures form a cycle, which would hold the loader (and
    the file's text) until the paused garbage collector runs again."""

    __slots__ = ("loader", "spot", "templated")

    def __init__(self, loader: _StrictLoader) -> None:
        self.loader = loader
        self.templated: Templated = []
        self.spot: Spot | None = None

    def build(self) -> Any:  # one loop over the events, kept whole: it runs once per value
        loader, templated = self.loader, self.templated
        get = loader.get_event
        get()  # the stream's start
        if get().__class__ is not DocumentStartEvent:
            raise _NotPlain  # no document: PyYAML's path reports an empty file
        # what encloses the open container: (container, spots, key, key as written, key mark)
        stack: list[tuple[Any, Any, Any, str, Any]] = []
        container: Any = None  # the open mapping or list; None: the document itself
        in_mapping = False
        spots: Any = None  # where its children's spots go; None: too deep to record
        path: list[str | int] = []  # the open container's path in the data
        key: Any = _NO_KEY  # in a mapping: the key whose value comes next
        written, key_mark = "", None  # that key as written, and where
        while True:
            event = get()
            kind = event.__class__
            if kind is ScalarEvent:
                if event.anchor is not None:
                    raise _NotPlain  # PyYAML's composer checks anchors (a name used twice is an error)
                value = event.value
                tag = event.tag
                if tag is None or tag == "!":
                    tag = _STR
                    if event.implicit[0]:  # plain: PyYAML's Resolver.resolve, inlined
                        for implicit_tag, pattern in _IMPLICIT.get(value[:1], _WILDCARD):
                            if pattern.match(value):
                                tag = implicit_tag
                                break
                if tag == _STR:
                    if in_mapping and key is _NO_KEY:
                        # every entry repeats the same keys: one string each, not one per
                        # entry (a fifth of the memory of 50,000 loaded entries)
                        value = sys.intern(value)
                elif tag == _NULL:
                    value = None
                else:
                    construct = _SCALARS.get(tag)
                    if construct is None:
                        raise _NotPlain  # a merge key, a timestamp, binary, a local tag
                    value = construct(loader, ScalarNode(tag, value, event.start_mark, event.end_mark))
                    if value.__class__ is Unfit:
                        raise _NotPlain
                if in_mapping:
                    if key is _NO_KEY:
                        if value in container:
                            raise _NotPlain  # a duplicate key, reported by construct_mapping
                        key, written, key_mark = value, event.value, event.start_mark
                        continue
                    container[key] = value
                    if spots is not None:
                        spots[written] = (event.start_mark, key_mark, None)
                    if value.__class__ is str and "${" in value:
                        templated.append((container, key, (*path, key)))
                    key = _NO_KEY
                elif container is not None:
                    if spots is not None:
                        spots.append((event.start_mark, event.start_mark, None))
                    if value.__class__ is str and "${" in value:
                        templated.append((container, len(container), (*path, len(container))))
                    container.append(value)
                else:
                    self.spot = (event.start_mark, event.start_mark, None)
                    break
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                mapping = kind is MappingStartEvent
                tag = event.tag
                if (
                    event.anchor is not None
                    or (tag is not None and tag != "!" and tag != (_MAP if mapping else _SEQ))
                    or (in_mapping and key is _NO_KEY)
                    or len(path) >= MAX_DEPTH
                ):
                    raise _NotPlain  # an anchor, a tagged collection (!!set, !!omap), a collection as a key
                mark = event.start_mark
                depth = len(path) + (container is not None)
                under = ({} if mapping else []) if depth < RECORDED_DEPTH else _DEEPER
                if container is None:
                    self.spot = (mark, mark, under)
                else:
                    if spots is not None:
                        if in_mapping:
                            spots[written] = (mark, key_mark, under)
                        else:
                            spots.append((mark, mark, under))
                    path.append(key if in_mapping else len(container))
                stack.append((container, spots, key, written, key_mark))
                container, in_mapping, key = ({} if mapping else []), mapping, _NO_KEY
                spots = None if under is _DEEPER else under
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                value = container
                container, spots, key, written, key_mark = stack.pop()
                in_mapping = container.__class__ is dict
                if in_mapping:
                    container[key] = value
                    key = _NO_KEY
                    path.pop()
                elif container is not None:
                    container.append(value)
                    path.pop()
                else:
                    break
            else:
                raise _NotPlain  # an alias
        if get().__class__ is not DocumentEndEvent or get().__class__ is not StreamEndEvent:
            raise _NotPlain  # another document: PyYAML's path reports it
        return value


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
# PyYAML's Resolver.resolve for a plain scalar, as a table by first character (`_EventBuilder`
# resolves every plain scalar, keys included)
_WILDCARD = _StrictLoader.yaml_implicit_resolvers.get(None, [])
_IMPLICIT = {
    first: [*resolvers, *_WILDCARD]
    for first, resolvers in _StrictLoader.yaml_implicit_resolvers.items()
    if first is not None
}


@dataclass
class LoadedFile:
    """One parsed file. `data` is None when the file could not be parsed (see `problems`)."""

    path: str
    data: Any = None
    problems: list[Problem] = field(default_factory=list)
    parsed: bool = False  # the file was parsed: `data` is its document
    plain: bool = False  # `data` holds no tuple, set, bytes, date nor refused value (see Unfit)
    empty: bool = False  # no document at all (nothing, or only comments)
    # values written in another file (an environment's override in syncer.yaml): path -> there
    elsewhere: dict[tuple[str | int, ...], Location] = field(default_factory=dict)
    # where the strings holding `${` sit in `data`, found while loading; None when not known
    # (PyYAML constructed it) or no longer true (`data` was copied or changed since)
    templated: Templated | None = None
    # where values sit: the spots recorded while loading (see Spot), and the node tree, kept
    # by PyYAML's path or composed from `text` when a deeper value is located
    spot: Spot | None = field(default=None, repr=False)
    root: Node | None = field(default=None, repr=False)
    text: str | None = field(default=None, repr=False)

    def problem(self, parts: Sequence[str | int], message: str, *, key: bool = False) -> Problem:
        """A problem with the value at `parts` (or its key), located, its path named."""
        return Problem(self.location(parts, key=key), message, document_path(parts))

    def location(self, parts: Sequence[str | int], *, key: bool = False) -> Location:
        """The position of the value at `parts` (or of its key, with `key=True`).

        Stops at the deepest value that exists, so a missing field points at its parent mapping.
        """
        if self.elsewhere:
            for end in range(len(parts), 0, -1):
                there = self.elsewhere.get(tuple(parts[:end]))
                if there is not None:
                    return there
        found = self._deepest(parts)
        if found is None:
            return Location(self.path, 1, 1)
        (mark, key_mark, _), complete = found
        if complete and key:
            mark = key_mark
        return Location(self.path, mark.line + 1, mark.column + 1)

    def item_locations(self, parts: Sequence[str | int]) -> list[Location] | None:
        """The position of each item of the list at `parts`, in one pass (what `location` gives
        one by one); None when no list is there, or a value came from another file."""
        if self.elsewhere:
            return None
        found = self._deepest(parts)
        if found is not None and found[0][2] is _DEEPER:  # its items were not recorded
            found = self._deepest_in_tree(parts)
        if found is None or not found[1] or found[0][2].__class__ is not list:
            return None
        return [Location(self.path, mark.line + 1, mark.column + 1) for mark, _, _ in found[0][2]]

    def release_positions(self) -> None:
        """Free what locates values (the node tree, the text); `location` then gives 1:1."""
        self.spot = self.root = self.text = None

    def _deepest(self, parts: Sequence[str | int]) -> tuple[Spot, bool] | None:
        """The spot of the value at `parts`, or of the deepest value that exists (not complete);
        None when nothing locates values (the file was not parsed, or they were released)."""
        spot = self.spot
        if spot is not None:
            for part in parts:
                under = spot[2]
                if under is _DEEPER:
                    return self._deepest_in_tree(parts)
                nxt = _spot_under(under, part)
                if nxt is None:
                    return spot, False
                spot = nxt
            return spot, True
        return self._deepest_in_tree(parts)

    def _deepest_in_tree(self, parts: Sequence[str | int]) -> tuple[Spot, bool] | None:
        if self.root is None and self.text is not None:
            loader = _StrictLoader(self.text)
            try:
                self.root = loader.get_single_node()  # it loaded before: it composes now
            except yaml.YAMLError:
                self.text = None  # cannot happen (the builder declines what the composer refuses)
            finally:
                loader.dispose()
        if self.root is None:
            return None
        node, key_node, complete = self.root, None, True
        for part in parts:
            nxt: Node | None = None
            if isinstance(node, MappingNode):
                # construct_mapping flattened merge keys in place (merged pairs first): last match wins
                for k, v in node.value:
                    if isinstance(k, ScalarNode) and k.value == str(part):
                        key_node, nxt = k, v
            elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
                key_node, nxt = None, node.value[part]
            if nxt is None:
                complete = False
                break
            node = nxt
        mark = node.start_mark
        key_mark = key_node.start_mark if complete and key_node is not None else mark
        items = None
        if isinstance(node, SequenceNode):
            items = [(item.start_mark, None, None) for item in node.value]
        return (mark, key_mark, items), complete


def _spot_under(under: Any, part: str | int) -> Spot | None:
    """The spot of `part` under a recorded mapping or list, as `_deepest_in_tree` finds it."""
    if under.__class__ is dict:
        found: Spot | None = under.get(str(part))
        return found
    if under.__class__ is list and isinstance(part, int) and part < len(under):
        return under[part]  # type: ignore[no-any-return]
    return None


def plain_copy(value: Any) -> Any:
    """A copy of loaded data, mappings and lists new, scalars shared (much faster than deepcopy)."""
    if isinstance(value, dict):
        return {k: plain_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_copy(v) for v in value]
    return value


def copied(loaded: LoadedFile) -> LoadedFile:
    """A copy of a parsed file whose data can be changed (interpolated, merged) without changing
    the original; what locates values, which is only read, is shared."""
    return LoadedFile(
        loaded.path,
        plain_copy(loaded.data),
        list(loaded.problems),
        parsed=loaded.parsed,
        plain=loaded.plain,
        spot=loaded.spot,
        root=loaded.root,
        text=loaded.text,
    )


def _problem(path: str, line: int, column: int, message: str) -> LoadedFile:
    return LoadedFile(path, problems=[Problem(Location(path, line, column), message)])


def _children(node: Node) -> Iterator[Node]:
    if isinstance(node, MappingNode):
        for k, v in node.value:
            yield k
            yield v
    elif isinstance(node, SequenceNode):
        yield from node.value


def _check_aliases(root: Node) -> tuple[Node, str] | None:
    """Size and depth of the document once aliases are expanded, on the composed node graph.

    Aliases are shared Node objects, so sizes are memoised per node: a billion-laughs file is
    rejected after visiting a few dozen nodes. Iterative, so deep documents cannot overflow.
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        nid = id(node)
        if done:
            on_path.discard(nid)
            kids = list(_children(node))
            size[nid] = 1 + sum(size[id(k)] for k in kids)
            height[nid] = 1 + max((height[id(k)] for k in kids), default=0)
            if size[nid] > MAX_EXPANDED_NODES:
                return node, (
                    f"aliases expand to more than {MAX_EXPANDED_NODES:,} values (an alias bomb?); "
                    "write the values out or use fewer nested aliases"
                )
            if height[nid] > MAX_DEPTH:
                return node, f"nesting deeper than {MAX_DEPTH} levels; flatten the document"
            continue
        if nid in size:
            continue
        if nid in on_path:
            return node, "an alias refers to itself (recursive anchor); remove the recursion"
        on_path.add(nid)
        stack.append((node, True))
        stack.extend((kid, False) for kid in _children(node) if id(kid) not in size)
    return None


def pairs_in_order(
    data: Any, paths_of: dict[int, list[tuple[str | int, ...]]] | None = None
) -> Iterator[tuple[Any, Any, Any, tuple[str | int, ...]]]:
    """Every (container, key or index, value, path of the value) in `data`, in document order
    (the order `_EventBuilder` builds it, so what depends on order is the same whichever
    way a file was loaded), each aliased container once. A caller may replace the value it was
    just given. `paths_of`, if given, learns every path each container sits at (an alias adds
    one). Iterative: a deep document cannot overflow the stack."""
    visited: dict[int, list[tuple[str | int, ...]]] = {} if paths_of is None else paths_of
    visited[id(data)] = [()]
    stack: list[tuple[Any, tuple[str | int, ...], Iterator[tuple[Any, Any]]]] = [(data, (), _pairs(data))]
    while stack:
        node, path, pairs = stack[-1]
        for key, value in pairs:
            at = (*path, key)
            yield node, key, value, at
            if isinstance(value, (dict, list)):
                known = visited.get(id(value))
                if known is not None:
                    known.append(at)
                    continue
                visited[id(value)] = [at]
                stack.append((value, at, _pairs(value)))
                break  # its pairs first, then the rest of this container's
        else:
            stack.pop()


def _pairs(node: Any) -> Iterator[tuple[Any, Any]]:
    if isinstance(node, dict):
        return iter(node.items())
    return enumerate(node) if isinstance(node, list) else iter(())


def _unfit_problems(path: str, data: Any, unfit: list[Unfit]) -> list[Problem]:
    """One located problem per value JSON cannot carry, named by where it sits in the document."""
    where: dict[int, tuple[str, str]] = {}  # id -> (document path, "in a key, " or "")
    for _, key, value, at in pairs_in_order(data):
        if isinstance(key, Unfit):
            where.setdefault(id(key), (document_path(at[:-1]), "in a key, "))
        if isinstance(value, Unfit):
            where.setdefault(id(value), (document_path(at), ""))
    problems = []
    for item in unfit:
        shown, prefix = where.get(id(item), ("", ""))
        problems.append(Problem(Location(path, item.line, item.column), prefix + item.message, shown))
    return problems


def _built(path: str, text: str) -> LoadedFile | None:
    """The file as `_EventBuilder` loads it; None where it declines, and PyYAML's path loads
    it (and reports its errors)."""
    builder = _EventBuilder(_StrictLoader(text))
    try:
        data = builder.build()
    except (_NotPlain, yaml.YAMLError):
        return None
    finally:
        builder.loader.dispose()
    return LoadedFile(
        path, data, parsed=True, plain=True, templated=builder.templated, spot=builder.spot, text=text
    )


def load_yaml(path: str, raw: bytes) -> LoadedFile:
    """Parse one file's bytes. Never raises for bad input: problems are returned, located."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        return _problem(
            path,
            line,
            column,
            f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save it as UTF-8",
        )
    if b"*" not in raw:  # with aliases, PyYAML's path: a shared node stays one shared object
        built = _built(path, text)
        if built is not None:
            return built
    loader = _StrictLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            empty = _problem(
                path, 1, 1, "file is empty; expected a mapping with `application` and `integrations`"
            )
            empty.empty = True
            return empty
        if b"*" in raw:  # only a document with aliases can expand beyond its own size
            found = _check_aliases(root)
            if found:
                mark = found[0].start_mark
                return _problem(path, mark.line + 1, mark.column + 1, found[1])
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = str(exc.problem or exc.context or "")
        context, where = exc.context, exc.context_mark
        if context and where and exc.problem_mark and where.line != exc.problem_mark.line:
            reason = f"{context} at line {where.line + 1}, column {where.column + 1}: {reason}"
        elif context:
            reason = f"{context}: {reason}"
        if "expected a single document" in reason:
            reason = "file holds more than one YAML document; keep one document per file"
        return _problem(path, line, column, f"invalid YAML: {reason}")
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, e.g. NUL
        upto = text[: exc.position]
        line, column = upto.count("\n") + 1, exc.position - (upto.rfind("\n") + 1) + 1
        shown = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        return _problem(
            path, line, column, f"invalid YAML: character {shown} is not allowed in YAML; remove it"
        )
    except yaml.YAMLError as exc:  # errors without a mark, e.g. libyaml's nesting limit
        return _problem(path, 1, 1, f"invalid YAML: {str(exc).splitlines()[0]}")
    except RecursionError:
        return _problem(path, 1, 1, f"nesting deeper than {MAX_DEPTH} levels; flatten the document")
    finally:
        loader.dispose()
    loaded = LoadedFile(path, data, parsed=True, plain=loader.plain and not loader.unfit, root=root)
    if loader.unfit:
        loaded.problems += _unfit_problems(path, data, loader.unfit)
    for first, again in loader.duplicates:
        loaded.problems.append(
            Problem(
                Location(path, again.start_mark.line + 1, again.start_mark.column + 1),
                f"duplicate key {again.value!r} (first defined at line {first.start_mark.line + 1}, "
                f"column {first.start_mark.column + 1}); keep only one",
            )
        )
    return loaded


_NOT_REGULAR = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


class FileRefused(Exception):
    """A file that was not read (missing, not a regular file, over its size cap), and why."""

    def __init__(self, reason: str, *, too_big: bool = False) -> None:
        super().__init__(reason)
        self.too_big = too_big


def _limit(count: int) -> str:
    return f"{count / 1048576:g} MiB" if count >= 1048576 else f"{count / 1024:g} KiB"


@contextmanager
def open_regular(path: str) -> Iterator[BinaryIO]:
    """Open a regular file (a symlink to one is fine) for reading; anything else is refused.

    Opened without blocking, so a FIFO cannot hang the run, and checked on the open descriptor,
    not the path, so nothing can be swapped in between.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise FileRefused(exc.strerror or str(exc)) from exc
    try:
        file_type = stat.S_IFMT(os.fstat(fd).st_mode)
        if file_type != stat.S_IFREG:
            what = _NOT_REGULAR.get(file_type, "not a regular file")
            raise FileRefused(f"it is {what}; only a regular file, or a symlink to one, is read")
        os.set_blocking(fd, True)
        handle = open(fd, "rb")  # noqa: SIM115 (closed by the `with` below)
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def read_regular_file(path: str, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (see `open_regular`).

    At most `limit + 1` bytes are read, so a file that grows while read cannot exhaust memory.
    """
    with open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise FileRefused(
                f"file is {size / 1048576:.1f} MiB, over the {_limit(limit)} limit", too_big=True
            )
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileRefused(f"file is over the {_limit(limit)} limit", too_big=True)
    return data


def read_yaml_file(path: str) -> LoadedFile:
    """Read and parse a file, refusing oversized files and anything but a regular file."""
    try:
        raw = read_regular_file(path, MAX_FILE_BYTES)
    except FileRefused as exc:
        if exc.too_big:
            return _problem(path, 1, 1, f"{exc}; split it into several files")
        return _problem(path, 1, 1, f"cannot read file: {exc}")
    return load_yaml(path, raw)
