package netnstest

// StatefulFirewall is an iptables-restore (and ip6tables-restore) input
// for a pod with conntrack on, as a hardened pod has it: INVALID packets
// dropped both ways, and a stateful INPUT policy (loopback, established
// and related accepted, the rest dropped). Kernel tests load it to show
// that meshdns's answers and its own queries' replies get through such a
// firewall.
const StatefulFirewall = `*filter
:INPUT DROP [0:0]
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A OUTPUT -m conntrack --ctstate INVALID -j DROP
COMMIT
`
