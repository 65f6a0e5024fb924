"""What each troubleshooting lab's check reports once its fault is in place: the SYMPTOM the learner
observes (a failing item's `what`), never the cause: the labs keep their mystery. CAUSE_WORDS name
each lab's cause: the learner must not meet them before the fix. Read by the lab journeys
(test_lab_journeys.py, lab_fixes_trouble.py) and test_labs_common.py."""
from __future__ import annotations

SYMPTOM = {
    8: "lab8-app reaches the internet service",
    9: "lab9-web reaches lab9-api by name",
    10: "the internet machine reaches the shop at host1:9081",
    11: "lab11-app reaches the internet service",
    12: "host1 reaches lab12-web over HTTP",
    13: "lab13-b reaches lab13-a with full-size packets (1450 bytes)",
}

CAUSE_WORDS = {
    8: ["default route", "gateway", "routing table"],
    9: ["default bridge", "embedded dns answers", "network connect"],
    10: ["publish", "-p 9081", "dnat", "docker-proxy"],
    11: ["masquerade", "snat", "nat table", "postrouting"],
    12: ["shim", "parent", "aux", "bridge mode"],
    13: ["mtu", "fragment", "underlay", "vxlan", "1500 bytes"],
}
