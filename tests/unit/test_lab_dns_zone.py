"""The lab's DNS zone and its wire replies (no root, no world: addresses come from a fake reader)."""
from pathlib import Path

import pytest
from dnslib import QTYPE, RCODE, DNSRecord

from helpers.errors import LabError
from helpers.world.dns import JsonLog, LabZone, read_log, reply, search_domains
from helpers.world.naming import LAB_DOMAIN

# Deliberately not the address plan: the zone must answer what the reader reads, not the plan.
ADDRESSES = {"host1": "10.9.0.11", "host2": "10.9.0.12", "lanpc": "10.9.0.20", "router": "10.9.0.1",
             "inet": "10.8.0.10"}


def zone(search: tuple[str, ...] = ()) -> LabZone:
    return LabZone(ADDRESSES.__getitem__, lambda: ADDRESSES["inet"], search)


@pytest.mark.parametrize("name, role", [("host1", "host1"), ("HOST2.", "host2"), (f"lanpc.{LAB_DOMAIN}", "lanpc"),
                                        (f"router.{LAB_DOMAIN}.", "router"), ("inet", "inet")])
def test_lab_machines_answer_their_read_address(name, role):
    answer = zone().answer(name, "A")
    assert (answer.rcode, answer.records) == (RCODE.NOERROR, [ADDRESSES[role]])


@pytest.mark.parametrize("name", ["example.com", "google.com.", "registry-1.docker.io", "a.b.c.d.example"])
def test_any_other_dotted_name_is_the_internet_service(name):
    answer = zone().answer(name, "A")
    assert (answer.rcode, answer.records) == (RCODE.NOERROR, [ADDRESSES["inet"]])


@pytest.mark.parametrize("name", ["web", "default-bridge-b", "localhost", f"web.{LAB_DOMAIN}", LAB_DOMAIN])
def test_single_labels_and_unknown_lab_names_do_not_exist(name):
    assert zone().answer(name, "A").rcode == RCODE.NXDOMAIN
    assert zone().answer(name, "AAAA").rcode == RCODE.NXDOMAIN


def test_search_list_expansions_of_single_labels_do_not_exist():
    """dockerd copies the machine's search list into containers: `ping web` may ask `web.corp.example`."""
    searched = zone(("corp.example",))
    assert searched.answer("web.corp.example", "A").rcode == RCODE.NXDOMAIN
    assert searched.answer("host1.corp.example", "A").records == [ADDRESSES["host1"]]
    assert searched.answer("www.web.corp.example", "A").records == [ADDRESSES["inet"]]
    assert zone().answer("web.corp.example", "A").records == [ADDRESSES["inet"]]


def test_other_types_of_existing_names_are_empty_answers():
    for name in ("example.com", "host1"):
        answer = zone().answer(name, "AAAA")
        assert (answer.rcode, answer.records) == (RCODE.NOERROR, [])


def test_reverse_names_of_machines_and_of_strangers():
    assert zone().answer("10.0.8.10.in-addr.arpa.", "PTR").records == [f"inet.{LAB_DOMAIN}"]
    assert zone().answer("8.8.8.8.in-addr.arpa", "PTR").rcode == RCODE.NXDOMAIN
    assert zone().answer("x.in-addr.arpa", "PTR").rcode == RCODE.NXDOMAIN
    other_type = zone().answer("10.0.8.10.in-addr.arpa", "A")
    assert (other_type.rcode, other_type.records) == (RCODE.NOERROR, [])


def test_wire_reply_and_its_log_line(tmp_path: Path):
    request = DNSRecord.question("example.com", "A")
    answer = DNSRecord.parse(reply(DNSRecord.parse(request.pack()), zone()).pack())
    assert answer.header.id == request.header.id and answer.header.rcode == RCODE.NOERROR
    asked_ad = DNSRecord.question("example.com", "A")
    asked_ad.header.ad = 1
    assert reply(asked_ad, zone()).header.ad == 0
    assert [(str(rr.rdata), rr.rtype) for rr in answer.rr] == [(ADDRESSES["inet"], QTYPE.A)]
    missing = reply(DNSRecord.question("web", "A"), zone())
    assert missing.header.rcode == RCODE.NXDOMAIN and not missing.rr

    class Handler:
        client_address, protocol = ("10.9.0.11", 40000), "udp"

    log = JsonLog(tmp_path / "dns.jsonl")
    log.log_reply(Handler(), answer)
    log.log_reply(Handler(), missing)
    entries = read_log(tmp_path / "dns.jsonl")
    assert [(e["name"], e["type"], e["rcode"], e["answers"]) for e in entries] == [
        ("example.com", "A", "NOERROR", [ADDRESSES["inet"]]), ("web", "A", "NXDOMAIN", [])]
    assert entries[0]["client"] == "10.9.0.11"
    assert (tmp_path / "dns.jsonl").stat().st_mode & 0o077 == 0  # the learner's traffic: root's alone


def test_a_machine_without_its_address_is_a_server_failure():
    def lost(role: str) -> str:
        raise LookupError(f"eth0 of {role} has no IPv4 address")

    broken = LabZone(lost, lambda: ADDRESSES["inet"])
    assert reply(DNSRecord.question("host1", "A"), broken).header.rcode == RCODE.SERVFAIL

    def gone(role: str) -> str:
        raise LabError(f"`ip -j -4 addr show dev eth0` in dnlab-{role} failed: no such namespace")

    assert reply(DNSRecord.question("host1", "A"), LabZone(gone, gone)).header.rcode == RCODE.SERVFAIL


def test_search_domains_read_from_resolv_conf(tmp_path: Path):
    conf = tmp_path / "resolv.conf"
    conf.write_text("# comment\nnameserver 10.0.0.53\nsearch Corp.Example. lab.internal\noptions ndots:1\n")
    assert search_domains((conf, tmp_path / "missing")) == ("corp.example", "lab.internal")
