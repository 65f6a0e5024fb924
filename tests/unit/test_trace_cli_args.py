"""`dnlab trace` without a world: how the command line's words become probe ends (containers by
name and host, machines, addresses), the errors for a missing or stopped container, and the
output paths of path/map/trace checked before anything is traced (no root needed)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from helpers import cli
from helpers.cli.path import check_output_dir, check_output_file
from helpers.errors import EXIT_LAB_ERROR, LabError, dnlab_command
from helpers.scenarios import own
from helpers.scenarios.endpoint import ADDRESS, CONTAINER, MACHINE, NAME


def box(name: str, host: str, ip: str, running: bool = True) -> own.Box:
    return own.Box(name, host, running, (ip,) if ip else ())


FOUND = own.Found([box("alpine1", "host1", "172.18.0.2"), box("alpine2", "host1", "172.18.0.3"),
                   box("ov2", "host2", "10.0.1.4"),
                   box("gone", "host1", "", running=False)])
class FakeWorld:
    """What own_trace asks of a world: its id, its Docker hosts, each machine's eth0 address."""

    names = SimpleNamespace(world_id="he")
    hosts = {"host1": None, "host2": None}
    addresses = {"host1": "198.51.100.11", "host2": "198.51.100.12"}

    def __getitem__(self, role: str):
        return SimpleNamespace(read_address=lambda: self.addresses.get(role, "203.0.113.10"))


WORLD = FakeWorld()


def trace_of(source: str, target: str, host: str = "host1", **kw) -> own.OwnTrace:
    return own.own_trace(WORLD, source, target, host=host, found=FOUND, **kw)


def test_containers_by_name_are_picked_on_their_hosts():
    sc = trace_of("alpine1", "ov2")
    assert (sc.source.kind, sc.source.name, sc.source.host) == (CONTAINER, "alpine1", "host1")
    assert (sc.target.kind, sc.target.name, sc.target.host) == (CONTAINER, "ov2", "host2")  # found on host2
    assert sc.picked == {("alpine1", "host1"), ("ov2", "host2")}
    assert sc.includes(FOUND.named("ov2")[0]) and not sc.includes(FOUND.named("alpine2")[0])
    # The spec written in the probe notation reads back as the same ends: one parser.
    spec = sc.probe_specs()[sc.probe]
    assert spec.source_end == sc.source and spec.target_end == sc.target
    assert spec.source_container_host == "host1" and spec.kind == "ping"


def test_machines_addresses_and_the_host_option():
    sc = trace_of("lanpc", "172.18.0.3", kind="tcp", port=8080)
    assert sc.source.kind == MACHINE and sc.target.kind == ADDRESS
    assert sc.picked == {("alpine2", "host1")}           # the container holding the address is captured too
    assert sc.probe_specs()[sc.probe].port == 8080
    sc = trace_of("ov2", "inet", host="host2")
    assert sc.source.host == "host2" and sc.target.kind == MACHINE
    sc = trace_of("container:ov2@host2", "container:alpine1@host1")
    assert sc.source.host == "host2" and sc.target.host == "host1"


def test_a_container_named_like_a_machine_needs_the_container_notation():
    found = own.Found([box("inet", "host1", "172.18.0.9")])
    sc = own.own_trace(WORLD, "lanpc", "inet", found=found)
    assert sc.target.kind == MACHINE
    sc = own.own_trace(WORLD, "lanpc", "container:inet", found=found)
    assert sc.target.kind == CONTAINER and sc.picked == {("inet", "host1")}


def test_unknown_and_stopped_containers_name_the_fix(monkeypatch):
    import helpers.world.guard as guard

    monkeypatch.setattr(guard, "container_names", lambda world: {"web-alias"})
    with pytest.raises(LabError) as error:
        trace_of("nosuch", "alpine2")
    assert "'nosuch' is no container of host1" in error.value.problem
    assert "alpine1, alpine2" in error.value.problem and error.value.fix.startswith(dnlab_command("shell host1", "he"))
    with pytest.raises(LabError) as error:
        trace_of("alpine1", "nosuch")
    assert "host1 or host2" in error.value.problem and "ov2" in error.value.problem
    with pytest.raises(LabError) as error:
        trace_of("ov2", "alpine1")                       # ov2 runs on host2, not on --host's default
    assert "it is on host2" in error.value.problem and error.value.fix.endswith("--host host2")
    with pytest.raises(LabError) as error:
        trace_of("gone", "alpine1")
    assert "not running" in error.value.problem and error.value.fix.endswith("docker start gone")
    sc = trace_of("alpine1", "web-alias")                # a name only Docker's DNS knows: sent as is
    assert sc.target.kind == NAME and sc.picked == {("alpine1", "host1")}


