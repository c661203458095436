package event

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/desens/desens/internal/testenv"
)

// TestExamplesBuild builds the function handlers in examples/, which
// embed this package, so they stay in step with its API.
func TestExamplesBuild(t *testing.T) {
	for _, ex := range []string{"lambda", "cloudevents"} {
		t.Run(ex, func(t *testing.T) {
			cmd := exec.Command("go", "build", "-o", filepath.Join(t.TempDir(), ex), "./examples/"+ex)
			cmd.Dir = testenv.Root()
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go build ./examples/%s: %v\n%s", ex, err, out)
			}
		})
	}
}
