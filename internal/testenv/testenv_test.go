package testenv

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestCI(t *testing.T) {
	for v, want := range map[string]bool{
		"": false, "false": false, "0": false, "FALSE": false,
		"true": true, "1": true, "TRUE": true, "yes": true,
	} {
		t.Setenv("CI", v)
		if got := CI(); got != want {
			t.Errorf("CI=%q: CI() = %v, want %v", v, got, want)
		}
	}
}

// recorder stands in for a test and notes whether a helper failed or
// skipped it. A real test ends there (runtime.Goexit); the recorder panics
// with stop instead, and outcome recovers it.
type recorder struct {
	testing.TB
	failed, skipped bool
}

type stop struct{}

func (r *recorder) Helper()               {}
func (r *recorder) Fatalf(string, ...any) { r.failed = true; panic(stop{}) }
func (r *recorder) Skipf(string, ...any)  { r.skipped = true; panic(stop{}) }

// outcome runs helper on a recorder under the CI value given and reports
// whether it failed or skipped the test. A helper that returns has done
// neither: the test would go on without what it needs.
func outcome(t *testing.T, ci string, helper func(testing.TB)) (failed, skipped bool) {
	t.Helper()
	t.Setenv("CI", ci)
	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil {
				if _, ok := p.(stop); !ok {
					panic(p)
				}
			}
		}()
		helper(r)
	}()
	return r.failed, r.skipped
}

// TestMissingFailsInCI: with CI=true every skip helper fails the test when
// what it looks for is absent; without CI it skips it.
func TestMissingFailsInCI(t *testing.T) {
	for name, helper := range map[string]func(testing.TB){
		"Missing": func(tb testing.TB) { Missing(tb, "a tool", errors.New("not found")) },
		"File":    func(tb testing.TB) { File(tb, filepath.Join(tb.TempDir(), "absent.jpg")) },
		"FFmpeg":  func(tb testing.TB) { tb.Setenv("PATH", tb.TempDir()); FFmpeg(tb) },
		"ORT": func(tb testing.TB) {
			tb.Setenv("DESENS_ORT_LIB", filepath.Join(tb.TempDir(), "absent.so"))
			ORT(tb)
		},
	} {
		t.Run(name, func(t *testing.T) {
			if failed, skipped := outcome(t, "true", helper); !failed || skipped {
				t.Errorf("CI=true: failed %v, skipped %v; want it failed", failed, skipped)
			}
			if failed, skipped := outcome(t, "", helper); failed || !skipped {
				t.Errorf("CI unset: failed %v, skipped %v; want it skipped", failed, skipped)
			}
		})
	}
}
