"""The kernel's own account of a probe: every netfilter rule its packets met, from nftables tracing.

With iptables-nft (Debian 12 and 13, every engine the course runs), an `-j TRACE` rule in the raw
table sets nftrace on the packets it matches, and `xtables-monitor --trace`, run in that namespace,
prints each table:chain:rule a traced packet met, with its verdict, and the packet's headers each
time it enters a hook (so a NAT rule's rewrite shows at the next hook). Tracing is per namespace: a
packet that crosses a veth into another namespace is traced there only if a rule there marks it.

For one probe, `NfTrace(namespaces, flow)`:

- `launch()` starts one `xtables-monitor --trace --event` per namespace (under `setpriv --pdeathsig
  KILL`: it dies with the thread that started it, even on a SIGKILL) and writes the ledger (below);
- `arm()` (any thread: the tracer runs it beside the captures' start) waits, per namespace, until
  the kernel lists the monitor's netlink socket as subscribed to the trace group
  (`/proc/<pid>/net/netlink`; no sleep), then adds the marks: where `nft` is installed, a table of
  the trace's own, `table ip dnlab-trace-<pid>-<random>` (one `nft -f`), whose PREROUTING and OUTPUT
  base chains sit just before the raw table (priority raw - 1) and set nftrace on the probe's flow
  only: its protocol, its target address and port (the request), the same seen from the other side
  (the reply), and the source port when the probe chose one (xtables-monitor prints those rules as
  iptables would: `-m comment --comment dnlab-trace-... -j TRACE`). Without nft, the same matches
  as `-j TRACE` rules first in iptables' raw PREROUTING and OUTPUT, commented
  `dnlab-trace-<pid>-<random>[-new]` (`-new`: the raw table was made for them and goes with them);
  `start()` is launch, arm and `wait_ready()`;
- `stop()` deletes the table (or the rules), waits until each monitor has printed the deletion
  (netlink keeps the order, so every trace line of the probe is in before it), ends the monitors
  and returns each namespace's text. Call it in a `finally`: it runs on any exception.

A SIGKILL runs no `finally`. Its monitors die with it (pdeathsig), and what it could not remove is in
its *ledger*: with `ledger_dir` (the tracer's is `<world run folder>/nftrace`), `start()` writes
`<pid>-<tag>.json` there (each namespace's path and inode, each monitor's pid and start time) before
it adds a mark, and holds an flock on it until `stop()` removes it. `sweep_ledgers(dir)` takes the
ledgers whose lock is free (the owner is gone): it kills their monitors if any still live and
removes their tables and rules. The next trace runs it, so does every `dnlab` command for its world
(helpers/cli), and `dnlab clean` also looks in every namespace of each world for the rules of a dead
owner (`sweep_world`), ledger or not.

`parse_monitor(text)` turns what xtables-monitor printed into `Passage`s (one packet through one
hook of one table: its headers there and the rules it met, each as iptables-save prints it, with
its verdict). It is pure, so the unit tests replay saved real outputs.

A learner's own nftables table (`nft add table inet mine`, a base chain at a hook) is traced by the
same marks: nftrace, once set (priority -301 or the raw table's -300), holds for every later
base chain of the packet, and xtables-monitor prints those events too (measured here, nft 1.0.6,
kernel 6.18: `TRACE: 1 <id> mine:fwd:rule:0x2:DROP`, family 1 = inet), without the rule's text for
an inet table (for an ip one, its iptables translation). So `stop()` reads each native table met
(`nft -a list table FAMILY NAME`, in `native`), and `parse_monitor(text, native)` names its rules
by handle as nft prints them (`Met.syntax` "nft"), its base chains by their hook. A chain at a
priority below -301 (or -300 without nft) sees the packet before the trace marks it: not traced.

A namespace without xtables-monitor or with legacy iptables is not traced; `NfTrace.untraced`
says why, and the path falls back to the rules' counters.
"""
from __future__ import annotations

import fcntl
import functools
import ipaddress
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from helpers.world.naming import LEDGER_DIR  # in a world's run folder: one ledger per running trace
from helpers.world.proc import NETNS_DIR, dying_with_owner, end_all

MARK = "dnlab-trace-"
_MARK_RE = re.compile(r"--comment\s+\"?" + re.escape(MARK) + r"(\d+)-([0-9a-f]+)(-new)?\"?")
_PROTO = {"ping": "icmp", "tcp": "tcp", "http": "tcp", "udp": "udp"}
_ICMP = {4: "icmp", 6: "ipv6-icmp"}
# Verdicts xtables-monitor prints as numbers (enum nft_verdicts, as a u32).
_VERDICTS = {"0xffffffff": "CONTINUE", "0xfffffffe": "BREAK", "0xfffffffd": "JUMP", "0xfffffffc": "GOTO",
             "0xfffffffb": "RETURN"}
TERMINAL = ("ACCEPT", "DROP", "QUEUE", "STOLEN", "REJECT")
IPTABLES_TABLES = ("raw", "mangle", "nat", "filter", "security")   # iptables-nft's own; any other is native
NFPROTO = {"1": "inet", "2": "ip", "3": "arp", "5": "netdev", "7": "bridge", "10": "ip6"}
NETLINK_NETFILTER = 12
NFNLGRP_NFTRACE_BIT = 1 << (9 - 1)   # group 9, bit 8 of /proc/net/netlink's Groups
READY_TIMEOUT = 5.0
DRAIN_TIMEOUT = 2.0
LEDGER_GRACE = 60.0         # a ledger still being written (`.tmp`) is left alone this long


