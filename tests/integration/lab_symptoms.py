"""What each troubleshooting lab's check reports once its fault is in place: the SYMPTOM the learner
observes (a failing item's `what`), never the cause: the labs keep their mystery. Read by test_labs
and test_lab_fixes_trouble."""
from __future__ import annotations

SYMPTOM = {
    8: "lab8-app reaches the internet service",
    9: "lab9-web reaches lab9-api by name",
    10: "the internet machine reaches the shop at host1:9081",
    11: "lab11-app reaches the internet service",
    12: "host1 reaches lab12-web over HTTP",
    13: "lab13-b reaches lab13-a with full-size packets (1450 bytes)",
}
