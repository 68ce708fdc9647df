"""Load stage: YAML files -> plain data, keeping the node tree so errors can name file:line:column.

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
    """The document needs PyYAML's own construction (see `_construct_plain`)."""


_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_STR, _NULL = "tag:yaml.org,2002:str", "tag:yaml.org,2002:null"
_SCALARS: dict[str, Any] = {
    "tag:yaml.org,2002:int": _StrictLoader.construct_int,
    "tag:yaml.org,2002:float": _StrictLoader.construct_float,
    "tag:yaml.org,2002:bool": _StrictLoader.construct_bool,
}


Templated = list[tuple[Any, Any, tuple[str | int, ...]]]  # (container, key or index, path)


def _construct_plain(loader: _StrictLoader, root: Node, templated: Templated) -> Any:
    """The data of a document made only of mappings, lists, strings, numbers, booleans and
    nulls, without aliases, merge keys, duplicate keys nor refused values: about three times
    faster than PyYAML's general constructor, which tracks aliases and recursion on every node.
    `templated` learns where the strings that hold `${` sit, so interpolation need not walk
    the document again. Anything else raises _NotPlain, and PyYAML constructs the document
    (same result, same errors)."""
    return _PlainBuilder(loader, templated).construct(root, ())


class _PlainBuilder:
    """`_construct_plain`'s pass. A class, not two nested functions: functions that call each
    other through their closures form a cycle, which would hold the loader (and the file's
    text) until the paused garbage collector runs again."""

    __slots__ = ("loader", "templated")

    def __init__(self, loader: _StrictLoader, templated: Templated) -> None:
        self.loader, self.templated = loader, templated

    def construct(self, node: Node, path: tuple[str | int, ...]) -> Any:
        tag = node.tag
        if len(path) > MAX_DEPTH:
            raise _NotPlain
        child = self.child
        if tag == _MAP and node.__class__ is MappingNode:
            mapping: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.__class__ is not ScalarNode:
                    raise _NotPlain  # a merge key, or an unhashable key: PyYAML's errors
                if key_node.tag == _STR:
                    # every entry repeats the same keys: one string each (see construct_mapping)
                    key = key_node.value = sys.intern(key_node.value)
                else:
                    key = self.construct(key_node, path)
                if key in mapping:
                    raise _NotPlain  # a duplicate key, reported by construct_mapping
                mapping[key] = child(mapping, key, value_node, path)
            return mapping
        if tag == _SEQ and node.__class__ is SequenceNode:
            items: list[Any] = []
            for index, item in enumerate(node.value):
                items.append(child(items, index, item, path))
            return items
        if tag == _STR and node.__class__ is ScalarNode:
            return node.value
        if node.__class__ is ScalarNode:
            if tag == _NULL:
                return None
            constructor = _SCALARS.get(tag)
            if constructor is not None:
                value = constructor(self.loader, node)
                if value.__class__ is not Unfit:
                    return value
        raise _NotPlain

    def child(self, container: Any, key: Any, node: Node, path: tuple[str | int, ...]) -> Any:
        if node.tag == _STR and node.__class__ is ScalarNode:  # the common leaf, without a call
            if "${" in node.value:
                self.templated.append((container, key, (*path, key)))
            return node.value
        return self.construct(node, (*path, key))


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


@dataclass
class LoadedFile:
    """One parsed file. `data` is None when the file could not be parsed (see `problems`)."""

    path: str
    data: Any = None
    root: Node | None = None
    problems: list[Problem] = field(default_factory=list)
    plain: bool = False  # `data` holds no tuple, set, bytes, date nor refused value (see Unfit)
    empty: bool = False  # no document at all (nothing, or only comments)
    # values written in another file (an environment's override in syncer.yaml): path -> there
    elsewhere: dict[tuple[str | int, ...], Location] = field(default_factory=dict)
    # where the strings holding `${` sit in `data`, found while loading; None when not known
    # (PyYAML constructed it) or no longer true (`data` was copied or changed since)
    templated: Templated | None = None

    def problem(self, parts: Sequence[str | int], message: str, *, key: bool = False) -> Problem:
        """A problem with the value at `parts` (or its key), located, its path named."""
        return Problem(self.location(parts, key=key), message, document_path(parts))

    def location(self, parts: Sequence[str | int], *, key: bool = False) -> Location:
        """The position of the value at `parts` (or of its key, with `key=True`).

        Stops at the deepest node that exists, so a missing field points at its parent mapping.
        """
        if self.elsewhere:
            for end in range(len(parts), 0, -1):
                there = self.elsewhere.get(tuple(parts[:end]))
                if there is not None:
                    return there
        if self.root is None:
            return Location(self.path, 1, 1)
        node, key_node, complete = self._deepest(parts)
        if complete and key and key_node is not None:
            node = key_node
        mark = node.start_mark
        return Location(self.path, mark.line + 1, mark.column + 1)

    def item_locations(self, parts: Sequence[str | int]) -> list[Location] | None:
        """The position of each item of the list at `parts`, in one pass (what `location` gives
        one by one); None when no list is there, or a value came from another file."""
        if self.elsewhere or self.root is None:
            return None
        node, _, complete = self._deepest(parts)
        if not complete or not isinstance(node, SequenceNode):
            return None
        return [
            Location(self.path, item.start_mark.line + 1, item.start_mark.column + 1) for item in node.value
        ]

    def _deepest(self, parts: Sequence[str | int]) -> tuple[Node, Node | None, bool]:
        """The node at `parts` and its key node, or the deepest node that exists (not complete)."""
        assert self.root is not None
        node, key_node = self.root, None
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
                return node, key_node, False
            node = nxt
        return node, key_node, True


def plain_copy(value: Any) -> Any:
    """A copy of loaded data, mappings and lists new, scalars shared (much faster than deepcopy)."""
    if isinstance(value, dict):
        return {k: plain_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_copy(v) for v in value]
    return value


def copied(loaded: LoadedFile) -> LoadedFile:
    """A copy of a parsed file whose data can be changed (interpolated, merged) without changing
    the original; the node tree, which is only read, is shared."""
    return LoadedFile(
        loaded.path, plain_copy(loaded.data), loaded.root, list(loaded.problems), plain=loaded.plain
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
    (the order `_construct_plain` builds it, so what depends on order is the same whichever
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


def _constructed(loader: _StrictLoader, root: Node, *, aliased: bool) -> tuple[Any, Templated | None]:
    """The document's data, and where its strings with `${` sit (None: not known): the plain
    fast path where it applies, else PyYAML's constructor (a shared node, an alias, must stay
    one shared object)."""
    if not aliased:
        templated: Templated = []
        try:
            return _construct_plain(loader, root, templated), templated
        except _NotPlain:
            loader.unfit.clear()  # counted again by the full construction
    return loader.construct_document(root), None


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
        data, templated = _constructed(loader, root, aliased=b"*" in raw)
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
    loaded = LoadedFile(path, data, root, plain=loader.plain and not loader.unfit, templated=templated)
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