@dataclass(frozen=True)
class Flow:
    """The probe's flow as the probe sends it: protocol, target address and port, source port if
    chosen. Matched on the target side only (`-d` for the request, `-s` for the reply): a SNAT on
    the way changes the source, never what the probe was sent to."""

    kind: str                   # ping | tcp | http | udp
    target: str                 # an address
    port: int | None = None     # the target port (None for a ping)
    sport: int | None = None    # the source port, when the probe chose one

    @property
    def family(self) -> int:
        return ipaddress.ip_address(self.target).version

    @property
    def proto(self) -> str:
        return _ICMP[self.family] if self.kind == "ping" else _PROTO[self.kind]

    def matches(self) -> list[tuple[str, str]]:
        """(face, iptables match) for the request and the reply."""
        proto = f"-p {self.proto}"
        if self.kind == "ping":
            return [("request", f"{proto} -d {self.target}"), ("reply", f"{proto} -s {self.target}")]
        request = f"{proto} -d {self.target} -m {self.proto} --dport {self.port}"
        reply = f"{proto} -s {self.target} -m {self.proto} --sport {self.port}"
        if self.sport is not None:
            request += f" --sport {self.sport}"
            reply += f" --dport {self.sport}"
        return [("request", request), ("reply", reply)]

    def nft_matches(self) -> list[tuple[str, str]]:
        """(face, nft match) for the request and the reply: `matches()` in nft's words."""
        ip = "ip6" if self.family == 6 else "ip"
        if self.kind == "ping":
            l4 = f"meta l4proto {self.proto}"
            return [("request", f"{ip} daddr {self.target} {l4}"), ("reply", f"{ip} saddr {self.target} {l4}")]
        request = f"{ip} daddr {self.target} {self.proto} dport {self.port}"
        reply = f"{ip} saddr {self.target} {self.proto} sport {self.port}"
        if self.sport is not None:
            request += f" {self.proto} sport {self.sport}"
            reply += f" {self.proto} dport {self.sport}"
        return [("request", request), ("reply", reply)]

    def nft_table(self, name: str) -> str:
        """`nft -f` input: a table of the trace's own (`name`, also each rule's comment) whose base
        chains, just before the raw table's (priority raw - 1), set nftrace on the flow's packets.
        xtables-monitor prints its rules as iptables would (`-m comment --comment NAME -j TRACE`)."""
        chains = []
        for chain, hook in (("PREROUTING", "prerouting"), ("OUTPUT", "output")):
            rules = [f"\t\t{match} meta nftrace set 1 comment \"{name}\"" for _, match in self.nft_matches()]
            chains.append(f"\tchain {chain} {{\n\t\ttype filter hook {hook} priority raw - 1; policy accept;\n"
                          + "\n".join(rules) + "\n\t}")
        return f"table {'ip6' if self.family == 6 else 'ip'} {name} {{\n" + "\n".join(chains) + "\n}\n"

    def restore_lines(self, comment: str, verb: str = "-I") -> str:
        """The iptables-restore input that inserts (`-I`) or deletes (`-D`) the flow's TRACE rules."""
        position = " 1" if verb == "-I" else ""
        lines = ["*raw"]
        for chain in ("PREROUTING", "OUTPUT"):
            for _, match in self.matches():
                lines.append(f"{verb} {chain}{position} {match} -m comment --comment {comment} -j TRACE")
        return "\n".join([*lines, "COMMIT", ""])


def flow_of(kind: str, target: str, port: int | None, default_port: int) -> Flow | None:
    """The Flow of a probe, or None when its target is no address (a name only Docker's DNS knows)."""
    try:
        ipaddress.ip_address(target)
    except ValueError:
        return None
    if kind == "ping":
        return Flow(kind, target)
    return Flow(kind, target, port or (80 if kind == "http" else default_port))


# --- parsing what xtables-monitor printed ------------------------------------------------------------

@dataclass
class Met:
    """One rule (or chain policy, or chain end) a packet met, as the kernel reported it."""

    table: str
    chain: str
    kind: str                  # rule | policy | return
    verdict: str               # ACCEPT, DROP, CONTINUE, RETURN, JUMP:DOCKER, ...
    rule: str | None = None    # as iptables-save prints it: "-A DOCKER ! -i docker0 ... -j DNAT ..."
    handle: str | None = None
    syntax: str = "iptables"   # "nft": a native table's rule, as `nft list` prints it

    @property
    def target(self) -> str | None:
        """The rule's `-j` target (DNAT, MASQUERADE, DROP, ...), from its text."""
        if not self.rule or self.syntax != "iptables":
            return None
        found = re.search(r"(?:^|\s)-[jg] (\S+)", self.rule)
        return found.group(1) if found else None

    @property
    def acted(self) -> bool:
        """A rule that decided (its verdict ends the chain's walk): not a policy, jump or return."""
        return self.kind == "rule" and self.verdict.split(":")[0] in TERMINAL

    @property
    def ours(self) -> bool:
        """A dnlab trace's own: its TRACE rule, or anything of the table a trace made (its policies)."""
        return (bool(self.rule) and MARK in self.rule) or self.table.startswith(MARK)


