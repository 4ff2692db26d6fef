package model

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func claimsN(n int) []vipClaim {
	out := make([]vipClaim, n)
	for i := range out {
		out[i] = vipClaim{
			host:      fmt.Sprintf("svc-%d.example.com", i),
			created:   t0.Add(time.Duration(i) * time.Minute),
			namespace: "ns",
			name:      fmt.Sprintf("se-%d", i),
		}
	}
	return out
}

func without(c []vipClaim, i int) []vipClaim {
	out := append([]vipClaim(nil), c[:i]...)
	return append(out, c[i+1:]...)
}

func TestSlotVIP(t *testing.T) {
	for _, tc := range []struct {
		slot   int
		v4, v6 string
	}{
		{1, "240.240.0.1", "2001:2::1"},
		{258, "240.240.1.2", "2001:2::102"},
		{65534, "240.240.255.254", "2001:2::fffe"},
	} {
		v := slotVIP(tc.slot)
		if v.v4.String() != tc.v4 || v.v6.String() != tc.v6 {
			t.Errorf("slot %d: got %v %v, want %s %s", tc.slot, v.v4, v.v6, tc.v4, tc.v6)
		}
		if vipSlot(v.v4) != tc.slot || vipSlot(v.v6) != tc.slot {
			t.Errorf("slot %d: round trip gives %d, %d", tc.slot, vipSlot(v.v4), vipSlot(v.v6))
		}
	}
	for _, s := range []string{"10.0.0.1", "240.241.0.1", "2001:2:0:1::5", "2001:3::1"} {
		if got := vipSlot(netip.MustParseAddr(s)); got != 0 {
			t.Errorf("vipSlot(%s) = %d, want 0 (outside the pool)", s, got)
		}
	}
}

