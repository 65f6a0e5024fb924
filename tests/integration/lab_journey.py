"""What every lab journey (tests/integration/test_lab_journeys.py) shares: the lab's solution notebook
run as a learner runs it, steps that name themselves when they fail, the world around the labs that a
reset must restore, and the small builders the wrong and right fixes use (lab_fixes_build.py,
lab_fixes_trouble.py, test_labs_common.py).

The solution notebook (labs/solutions/NN_*.ipynb, written by helpers.labs.notebooks from
helpers.labs.solutions) runs in one kernel, cell by cell, in the notebook's folder, on the session
world ($DNLAB_WORLD, set by the `world` fixture; lab passes go to the throwaway record of `lab_world`):
its start cells (the setup cell ends with `lab.start(world)`), then its fix (every cell up to its own
strict check), then its tidy-up cell (`lab.reset(world)`), whose result is the reset's list of what it
did. Every cell runs once per journey; an error in any cell fails the journey at that step.
"""
from __future__ import annotations

import ast
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbclient.util import run_sync

from helpers import labs
from helpers.labs import state
from helpers.lessons import facts
from helpers.world import swarm
from helpers.world.naming import IDLE, IMAGE

ROOT = Path(__file__).resolve().parents[2]
WEB = ["httpd", "-f", "-p", "80", "-h", "/www"]
CELL_TIMEOUT = 900  # seconds for one cell (lab 13's start makes a swarm; nbval's default was 2000)


STEP_SECONDS: list[tuple[str, float]] = []  # (step, seconds) of the journey running now, for its report


@contextmanager
def step(name: str) -> Iterator[None]:
    """One step of a journey: whatever fails inside it (an assertion, a LabError, a cell) says which
    step; its time goes to STEP_SECONDS."""
    started = time.monotonic()
    try:
        yield
    except BaseException as error:
        error.add_note(f"journey step: {name}")
        raise
    finally:
        STEP_SECONDS.append((name, time.monotonic() - started))


class Kernels:
    """A fresh kernel for each journey, each started one journey ahead: while a journey runs, the next
    one's kernel boots (1-3 s), in the same folder (labs/solutions/, every solution notebook's) with
    the same environment (the session world, the module's throwaway progress record). Each kernel
    still runs one notebook only and is shut down after it; `close()` ends the one left over."""

    def __init__(self) -> None:
        self.spare: tuple[str, object] | None = None   # (its folder, its kernel manager)

    def _start(self, client: NotebookClient) -> object:
        client.km = client.create_kernel_manager()
        client.start_new_kernel()   # the process only: the client connects when the journey needs it
        return client.km

    def give(self, client: NotebookClient) -> None:
        """`client` gets the kernel started for it one journey ago (or one started now), and the next
        journey's kernel starts booting."""
        folder = client.resources["metadata"]["path"]
        if self.spare is not None and self.spare[0] == folder:
            client.km = self.spare[1]
            self.spare = None
        else:
            self.close()
            self._start(client)
        starter = NotebookClient(client.nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources=client.resources)
        self.spare = (folder, self._start(starter))

    def close(self) -> None:
        if self.spare is not None:
            km, self.spare = self.spare[1], None
            run_sync(km.shutdown_kernel)(now=True)
            run_sync(km.cleanup_resources)()


