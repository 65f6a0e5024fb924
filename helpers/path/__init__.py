"""The packet-path model and tracer: `trace(world, scenario, probe) -> Path`.

    path = trace(world, "user-bridge", "egress")
    print(path.summary())          # text, hop by hop
    path.to_json()                 # {"hops": [{"namespace", "interface", "action", "src", "dst",
                                   #            "src_mac", "dst_mac", "changes", ...}], ...}

Attributes load lazily: `dnlab up` imports the CLI, which must not pay for scapy.
"""
from __future__ import annotations

import importlib

_WHERE = {"trace": "tracer", "rebuild": "tracer", "load": "tracer", "Path": "model", "Hop": "model",
          "Step": "model", "Observed": "build", "build_path": "build"}
__all__ = list(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(f"helpers.path.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(name)