@dataclass
class Passage:
    """One packet through one hook of one table: the headers it had there, the rules it met."""

    trace_id: str
    family: int
    packet: dict                       # IN, OUT, SRC, DST, SPORT, DPORT, ID, LEN, PROTO, FLAGS
    met: list[Met] = field(default_factory=list)
    nfproto: str = "2"                 # the table's family as printed (1 inet, 2 ip, 10 ip6, ...)
    base: str | None = None            # a native base chain's hook (PREROUTING, FORWARD, ...)

    @property
    def table(self) -> str | None:
        return self.met[0].table if self.met else None

    @property
    def hook(self) -> str | None:
        """The base chain (iptables-nft names base chains by their hook: PREROUTING, FORWARD, ...;
        a native one's hook comes from its table's listing)."""
        return self.base or (self.met[0].chain if self.met else None)

    @property
    def starts(self) -> bool:
        """The first passage of a packet: the TRACE rule of a dnlab trace marked it here."""
        return bool(self.met) and self.met[0].ours


def _packet(fields: list[str]) -> dict:
    packet: dict = {"FLAGS": []}
    for word in fields:
        key, eq, value = word.partition("=")
        if eq:
            packet[key] = value
        elif word.isupper():
            packet["FLAGS"].append(word)
    return packet


def _met(spec: str, rest: str) -> Met:
    """`raw:PREROUTING:rule:0x2:CONTINUE` (and the rule text after it) as a Met."""
    parts = spec.split(":")
    table, chain, kind = parts[0], parts[1], parts[2] if len(parts) > 2 else "unspec"
    tail = parts[3:]
    handle = tail.pop(0) if kind in ("rule", "return") and tail and tail[0].startswith("0x") and len(tail) > 1 else None
    verdict = ":".join(_VERDICTS.get(p, p) for p in tail) or "CONTINUE"
    rule = None
    if rest:
        words = rest.split()
        # "-4 -t nat -A DOCKER ..." (iptables 1.8.9, Debian 12) or "iptables -t nat -A DOCKER ..."
        # (1.8.11, Debian 13) -> "-A DOCKER ..." (what iptables-save prints inside *nat)
        while words and words[0] in ("-4", "-6", "iptables", "ip6tables"):
            words = words[1:]
        if words[:1] == ["-t"]:
            words = words[2:]
        rule = " ".join(words) or None
    return Met(table, chain, kind, verdict, rule, handle)


def parse_monitor(text: str, native: str | None = None) -> list[Passage]:
    """The passages of `xtables-monitor --trace [--event]` output, in the order printed.

    A `PACKET:` line opens a passage (the kernel sends the headers once per hook); the `TRACE:`
    lines after it with the same id are what the packet met there. EVENT and NEWGEN lines (rule
    changes) are left out. `native`: `nft -a list table` of the native tables met (`NfTrace.native`),
    whose rules are then named as nft prints them.
    """
    passages: list[Passage] = []
    current: dict[str, Passage] = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) < 3 or words[0] not in ("PACKET:", "TRACE:"):
            continue
        family = 6 if words[1] == "10" else 4
        trace_id = words[2]
        if words[0] == "PACKET:":
            passage = Passage(trace_id, family, _packet(words[3:]), nfproto=words[1])
            passages.append(passage)
            current[trace_id] = passage
            continue
        if len(words) < 4:
            continue
        rest = line.split(words[3], 1)[1].strip()
        met = _met(words[3], rest)
        passage = current.get(trace_id)
        if passage is None or (passage.met and passage.met[-1].kind == "policy"):
            # a trace line with no packet line before it (the kernel sends headers once per hook)
            passage = Passage(trace_id, family, {}, nfproto=words[1])
            passages.append(passage)
            current[trace_id] = passage
        passage.met.append(met)
    if native:
        _name_native(passages, parse_nft_listing(native))
    return passages


def native_tables(text: str) -> set[tuple[str, str]]:
    """(family, table) of every native nftables table (not iptables-nft's) a monitor's text met."""
    found = set()
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 4 and words[0] == "TRACE:":
            table = words[3].split(":")[0]
            family = NFPROTO.get(words[1], words[1])
            if (table not in IPTABLES_TABLES or family not in ("ip", "ip6")) and not table.startswith(MARK):
                found.add((family, table))
    return found


_HANDLE = re.compile(r"\s+# handle (\d+)$")


