package trajectory

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
)

// GPX and KML are rewritten in place: the parser only finds where each
// position, time and bounding box lies in the bytes, and the output is the
// input with those spans replaced or cut out. Everything else (namespaces,
// extensions, comments, layout) stays byte for byte, which a re-encoding
// with encoding/xml's Encoder would not guarantee.

// xelem is one element as the scanner saw it, with byte offsets into the
// input.
type xelem struct {
	prefix, local string
	attrs         []xml.Attr
	leadWS        int // start of the whitespace before the start tag
	start, tagEnd int // the start tag
	innerEnd, end int // the end tag (both tagEnd when self-closing)
	selfClosing   bool
	text          strings.Builder // character data directly inside
	simple        bool            // text only: no child elements, comments or instructions
	parent        *xelem
	kids          map[string]*xelem // its simple longitude and latitude children
}

func (e *xelem) attr(local string) (string, bool) {
	for _, a := range e.attrs {
		if a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// within reports whether e lies inside an element called local.
func (e *xelem) within(local string) *xelem {
	for p := e.parent; p != nil; p = p.parent {
		if p.local == local {
			return p
		}
	}
	return nil
}

// scanXML checks that data is well-formed XML and calls fn at the end of
// each element, innermost first, in document order.
func scanXML(data []byte, fn func(e *xelem) error) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var stack []*xelem
	roots := 0
	for {
		off := int(d.InputOffset())
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		end := int(d.InputOffset())
		var top *xelem
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if top == nil {
				roots++
			} else {
				top.simple = false
				top.text.Reset() // only simple elements' text is used
			}
			e := &xelem{prefix: t.Name.Space, local: t.Name.Local, attrs: t.Copy().Attr,
				start: off, tagEnd: end, simple: true, parent: top,
				selfClosing: bytes.HasSuffix(data[off:end], []byte("/>"))}
			e.leadWS = off
			for e.leadWS > 0 && isXMLSpace(data[e.leadWS-1]) {
				e.leadWS--
			}
			stack = append(stack, e)
		case xml.EndElement:
			if top == nil || top.prefix != t.Name.Space || top.local != t.Name.Local {
				return fmt.Errorf("%w: unexpected </%s> at byte %d", ErrMalformed, qname(t.Name), off)
			}
			stack = stack[:len(stack)-1]
			if top.selfClosing {
				top.innerEnd, top.end = top.tagEnd, top.tagEnd
			} else {
				top.innerEnd, top.end = off, end
			}
			if top.parent != nil && top.simple && (top.local == "longitude" || top.local == "latitude") {
				// Only KML's LookAt/Camera pairs are looked up by name;
				// keeping every child would hold the whole file.
				if top.parent.kids == nil {
					top.parent.kids = map[string]*xelem{}
				}
				top.parent.kids[top.local] = top
			}
			if err := fn(top); err != nil {
				return err
			}
		case xml.CharData:
			if top != nil && top.simple {
				top.text.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return fmt.Errorf("%w: text outside the root element", ErrMalformed)
			}
		case xml.Comment, xml.ProcInst, xml.Directive:
			if top != nil {
				top.simple = false
			}
		}
	}
	if len(stack) > 0 {
		return fmt.Errorf("%w: <%s> not closed", ErrMalformed, stack[len(stack)-1].local)
	}
	if roots != 1 {
		return fmt.Errorf("%w: %d root elements", ErrMalformed, roots)
	}
	return nil
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// startTag writes e's start tag again with some attribute values replaced,
// keeping names, prefixes and order.
func startTag(e *xelem, set map[string]string) []byte {
	var b bytes.Buffer
	b.WriteString("<" + qname(xml.Name{Space: e.prefix, Local: e.local}))
	for _, a := range e.attrs {
		v := a.Value
		if nv, ok := set[a.Name.Local]; ok && a.Name.Space == "" {
			v = nv
		}
		b.WriteString(" " + qname(a.Name) + `="`)
		_ = xml.EscapeText(&b, []byte(v))
		b.WriteString(`"`)
	}
	if e.selfClosing {
		b.WriteString("/>")
	} else {
		b.WriteString(">")
	}
	return b.Bytes()
}

// escaped escapes character data. Unlike xml.EscapeText it leaves line
// breaks and tabs as they are, so that a list keeps its layout.
func escaped(s string) []byte {
	return []byte(textEscaper.Replace(s))
}

var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// edit replaces data[start:end] with repl.
type edit struct {
	start, end int
	repl       []byte
}

// edits collects the changes to an XML file.
type edits []edit

// remove cuts an element out, with the whitespace before it.
func (es *edits) remove(e *xelem) { *es = append(*es, edit{start: e.leadWS, end: e.end}) }

// setText replaces a simple element's text.
func (es *edits) setText(e *xelem, s string) {
	*es = append(*es, edit{start: e.tagEnd, end: e.innerEnd, repl: escaped(s)})
}

// apply returns data with the edits made. An edit inside a span that an
// earlier one replaced (a time inside a removed point) is moot and skipped.
func (es edits) apply(data []byte) []byte {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].start != es[j].start {
			return es[i].start < es[j].start
		}
		return es[i].end > es[j].end
	})
	var out bytes.Buffer
	pos := 0
	for _, e := range es {
		if e.start < pos {
			continue
		}
		out.Write(data[pos:e.start])
		out.Write(e.repl)
		pos = e.end
	}
	out.Write(data[pos:])
	return out.Bytes()
}

// roundTimeElem rounds the time an element holds, if the policy asks for
// it. A time that cannot be read is refused rather than left exact; a bare
// date (KML allows "2026" or "2026-01-02") is coarser than any rounding.
func (es *edits) roundTimeElem(p Policy, e *xelem) error {
	if !p.roundsTimes() {
		return nil
	}
	txt := e.text.String()
	if !e.simple {
		return fmt.Errorf("%w: <%s> at byte %d holds more than a time", ErrUnsupported, e.local, e.start)
	}
	if strings.TrimSpace(txt) == "" || dateOnly.MatchString(strings.TrimSpace(txt)) {
		return nil
	}
	s, ok := p.roundTimeText(txt)
	if !ok {
		return fmt.Errorf("%w: <%s>%s</%s> is not a time that can be rounded", ErrUnsupported, e.local, strings.TrimSpace(txt), e.local)
	}
	es.setText(e, s)
	return nil
}
