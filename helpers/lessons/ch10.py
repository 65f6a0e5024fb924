"""Chapter 10 (glossary): the terms of the course, in Japanese and English, with their meanings (in
English, and in Japanese for the Japanese edition's learners: `meaning_ja`, spelled as
i18n/ja/terms.toml says, checked by tests/unit/test_translation_terms.py) and the chapter that shows
each one live. Rendered by notebooks/10_glossary.ipynb (notebooks/src/ch10.py) and its Japanese edition.

Each term says where it comes from: either **the article** (then `article` holds the exact string
the source article writes, verified against its text by tests/unit/test_glossary.py), or **the
course**, which adds a standard term the article does not use (then `article` is None).
"""
from __future__ import annotations

from dataclasses import dataclass

from helpers.world import engine_facts

ARTICLE = "the article"
COURSE = "added by the course (standard term)"


@dataclass(frozen=True)
class Term:
    ja: str                 # the term as the glossary lists it
    article: str | None     # exactly as the article writes it (forms joined by ' / '), or None: added by the course
    reading: str
    en: str
    meaning: str
    chapter: str
    meaning_ja: str         # the meaning in Japanese, in the edition's terms (i18n/ja/terms.toml)

    @property
    def source(self) -> str:
        return ARTICLE if self.article else COURSE


