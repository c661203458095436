package desens

import (
	"io/fs"
	"testing"
)

// TestPrintable: a name with control characters, a bidirectional override
// or bytes that are not UTF-8 prints quoted, a message escaped in place,
// and other names and messages as they are.
func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ in, name, text string }{
		{"cam/a b.jpg", "cam/a b.jpg", "cam/a b.jpg"},
		{"路径/照片.jpg", "路径/照片.jpg", "路径/照片.jpg"},
		{"a\nFAIL b.jpg", `"a\nFAIL b.jpg"`, `a\nFAIL b.jpg`},
		{"x\x1b[2J.jpg", `"x\x1b[2J.jpg"`, `x\x1b[2J.jpg`},
		{"bad\xff.jpg", `"bad\xff.jpg"`, `bad\xff.jpg`},
		{"rtl\u202egpj.exe", `"rtl\u202egpj.exe"`, `rtl\u202egpj.exe`},
		{`"quoted".jpg`, `"\"quoted\".jpg"`, `"quoted".jpg`},
	} {
		if got := PrintableName(tc.in); got != tc.name {
			t.Errorf("PrintableName(%q) = %s, want %s", tc.in, got, tc.name)
		}
		if got := PrintableText(tc.in); got != tc.text {
			t.Errorf("PrintableText(%q) = %s, want %s", tc.in, got, tc.text)
		}
	}
	fe := &FileError{Path: "a\nb.jpg", Stage: "source", Err: &fs.PathError{Op: "open", Path: "a\nb.jpg", Err: fs.ErrNotExist}}
	if got, want := fe.Error(), `"a\nb.jpg": source: open a\nb.jpg: file does not exist`; got != want {
		t.Errorf("FileError = %s, want %s", got, want)
	}
}
