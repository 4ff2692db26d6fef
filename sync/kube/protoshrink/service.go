package protoshrink

import (
	corev1 "k8s.io/api/core/v1"
)

// service decodes a Service message b into s as model.ShrinkService keeps
// it.
func (d *decoder) service(b []byte, s *corev1.Service) bool {
	return walk(b, func(f field) bool {
		switch f.num {
		case 1:
			return f.isBytes() && d.meta(f.b, &s.ObjectMeta, "")
		case 2:
			return f.isBytes() && d.serviceSpec(f.b, &s.Spec)
		default:
			return d.s.service.check(f)
		}
	})
}

func (d *decoder) serviceSpec(b []byte, s *corev1.ServiceSpec) bool {
	return walk(b, func(f field) bool {
		switch f.num {
		case 1:
			return appendDecoded(&s.Ports, f, d.servicePort)
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
			return d.s.serviceSpec.check(f)
		}
		return true
	})
}

func (d *decoder) servicePort(b []byte, p *corev1.ServicePort) bool {
	return walk(b, func(f field) bool {
		switch f.num {
		case 1, 2:
			if !f.isBytes() {
				return false
			}
			if f.num == 1 {
				p.Name = f.str()
			} else {
				p.Protocol = corev1.Protocol(f.str())
			}
		case 3:
			if !f.isVarint() {
				return false
			}
			p.Port = int32(f.v) //nolint:gosec // the generated decoder's truncation
		case 4:
			return f.isBytes() && p.TargetPort.Unmarshal(f.b) == nil
		default:
			return d.s.servicePort.check(f)
		}
		return true
	})
}

// serviceList decodes a ServiceList message b into l, each item as
// service decodes it.
func (d *decoder) serviceList(b []byte, l *corev1.ServiceList) bool {
	return list(b, &l.ListMeta, &l.Items, d.service, d.s.serviceList)
}
