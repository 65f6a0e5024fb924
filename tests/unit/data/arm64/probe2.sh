step() { out=$("$@" 2>&1); echo "STEP rc=$? :: $* :: $out"; }
step ip link add pb0 type bridge
step ip link set pb0 up
step ip link set pb0 mtu 1400
step ip link add pv0 type veth peer name pv1
step ip link set pv0 master pb0
step ip link set pv0 up
step ip netns add p1
step ip link set pv1 netns p1
step ip -n p1 link set pv1 up
step ip -n p1 addr add 10.99.0.2/24 dev pv1
step ip -n p1 route add default via 10.99.0.1
step ip addr add 10.99.0.1/24 dev pb0
step ip route add 10.98.0.0/24 via 10.99.0.2
step ip link add pd0 type dummy
step ip link add pv2 netns p1 type veth peer name pv3
step ip link set dev pv3 name pv4
step ip -n p1 link show
step ip route show
