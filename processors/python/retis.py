# SPDX-License-Identifier: GPL-2.0-only
"""Retis's Python bindings, for `retisc python` (doc/processing.md §6).

Compiled into the python processor (the Makefile turns this file into a C
string); `_retisc` is the processor's C module: open/next over the core's
file reader (Retis 1.5+ and retisc files, events or sorted) and render, the
core's text output. The classes follow Retis's documented API so that a
script written for `retis python` runs unchanged:

    for event in reader.events():
        if event.kernel:
            print(event.kernel.symbol)
"""
import base64
import code
import copy
import json
import runpy
import sys
import types

import _retisc

_EVENTS, _SERIES = 1, 2


def _key(d, name):
    """Section or field `name` of dict d: Python names use '_' where Retis
    names use '-' (skb_tracking is skb-tracking)."""
    if name in d:
        return name
    alt = name.replace("_", "-")
    return alt if alt in d else None


class Section:
    """A section of an event, or a dict inside one: fields as attributes
    (event.kernel.symbol) or items (event.kernel["symbol"])."""

    def __init__(self, name, data, top=False):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_top", top)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        k = _key(self._data, name)
        if k is None:
            raise AttributeError(f"'{self._name}' has no field '{name}'")
        return _wrap(k, self._data[k])

    def __getitem__(self, k):
        return _wrap(k, self._data[k])

    def __contains__(self, k):
        return k in self._data

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def __eq__(self, other):
        return self._data == (other._data if isinstance(other, Section) else other)

    def keys(self):
        return self._data.keys()

    def values(self):
        return self._data.values()

    def items(self):
        return self._data.items()

    def get(self, k, default=None):
        return self._data.get(k, default)

    def to_dict(self):
        return copy.deepcopy(self._data)

    def __repr__(self):
        return repr(self._data)

    def __str__(self):
        # A top-level section prints as `retisc print` shows it.
        if self._top:
            return _retisc.render(json.dumps({self._name: self._data}))
        return repr(self._data)


class SkbTrackingSection(Section):
    """skb-tracking: the packet's id, and matching helpers."""

    def tracking_id(self):
        return (self._data["timestamp"] << 64) | self._data["orig_head"]

    def match(self, other):
        """Same packet (same tracking id)."""
        return self.tracking_id() == other.tracking_id()

    def strict_match(self, other):
        """Same packet and same sk_buff (not a clone)."""
        return self.match(other) and self._data["skb"] == other._data["skb"]


class PacketSection(Section):
    """packet: the captured bytes, and a Scapy view of them."""

    @property
    def data(self):
        return base64.b64decode(self._data["data"])

    def to_scapy(self):
        try:
            from scapy.layers.l2 import Ether
        except ImportError as e:
            raise ImportError("to_scapy() needs Scapy (Debian: python3-scapy)") from e
        return Ether(self.data)


def _wrap(name, value, top=False):
    if isinstance(value, dict):
        cls = {"skb-tracking": SkbTrackingSection, "packet": PacketSection}.get(name, Section)
        return cls(name, value, top)
    return value


class Event:
    """One event: its sections as attributes (None when absent)."""

    def __init__(self, data):
        self._d = data

    def __getattr__(self, name):
        if name.startswith("__") or name == "_d":
            raise AttributeError(name)
        k = _key(self._d, name)
        return None if k is None else _wrap(k, self._d[k], top=True)

    def __getitem__(self, k):
        return _wrap(k, self._d[k], top=True)

    def __contains__(self, k):
        return k in self._d

    def sections(self):
        return list(self._d)

    def to_dict(self):
        return copy.deepcopy(self._d)

    def __repr__(self):
        return repr(self._d)

    def __str__(self):
        return _retisc.render(json.dumps(self._d))


class EventSeries:
    """The events of one packet, from a sorted file."""

    def __init__(self, events):
        self._events = [Event(e) for e in events]

    def __len__(self):
        return len(self._events)

    def __iter__(self):
        return iter(self._events)

    def __getitem__(self, i):
        return self._events[i]

    def to_dict(self):
        return [e.to_dict() for e in self._events]

    def __repr__(self):
        return repr(self.to_dict())

    def __str__(self):
        return "\n".join(str(e) for e in self._events)


class _Reader:
    _kind, _what = None, None

    def __init__(self, path):
        self._h, kind = _retisc.open(str(path))
        if kind != self._kind:
            raise ValueError(f"{path} is not {self._what}")

    def __iter__(self):
        return self

    def __next__(self):
        line = _retisc.next(self._h)
        if line is None:
            raise StopIteration
        return self._make(json.loads(line))


class EventReader(_Reader):
    """The events of a file written by collect (the startup event first)."""

    _kind, _what = _EVENTS, "an events file (sorted files: SeriesReader)"

    def _make(self, v):
        return Event(v)


class SeriesReader(_Reader):
    """The series of a file written by sort -o."""

    _kind, _what = _SERIES, "a sorted file (events files: EventReader)"

    def _make(self, v):
        return EventSeries(v)


class EventFile:
    """A file, sorted or not: events() or series() read it from the start."""

    def __init__(self, path):
        self._path = str(path)
        _, self._kind = _retisc.open(self._path)

    def sorted(self):
        return self._kind == _SERIES

    def events(self):
        return EventReader(self._path)

    def series(self):
        return SeriesReader(self._path)

    def __repr__(self):
        return f"<EventFile {self._path} ({'sorted' if self.sorted() else 'events'})>"


def _retisc_main(path, script):
    mod = types.ModuleType("retis")
    names = ("Event", "EventSeries", "EventReader", "SeriesReader", "EventFile")
    for n in names:
        setattr(mod, n, globals()[n])
    sys.modules["retis"] = mod
    try:
        reader = EventFile(path)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    env = {n: globals()[n] for n in names}
    env.update(reader=reader, sys=sys)
    if script is None:
        code.interact(banner=f"retisc python: `reader` reads {path}", local=env, exitmsg="")
    else:
        runpy.run_path(script, init_globals=env, run_name="__main__")
    return 0
