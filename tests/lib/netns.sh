# SPDX-License-Identifier: BSD-2-Clause
# netns.sh: two test hosts A (203.0.113.1, 2001:db8:a::1) and B (198.51.100.7, 2001:db8:a::7) in
# network namespaces joined by a veth pair (sourced; root only). Names carry the shell's pid so
# parallel runs never collide; netns_cleanup removes them.
NSA=ngA$$
NSB=ngB$$
VA=vA$$
VB=vB$$

# netns_create: make the two hosts; non-zero when the system refuses (netns_cleanup removes what was made).
netns_create() {
	ip netns add "$NSA" 2>/dev/null || return 1
	NETNS_UP=1
	ip netns add "$NSB" || return 1
	ip link add "$VA" type veth peer name "$VB" || return 1
	ip link set "$VA" netns "$NSA"
	ip link set "$VB" netns "$NSB"
	ip -n "$NSA" link set lo up
	ip -n "$NSB" link set lo up
	ip -n "$NSA" addr add 203.0.113.1/24 dev "$VA"
	ip -n "$NSB" addr add 198.51.100.7/24 dev "$VB"
	ip -n "$NSA" addr add 2001:db8:a::1/64 dev "$VA" nodad
	ip -n "$NSB" addr add 2001:db8:a::7/64 dev "$VB" nodad
	ip -n "$NSA" link set "$VA" up
	ip -n "$NSB" link set "$VB" up
	ip -n "$NSA" route add 198.51.100.0/24 dev "$VA"
	ip -n "$NSB" route add 203.0.113.0/24 dev "$VB"
}

# netns_setup: the same for a test, which is skipped (with the reason) where namespaces cannot be made.
netns_setup() {
	is_root || skip "needs root for network namespaces (CI runs as root)"
	command -v ip >/dev/null 2>&1 || skip "needs ip (iproute2)"
	netns_create || skip "cannot create network namespaces and a veth pair here"
}

netns_cleanup() {
	if [ -n "${NETNS_UP:-}" ]; then
		ip netns del "$NSA" 2>/dev/null
		ip netns del "$NSB" 2>/dev/null
	fi
}

inA() {
	ip netns exec "$NSA" "$@"
}

inB() {
	ip netns exec "$NSB" "$@"
}
