package onnx

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// cudaProvider is the library of onnxruntime's CUDA execution provider,
// which desens expects in the folder that holds libonnxruntime.so: it
// registers it from there as a plug-in, and a core library built with the
// provider looks for it there too.
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
	msg := firstLine(err)
	switch {
	case strings.Contains(msg, "not enabled in this build"):
		return fmt.Errorf("%w: %s was built without the CUDA provider interface (%s); %s", ErrNoCUDA, lib, msg, cudaFix)
	case strings.Contains(msg, "cannot open shared object file"):
		return fmt.Errorf("%w: a library the CUDA provider needs is missing (%s); put the CUDA 13 runtime and cuDNN 9 on LD_LIBRARY_PATH (see `make gpu`)", ErrNoCUDA, msg)
	}
	return fmt.Errorf("%w: %s", ErrNoCUDA, msg)
}

// cudaEP is the name the CUDA provider is registered under; onnxruntime's
// CUDA provider calls itself so too.
const cudaEP = "CUDAExecutionProvider"

// cudaPlugin is the CUDA provider registered with the environment as a
// plug-in (RegisterExecutionProviderLibrary), the way onnxruntime 1.22 and
// later load a provider that their core library was not built with.
type cudaPlugin struct {
	api        cAPI
	registered bool       // registration succeeded: unregister before the environment goes
	devices    []epDevice // the devices the provider offers, in its order
	err        error      // why it could not be registered
}

// registerCUDA registers the CUDA provider beside lib and lists the devices
// it offers: those of providers that were not there before it. The caller
// holds env's lock.
func registerCUDA(lib string) *cudaPlugin {
	api, err := loadAPI(lib)
	if err != nil {
		return &cudaPlugin{err: err}
	}
	p := &cudaPlugin{api: api}
	before, err := api.devices()
	if err != nil {
		p.err = err
		return p
	}
	if err := ort.RegisterExecutionProviderLibrary(cudaEP, filepath.Join(filepath.Dir(lib), cudaProvider)); err != nil {
		p.err = err
		return p
	}
	p.registered = true
	after, err := api.devices()
	if err != nil {
		p.err = err
		return p
	}
	had := map[string]bool{}
	for _, d := range before {
		had[d.ep] = true
	}
	for _, d := range after {
		if !had[d.ep] {
			p.devices = append(p.devices, d)
		}
	}
	return p
}

// unregister undoes a successful registration; nil p is fine.
func (p *cudaPlugin) unregister() error {
	if p == nil || !p.registered {
		return nil
	}
	return ort.UnregisterExecutionProviderLibrary(cudaEP)
}

// cudaRoute is the environment's CUDA plug-in, registered on first use.
func cudaRoute(lib string) *cudaPlugin {
	env.Lock()
	defer env.Unlock()
	if env.cuda == nil {
		env.cuda = registerCUDA(lib)
	}
	return env.cuda
}

// appendCUDA makes sessions built from opts run on GPU gpu through the
// CUDA provider beside lib: as a plug-in provider where onnxruntime can
// register it, else through the CUDA options call of a core library built
// with the provider. Every failure wraps ErrNoCUDA in one line.
func appendCUDA(opts *ort.SessionOptions, lib string, gpu int) error {
	p := cudaRoute(lib)
	switch {
	case p.err == nil:
		if len(p.devices) == 0 {
			return fmt.Errorf("%w: onnxruntime loaded its CUDA provider, which offers no GPU (onnxruntime finds GPUs in /sys/class/drm and /sys/bus/pci/devices); check that nvidia-smi lists one and that the driver supports CUDA 13", ErrNoCUDA)
		}
		if gpu < 0 || gpu >= len(p.devices) {
			return fmt.Errorf("%w: GPU %d asked for, but the CUDA provider offers %d (%s)", ErrNoCUDA, gpu, len(p.devices), deviceList(p.devices))
		}
		if err := p.api.appendDevice(opts, p.devices[gpu], nil); err != nil {
			return cudaError(lib, err)
		}
		return nil
	case missingLibrary(p.err):
		return cudaError(lib, p.err)
	}
	if err := appendCUDALegacy(opts, gpu); err != nil {
		return fmt.Errorf("%w: %s could not be registered as a plug-in (%s), nor used through the CUDA options call (%s); %s",
			ErrNoCUDA, cudaProvider, firstLine(p.err), firstLine(err), cudaFix)
	}
	return nil
}

// appendCUDALegacy is the CUDA options call, which a core library built
// with the CUDA provider answers.
func appendCUDALegacy(opts *ort.SessionOptions, gpu int) error {
	cuda, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return err
	}
	defer cuda.Destroy()
	if err := cuda.Update(map[string]string{"device_id": fmt.Sprint(gpu)}); err != nil {
		return err
	}
	return opts.AppendExecutionProviderCUDA(cuda)
}

// missingLibrary reports whether err is the loader's "cannot open shared
// object file": a library the provider links against is not on the path.
func missingLibrary(err error) bool {
	return err != nil && strings.Contains(err.Error(), "cannot open shared object file")
}

func deviceList(ds []epDevice) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.String()
	}
	return strings.Join(s, ", ")
}

// firstLine is the first line of err's text, trimmed.
func firstLine(err error) string {
	msg := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return msg
}
