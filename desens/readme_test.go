package desens_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeLibrary: the Go code of the README's Library section is
// example_test.go's, so it compiles with the API as it is. The README shows
// the imports as a block of their own.
func TestReadmeLibrary(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, lib, ok := strings.Cut(string(readme), "\n## Library\n")
	if !ok {
		t.Fatal("README has no Library section")
	}
	m := regexp.MustCompile("(?s)```go\n(.*?)```").FindStringSubmatch(lib)
	if m == nil {
		t.Fatal("README's Library section has no Go block")
	}
	code := m[1]
	if i := strings.Index(code, "\n)\n"); strings.HasPrefix(code, "import (") && i > 0 {
		imports := code[:i+3]
		for _, line := range strings.Split(imports, "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.Contains(string(example), line) {
				t.Errorf("README imports %s, example_test.go does not", line)
			}
		}
		code = code[i+3:]
	}
	code = strings.TrimSpace(code)
	if !strings.Contains(string(example), code) {
		t.Errorf("README's Library code is not example_test.go's:\n%s", code)
	}
}
