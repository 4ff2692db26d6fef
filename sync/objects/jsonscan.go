package objects

// The JSON of an objects file is read in place: each document, a List's
// items and an array's elements are subslices of the file's bytes found
// by their structure, not copies made by a decoder. A kubectl export is
// one List of every object, and copying it (the decoder's buffer, the
// document, the items) held the file three and four times over at the
// load's peak. The structure is found by jsonEnd on data json.Valid has
// accepted, so encoding/json still decides what is valid.

// jsonEnd returns the end of the JSON value that starts at data[i]: an
// object, an array or a string by its structure (nesting, strings and
// their escapes), a number or a literal up to the next delimiter. ok is
// false when data ends first or the brackets do not match in number;
// whether the value is valid JSON is json.Valid's to say.
func jsonEnd(data []byte, i int) (end int, ok bool) {
	depth := 0
	for ; i < len(data); i++ {
		switch data[i] {
		case '"':
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
			if i >= len(data) {
				return 0, false
			}
			if depth == 0 {
				return i + 1, true
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			switch {
			case depth == 0:
				return i + 1, true
			case depth < 0:
				return 0, false
			}
		default:
			if depth == 0 {
				j := i
				for j < len(data) && !jsonDelim(data[j]) {
					j++
				}
				return j, j > i
			}
		}
	}
	return 0, false
}

// jsonDelim reports whether c ends a number or a literal.
func jsonDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ',', ']', '}', '[', '{', '"', ':':
		return true
	}
	return false
}

// jsonSpace returns the index of the first byte at or after i that is not
// JSON white space.
func jsonSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// jsonElems returns the elements of arr, a valid JSON array, as
// subslices of it.
func jsonElems(arr []byte) [][]byte {
	var out [][]byte
	i := jsonSpace(arr, 0) + 1 // past '['
	for {
		i = jsonSpace(arr, i)
		if i >= len(arr) || arr[i] == ']' {
			return out
		}
		end, ok := jsonEnd(arr, i)
		if !ok {
			return out // not on valid input
		}
		out = append(out, arr[i:end])
		if i = jsonSpace(arr, end); i < len(arr) && arr[i] == ',' {
			i++
		}
	}
}

// rawRef keeps the JSON of a value where encoding/json found it: a
// subslice of the input, which Unmarshal passes to UnmarshalJSON without
// copying (and never changes). It is kept only while that input is.
type rawRef struct{ b []byte }

func (r *rawRef) UnmarshalJSON(b []byte) error {
	r.b = b
	return nil
}
