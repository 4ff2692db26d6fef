package protoshrink

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// meta decodes an ObjectMeta message b into m, as model's shrink keeps it:
// the name, namespace, resourceVersion, creation and deletion times, the
// label named label (none when label is empty) and the annotation
// metav1.InitialEventsAnnotationKey. Like the generated
// decoder it decodes into what m already holds (a message field given
// twice is merged).
func (d *decoder) meta(b []byte, m *metav1.ObjectMeta, label string) bool {
	return walk(b, func(f field) bool {
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
			return f.isBytes() && m.CreationTimestamp.Unmarshal(f.b) == nil
		case 9:
			if !f.isBytes() {
				return false
			}
			if m.DeletionTimestamp == nil {
				m.DeletionTimestamp = &metav1.Time{}
			}
			return m.DeletionTimestamp.Unmarshal(f.b) == nil
		case 11, 12:
			// Labels and annotations: one of each is kept.
			key := label
			if f.num == 12 {
				key = metav1.InitialEventsAnnotationKey
			}
			if !f.isBytes() {
				return false
			}
			v, found, ok := entry(f.b, key)
			if !ok {
				return false
			}
			switch {
			case !found:
			case f.num == 11:
				m.Labels = setOne(m.Labels, key, v)
			default:
				m.Annotations = setOne(m.Annotations, key, v)
			}
		default:
			return d.s.objectMeta.check(f)
		}
		return true
	})
}

// entry decodes an entry of a map<string, string> (b) and returns its
// value when its key is key (found false for another key, and for any when
// key is empty).
func entry(b []byte, key string) (value string, found, ok bool) {
	var k, v []byte
	ok = walk(b, func(f field) bool {
		switch f.num {
		case 1:
			k = f.b
		case 2:
			v = f.b
		default:
			// A map entry's other fields are skipped unchecked.
			return true
		}
		return f.isBytes()
	})
	if !ok {
		return "", false, false
	}
	if key == "" || string(k) != key {
		return "", false, true
	}
	return string(v), true, true
}

// setOne sets key to value in m, made if nil.
func setOne(m map[string]string, key, value string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[key] = value
	return m
}
