"""The packet-path model and tracer: `trace(world, scenario, probe) -> Path`.

    path = trace(world, "user-bridge", "egress")
    print(path.summary())          # text, hop by hop
    path.to_json()                 # {"hops": [{"namespace", "interface", "action", "src", "dst",
                                   #            "src_mac", "dst_mac", "changes", ...}], ...}
"""
from helpers.path.build import Observed, build_path
from helpers.path.model import Hop, Path, Step
from helpers.path.trace import load, rebuild, trace

__all__ = ["trace", "rebuild", "load", "Path", "Hop", "Step", "Observed", "build_path"]
