package objects

import (
	"fmt"
	"strings"
)

// ParseError is a malformed objects file or object.
type ParseError struct {
	File string
	// Document is the 1-based number of the YAML document or JSON value in
	// the stream, 0 for errors about the file as a whole.
	Document int
	// Line is the 1-based line the document starts on, 0 if unknown.
	Line int
	// Item is the path of the object inside Lists ("items[3]"), "" when
	// the document itself is the object.
	Item string
	// Kind, Namespace and Name identify the object when known.
	Kind, Namespace, Name string
	Err                   error
}

func (e *ParseError) Error() string {
	var sb strings.Builder
	sb.WriteString(e.File)
	if e.Document > 0 {
		fmt.Fprintf(&sb, ": document %d", e.Document)
		if e.Line > 0 {
			fmt.Fprintf(&sb, " (line %d)", e.Line)
		}
	}
	if e.Item != "" {
		sb.WriteString(", " + e.Item)
	}
	if e.Kind != "" || e.Name != "" {
		sb.WriteString(" (")
		if e.Kind != "" {
			sb.WriteString(e.Kind)
		}
		if e.Name != "" {
			if e.Kind != "" {
				sb.WriteByte(' ')
			}
			if e.Namespace != "" {
				sb.WriteString(e.Namespace + "/")
			}
			sb.WriteString(e.Name)
		}
		sb.WriteByte(')')
	}
	sb.WriteString(": ")
	sb.WriteString(e.Err.Error())
	return sb.String()
}

func (e *ParseError) Unwrap() error { return e.Err }
