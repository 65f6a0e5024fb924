"""The test tiers: which marker every test file carries, decided here in one explicit table.

The root conftest.py gives each collected test the marker of its file (`tier_of`) before `-m`
selects, so `pytest -m unit`, `make test`, `make test-classroom` and CI all select by marker. A test
file missing from the table stops collection with the line to add: no test runs unmarked.

The tiers in OPT_IN (the classroom and the course image: they need `make course-image` and a
throwaway engine, minutes each) run only when the `-m` expression names them, so a bare
`pytest tests` never starts them by surprise (`-m classroom` does; `-m "not classroom"` names it too,
and deselects it).
"""
from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]

# marker -> what it needs (the pyproject.toml declarations say the same)
TIERS = {
    "unit": "no root, no world: saved real outputs",
    "world": "root and the session's real lab world (tests/integration)",
    "lifecycle": "root: worlds or engines of their own brought up, killed, restarted, downed, cleaned",
    "notebooks": "the chapters executed by nbval on the session world (lab solutions: their journeys, world)",
    "learner": "the chapters executed as a learner runs them, read as a front end shows them",
    "browser": "a real JupyterLab and Voila in headless Chromium",
    "classroom": "JupyterHub with three learners in a throwaway engine (make test-classroom)",
    "course_image": "the course image in a throwaway engine (make test-course-image)",
    "course_image_suite": "the whole make test inside the course image (make test-course-image-suite)",
    "course_image_arm64": "the arm64 course image under emulation (make test-course-image-arm64)",
}
OPT_IN = ("classroom", "course_image", "course_image_suite", "course_image_arm64")

# Repository-relative file, or folder ending in "/" (every file below it): its tier. A file's own
# entry wins over its folder's. Folders only where every file is of one tier.
TABLE = {
    "tests/unit/": "unit",
    "tests/unit/test_readme_contract.py": "unit",  # README.md as a contract (issue 20.5)
    "tests/unit/test_path_figure_rules.py": "unit",  # the path figure's hooks and rules met (issue 19.3)
    "tests/unit/test_translations.py": "unit",         # make check-translations (issue 22)
    "tests/unit/test_translation_terms.py": "unit",    # the Japanese edition's one terminology (issue 22)
    "tests/unit/test_labs_japanese.py": "unit",        # the labs' Japanese: ids, check, labs/ja, CLI (issue 22)
    "notebooks/": "notebooks",
    # Not collected by `make test` (tests/integration/test_lab_journeys.py runs each once, tier world);
    # the course image's own test and a hand-made `--nbval-lax labs/solutions` still find their tier here.
    "labs/solutions/": "notebooks",
    # The Japanese edition of the labs (issue 22): not collected by `make test` either; each Japanese
    # learner notebook runs once, cells start-check-reset, in tests/integration/test_lab_notebooks_ja.py.
    "labs/ja/": "notebooks",
    "tests/browser/": "browser",
    "tests/classroom/": "classroom",
    "tests/learner/test_detectors.py": "unit",
    "tests/learner/test_executed.py": "unit",
    "tests/learner/test_learner_view.py": "learner",
    "tests/course_image/test_course_image.py": "course_image",
    "tests/course_image/test_docker_build.py": "course_image",
    "tests/course_image/test_entrypoint_cgroup2.py": "course_image",
    "tests/course_image/test_arm64.py": "course_image_arm64",
    "tests/course_image/test_suite_inside.py": "course_image_suite",
    # tests/integration: the session world, or worlds and engines of a test's own (lifecycle)
    "tests/integration/test_capture_lifetime.py": "world",
    "tests/integration/test_claims_ch00.py": "world",
    "tests/integration/test_claims_ch01.py": "world",
    "tests/integration/test_claims_ch02.py": "world",
    "tests/integration/test_claims_ch03.py": "world",
    "tests/integration/test_claims_ch04.py": "world",
    "tests/integration/test_claims_ch05.py": "world",
    "tests/integration/test_claims_ch06.py": "world",
    "tests/integration/test_claims_ch07.py": "world",
    "tests/integration/test_claims_ch07_engines.py": "world",
    "tests/integration/test_claims_ch08.py": "world",
    "tests/integration/test_claims_ch09.py": "world",
    "tests/integration/test_doctor_live.py": "world",
    "tests/integration/test_pwru_live.py": "world",   # the kernel-function trace line (issue 19.6)
    "tests/integration/test_endpoint_live.py": "world",
    "tests/integration/test_engine_facts_live.py": "world",   # the engine table, on the engine in front
    "tests/integration/test_exec_root.py": "world",
    "tests/integration/test_explorer.py": "world",
    "tests/integration/test_gossip_names.py": "world",
    "tests/integration/test_images.py": "world",
    "tests/integration/test_lab_dns.py": "world",
    "tests/integration/test_lab_journeys.py": "world",         # runs labs/solutions/*.ipynb too
    "tests/integration/test_lab_notebooks_ja.py": "world",     # labs/ja/NN_*.ipynb, once each (issue 22)
    "tests/integration/test_labs_common.py": "world",
    "tests/integration/test_map_docker.py": "world",
    "tests/integration/test_paths.py": "world",
    "tests/integration/test_rule_trace.py": "world",           # the kernel's rule trace, --rules (issue 19)
    "tests/integration/test_scenario_lock.py": "world",
    "tests/integration/test_scenarios_drivers.py": "world",
    "tests/integration/test_shell.py": "world",
    "tests/integration/test_trace_cli.py": "world",
    "tests/integration/test_down_roots.py": "lifecycle",       # the last world's down, its roots
    "tests/integration/test_engine_env.py": "lifecycle",       # worlds of its own; host2's engine killed
    "tests/integration/test_engine_lifecycle.py": "lifecycle", # EngineSite stop/remove, the marked sweep
    "tests/integration/test_engines_live.py": "lifecycle",     # worlds of its own on Docker 28 (issue 25.1)
    "tests/integration/test_engine_pidns.py": "lifecycle",     # down/clean beside a course container's engines
    "tests/integration/test_fault_injection.py": "lifecycle",  # SIGKILL of up, down, trace, engines
    "tests/integration/test_hardening.py": "lifecycle",        # worlds of its own, their locks, down/clean
    "tests/integration/test_hardening_no_engine.py": "lifecycle",  # usage refusals, a lock's waiter: no engine
    "tests/integration/test_sandbox.py": "lifecycle",          # throwaway engines stopped, crashed, cleaned
    "tests/integration/test_world.py": "lifecycle",            # up, down, two worlds, a killed up
    "tests/integration/test_world_cleanup.py": "lifecycle",    # crashed worlds swept by clean
    "tests/integration/test_world_sysctls.py": "lifecycle",    # worlds of its own on a forwarding machine
}