def parse_nft_listing(text: str) -> dict[tuple[str, str, str], dict]:
    """`nft -a list table ...` output: (family, table, chain) -> {"hook": HOOK or None, "rules":
    {handle (0x..): the rule as nft prints it}}. Sets, maps and other blocks are skipped."""
    chains: dict[tuple[str, str, str], dict] = {}
    blocks: list[dict | tuple | None] = []   # what each open brace opened: a table, a chain, other
    for raw in text.splitlines():
        found = _HANDLE.search(raw.rstrip())
        body = (raw.rstrip()[:found.start()] if found else raw).strip()
        words = body.split()
        if body.endswith("{"):
            if not blocks and words[:1] == ["table"] and len(words) >= 3:
                blocks.append((words[1], words[2]))
            elif len(blocks) == 1 and isinstance(blocks[0], tuple) and words[:1] == ["chain"]:
                blocks.append(chains.setdefault((*blocks[0], words[1]), {"hook": None, "rules": {}}))
            else:
                blocks.append(None)
            continue
        if body.startswith("}"):
            if blocks:
                blocks.pop()
            continue
        chain = blocks[-1] if len(blocks) == 2 else None
        if not isinstance(chain, dict):
            continue
        if words[:1] == ["type"] and "hook" in words:
            chain["hook"] = words[words.index("hook") + 1].rstrip(";").upper()
        elif found is not None and body:  # the counter's numbers were the listing's moment, not the rule
            chain["rules"][f"0x{int(found.group(1)):x}"] = re.sub(r"counter packets \d+ bytes \d+", "counter", body)
    return chains


def _name_native(passages: list[Passage], chains: dict[tuple[str, str, str], dict]) -> None:
    """Name a native table's rules (as nft prints them) and base chains (by hook)."""
    for passage in passages:
        family = NFPROTO.get(passage.nfproto, passage.nfproto)
        for met in passage.met:
            if met.table in IPTABLES_TABLES and family in ("ip", "ip6"):
                continue
            listed = chains.get((family, met.table, met.chain))
            if listed is None:
                continue
            if passage.met[0] is met and listed["hook"]:
                passage.base = listed["hook"]
            met.table = f"{family} {met.table}"
            if met.kind == "rule":
                met.syntax = "nft"
                met.rule = listed["rules"].get(met.handle or "") or f"(rule handle {met.handle}: gone from the table)"


def _fingerprint(passage: Passage) -> tuple | None:
    """What NAT and forwarding leave alone: the IP ID and length (None for a passage without headers)."""
    p = passage.packet
    return (p.get("ID"), p.get("LEN")) if p.get("ID") is not None else None


def packets(passages: list[Passage]) -> list[list[Passage]]:
    """Passages grouped by packet: a packet starts where a dnlab TRACE rule marked it (the raw
    table's first hook) and goes on through the passages that follow with the same trace id, or
    (the kernel may give a forwarded packet a new trace id: seen on 6.18 between PREROUTING and
    FORWARD) the same IP ID and length. The kernel reuses trace ids: a later packet's FORWARD passage
    may carry the id an earlier packet's had, so a passage whose headers are another packet's never
    joins that one (seen here: the SYN's group took the next data packet's FORWARD walk); a packet
    no dnlab rule marked in this namespace gets a group of its own, which `face` leaves out."""
    grouped: list[list[Passage]] = []
    for passage in passages:
        if passage.starts or not grouped:
            grouped.append([passage])
            continue
        mark = _fingerprint(passage)
        same_id = [g for g in grouped if g[-1].trace_id == passage.trace_id
                   and (mark is None or _fingerprint(g[0]) in (None, mark))]
        same_packet = [g for g in grouped if mark is not None and _fingerprint(g[0]) == mark]
        if same_id or same_packet:
            (same_id or same_packet)[-1].append(passage)
        elif mark is None:
            grouped[-1].append(passage)
        else:
            grouped.append([passage])
    return grouped


def face(group: list[Passage]) -> str | None:
    """request or reply: which of the flow's TRACE rules marked this packet (None: not ours)."""
    first = group[0].met[0] if group and group[0].met else None
    if first is None or not first.ours or not first.rule:
        return None
    return "request" if " -d " in f" {first.rule} " else "reply"


# --- the TRACE rules and monitors ---------------------------------------------------------------------

def comment_for(made_table: bool, tag: str | None = None) -> str:
    return f"{MARK}{os.getpid()}-{tag or secrets.token_hex(3)}" + ("-new" if made_table else "")


def _tools(family: int) -> tuple[str, str]:
    return ("ip6tables-restore", "ip6tables-save") if family == 6 else ("iptables-restore", "iptables-save")


# Run in a namespace by the lab's Python: delete one nf_tables table (NFT_MSG_DELTABLE in a batch).
# iptables-nft makes the raw table on the first rule and never removes it; a table the trace made goes.
_DELETE_TABLE = r"""
import socket, struct, sys
family, name = int(sys.argv[1]), sys.argv[2].encode() + b"\0"
def msg(kind, flags, fam, payload=b"", res=0):
    body = struct.pack("BBH", fam, 0, socket.htons(res)) + payload
    return struct.pack("=IHHII", 16 + len(body), kind, flags, 0, 0) + body
attr = struct.pack("=HH", 4 + len(name), 1) + name
attr += b"\0" * (-len(attr) % 4)
batch = msg(0x10, 1, 0, res=10) + msg((10 << 8) | 2, 1 | 4, family, attr) + msg(0x11, 1, 0, res=10)
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
s.bind((0, 0))
s.send(batch)
data = s.recv(65536)
err = struct.unpack("=i", data[16:20])[0] if struct.unpack("=H", data[4:6])[0] == 2 else 0
sys.exit(0 if err in (0, -2) else 1)
"""


