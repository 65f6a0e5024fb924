"""What each troubleshooting lab's check reports once its fault is in place: the SYMPTOM the learner
observes (a failing item's `what`), never the cause: the labs keep their mystery. CAUSE_WORDS name
each lab's cause: the learner must not meet them before the fix. Both are the lab's own
(`Lab.symptom`, `Lab.cause_words` in helpers/labs/labNN.py). Read by the lab journeys
(test_lab_journeys.py, lab_fixes_trouble.py) and test_labs_common.py."""
from __future__ import annotations

from helpers import labs

SYMPTOM = {lab.number: lab.symptom for lab in labs.all_labs() if lab.symptom}

CAUSE_WORDS = {lab.number: list(lab.cause_words) for lab in labs.all_labs() if lab.cause_words}
