// Package enginetest builds query packets and checks response packets for
// tests of the engine and of the packages that feed it. It uses gopacket
// and miekg/dns as independent references: a packet the engine writes is
// re-serialized by gopacket with computed checksums and must come out
// byte-for-byte the same.
package enginetest