def _in_namespace(path: str, script: str, stdin: str = "", timeout: float = 15) -> subprocess.CompletedProcess:
    return subprocess.run([shutil.which("nsenter") or "nsenter", f"--net={path}", "sh", "-c", script],
                          input=stdin, capture_output=True, text=True, timeout=timeout, check=False)


def _drop_raw(family: int) -> str:
    """The command that deletes the raw table (nft where installed: a C binary, not an interpreter)."""
    nft = shutil.which("nft")
    if nft:
        return f"{nft} delete table {'ip6' if family == 6 else 'ip'} raw"
    python = shlex.quote(sys.executable)
    return f"exec {python} -c {shlex.quote(_DELETE_TABLE)} {10 if family == 6 else 2} raw"


def _remove_script(family: int, drop_table: bool, comment: str | None = None) -> str:
    """Delete the rules on stdin; where the trace made the raw table, the table goes too. With the
    trace's `comment`: if the table holds only its rules, one table deletion removes them all."""
    restore, save = _tools(family)
    if drop_table and comment:
        others = f"{save} -t raw 2>/dev/null | grep '^-A' | grep -qv -- {shlex.quote(f'--comment {comment}')}"
        return f"if {others}; then {restore} -w -n; else {_drop_raw(family)}; fi"
    script = f"{restore} -w -n"
    if drop_table:
        script += f" && {{ {save} -t raw 2>/dev/null | grep -q '^-A' || {_drop_raw(family)}; }}"
    return script


def leftover_rules(save_text: str, alive=lambda pid: os.path.exists(f"/proc/{pid}")) -> list[tuple[str, bool]]:
    """The dnlab TRACE rules of an `iptables-save -t raw` text whose owner no longer lives:
    (the `-A ...` line, whether that trace made the raw table)."""
    found = []
    for line in save_text.splitlines():
        mark = _MARK_RE.search(line)
        if line.startswith("-A ") and mark and not alive(int(mark.group(1))):
            found.append((line, bool(mark.group(3))))
    return found


_NFT_SPLIT = "@@dnlab-nft-tables@@"
_TABLE_RE = re.compile(r"^table (ip6?) (" + re.escape(MARK) + r"(\d+)-[0-9a-f]+)$", re.M)


def _alive(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}")


def sweep(namespaces: dict[str, str], family: int = 4, owner: int | None = None) -> dict[str, int]:
    """Remove the TRACE rules a killed trace left in these namespaces (name -> netns path), and the
    raw table where that trace made it and nothing else is in it. Returns name -> rules removed.
    `owner`: a pid known to be that of a gone trace (its ledger's lock is free) even if the pid lives again."""
    _, save = _tools(family)

    def alive(pid: int) -> bool:
        return pid != owner and _alive(pid)

    nft = shutil.which("nft")

    def one(item: tuple[str, str]) -> tuple[str, int]:
        name, path = item
        listed = _in_namespace(path, f"{save} -t raw 2>/dev/null" + (f"; echo {_NFT_SPLIT}; {nft} list tables" if nft
                                                                      else ""))
        rules, _, tables = listed.stdout.partition(_NFT_SPLIT)
        stale = leftover_rules(rules, alive)
        if stale:
            lines = "\n".join(["*raw", *("-D" + line[2:] for line, _ in stale), "COMMIT", ""])
            _in_namespace(path, _remove_script(family, any(made for _, made in stale)), lines)
        gone = [(ip, table) for ip, table, pid in _TABLE_RE.findall(tables) if not alive(int(pid))]
        if gone:
            _in_namespace(path, "; ".join(f"{nft} delete table {ip} {table}" for ip, table in gone))
        return name, len(stale) + len(gone)

    with ThreadPoolExecutor(max_workers=8) as pool:
        return {name: n for name, n in pool.map(one, namespaces.items()) if n}


# --- ledgers: what a trace killed with SIGKILL left, and its sweep -----------------------------------

def _start_time(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/PID/stat): a pid and it name one process, ever."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


@dataclass
class _Ledger:
    """A running trace's record of where it put rules and monitors, locked while it lives."""

    path: Path
    handle: int

    @classmethod
    def write(cls, directory: Path, tag: str, record: dict) -> _Ledger:
        directory.mkdir(mode=0o700, exist_ok=True)
        final = directory / f"{os.getpid()}-{tag}.json"
        partial = directory / f".{final.name}.tmp"
        handle = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        fcntl.flock(handle, fcntl.LOCK_EX)
        os.write(handle, json.dumps(record).encode())
        os.rename(partial, final)  # the lock is the file's: it moves with it
        return cls(final, handle)

    def close(self) -> None:
        with suppress(FileNotFoundError):
            self.path.unlink()
        os.close(self.handle)


