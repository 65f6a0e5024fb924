"""Terms of the source article (Japanese) with their English names, meanings, and the chapter
that shows each one live. Rendered by notebooks/10_glossary.ipynb."""
from __future__ import annotations

# (Japanese as the article writes it, reading, English, meaning, chapter)
TERMS: list[tuple[str, str, str, str, str]] = [
    ("ネットワーク名前空間 (名前空間)", "namae kūkan", "network namespace",
     "a private copy of the network stack: interfaces, addresses, routes, netfilter rules", "01, 09"),
    ("ブリッジ", "burijji", "bridge",
     "a software learning switch in the kernel (docker0, lan0); keeps an FDB of MAC -> port", "02"),
    ("vethペア", "vīsu pea", "veth pair", "two virtual interfaces joined like a cable; one end in the container", "02"),
    ("ドライバ / ドライバー", "doraiba", "network driver", "the plug-in that builds a network: bridge, host, overlay, macvlan, ipvlan, null", "01, 07"),
    ("デフォルトゲートウェイ (default gateway)", "deforuto gētowei", "default gateway",
     "where a packet goes when no more specific route matches (docker0's address for a bridge container)", "01"),
    ("NAT", "natto", "network address translation", "rewriting addresses (and ports) of packets in netfilter", "01"),
    ("SNAT", "esu-natto", "source NAT / MASQUERADE", "rewrites the source on the way out, so the outside sees the host", "01"),
    ("DNAT", "dī-natto", "destination NAT", "rewrites the destination of a published port to the container", "01"),
    ("第2層 / 第二層", "dai ni sō", "layer 2 (data link)", "Ethernet frames and MAC addresses; what a bridge switches", "02, 05"),
    ("第3層 (ネットワーク層)", "dai san sō", "layer 3 (network layer)", "IP addresses and routing (the article wrongly calls it layer 4)", "01"),
    ("第4層", "dai yon sō", "layer 4 (transport)", "TCP/UDP ports; MASQUERADE rewrites the source port when it must", "01"),
    ("物理NIC", "butsuri nikku", "physical NIC", "the network card; it does no NAT (the kernel does)", "01"),
    ("ホストネットワーク", "hosuto nettowāku", "host network", "the container uses the host's own namespace", "03"),
    ("オーバーレイネットワーク", "ōbārei nettowāku", "overlay network", "one network across hosts, carried in VXLAN", "04"),
    ("マックベラン (macvlan)", "makkuberan", "macvlan", "sub-interfaces of a parent NIC, each with its own MAC", "05"),
    ("parent", "pearento", "parent interface", "the host NIC a macvlan network hangs from (-o parent=eth0)", "05"),
    ("none", "nan", "none (null driver)", "a namespace with loopback only", "06"),
    ("サブネット / IP range", "sabunetto", "subnet / address pool", "the block a network's addresses come from (172.17.0.0/16, ...)", "01, 08"),
    ("ポート公開 (-p)", "pōto kōkai", "port publishing", "a DNAT rule (and a docker-proxy) from a host port to a container port", "01"),
    ("コネクショントラッキング", "konekushon torakkingu", "conntrack", "the kernel's table of connections that un-NATs replies", "01"),
    ("オーケストレーション", "ōkesutorēshon", "orchestration", "Swarm, Kubernetes: running containers across machines", "04, 09"),
    ("Pod (ポッド)", "poddo", "pod", "Kubernetes' group of containers sharing one network namespace", "09"),
]


def rows() -> list[dict]:
    return [{"日本語 (article)": ja, "reading": reading, "English": en, "meaning": meaning, "chapter": ch}
            for ja, reading, en, meaning, ch in TERMS]
