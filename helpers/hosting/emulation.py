"""What qemu-user cannot carry, known by the error text the kernel and qemu give: the arm64 course
image's smoke test (tests/course_image/test_arm64.py) runs on an amd64 machine through qemu-user-static
(binfmt_misc), and a step of it ends in one of three ways:

- it ran (exit 0);
- it failed with exactly one of the KNOWN limitations below, in the error the command ended on: the
  step was not run under qemu-user, and that is said with the reason (never a pass, never a silent skip);
- it failed any other way: a real failure.

qemu-user translates a program's system calls for the machine's kernel. Its netlink translation
(qemu 7.2, linux-user/fd-trans.c) knows a few rtnetlink message types and no netfilter ones, so the
kernel never sees the request it does not know: `ip` gets EOPNOTSUPP ("Cannot talk to rtnetlink:
Operation not supported") on a request the translation does not know (`ip link show` in a namespace
does, measured: adding bridges, veth pairs, addresses and routes goes through), and iptables' nft
backend and nft cannot open NETLINK_NETFILTER ("Failed to initialize nft: Protocol not supported";
nft: "Unable to initialize Netlink socket: Protocol not supported"). A full-system emulation (a real
arm64 kernel under qemu-system-aarch64: scripts/course-image/arm64-system.sh) carries all of them:
the same commands, the same Debian arm64 binaries, ran there (docs/COURSE_IMAGE.md "arm64").
"""
from __future__ import annotations

from dataclasses import dataclass

from helpers.errors import EXIT_LAB_ERROR

# The error text (as the program prints it) -> what qemu-user does not carry.
KNOWN = {
    "Cannot talk to rtnetlink: Operation not supported":
        "qemu-user's netlink translation does not carry this rtnetlink request (`ip` gets EOPNOTSUPP)",
    "Failed to initialize nft: Protocol not supported":
        "qemu-user does not carry nftables' netlink (iptables-nft cannot open NETLINK_NETFILTER)",
    "Unable to initialize Netlink socket: Protocol not supported":
        "qemu-user does not carry nftables' netlink (nft cannot open NETLINK_NETFILTER)",
}

RAN, NOT_RUN, FAILED = "ran", "not run under qemu-user", "failed"

# dnlab's own error (helpers/cli _report): "dnlab: <what is wrong>" (lines, when a program's output is
# quoted), then "  fix: <command>".
_DNLAB_ERROR = "dnlab: "
_FIX = "  fix: "


@dataclass(frozen=True)
class Outcome:
    """How a step ended: RAN, NOT_RUN (reason: the limitation) or FAILED (reason: the error)."""
    status: str
    reason: str = ""

    def __str__(self) -> str:
        return self.status + (f": {self.reason}" if self.reason else "")


def limitation(text: str) -> str | None:
    """The known limitation `text` shows (None: none of them)."""
    for error, reason in KNOWN.items():
        if error in text:
            return f"{reason} (\"{error}\")"
    return None


def dnlab_step(returncode: int, stderr: str) -> Outcome:
    """A `dnlab` command's outcome: it ran (0); it was not run under qemu-user when it ended with the
    lab's error exit (4) on a message that names a known limitation; any other end is a failure. Only
    the message dnlab ended on counts (the last "dnlab: " line): a known error text printed on the
    way does not excuse another cause."""
    if returncode == 0:
        return Outcome(RAN)
    last = last_error(stderr)
    known = limitation(last) if returncode == EXIT_LAB_ERROR else None
    if known:
        return Outcome(NOT_RUN, known)
    tail = last.splitlines()[0] if last else (stderr.strip().splitlines() or ["no output"])[-1]
    return Outcome(FAILED, f"exit {returncode}: {tail}")


def last_error(stderr: str) -> str:
    """The error dnlab ended on: from its last "dnlab: " line up to its fix line ("" if there is none)."""
    lines = stderr.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(_DNLAB_ERROR)]
    if not starts:
        return ""
    message = []
    for line in lines[starts[-1]:]:
        if line.startswith(_FIX):
            break
        message.append(line)
    return "\n".join(message).removeprefix(_DNLAB_ERROR)


def command_step(returncode: int, output: str) -> Outcome:
    """Another program's outcome (`docker run`): it ran (0); not run under qemu-user when its last
    line of output names a known limitation; else a failure."""
    if returncode == 0:
        return Outcome(RAN)
    tail = (output.strip().splitlines() or ["no output"])[-1]
    known = limitation(tail)
    return Outcome(NOT_RUN, known) if known else Outcome(FAILED, f"exit {returncode}: {tail}")


def doctor_checks(checks: list[dict]) -> tuple[list[str], list[str]]:
    """`dnlab doctor --json`'s required checks that failed: (those failing on a known limitation, as
    "name: reason"; every other one, as "name: detail")."""
    not_run, failed = [], []
    for check in checks:
        if check["required"] and not check["ok"]:
            known = limitation(check["detail"])
            (not_run if known else failed).append(f"{check['name']}: {known or check['detail']}")
    return not_run, failed


# The arm64 smoke test's steps, run in one shell in the image (a container under qemu-user, or the VM
# of full-system emulation): the world up, a container on host1, one traced path to the inner
# internet. Each step's end is marked on stderr; the first that does not exit 0 ends the script.
STEP_MARK = "==> dnlab-arm64 step "


def smoke_steps(context: str, image: str) -> list[tuple[str, str, str]]:
    """(name, shell command, kind: "dnlab" or "command") of each step, in order."""
    return [
        ("up", "dnlab up >&2", "dnlab"),
        ("container", f"docker --context {context} run -d --name arm-probe {image} sleep 600 >&2", "command"),
        ("trace", "dnlab trace arm-probe inet --json", "dnlab"),
    ]


def smoke_script(context: str, image: str) -> str:
    """The steps as one `sh -c` script: each one's exit status marked on stderr, stop at the first failure."""
    lines = []
    for name, command, _ in smoke_steps(context, image):
        lines.append(f'{command}; rc=$?; echo "{STEP_MARK}{name} exit $rc" >&2; [ "$rc" -eq 0 ] || exit 10')
    return "\n".join(lines)


def smoke_outcomes(stderr: str, context: str, image: str) -> list[tuple[str, Outcome]]:
    """Each step that ran to an end (marked), with its outcome, from the script's stderr; a step's own
    output is what came after the previous mark."""
    kinds = {name: kind for name, _, kind in smoke_steps(context, image)}
    outcomes, chunk = [], []
    for line in stderr.splitlines():
        if line.startswith(STEP_MARK):
            name, _, code = line.removeprefix(STEP_MARK).partition(" exit ")
            text = "\n".join(chunk)
            judge = dnlab_step if kinds.get(name) == "dnlab" else command_step
            outcomes.append((name, judge(int(code), text)))
            chunk = []
        else:
            chunk.append(line)
    return outcomes
