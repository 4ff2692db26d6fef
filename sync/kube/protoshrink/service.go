package protoshrink

import (
	corev1 "k8s.io/api/core/v1"
)

// service decodes a Service message b into s as model.ShrinkService keeps
// it.
func (d *decoder) service(b []byte, s *corev1.Service) bool {
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok {
			return false
		}
		b = rest
		switch f.num {
		case 1:
			if !f.isBytes() || !d.meta(f.b, &s.ObjectMeta, "") {
				return false
			}
		case 2:
			if !f.isBytes() || !d.serviceSpec(f.b, &s.Spec) {
				return false
			}
		default:
			if !d.s.service.check(f) {
				return false
			}
		}
	}
	return true
}

func (d *decoder) serviceSpec(b []byte, s *corev1.ServiceSpec) bool {
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok {
			return false
		}
		b = rest
		switch f.num {
		case 1:
			if !f.isBytes() {
				return false
			}
			s.Ports = append(s.Ports, corev1.ServicePort{})
			if !d.servicePort(f.b, &s.Ports[len(s.Ports)-1]) {
				return false
			}
		case 3, 4, 10, 17, 18, 19:
			if !f.isBytes() {
				return false
			}
			switch f.num {
			case 3:
				s.ClusterIP = f.str()
			case 4:
				s.Type = corev1.ServiceType(f.str())
			case 10:
				s.ExternalName = f.str()
			case 17:
				p := corev1.IPFamilyPolicy(f.str())
				s.IPFamilyPolicy = &p
			case 18:
				s.ClusterIPs = append(s.ClusterIPs, f.str())
			case 19:
				s.IPFamilies = append(s.IPFamilies, corev1.IPFamily(f.str()))
			}
		case 13:
			if !f.isVarint() {
				return false
			}
			s.PublishNotReadyAddresses = f.v != 0
		default:
			if !d.s.serviceSpec.check(f) {
				return false
			}
		}
	}
	return true
}

func (d *decoder) servicePort(b []byte, p *corev1.ServicePort) bool {
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok {
			return false
		}
		b = rest
		switch f.num {
		case 1:
			if !f.isBytes() {
				return false
			}
			p.Name = f.str()
		case 2:
			if !f.isBytes() {
				return false
			}
			p.Protocol = corev1.Protocol(f.str())
		case 3:
			if !f.isVarint() {
				return false
			}
			p.Port = int32(f.v) //nolint:gosec // the generated decoder's truncation
		case 4:
			if !f.isBytes() || p.TargetPort.Unmarshal(f.b) != nil {
				return false
			}
		default:
			if !d.s.servicePort.check(f) {
				return false
			}
		}
	}
	return true
}

// serviceList decodes a ServiceList message b into l, each item as
// service decodes it.
func (d *decoder) serviceList(b []byte, l *corev1.ServiceList) bool {
	if n := count(b, 2); n > 0 && l.Items == nil {
		l.Items = make([]corev1.Service, 0, n)
	}
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok {
			return false
		}
		b = rest
		switch f.num {
		case 1:
			if !f.isBytes() || l.ListMeta.Unmarshal(f.b) != nil {
				return false
			}
		case 2:
			if !f.isBytes() {
				return false
			}
			l.Items = append(l.Items, corev1.Service{})
			if !d.service(f.b, &l.Items[len(l.Items)-1]) {
				return false
			}
		default:
			if !d.s.serviceList.check(f) {
				return false
			}
		}
	}
	return true
}
