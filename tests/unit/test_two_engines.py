"""Chapter 7.4's rules side by side, on saved real `iptables-save` outputs of the two engines.

Saved from a side world on Debian 12 (host1: the machine's Docker 20.10.24, host2: Debian's 28.5.2),
each with `docker run -d -p 8080:80 nginx`, `-p 127.0.0.1:8081:80 nginx` and an `--internal` network.
"""
from pathlib import Path

from helpers.lessons import ch07
from helpers.world import engine_facts

DATA = Path(__file__).parent / "data" / "two_engines"
VERSIONS = {"host1": "20.10.24+dfsg1", "host2": "28.5.2+dfsg4"}


def _saved() -> dict:
    texts = {"host1": (DATA / "host1-20.10.24.iptables-save").read_text(),
             "host2": (DATA / "host2-28.5.2.iptables-save").read_text()}
    return {h: {t: ch07.parse_save(body) for t, body in ch07.split_tables(text).items()}
            for h, text in texts.items()}


def test_counters_and_comments_are_left_out():
    lines = ch07.parse_save("# Generated\n*filter\n:FORWARD DROP [12:840]\n-A FORWARD -j X\nCOMMIT\n")
    assert lines == [":FORWARD DROP", "-A FORWARD -j X"]


def test_the_merge_marks_each_line_once_by_who_has_it():
    rows = ch07.marked(["a", "b", "c", "d"], ["a", "x", "c", "b"])
    assert sorted(rows) == sorted([(" ", "a"), (" ", "b"), (" ", "c"), ("-", "d"), ("+", "x")])


def test_the_saved_engines_differ_as_the_engine_table_says():
    diff = ch07.compare(_saved(), VERSIONS)
    assert diff.new_chains == ["DOCKER-BRIDGE", "DOCKER-CT", "DOCKER-FORWARD"]
    assert diff.raw_rules["host1"] == []
    assert "-A PREROUTING -d 127.0.0.1/32 ! -i lo -p tcp -m tcp --dport 8081 -j DROP" in diff.raw_rules["host2"]
    assert "-A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP" in diff.raw_rules["host2"]
    for host in diff.hosts:
        assert diff.docker_chains(host) == diff.expected(host) == tuple(sorted(
            engine_facts.filter_chains(VERSIONS[host])))
    # every line of both outputs is shown once, marked by who has it
    for host, mark in (("host1", "-"), ("host2", "+")):
        other = "host2" if host == "host1" else "host1"
        for table, lines in _saved()[host].items():
            shown = [line for m, line in diff.tables[table] if m in (" ", mark)]
            assert sorted(shown) == sorted(lines), (host, table)
            assert all(m == " " for m, line in diff.tables[table]
                       if line in _saved()[other].get(table, []) and line in lines)
    notable = diff.notable()
    assert notable["only host2: DROP in the DOCKER chain"] == ["-A DOCKER ! -i docker0 -o docker0 -j DROP"]
    assert len(notable["only host1: MASQUERADE of a container to itself"]) == 2
    assert not notable["only host2: MASQUERADE of a container to itself"]
    text = repr(diff)
    assert text.startswith("  (both)   - host1 (Docker 20.10.24+dfsg1) only   + host2 (Docker 28.5.2+dfsg4) only")
    assert "+ :DOCKER-CT -" in text and "- -A DOCKER-USER -j RETURN" in text


def test_the_side_world_id_fits_the_scheme():
    from helpers.world.naming import WorldNames, validate_world_id

    for session, side in (("sb", "sbv2"), ("lead", "leadv2"), ("abcdefgh", "abcdefv2"), (None, "dnlabv2")):
        world = type("W", (), {"names": WorldNames(session)})()
        assert ch07.side_id(world) == side and validate_world_id(side) == side
    assert ch07.side_id(type("W", (), {"names": WorldNames("t")})(), "vt") == "tvt"