class SolutionNotebook:
    """A lab's solution notebook in three parts, run in one kernel: `start`, `fix`, `tidy`."""

    def __init__(self, lab, kernels: Kernels | None = None) -> None:
        self.kernels = kernels or Kernels()
        self.path = ROOT / lab.solution_notebook
        self.nb = nbformat.read(self.path, as_version=4)
        code = [i for i, cell in enumerate(self.nb.cells) if cell.cell_type == "code"]
        sources = [self.nb.cells[i].source.strip() for i in code]
        # The shape helpers.labs.notebooks.solution_notebook writes; a change there must show up here.
        starts = [n for n, source in enumerate(sources) if source.endswith("lab.start(world)")]
        assert starts == [0], f"{self.path.name}: the first code cell must end with lab.start(world): {sources[:1]}"
        assert sources[-2:] == ["lab.check(world, strict=True, record=False)", "lab.reset(world)"], \
            f"{self.path.name} must end with its strict check and its reset cell: {sources[-2:]}"
        self.parts = {"start": code[:1], "fix": code[1:-1], "tidy": code[-1:]}
        self.ran: list[int] = []
        # "immediate": the kernel is killed once the reset cell has returned rather than asked to exit
        # (a graceful exit waited 0.3-1.4 s per lab for nothing: a lab notebook's cells leave nothing
        # to the kernel's exit handlers, facts.capture removes its own pcaps).
        self.client = NotebookClient(self.nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(self.path.parent)}},
                                     shutdown_kernel="immediate")

    @contextmanager
    def booting(self) -> Iterator[SolutionNotebook]:
        """The notebook's own kernel, started in its folder ahead of the journey (`Kernels`) or now, so
        that it boots while the journey's first steps run; shut down at the end, whatever happens.
        `kernel()` waits for it."""
        self.client.reset_execution_trackers()
        self.kernels.give(self.client)
        try:
            yield self
        finally:
            if self.client.km is not None:  # (nbclient already cleaned up after a client that never connected)
                self.client._cleanup_kernel()  # nbclient's own end of setup_kernel(): the kernel, its client

    @contextmanager
    def kernel(self) -> Iterator[SolutionNotebook]:
        """The kernel (started by `booting`), ready for cells: its client connected once it answers."""
        with self.client.setup_kernel(cleanup_kc=False):  # booting() shuts it down
            yield self
        missing = [i for part in self.parts.values() for i in part if i not in self.ran]
        assert not missing, f"{self.path.name}: cells {missing} never ran"

    def run(self, part: str) -> list:
        """Run one part's cells in order; the outputs of its last cell. A cell's error fails the step."""
        outputs: list = []
        for index in self.parts[part]:
            cell = self.nb.cells[index]
            try:
                self.client.execute_cell(cell, index)
            except CellExecutionError as error:
                plain = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # the kernel's traceback, without colours
                raise AssertionError(f"{self.path.relative_to(ROOT)}, cell {index} ({part}) failed:\n{plain}") from None
            self.ran.append(index)
            outputs = cell.outputs
        return outputs

    def tidy(self) -> list[str]:
        """Run the tidy-up cell (`lab.reset(world)`): what the reset did, read from the cell's result."""
        outputs = self.run("tidy")
        results = [o for o in outputs if o.output_type == "execute_result"]
        assert results, f"{self.path.name}: the reset cell showed no result: {outputs}"
        return ast.literal_eval(results[0].data["text/plain"])


# --- the world around the labs ------------------------------------------------------------------------

def baseline(world) -> dict:
    """World state outside the labs' names that a lab may break and its reset must restore."""
    host1 = facts.state(world, "host1", "links", "routes", "rules")
    return {"gateway": next((route.gateway for route in host1.routes if route.dst == "default"), None),
            "masquerade": sorted(str(rule) for rule in host1.rules if rule.target == "MASQUERADE"),
            # veth names are left out: leaving a swarm restarts the course's published containers
            # (see helpers.world.swarm), which gives their veths new names; the links a lab adds
            # (a macvlan shim, a bridge) are what must be gone.
            "links": sorted(iface.name for iface in host1.interfaces
                            if iface.kind != "veth" and not iface.name.startswith("veth")),
            "swarm": [swarm.state(h.docker) for h in world.hosts.values()]}


def names_left(world, lab) -> list[str]:
    left = [f"{host}:{name}" for host, name in lab.containers
            if state.container(world.hosts[host].docker, name) is not None]
    left += [f"{host}:{name}" for host, name in lab.networks
             if state.network(world.hosts[host].docker, name) is not None]
    return left


# --- builders and readers the fixes share -------------------------------------------------------------

@contextmanager
def fresh(world, number: int):
    """The lab reset before the fix is built and after it, whatever happens."""
    lab = labs.get(number)
    lab.reset(world)
    try:
        yield lab
    finally:
        lab.reset(world)


def run(world, name: str, command=IDLE, **kwargs):
    return world.host1.docker.containers.run(IMAGE, command, name=name, detach=True, labels=world.label, **kwargs)


def docker_cli(world, args: str) -> str:
    """The real docker CLI against host1's engine, as the learner types it."""
    return facts.cli(world, "host1", args)


def item(result, what_part: str):
    found = [i for i in result.items if what_part in i.what]
    assert found, f"no item about {what_part!r}:\n{result}"
    return found[0]


def failing(result, what_part: str):
    """The check failed, and it failed at the item about `what_part`, with a message and a hint."""
    assert not result.passed, str(result)
    it = item(result, what_part)
    assert it.status == "fail", f"{what_part!r} did not fail:\n{result}"
    assert it.problem.strip() and it.hint.strip(), f"an empty problem or hint:\n{result}"
    assert all(other.hint.strip() for other in result.failed), f"a failing item without a hint:\n{result}"
    return it


def items(result) -> dict:
    return {it.what: it for it in result.items}


def text(result) -> str:
    return "\n".join(f"{i.what} {i.problem} {i.hint}" for i in result.items).lower()


def check(world, number: int):
    return labs.get(number).check(world, record=False)
