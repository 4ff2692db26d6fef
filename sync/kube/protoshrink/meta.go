package protoshrink

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// meta decodes an ObjectMeta message b into m, as model's shrink keeps it:
// the name, namespace, resourceVersion, creation and deletion times, and
// the label named label (none when label is empty). Like the generated
// decoder it decodes into what m already holds (a message field given
// twice is merged).
func (d *decoder) meta(b []byte, m *metav1.ObjectMeta, label string) bool {
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok {
			return false
		}
		b = rest
		switch f.num {
		case 1, 3, 6:
			if !f.isBytes() {
				return false
			}
			switch f.num {
			case 1:
				m.Name = f.str()
			case 3:
				m.Namespace = f.str()
			case 6:
				m.ResourceVersion = f.str()
			}
		case 8:
			if !f.isBytes() || m.CreationTimestamp.Unmarshal(f.b) != nil {
				return false
			}
		case 9:
			if !f.isBytes() {
				return false
			}
			if m.DeletionTimestamp == nil {
				m.DeletionTimestamp = &metav1.Time{}
			}
			if m.DeletionTimestamp.Unmarshal(f.b) != nil {
				return false
			}
		case 11:
			if !f.isBytes() || !d.label(f.b, m, label) {
				return false
			}
		default:
			if !d.s.objectMeta.check(f) {
				return false
			}
		}
	}
	return true
}

// label decodes one entry of an ObjectMeta's labels, keeping it in m when
// its key is label.
func (d *decoder) label(b []byte, m *metav1.ObjectMeta, label string) bool {
	var key, value []byte
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
			key = f.b
		case 2:
			if !f.isBytes() {
				return false
			}
			value = f.b
		}
		// A map entry's other fields are skipped unchecked.
	}
	if label == "" || string(key) != label {
		return true
	}
	if m.Labels == nil {
		m.Labels = map[string]string{}
	}
	m.Labels[label] = string(value)
	return true
}
