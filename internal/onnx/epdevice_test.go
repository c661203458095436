package onnx_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/internal/testenv"
	"github.com/desens/desens/models"
)

// TestOptionsPointer reads back, through the C API, a setting made through
// onnxruntime_go: the pointer the CUDA plug-in route hands onnxruntime is
// the session options onnxruntime_go made.
func TestOptionsPointer(t *testing.T) {
	rt := testenv.ORT(t)
	v, err := rt.ConfigEntry("session.intra_op.allow_spinning")
	if err != nil || v != "0" {
		t.Fatalf("allow_spinning read back as %q, %v; want \"0\"", v, err)
	}
}

// TestEpDeviceSession runs a model on the CPU provider's device appended
// through the plug-in route (GetEpDevices, then
// SessionOptionsAppendExecutionProvider_V2), the route --device cuda takes
// with the CUDA provider's device: it must give what the plain CPU session
// gives.
func TestEpDeviceSession(t *testing.T) {
	epDeviceSession(t, testenv.ORT(t))
}

func epDeviceSession(t *testing.T, rt *onnx.Runtime) {
	t.Helper()
	devs, err := rt.EpDevices()
	if err != nil {
		t.Fatal(err)
	}
	const cpu = "CPUExecutionProvider/CPU"
	if !slices.Contains(devs, cpu) {
		t.Fatalf("devices %v lack %s", devs, cpu)
	}
	model := models.Plate().Data
	plain, err := rt.NewDynamicSession(model, []string{"image"}, []string{"heat", "box"}, onnx.SessionOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	onDev, err := rt.NewDynamicSessionOn(cpu, model, []string{"image"}, []string{"heat", "box"})
	if err != nil {
		t.Fatal(err)
	}
	defer onDev.Close()
	shape := []int64{1, 3, 64, 96}
	in := make([]float32, 3*64*96)
	for i := range in {
		in[i] = float32(i%251)/125 - 1
	}
	want, err := plain.Run([][]float32{in}, [][]int64{shape})
	if err != nil {
		t.Fatal(err)
	}
	got, err := onDev.Run([][]float32{in}, [][]int64{shape})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || !slices.Equal(got[0].Shape, want[0].Shape) || !slices.Equal(got[1].Shape, want[1].Shape) {
		t.Fatalf("shapes %v, plain session %v", shapes(got), shapes(want))
	}
	if d := maxDiff(got, want); d > 1e-5 {
		t.Errorf("outputs differ from the plain session's by %g", d)
	}
}

// gpuLibEnv, set in a child test process, names the onnxruntime with the
// CUDA provider (from `make gpu`) that the child runs on.
const gpuLibEnv = "DESENS_TEST_ORT_GPU"

// TestCUDAPlugin runs, in a child process loaded with the onnxruntime that
// `make gpu` fetches (1.29, with its CUDA provider as a plug-in), the
// plug-in route on the CPU provider's device and then --device cuda's
// set-up past the host checks: where the CUDA provider cannot load or
// offers no GPU, the set-up fails with one line wrapping ErrNoCUDA that
// says what is missing. It skips without `make gpu`, which make test does
// not run.
func TestCUDAPlugin(t *testing.T) {
	if lib := os.Getenv(gpuLibEnv); lib != "" {
		cudaPluginChild(t)
		return
	}
	lib := filepath.Join(testenv.Root(), ".cache", "ort-gpu", "libonnxruntime.so")
	if _, err := os.Stat(lib); err != nil {
		t.Skipf("no onnxruntime with the CUDA provider (run `make gpu`): %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCUDAPlugin$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), gpuLibEnv+"="+lib, "DESENS_ORT_LIB="+lib)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child on %s: %v\n%s", lib, err, out)
	}
	t.Logf("child on %s:\n%s", lib, out)
}

func cudaPluginChild(t *testing.T) {
	rt, err := onnx.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if rt.Library() != os.Getenv(gpuLibEnv) {
		t.Fatalf("loaded %s, want %s", rt.Library(), os.Getenv(gpuLibEnv))
	}
	t.Logf("onnxruntime %s", rt.Version())
	epDeviceSession(t, rt)

	err = rt.AppendCUDA(0)
	if onnx.CheckCUDA(rt.Library(), onnx.Host{Root: "/"}) == nil && err == nil {
		t.Log("CUDA provider registered and appended: this machine can run --device cuda")
		return
	}
	if err == nil {
		t.Fatal("CUDA set-up succeeded on a machine without a driver or GPU")
	}
	if !errors.Is(err, onnx.ErrNoCUDA) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("want one line wrapping ErrNoCUDA, got %v", err)
	}
	t.Logf("CUDA set-up: %v", err)
	// A second session asks again and gets the same answer: the provider
	// is registered once per environment.
	if again := rt.AppendCUDA(0); again == nil || again.Error() != err.Error() {
		t.Errorf("second set-up: %v, first: %v", again, err)
	}
	s, err := rt.NewDynamicSession(models.FaceVerify().Data, []string{"input:0"}, []string{"Identity:0"},
		onnx.SessionOptions{Device: onnx.CUDA})
	if err == nil {
		s.Close()
		if onnx.CheckCUDA(rt.Library(), onnx.Host{Root: "/"}) != nil {
			t.Fatal("device cuda: no error on a machine without a driver or GPU")
		}
		return
	}
	if !errors.Is(err, onnx.ErrNoCUDA) || strings.Contains(err.Error(), "\n") {
		t.Errorf("device cuda: want one line wrapping ErrNoCUDA, got %v", err)
	}
	t.Logf("device cuda: %v", err)
}