// TestVIPDeterministic: the same claims in any order give the same VIPs,
// all distinct and inside the pools.
func TestVIPDeterministic(t *testing.T) {
	claims := claimsN(500)
	want := allocateVIPs(claims, nil)
	if len(want) != len(claims) {
		t.Fatalf("allocated %d VIPs for %d claims", len(want), len(claims))
	}
	seen := map[netip.Addr]string{}
	for h, v := range want {
		if !vipPrefix4.Contains(v.v4) || !vipPrefix6.Contains(v.v6) {
			t.Errorf("%s: %v %v outside the pools", h, v.v4, v.v6)
		}
		if vipSlot(v.v4) != vipSlot(v.v6) {
			t.Errorf("%s: v4 %v and v6 %v are not one slot", h, v.v4, v.v6)
		}
		if o, dup := seen[v.v4]; dup {
			t.Errorf("%s and %s share %v", h, o, v.v4)
		}
		seen[v.v4] = h
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		shuffled := append([]vipClaim(nil), claims...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got := allocateVIPs(shuffled, nil)
		for h, v := range want {
			if got[h] != v {
				t.Fatalf("order changed %s: %v -> %v", h, v, got[h])
			}
		}
	}
}

// TestVIPStability: adding a new entry moves nobody; removing one moves at
// most younger hosts that had lost their preferred slot.
func TestVIPStability(t *testing.T) {
	claims := claimsN(400)
	base := allocateVIPs(claims, nil)

	added := append(append([]vipClaim(nil), claims...), vipClaim{host: "new.example.com", created: t0.Add(time.Hour * 1000)})
	after := allocateVIPs(added, nil)
	for h, v := range base {
		if after[h] != v {
			t.Errorf("adding an entry moved %s: %v -> %v", h, v, after[h])
		}
	}
	if _, ok := after["new.example.com"]; !ok {
		t.Error("the added entry got no VIP")
	}

	collided := 0
	for i := range claims {
		if vipSlot(base[claims[i].host].v4) != hashSlot(claims[i].host, 0) {
			collided++
		}
	}
	for i := 0; i < len(claims); i += 7 {
		got := allocateVIPs(without(claims, i), nil)
		if _, ok := got[claims[i].host]; ok {
			t.Fatalf("removed %s still has a VIP", claims[i].host)
		}
		for j, c := range claims {
			if j == i || got[c.host] == base[c.host] {
				continue
			}
			preferred := vipSlot(base[c.host].v4) == hashSlot(c.host, 0)
			if j < i || preferred {
				t.Errorf("removing %s moved %s (older or in its preferred slot): %v -> %v",
					claims[i].host, c.host, base[c.host], got[c.host])
			}
		}
	}
	t.Logf("%d of %d hosts are not in their preferred slot", collided, len(claims))
}

// collidingHosts returns n hosts with the same preferred slot.
func collidingHosts(t *testing.T, n int) []string {
	bySlot := map[int][]string{}
	for i := 0; i < 1_000_000; i++ {
		h := fmt.Sprintf("h%d.example.com", i)
		s := hashSlot(h, 0)
		bySlot[s] = append(bySlot[s], h)
		if len(bySlot[s]) == n {
			return bySlot[s]
		}
	}
	t.Fatal("no collision found")
	return nil
}

func TestVIPCollision(t *testing.T) {
	hs := collidingHosts(t, 3)
	older := vipClaim{host: hs[0], created: t0, namespace: "b", name: "x"}
	younger := vipClaim{host: hs[1], created: t0.Add(time.Second), namespace: "a", name: "x"}
	youngest := vipClaim{host: hs[2], created: t0.Add(2 * time.Second)}
	pref := hashSlot(hs[0], 0)

	both := allocateVIPs([]vipClaim{younger, older}, nil)
	if vipSlot(both[hs[0]].v4) != pref {
		t.Errorf("the older entry lost its preferred slot: %v", both[hs[0]])
	}
	if s := vipSlot(both[hs[1]].v4); s == pref || s == 0 {
		t.Errorf("the younger entry got slot %d", s)
	}
	three := allocateVIPs([]vipClaim{youngest, younger, older}, nil)
	if three[hs[0]] != both[hs[0]] || three[hs[1]] != both[hs[1]] {
		t.Errorf("adding a third colliding entry moved the others: %v -> %v", both, three)
	}
	// Same timestamp: namespace decides.
	tie := allocateVIPs([]vipClaim{{host: hs[0], created: t0, namespace: "b"}, {host: hs[1], created: t0, namespace: "a"}}, nil)
	if vipSlot(tie[hs[1]].v4) != pref {
		t.Errorf("on equal timestamps namespace a should win the slot: %v", tie)
	}
	// Removing the loser leaves the winner; removing the winner gives
	// the loser its preferred slot (the documented exception).
	if only := allocateVIPs([]vipClaim{older}, nil); only[hs[0]] != both[hs[0]] {
		t.Errorf("removing the loser moved the winner")
	}
	if only := allocateVIPs([]vipClaim{younger}, nil); vipSlot(only[hs[1]].v4) != pref {
		t.Errorf("without the winner the loser should get its preferred slot")
	}
	// A reserved address (status.addresses of some entry) keeps the slot.
	res := allocateVIPs([]vipClaim{older}, []netip.Addr{slotVIP(pref).v6})
	if vipSlot(res[hs[0]].v4) == pref {
		t.Errorf("a reserved slot was handed out")
	}
}

func TestVIPExhaustion(t *testing.T) {
	claims := claimsN(vipSlots + 2)
	got := allocateVIPs(claims, nil)
	if len(got) != vipSlots {
		t.Fatalf("allocated %d, want the whole pool (%d)", len(got), vipSlots)
	}
	seen := map[netip.Addr]bool{}
	for _, v := range got {
		if seen[v.v4] {
			t.Fatalf("%v handed out twice", v.v4)
		}
		seen[v.v4] = true
	}
	for _, c := range claims[vipSlots:] {
		if _, ok := got[c.host]; ok {
			t.Errorf("the youngest claim %s got a VIP from a full pool", c.host)
		}
	}
}
