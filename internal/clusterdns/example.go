package clusterdns

// ExampleZone is the zone the demo and cmd/meshdns-upstream (without --zone)
// serve. It answers a few external names, and also the mesh names of
// examples/objects.yaml with addresses meshdns never gives (198.19.x.x and
// fd53:19::x, TTL 7), so an answer shows who produced it.
const ExampleZone = `$TTL 7
; External names: only the upstream knows them.
www.example.org.        A     198.19.0.10
www.example.org.        AAAA  fd53:19::10
example.net.            A     198.19.0.11
example.net.            AAAA  fd53:19::11

; Mesh names with decoy answers: when meshdns is running these must never
; reach the upstream; when it is not, these are what a lookup returns.
web.default.svc.cluster.local.      A     198.19.1.1
web.default.svc.cluster.local.      AAAA  fd53:19::1:1
api.shop.svc.cluster.local.         A     198.19.1.2
api.shop.svc.cluster.local.         AAAA  fd53:19::1:2
db.shop.svc.cluster.local.          A     198.19.1.3
store.default.svc.cluster.local.    A     198.19.1.5
store.default.svc.cluster.local.    AAAA  fd53:19::1:5

; An ExternalName service as the cluster DNS answers it: the CNAME and the
; target's records. meshdns does not hold www.example.org, so it sends
; address queries for search here (only a CNAME question is answered in
; the pod).
search.default.svc.cluster.local.   CNAME www.example.org.
payments.example.com.               A     198.19.2.1
payments.example.com.               AAAA  fd53:19::2:1
*.internal.example.com.             A     198.19.2.2
legacy.example.net.                 A     198.19.2.3
legacy.example.net.                 AAAA  fd53:19::2:3
`
