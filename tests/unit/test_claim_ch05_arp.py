"""Chapter 5's ARP claim judges lanpc's question for the container's address only. Seen inside the
course image: during the capture the router also asked for host1's address (refreshing its neighbour
entry), and the claim, which wanted exactly one exchange in the capture, failed on a true world."""
from __future__ import annotations

from types import SimpleNamespace

from tests.claimcells import assert_claim_fails, run_claim

APP = SimpleNamespace(name="macvlan-app")
APP_IP, MAC = "198.51.100.128", "02:42:c6:33:64:80"
# The capture's ARP exchanges as arp_exchanges() gave them (course image, Docker 26.1).
ROUTER_REFRESH = {"asker": "router", "question": "who-has 198.51.100.11 tell 198.51.100.1",
                  "heard_at": ["router/p-host1", "host1/eth0"],
                  "answer": "198.51.100.11 is-at 7a:b5:a9:f8:e7:22", "answered_by": "host1"}
LANPC_ASKS = {"asker": "lanpc", "question": f"who-has {APP_IP} tell 198.51.100.20",
              "heard_at": ["router/lan0", "router/p-lanpc", "router/p-host2", "host2/eth0",
                           "router/p-host1", "host1/eth0", "macvlan-app/eth0"],
              "answer": f"{APP_IP} is-at {MAC}", "answered_by": "macvlan-app"}


def test_another_exchange_in_the_capture_does_not_break_a_true_claim():
    run_claim("ch05:arp", arp=[ROUTER_REFRESH, LANPC_ASKS], app=APP, app_ip=APP_IP, mac=MAC)


def test_the_claim_still_fails_when_the_container_does_not_answer():
    wrong = {**LANPC_ASKS, "answered_by": "host1", "answer": f"{APP_IP} is-at 7a:b5:a9:f8:e7:22"}
    assert_claim_fails("ch05:arp", {"arp": [ROUTER_REFRESH, wrong], "app": APP, "app_ip": APP_IP, "mac": MAC},
                       mentions="answered by the container itself")


def test_the_claim_fails_when_lanpc_asked_twice():
    assert_claim_fails("ch05:arp", {"arp": [LANPC_ASKS, LANPC_ASKS], "app": APP, "app_ip": APP_IP, "mac": MAC},
                       mentions="one ARP question")