TERMS: list[Term] = [
    Term("ネットワーク名前空間", None, "nettowāku namae kūkan", "network namespace",
         "a private copy of the network stack: interfaces, addresses, routes, netfilter rules", "01, 09",
         "ネットワークスタックの専用の写し：インターフェース、アドレス、ルート、netfilter のルール"),
    Term("UTS名前空間", None, "yū-tī-esu namae kūkan", "UTS namespace",
         "the hostname's namespace; one per Kubernetes pod, but separate for each container under "
         "Docker's --network container: (Docker only copies the hostname)", "09",
         "ホスト名の名前空間。Kubernetes では Pod ごとに 1 つだが、"
         "Docker の --network container: ではコンテナごとに別（Docker はホスト名をコピーするだけ）"),
    Term("ブリッジ", "ブリッジ", "burijji", "bridge",
         "a software learning switch in the kernel (docker0, lan0); keeps an FDB of MAC -> port", "02",
         "カーネルの中のソフトウェアの学習スイッチ（docker0、lan0）。MAC → ポートの FDB を持つ"),
    Term("vethペア", "vethペア", "vīsu pea", "veth pair",
         "two virtual interfaces joined like a cable; one end in the container", "02",
         "ケーブルのようにつながった 2 つの仮想インターフェース。一方の端がコンテナの中にある"),
    Term("ドライバ", "ドライバ / ドライバー", "doraiba", "network driver",
         "the plug-in that builds a network: bridge, host, overlay, macvlan, ipvlan, null", "01, 07",
         "ネットワークを作るプラグイン：bridge、host、overlay、macvlan、ipvlan、null"),
    Term("default gateway (デフォルトゲートウェイ)", "default gateway", "deforuto gētowei", "default gateway",
         "where a packet goes when no more specific route matches (docker0's address for a bridge "
         "container). The article writes it in English; デフォルトゲートウェイ is the usual Japanese", "01",
         "より具体的なルートが一致しないときにパケットが向かう先（bridge のコンテナでは docker0 のアドレス）。"
         "記事は英語で書いている。日本語では普通デフォルトゲートウェイと書く"),
    Term("IP range (0.0.0.0/0)", "IP range", "ai-pī renji", "destination of the default route",
         "in the article's 「IP rangeは0.0.0.0/0」: the range of destinations the route to the internet "
         "covers, i.e. every address — the default route (`default via ...`), not a network's subnet", "01",
         "記事の「IP rangeは0.0.0.0/0」では、インターネットへのルートが対象とする宛先の範囲、つまりすべてのアドレス。"
         "デフォルトルート（`default via ...`）のことで、ネットワークのサブネットではない"),
    Term("サブネット", None, "sabunetto", "subnet / address pool",
         "the block a network's addresses come from (172.17.0.0/16, ...; `--subnet`)", "01, 08",
         "ネットワークのアドレスの出どころとなるブロック（172.17.0.0/16 など。`--subnet`）"),
    Term("NAT", "NAT", "natto", "network address translation",
         "rewriting addresses (and ports) of packets in netfilter", "01",
         "netfilter でパケットのアドレス（とポート）を書き換えること"),
    Term("SNAT", "SNAT", "esu-natto", "source NAT / MASQUERADE",
         "rewrites the source on the way out, so the outside sees the host", "01, 07",
         "外へ出るときに送信元を書き換え、外からはホストに見えるようにする"),
    Term("DNAT", "DNAT", "dī-natto", "destination NAT",
         "rewrites the destination of a published port to the container", "01",
         "公開したポートあてのパケットの宛先を、コンテナのアドレスへ書き換える"),
    Term("ポート公開 (-p)", None, "pōto kōkai", "port publishing",
         "a DNAT rule (and a docker-proxy) from a host port to a container port", "01",
         "ホストのポートからコンテナのポートへの DNAT ルール（と docker-proxy）"),
    Term("コネクショントラッキング", None, "konekushon torakkingu", "connection tracking (conntrack)",
         "the kernel's table of connections, on every path (host networking too); it applies a NAT "
         "decision to every later packet of the connection and un-NATs the replies", "01, 07",
         "カーネルが持つ接続の表。どの経路でも（ホストネットワークでも）働き、"
         "NAT の判断をその接続の後続のパケットすべてに適用し、返事の変換を元に戻す"),
    Term("第2層 / 第二層", "第2層 / 第二層", "dai ni sō", "layer 2 (data link)",
         "Ethernet frames and MAC addresses; what a bridge switches", "02, 05",
         "Ethernet フレームと MAC アドレス。ブリッジが中継するもの"),
    Term("ネットワーク層 (第3層)", "ネットワーク層", "nettowāku sō", "layer 3 (network layer)",
         "IP addresses and routing. The article writes 「ネットワーク層である第4層」: the network "
         "layer is layer 3 (第3層, the course's term)", "01",
         "IP アドレスとルーティング。記事は「ネットワーク層である第4層」と書いているが、"
         "ネットワーク層は第3層（コースの用語）"),
    Term("第4層", "第4層", "dai yon sō", "layer 4 (transport)",
         "TCP/UDP ports; MASQUERADE rewrites the source port when it must", "01",
         "TCP/UDP のポート。MASQUERADE は必要なときに送信元ポートを書き換える"),
    Term("物理NIC", "物理NIC", "butsuri nikku", "physical NIC",
         "the network card; it does no NAT (the kernel does)", "01",
         "ネットワークカード。NAT は行わない（行うのはカーネル）"),
    Term("ホストネットワーク", "ホストネットワーク", "hosuto nettowāku", "host network",
         "the container uses the host's own namespace", "03",
         "コンテナがホスト自身の名前空間を使う"),
    Term("オーバーレイネットワーク", "オーバーレイネットワーク", "ōbārei nettowāku", "overlay network",
         "one network across hosts, carried in VXLAN", "04",
         "ホストをまたぐ 1 つのネットワーク。VXLAN で運ばれる"),
    Term("libkv", "libkv", "ribu kē-bui", "libkv (key-value store library)",
         "the library of Docker's old standalone overlay mode (Consul, Etcd, ZooKeeper). "
         + engine_facts.say("kv-store"), "04",
         "Docker の古いスタンドアロンのオーバーレイモードが使ったライブラリ（Consul、Etcd、ZooKeeper）。"
         "外部ストアのモードがどのバージョンで非推奨になり、削除されたかは第 4 章"),
    Term("マックベラン (macvlan)", "マックベラン", "makkuberan", "macvlan",
         "sub-interfaces of a parent NIC, each with its own MAC. マックベラン is the article's own "
         "katakana: Japanese documentation writes macvlan (or マックブイラン)", "05",
         "親 NIC のサブインターフェースで、それぞれが自分の MAC を持つ。"
         "マックベランは記事独自のカタカナで、日本語のドキュメントは macvlan（またはマックブイラン）と書く"),
    Term("parent", "parent", "pearento", "parent interface",
         "the host NIC a macvlan network hangs from (-o parent=eth0)", "05",
         "macvlan ネットワークがぶら下がるホストの NIC（-o parent=eth0）"),
    Term("none", "none", "nan", "none (null driver)", "a namespace with loopback only", "06",
         "ループバックだけの名前空間"),
    Term("オーケストレーション", "オーケストレーション", "ōkesutorēshon", "orchestration",
         "Swarm, Kubernetes: running containers across machines", "04, 09",
         "Swarm、Kubernetes：複数のマシンにまたがってコンテナを動かすこと"),
    Term("Pod (ポッド)", None, "poddo", "pod",
         "Kubernetes' group of containers sharing one network (and UTS) namespace", "09",
         "1 つのネットワーク（と UTS）名前空間を共有する、Kubernetes のコンテナのグループ"),
]


def forms(term: Term) -> list[str]:
    """Each spelling the article uses for a term (empty for a term the course adds)."""
    return term.article.split(" / ") if term.article else []


def article_terms() -> list[Term]:
    """The terms the article itself uses."""
    return [t for t in TERMS if t.article]


def course_terms() -> list[Term]:
    """The standard terms the course adds."""
    return [t for t in TERMS if not t.article]


def rows() -> list[dict]:
    """One table row per term: where it comes from, how the article writes it, what it means (English, Japanese)."""
    return [{"用語 (term)": t.ja, "source": t.source, "as the article writes it": t.article or "—",
             "reading": t.reading, "English": t.en, "meaning": t.meaning, "意味": t.meaning_ja,
             "chapter": t.chapter}
            for t in TERMS]
