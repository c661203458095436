package onnx

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// cudaProvider is the library onnxruntime loads the CUDA execution provider
// from; it looks for it in the folder that holds libonnxruntime.so.
const cudaProvider = "libonnxruntime_providers_cuda.so"

// cudaFix says how to get a CUDA-capable onnxruntime.
const cudaFix = "run `make gpu` and point --ort-lib or DESENS_ORT_LIB at .cache/ort-gpu/libonnxruntime.so, or use --device cpu"

// Host says where a machine's NVIDIA driver and GPUs show; CheckCUDA looks
// there. Root prefixes the absolute paths, so tests can point it at a
// folder they lay out.
type Host struct {
	Root string
}

// nvidiaHost is the machine desens runs on.
var nvidiaHost = Host{Root: "/"}

func (h Host) path(p string) string { return filepath.Join(h.Root, p) }

// driver reports whether the NVIDIA kernel driver is loaded.
func (h Host) driver() bool {
	_, err := os.Stat(h.path("/proc/driver/nvidia/version"))
	return err == nil
}

// gpus reports whether any NVIDIA GPU device node exists.
func (h Host) gpus() bool {
	m, _ := filepath.Glob(h.path("/dev/nvidia[0-9]*"))
	return len(m) > 0
}

// CheckCUDA tells, before onnxruntime tries and fails with a long message,
// what keeps --device cuda from running with the onnxruntime library lib on
// host h: the CUDA provider library beside lib, the NVIDIA driver, a GPU.
// The error wraps ErrNoCUDA and is one line.
func CheckCUDA(lib string, h Host) error {
	if lib == "" || lib == libName {
		return fmt.Errorf("%w: onnxruntime came from the system library paths, not from a folder holding its CUDA provider (%s); %s", ErrNoCUDA, cudaProvider, cudaFix)
	}
	if fi, err := os.Stat(filepath.Join(filepath.Dir(lib), cudaProvider)); err != nil || fi.IsDir() {
		return fmt.Errorf("%w: no CUDA provider %s beside %s; %s", ErrNoCUDA, cudaProvider, lib, cudaFix)
	}
	if !h.driver() {
		return fmt.Errorf("%w: no NVIDIA driver loaded (no /proc/driver/nvidia/version); this machine cannot run CUDA, use --device cpu", ErrNoCUDA)
	}
	if !h.gpus() {
		return fmt.Errorf("%w: the NVIDIA driver is loaded but shows no GPU (no /dev/nvidia0); use --device cpu", ErrNoCUDA)
	}
	return nil
}

// cudaError turns onnxruntime's failure to set up the CUDA provider into
// one line that wraps ErrNoCUDA: onnxruntime's messages span lines and
// name source files.
func cudaError(lib string, err error) error {
	msg := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	switch {
	case strings.Contains(msg, "not enabled in this build"):
		return fmt.Errorf("%w: %s was built without the CUDA provider interface (%s); %s", ErrNoCUDA, lib, msg, cudaFix)
	case strings.Contains(msg, "cannot open shared object file"):
		return fmt.Errorf("%w: a library the CUDA provider needs is missing (%s); put the CUDA 13 runtime and cuDNN 9 on LD_LIBRARY_PATH (see `make gpu`)", ErrNoCUDA, msg)
	}
	return fmt.Errorf("%w: %s", ErrNoCUDA, msg)
}