# Test files whose tests never meet the session world's engines ($DNLAB_ENGINE chooses only those): their
# engines, if any, are chosen by the test itself, so CI's Docker 28 leg (.ci/run), which runs on this
# machine right after this machine's leg, would run them exactly as that leg just did. .ci/run leaves
# them out of the Docker 28 leg (`make test-engine28` still runs everything); the Debian 13 leg runs
# them on its own machine's engine (26.1). tests/unit/test_tiers_engines.py checks that none of them
# asks for the session world's engines (`world` fixture, `lab()`, `up()` without a spec).
SAME_ON_EVERY_SESSION_ENGINE = {
    "tests/integration/test_claims_ch07_engines.py":
        "its side world's engines are ch07.SIDE_SPEC's (host1 the machine's, host2 Docker 28)",
    "tests/integration/test_engines_live.py": "worlds of its own, each up with an explicit engine spec",
    "tests/integration/test_sandbox.py": "throwaway engines on the machine's dockerd (ThrowawayEngine's default)",
    "tests/integration/test_engine_lifecycle.py": "engine sites on the machine's dockerd, and bare namespaces",
    "tests/integration/test_engine_pidns.py": "processes and their pid namespaces, no engine",
    "tests/integration/test_down_roots.py": "folders and a tmpfs mount, no engine",
    "tests/integration/test_pwru_live.py": "the machine's packages and kernel, no engine",
    "tests/integration/test_hardening_no_engine.py":
        "refusals as usage before any world is read, the writer's link race, a lock's waiter: no engine",
    "tests/browser/test_japanese_lab_browser.py":
        "a JupyterLab of its own with the Japanese settings, read in Chromium: no world, no engine",
}