def test_output_paths_are_checked(tmp_path):
    check_output_file(str(tmp_path / "a.png"))
    check_output_dir(str(tmp_path / "run"))              # made by the trace, in a writable folder
    check_output_dir(str(tmp_path))
    with pytest.raises(LabError, match="does not exist"):
        check_output_file(str(tmp_path / "missing" / "a.png"))
    with pytest.raises(LabError, match="a folder, not a file"):
        check_output_file(str(tmp_path))
    (tmp_path / "file").write_text("x")
    with pytest.raises(LabError, match="a file, not a folder"):
        check_output_dir(str(tmp_path / "file"))
    with pytest.raises(LabError, match="does not exist"):
        check_output_dir(str(tmp_path / "missing" / "run"))


@pytest.mark.parametrize("argv", [
    ["trace", "nosuch", "x", "--png", "/nonexistent-dnlab/x.png"],
    ["trace", "nosuch", "x", "--keep", "/etc/hostname"],
    ["path", "user-bridge", "egress", "--png", "/nonexistent-dnlab/x.png"],
    ["map", "--png", "/nonexistent-dnlab/x.png"],
])
def test_a_bad_output_path_fails_before_any_world_is_touched(monkeypatch, capsys, argv):
    import helpers.world as world

    def no_world(*args, **kwargs):
        raise AssertionError("the world was asked for before the output path was checked")

    monkeypatch.setattr(world, "lab", no_world)
    code = cli.main(["--world", "he", *argv])
    err = capsys.readouterr().err
    assert code == EXIT_LAB_ERROR
    assert ("does not exist" in err or "not a folder" in err) and "fix: " in err


def test_trace_options_parse():
    args = cli.build_parser().parse_args(["trace", "a", "b", "--host", "host2", "--tcp", "80", "--json"])
    assert (args.source, args.target, args.host, args.tcp, args.udp, args.json) == ("a", "b", "host2", 80, None, True)
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["trace", "a", "b", "--tcp", "80", "--udp", "53"])
    args = cli.build_parser().parse_args(["scenario", "stop", "--all"])
    assert args.all and args.name is None


def test_an_icmp_port_unreachable_answers_a_udp_datagram():
    from helpers.capture.decode import Frame
    from helpers.path.build import _answers

    datagram = Frame(0, 60, src="172.18.0.2", dst="172.18.0.3", proto="udp", sport=40000, dport=5353)
    refused = Frame(1, 90, src="172.18.0.3", dst="172.18.0.2", proto="icmp", icmp_type=3, icmp_code=3)
    answer = Frame(2, 60, src="172.18.0.3", dst="172.18.0.2", proto="udp", sport=5353, dport=40000)
    elsewhere = Frame(3, 90, src="172.18.0.9", dst="172.18.0.2", proto="icmp", icmp_type=3, icmp_code=3)
    assert _answers(datagram, refused) and _answers(datagram, answer) and not _answers(datagram, elsewhere)
    assert trace_of("alpine1", "alpine2", kind="udp", port=5353).probe_specs()["alpine1@host1 -> alpine2@host1"] \
        .description.endswith(own.udp_note())


def test_a_published_port_brings_its_container_into_the_trace():
    found = own.Found([*FOUND.containers, own.Box("web", "host1", True, ("172.17.0.2",), (8082,)),
                       own.Box("web2", "host2", True, ("172.17.0.2",), (8082,))])
    for target in ("host1", "198.51.100.11"):
        sc = own.own_trace(WORLD, "lanpc", target, "tcp", 8082, found=found)
        assert sc.picked == {("web", "host1")}, target
    assert own.own_trace(WORLD, "lanpc", "host1", "tcp", 9999, found=found).picked == set()
    assert own.own_trace(WORLD, "lanpc", "host1", found=found).picked == set()      # a ping has no port
