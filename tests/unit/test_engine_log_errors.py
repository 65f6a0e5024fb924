"""What a failed session prints of its engines' logs before the world (and the logs) go:
tests/worlds.py `engine_log_errors`, on a dockerd log line of the runc start failure CI once met."""
from __future__ import annotations

from helpers.world import naming
from tests.worlds import engine_log_errors

RUNC_FAILURE = ('time="2026-12-07T11:31:02.1Z" level=error msg="Handler for POST /v1.45/containers/x/start '
                'returned error: failed to create task for container: failed to create shim task: OCI runtime '
                'create failed: runc create failed: unable to start container process: waiting for init '
                'preliminary setup: read init-p: connection reset by peer: unknown"')
NOISE = 'time="2026-12-07T11:31:00.0Z" level=warning msg="Running modprobe bridge br_netfilter failed"'
EVERY_START = ('time="2026-12-07T14:15:05.603Z" level=error msg="error reading the kernel parameter '
               'net.ipv4.vs.conn_reuse_mode" error="open /proc/sys/net/ipv4/vs/conn_reuse_mode: no such file '
               'or directory"')


def _logs_in(tmp_path, monkeypatch, logs: dict[str, str]) -> None:
    def host(self, name):
        return naming.HostPaths(state=tmp_path / name, data_root=tmp_path / "data" / name)
    monkeypatch.setattr(naming.WorldNames, "host", host)
    for name, text in logs.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "dockerd.log").write_text(text)


def test_only_the_error_lines_are_shown_under_their_log(tmp_path, monkeypatch):
    _logs_in(tmp_path, monkeypatch, {"host1": f"{NOISE}\n{RUNC_FAILURE}\n{EVERY_START}\n", "host2": f"{NOISE}\n"})
    shown = engine_log_errors("lt")
    assert f"==> {tmp_path}/host1/dockerd.log: 1 error lines of 3, the last 1:\n{RUNC_FAILURE}" in shown
    assert f"==> {tmp_path}/host2/dockerd.log: 0 error lines of 1" in shown
    assert "level=warning" not in shown


def test_only_the_last_are_kept_and_a_missing_log_is_named(tmp_path, monkeypatch):
    _logs_in(tmp_path, monkeypatch, {"host1": "".join(f'level=error msg="{n}"\n' for n in range(50))})
    shown = engine_log_errors("lt", last=3).splitlines()
    assert shown[1:4] == ['level=error msg="47"', 'level=error msg="48"', 'level=error msg="49"']
    assert shown[4].startswith(f"==> {tmp_path}/host2/dockerd.log: not read")