# Files the Docker 28 leg leaves out although they do meet its engines: what they check is the UI, the
# same JupyterLab and Chromium on this machine as in the machine's leg just before (the Debian 13 leg
# runs them with its own Chromium). What the explorer and the chapters show on Docker 28 is checked on
# it without a browser: tests/integration/test_explorer.py (the explorer's facts against the engine) and
# nbval (every chapter's figures made and its claims asserted).
UI_SAME_ON_EVERY_SESSION_ENGINE = {
    "tests/browser/test_explorer_browser.py":
        "the explorer widget in JupyterLab and Voila; its facts on Docker 28: tests/integration/test_explorer.py",
    "tests/browser/test_figures_browser.py":
        "chapter figures shown as images in JupyterLab; the figures themselves: the chapters under nbval",
}


# CI's Docker 28 leg runs in two parts, one in each of .ci/run's two lanes, so the lanes end about
# together: this machine's lane runs its own leg, then part 1; the other lane runs the Debian 13 leg and
# the classroom, then part 2 (on this machine, world e28b). Two suites at once at most, as before; every
# file of the leg runs once. Part 2: what the other lane has to spare (2026-12-07's fresh-clone run
# before the split: the lanes ended at 1768 s and ~1350 s; with the journeys and gossip tests in part 2,
# at e9d1c1a, lane 1 ended at 1778 s and lane 2 about 70 s before it, so chapter 7's claims, 35 s of
# part 1, moved too).
ENGINE28_SECOND_PART = (
    "tests/integration/test_lab_journeys.py",
    "tests/integration/test_gossip_names.py",
    "tests/integration/test_claims_ch07.py",
)


def collected_paths(root: Path) -> list[str]:
    """Every file `scripts/test.sh` hands pytest and nbval: tests/**/test_*.py and notebooks/**/*.ipynb
    (the Japanese chapters, notebooks/ja, are collected where tests/worlds.py japanese_chapters_here)."""
    found = [path.relative_to(root) for path in (*root.glob("tests/**/test_*.py"), *root.glob("notebooks/**/*.ipynb"))]
    # Not a working copy's hidden folders (JupyterLab's .ipynb_checkpoints): a clone has none.
    return sorted(path.as_posix() for path in found if not any(part.startswith(".") for part in path.parts))


def other_engine_ignores(part: int, root: Path = ROOT) -> str:
    """pytest's --ignore options for a part of .ci/run's Docker 28 leg: SAME_ON_EVERY_SESSION_ENGINE's
    and UI_SAME_ON_EVERY_SESSION_ENGINE's files, and for `part` 1 the files of ENGINE28_SECOND_PART, for
    part 2 every file but those."""
    if part not in (1, 2):
        raise ValueError(f"the Docker 28 leg has parts 1 and 2, not {part!r}")
    left_out = set(SAME_ON_EVERY_SESSION_ENGINE) | set(UI_SAME_ON_EVERY_SESSION_ENGINE)
    if part == 1:
        left_out |= set(ENGINE28_SECOND_PART)
    elif part == 2:
        others = set(collected_paths(root)) - set(ENGINE28_SECOND_PART)
        # A folder below tests/ holding none of the part's files is left out whole (a shorter command
        # line to read); not notebooks/, which scripts/test.sh names itself, and pytest collects a path
        # it is given whatever --ignore says.
        kept_folders = {str(PurePosixPath(path).parent) for path in ENGINE28_SECOND_PART}

        def whole_folder(path: str) -> bool:
            folder = PurePosixPath(path).parent
            return str(folder) not in kept_folders and len(folder.parts) > 1

        left_out = ({str(PurePosixPath(path).parent) for path in others if whole_folder(path)}
                    | {path for path in others if not whole_folder(path)})
    return " ".join(f"--ignore={path}" for path in sorted(left_out))


class UntieredTest(Exception):
    """A test file the table does not name."""


def tier_of(relative: str) -> str:
    """The tier of the test file at `relative` (repository-relative, '/'-separated)."""
    path = PurePosixPath(relative)
    if relative in TABLE:
        return TABLE[relative]
    for parent in path.parents:
        tier = TABLE.get(f"{parent}/")
        if tier:
            return tier
    raise UntieredTest(
        f"{relative} has no test tier: add it to TABLE in tests/tiers.py "
        f"(one of {', '.join(TIERS)}), so `-m` selects it")


def named_opt_in(markexpr: str) -> set[str]:
    """The opt-in tiers a `-m` expression names (whole words: course_image is not course_image_suite)."""
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", markexpr or "")) & set(OPT_IN)
