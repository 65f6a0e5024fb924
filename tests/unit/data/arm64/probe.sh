# Each step: its command, its exit status and output (the lab's own operations: a bridge, a veth pair into a
# namespace, addresses, a NAT rule), in whatever network namespace this runs in.
step() { out=$("$@" 2>&1); echo "STEP rc=$? :: $* :: $out"; }
step ip netns add p1
step ip link add pb0 type bridge
step ip link add pv0 type veth peer name pv1
step ip link set pv1 netns p1
step ip addr add 10.99.0.1/24 dev pb0
step ip -n p1 addr add 10.99.0.2/24 dev pv1
step ip -o -4 addr show dev pb0
step iptables -t nat -A POSTROUTING -s 10.99.0.0/24 -j MASQUERADE
step iptables -t nat -S POSTROUTING
step nft list tables