def _sweep_ledger(path: Path) -> dict[str, int] | None:
    """Sweep one ledger if its owner is gone (None: it lives, or the ledger is another sweep's)."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        if path.name.endswith(".tmp"):  # killed while writing it: no rule was added yet
            with suppress(OSError):
                if time.time() - os.fstat(handle).st_mtime > LEDGER_GRACE:
                    path.unlink()
            return {}
        try:
            record = json.loads(os.read(handle, 1 << 20) or b"{}")
        except ValueError:
            record = {}
        for pid, started in record.get("monitors", []):
            if _start_time(pid) == started:  # the monitor itself, not a process that took its pid
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        here = {name: where for name, (where, inode) in record.get("namespaces", {}).items()
                if inode is not None and _inode(where) == inode}
        removed = sweep(here, record.get("family", 4), record.get("pid")) if here else {}
        with suppress(FileNotFoundError):
            path.unlink()
        return removed
    finally:
        os.close(handle)


def sweep_ledgers(directory: Path) -> dict[str, int]:
    """Sweep the ledgers of gone traces in `directory`: kill their monitors, remove their rules.
    Returns namespace -> rules removed."""
    removed: dict[str, int] = {}
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return removed
    for entry in entries:
        for name, n in (_sweep_ledger(entry) or {}).items():
            removed[name] = removed.get(name, 0) + n
    return removed


def lab_namespaces(names) -> dict[str, str]:
    """Every network namespace of a world (`naming.WorldNames`), name -> a path to enter: its
    machines', its engines' own (overlays, containers' sandboxes) and its containers' (their
    processes sit below the engines' cgroup parent `/<prefix>-<host>/`), each namespace once."""
    from helpers.world import engine
    from helpers.world.naming import HOSTS

    found: dict[int, tuple[str, str]] = {}

    def add(name: str, where: str) -> None:
        inode = _inode(where)
        if inode is not None:
            found.setdefault(inode, (name, where))

    for role, namespace in names.namespaces.items():
        add(role, f"{NETNS_DIR}/{namespace}")
    for host in HOSTS:
        directory = names.host(host).exec_root / "netns"
        for entry in sorted(directory.iterdir()) if directory.is_dir() else []:
            with suppress(OSError):
                if entry.stat().st_dev != directory.stat().st_dev:  # an engine's empty file of a gone one: no
                    add(f"{host}:{entry.name}", str(entry))
    cgroups = tuple(f"/{names.prefix}-{host}/" for host in HOSTS)
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and any(c in (entry / "cgroup").read_text() for c in cgroups) \
                    and engine.in_own_pid_namespace(entry.name):
                add(f"pid {entry.name}", str(entry / "ns" / "net"))
        except OSError:
            continue
    return dict(found.values())


def sweep_world(names) -> dict[str, int]:
    """What `dnlab clean` does for a world: its ledgers, then every namespace of it for the rules of a
    dead owner (left by a trace that kept no ledger). Returns namespace -> rules removed."""
    removed = sweep_ledgers(names.state_dir / LEDGER_DIR)
    namespaces = lab_namespaces(names)
    for family in (4, 6):
        for name, n in sweep(namespaces, family).items():
            removed[name] = removed.get(name, 0) + n
    return removed


def _subscribed(pid: int) -> bool:
    """The kernel lists a netlink socket of `pid` as a member of the nftables trace group."""
    try:
        inodes = {os.readlink(f"/proc/{pid}/fd/{fd}")[8:-1] for fd in os.listdir(f"/proc/{pid}/fd")
                  if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:[")}
        with open(f"/proc/{pid}/net/netlink") as listing:
            table = listing.read().splitlines()[1:]
    except OSError:
        return False
    for row in table:
        cols = row.split()
        if len(cols) >= 10 and cols[1] == str(NETLINK_NETFILTER) and cols[9] in inodes \
                and int(cols[3], 16) & NFNLGRP_NFTRACE_BIT:
            return True
    return False


def _raw_section(save_text: str) -> str | None:
    """The `*raw` table of an iptables-save text (None: the namespace has no raw table)."""
    lines = save_text.splitlines()
    if "*raw" not in lines:
        return None
    start = lines.index("*raw")
    end = next((i for i in range(start, len(lines)) if lines[i] == "COMMIT"), len(lines))
    return "\n".join(lines[start:end + 1])


def _only_ours(text: str, comment: str, family: int) -> bool:
    """A monitor saw its namespace's raw table made (it was subscribed before) and no rule added to it
    but the trace's own (`comment`): the table holds nothing else."""
    made = f"NEW table: table raw {'ip6' if family == 6 else 'ip'} "
    events = [line for line in text.splitlines() if line.startswith(" EVENT:")]
    if not any(made in line for line in events):
        return False
    return all(f"--comment {comment} " in f"{line} " for line in events if re.search(r"-t raw -[AI] ", line))


def _deleted(text: str, comment: str) -> int:
    """How many of a trace's rules the monitor has seen deleted."""
    return sum(1 for line in text.splitlines() if line.startswith(" EVENT:") and " -D " in line
               and f"--comment {comment} " in f"{line} ")


@dataclass
class _Monitor:
    name: str
    path: str
    process: subprocess.Popen
    output: object                 # an unnamed temporary file (nothing to remove, even on SIGKILL)
    made_table: bool = False
    comment: str = ""
    added: bool = False
    subscribed: bool = False
    own_table: bool = False        # the trace's own nft table (else TRACE rules in iptables' raw table)

    def text(self) -> str:
        self.output.seek(0)
        return self.output.read().decode(errors="replace")


@functools.lru_cache(maxsize=1)
def trace_tools_missing() -> str | None:
    """Why this machine cannot trace rules (None if it can): xtables-monitor, setpriv, stdbuf,
    and iptables-nft (legacy iptables sends TRACE to the kernel log instead)."""
    for tool in ("xtables-monitor", "setpriv", "stdbuf", "nsenter", "iptables-restore"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    version = subprocess.run(["iptables", "-V"], capture_output=True, text=True, check=False).stdout
    if "nf_tables" not in version:
        return f"iptables is not iptables-nft ({version.strip() or 'no version'}): TRACE goes to the kernel log"
    return None


@dataclass
class NfTrace:
    """Rule tracing of one flow in many namespaces (name -> netns path). Start and stop it in one
    thread (the monitors die with the thread that started them)."""

    namespaces: dict[str, str]
    flow: Flow
    ledger_dir: Path | None = None     # where the ledger goes (None: no ledger; a SIGKILL leaves rules)
    texts: dict[str, str] = field(default_factory=dict)
    native: dict[str, str] = field(default_factory=dict)     # name -> `nft -a list table` of native tables met
    untraced: dict[str, str] = field(default_factory=dict)
    swept: dict[str, int] = field(default_factory=dict)
    _monitors: list[_Monitor] = field(default_factory=list)
    _tag: str = field(default_factory=lambda: secrets.token_hex(3))
    _ledger: _Ledger | None = None
    _nft: str | None = None

    def start(self) -> NfTrace:
        """launch, arm, wait_ready: the trace is on when it returns."""
        self.launch()
        try:
            self.arm()
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def launch(self) -> NfTrace:
        """Sweep what gone traces left (their ledgers), start the monitors, write this trace's ledger.
        In the thread that stops the trace: its monitors die with it."""
        missing = trace_tools_missing()
        if missing:
            self.untraced = {name: missing for name in self.namespaces}
            return self
        if self.ledger_dir is not None:
            self.swept = sweep_ledgers(self.ledger_dir)
        self._nft = shutil.which("nft")
        nsenter = shutil.which("nsenter")
        # No -4/-6: that filter drops a native inet table's events (family 1), not only the other IP's.
        monitor = [shutil.which("stdbuf"), "-oL", shutil.which("xtables-monitor"), "--trace", "--event"]
        for name, path in self.namespaces.items():
            out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop(); unnamed, nothing left on a kill
            process = subprocess.Popen(dying_with_owner([nsenter, f"--net={path}", *monitor]),
                                       stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=subprocess.STDOUT)
            self._monitors.append(_Monitor(name, path, process, out))
        try:
            if self.ledger_dir is not None:  # before any rule goes in
                self._ledger = _Ledger.write(self.ledger_dir, self._tag, {
                    "pid": os.getpid(), "family": self.flow.family,
                    "namespaces": {n: [p, _inode(p)] for n, p in self.namespaces.items()},
                    "monitors": [[m.process.pid, _start_time(m.process.pid)] for m in self._monitors]})
        except BaseException:
            self.stop()
            raise
        return self

    def arm(self) -> None:
        """Insert the flow's TRACE rules in every namespace (any thread: a monitor need not be
        subscribed yet, only before the probe; the tracer runs this beside the captures' start)."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(self._add, self._monitors))

    def wait_ready(self) -> None:
        """Return once every monitor is subscribed to the trace group (or known not to be)."""
        self._wait_subscribed()

    def _wait_subscribed(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        for m in self._monitors:
            self._await(m, deadline)

    def _await(self, m: _Monitor, deadline: float) -> bool:
        """Wait until this monitor is subscribed (no sleep guessed: the kernel lists its socket)."""
        while not m.subscribed and m.name not in self.untraced:
            if _subscribed(m.process.pid):
                m.subscribed = True
            elif m.process.poll() is not None:
                self.untraced[m.name] = f"xtables-monitor ended: {m.text().strip()[-200:] or 'no output'}"
            elif time.monotonic() >= deadline:
                self.untraced[m.name] = f"xtables-monitor was not subscribed after {READY_TIMEOUT} s"
            else:
                time.sleep(0.005)
        return m.subscribed and m.name not in self.untraced

    def _add(self, m: _Monitor) -> None:
        """Insert the flow's TRACE rules (iptables-save, then iptables-restore); the comment says
        whether the raw table was made for them (`-new`), which `stop` and `sweep` then remove with
        them. A gone trace's rules in the raw table as saved are removed here (what `sweep` did in a
        process of its own per namespace). Its monitor is subscribed first, so it sees the raw table
        made (which lets `_remove` drop the table at once)."""
        if not self._await(m, time.monotonic() + READY_TIMEOUT):
            return
        if self._nft is not None:
            self._add_table(m)
            return
        restore, save = _tools(self.flow.family)
        nsenter = shutil.which("nsenter") or "nsenter"
        # Two processes, no shell: on a loaded machine each process started is what costs.
        listed = subprocess.run([nsenter, f"--net={m.path}", save], capture_output=True, text=True, timeout=15,
                                check=False)
        raw = _raw_section(listed.stdout)
        m.made_table = raw is None
        m.comment = comment_for(m.made_table, self._tag)
        added = subprocess.run([nsenter, f"--net={m.path}", restore, "-w", "-n"], input=self.flow.restore_lines(
            m.comment), capture_output=True, text=True, timeout=15, check=False)
        if added.returncode != 0:
            self.untraced[m.name] = f"the TRACE rule could not be added: {added.stderr.strip()[-200:]}"
            return
        m.added = True
        stale = leftover_rules(raw or "")
        if stale:
            lines = "\n".join(["*raw", *("-D" + line[2:] for line, _ in stale), "COMMIT", ""])
            _in_namespace(m.path, _remove_script(self.flow.family, False), lines)
            self.swept[m.name] = self.swept.get(m.name, 0) + len(stale)
            others = [line for line in (raw or "").splitlines() if line.startswith("-A ")]
            # the table was only a gone trace's (it made it): it goes with this trace's rules
            m.made_table = m.made_table or (len(others) == len(stale) and all(made for _, made in stale))

    def _add_table(self, m: _Monitor) -> None:
        """Where nft is installed: the trace's own table (one `nft -f`), nothing of iptables' touched."""
        m.comment = f"{MARK}{os.getpid()}-{self._tag}"
        added = subprocess.run([shutil.which("nsenter") or "nsenter", f"--net={m.path}", self._nft, "-f", "-"],
                               input=self.flow.nft_table(m.comment), capture_output=True, text=True, timeout=15,
                               check=False)
        if added.returncode != 0:
            self.untraced[m.name] = f"the trace's nft table could not be added: {added.stderr.strip()[-200:]}"
            return
        m.added = m.own_table = True

    def _remove(self, m: _Monitor) -> None:
        if m.added and m.own_table:
            subprocess.run([shutil.which("nsenter") or "nsenter", f"--net={m.path}", self._nft, "delete", "table",
                            "ip6" if self.flow.family == 6 else "ip", m.comment], capture_output=True, timeout=15,
                           check=False)
            m.added = False
        if m.added and m.made_table and _only_ours(m.text(), m.comment, self.flow.family):
            # The monitor saw the table made and nothing but this trace's rules added: drop it whole.
            nft = shutil.which("nft")
            if nft is not None:
                subprocess.run([shutil.which("nsenter") or "nsenter", f"--net={m.path}", nft, "delete", "table",
                                "ip6" if self.flow.family == 6 else "ip", "raw"], capture_output=True, timeout=15,
                               check=False)
                m.added = False
        if m.added:
            _in_namespace(m.path, _remove_script(self.flow.family, m.made_table, m.comment),
                          self.flow.restore_lines(m.comment, "-D"))
            m.added = False

    def stop(self) -> dict[str, str]:
        """Remove the rules, let each monitor print the last of the probe, end them; name -> text."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(self._remove, self._monitors))
        deadline = time.monotonic() + DRAIN_TIMEOUT
        rules = 2 * len(self.flow.matches())
        for m in self._monitors:
            # The deletions' EVENT lines come after every trace line of the packets before them.
            while m.comment and m.process.poll() is None and time.monotonic() < deadline \
                    and _deleted(m.text(), m.comment) < rules:
                time.sleep(0.005)
        # A monitor that ended on its own stopped reading mid-trace: xtables-monitor exits on a rule it
        # cannot print (a learner's ip table with `ct original ...`: "Parsing nftables rule failed").
        ended = [m for m in self._monitors if m.process.poll() is not None and m.name not in self.untraced]
        end_all([m.process for m in self._monitors], signal.SIGTERM)
        for m in self._monitors:
            if m.name not in self.untraced:
                self.texts[m.name] = m.text()
            if m in ended:
                said = [line.strip() for line in self.texts[m.name].splitlines()
                        if line.strip() and not line.startswith((" EVENT:", " TRACE:", "PACKET:", "NEWGEN:"))]
                why = "; ".join(said[-2:]) or "no word"
                self.untraced[m.name] = f"xtables-monitor ended during the trace ({why}): only what it printed before"
            m.output.close()
        self._list_native()
        self._monitors = []
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None
        return self.texts

    def _list_native(self) -> None:
        """`nft -a list table` of each native table the probe met, where it met one (rare: no cost else)."""
        wanted = {name: native_tables(text) for name, text in self.texts.items()}
        wanted = {name: tables for name, tables in wanted.items() if tables}
        nft = shutil.which("nft")
        if not wanted or nft is None:
            return

        def one(name: str) -> tuple[str, str]:
            script = "; ".join(f"{nft} -a list table {shlex.quote(family)} {shlex.quote(table)}"
                               for family, table in sorted(wanted[name]))
            return name, _in_namespace(self.namespaces[name], script).stdout

        with ThreadPoolExecutor(max_workers=8) as pool:
            self.native.update(pool.map(one, wanted))

    @property
    def pids(self) -> list[int]:
        return [m.process.pid for m in self._monitors]


__all__ = ["Flow", "flow_of", "Met", "Passage", "parse_monitor", "packets", "face", "NfTrace", "sweep",
           "sweep_ledgers", "sweep_world", "lab_namespaces", "leftover_rules", "trace_tools_missing", "MARK",
           "LEDGER_DIR"]
