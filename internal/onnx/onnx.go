// Package onnx wraps onnxruntime_go: it loads the shared library once per
// process and builds sessions from model bytes with a chosen execution
// provider and thread count.
//
// # Why a process-wide environment
//
// onnxruntime keeps one environment per process; onnxruntime_go mirrors that
// with package-level state. Runtime hides it behind a reference count so that
// several detectors (and tests) can come and go without tearing the
// environment down under each other.
package onnx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

// ErrNoLibrary means the onnxruntime shared library could not be found or
// loaded. Run `make install` (or scripts/setup.sh in a checkout), or point
// --ort-lib or DESENS_ORT_LIB at libonnxruntime.so.
var ErrNoLibrary = errors.New("onnxruntime shared library not available")

// ErrNoCUDA means --device cuda cannot run here: the CUDA provider library,
// the NVIDIA driver or a GPU is missing, or the loaded onnxruntime cannot
// use its CUDA provider. The error's text names which, and how to fix it.
var ErrNoCUDA = errors.New("--device cuda unavailable")

// Device names an execution provider.
type Device string

const (
	CPU  Device = "cpu"
	CUDA Device = "cuda"
)

var env struct {
	sync.Mutex
	refs int
	lib  string
	cuda *cudaPlugin // the CUDA provider's registration, once per environment; nil until asked for
}

// libName is the file desens loads, and the bare name dlopen searches the
// system's library paths for when no candidate file exists.
const libName = "libonnxruntime.so"

// Candidates lists, best first, the files LibraryPath looks for: the
// explicit path (--ort-lib), then envValue ($DESENS_ORT_LIB), then beside
// the executable exe (in its folder and in ../lib/desens/, where `make
// install` puts the library), then .cache/ort/ (where scripts/setup.sh puts
// it) in exe's folder or any parent and in the working directory wd or any
// parent. Symlinks in exe are resolved, so a linked binary finds the library
// installed beside its target. Empty arguments are skipped, relative paths
// are made absolute against wd, and duplicates are dropped. The bare name
// for the system's library paths is not in the list: it is the fall-back
// when none of these exists.
func Candidates(explicit, envValue, exe, wd string) []string {
	var list []string
	seen := map[string]bool{}
	add := func(p string) {
		if p == "" {
			return
		}
		if !filepath.IsAbs(p) && wd != "" {
			p = filepath.Join(wd, p)
		}
		p = filepath.Clean(p)
		if !seen[p] {
			seen[p] = true
			list = append(list, p)
		}
	}
	add(explicit)
	add(envValue)
	exeDir := ""
	if exe != "" {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
		exeDir = filepath.Dir(exe)
		add(filepath.Join(exeDir, libName))
		add(filepath.Join(exeDir, "..", "lib", "desens", libName))
	}
	for _, dir := range []string{exeDir, wd} {
		if dir == "" {
			continue
		}
		if !filepath.IsAbs(dir) && wd != "" {
			dir = filepath.Join(wd, dir)
		}
		for dir = filepath.Clean(dir); ; {
			add(filepath.Join(dir, ".cache", "ort", libName))
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return list
}

// find returns the first candidate that is an existing file, or "" when
// none is. It only stats: onnxruntime can be initialised once per process,
// so only the path chosen here is ever handed to it.
func find(candidates []string) string {
	for _, p := range candidates {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

// processCandidates is Candidates for this process: its executable, working
// directory and $DESENS_ORT_LIB.
func processCandidates(explicit string) []string {
	exe, err := os.Executable()
	if err != nil {
		exe = ""
	}
	wd, err := os.Getwd()
	if err != nil {
		wd = ""
	}
	return Candidates(explicit, os.Getenv("DESENS_ORT_LIB"), exe, wd)
}

// LibraryPath finds libonnxruntime.so: the first of Candidates that exists,
// else the bare name, for dlopen to search the system's library paths.
func LibraryPath(explicit string) string {
	return pick(processCandidates(explicit))
}

// pick is the first existing candidate, else the bare name.
func pick(candidates []string) string {
	if p := find(candidates); p != "" {
		return p
	}
	return libName
}

// loadError explains a failed load: what was loaded or every place looked
// in, and how to put the library where desens finds it.
func loadError(lib string, candidates []string, err error) error {
	const fix = "run `make install` (or scripts/setup.sh in a checkout), " +
		"or point --ort-lib or DESENS_ORT_LIB at libonnxruntime.so"
	if lib != libName {
		return fmt.Errorf("%w: loading %s: %v; %s", ErrNoLibrary, lib, err, fix)
	}
	where := "nowhere"
	if len(candidates) > 0 {
		where = strings.Join(candidates, ", ")
	}
	return fmt.Errorf("%w: no %s in %s, nor in the system library paths (%v); %s",
		ErrNoLibrary, libName, where, err, fix)
}

// checkGiven fails when the library a user named (explicit, else envValue)
// is not a file: a typo there must not quietly load another onnxruntime
// found further down the search.
func checkGiven(explicit, envValue string) error {
	given, from := explicit, "--ort-lib"
	if given == "" {
		given, from = envValue, "DESENS_ORT_LIB"
	}
	if given == "" {
		return nil
	}
	if fi, err := os.Stat(given); err != nil || fi.IsDir() {
		return fmt.Errorf("%w: %s %s is not a file; point it at libonnxruntime.so, or unset it to search the usual places",
			ErrNoLibrary, from, given)
	}
	return nil
}

// Runtime is a handle on the process-wide onnxruntime environment.
type Runtime struct {
	once sync.Once

	mu      sync.Mutex
	batched []*BatchedSession // for BatchStats
}

// Open initialises onnxruntime from the library at libPath, or wherever
// LibraryPath finds it when libPath is empty or missing. Once the
// environment is up, later calls share it and libPath is ignored. Every
// Runtime must be closed.
func Open(libPath string) (*Runtime, error) {
	env.Lock()
	defer env.Unlock()
	if env.refs == 0 {
		if err := checkGiven(libPath, os.Getenv("DESENS_ORT_LIB")); err != nil {
			return nil, err
		}
		candidates := processCandidates(libPath)
		lib := pick(candidates)
		ort.SetSharedLibraryPath(lib)
		if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
			return nil, loadError(lib, candidates, err)
		}
		env.lib = lib
	}
	env.refs++
	return &Runtime{}, nil
}

// Version reports the loaded onnxruntime version.
func (r *Runtime) Version() string { return ort.GetVersion() }

// Library reports the path of the loaded shared library.
func (r *Runtime) Library() string {
	env.Lock()
	defer env.Unlock()
	return env.lib
}

// Close releases the handle; the environment is destroyed with the last one.
func (r *Runtime) Close() error {
	var err error
	r.once.Do(func() {
		env.Lock()
		defer env.Unlock()
		env.refs--
		if env.refs == 0 {
			err = errors.Join(env.cuda.unregister(), ort.DestroyEnvironment())
			env.cuda = nil
		}
	})
	return err
}

// SessionOptions choose where and how a model runs.
type SessionOptions struct {
	Device  Device
	Threads int // intra-op threads; 0 means all cores
	GPUID   int
	// Batch is the most inputs a BatchedSession gathers into one run,
	// from all its callers; 1 or less runs each call on its own, at once.
	Batch int
	// BatchWait is the longest a BatchedSession holds an input back, while
	// the model is busy, for others to join its run.
	BatchWait time.Duration
}

// Tensor describes one named float32 input or output of fixed shape.
type Tensor struct {
	Name  string
	Shape []int64
}

// Session runs one model with fixed input and output tensors. It is not safe
// for concurrent use: the bound tensors are shared between runs.
type Session struct {
	s       *ort.AdvancedSession
	inputs  []*ort.Tensor[float32]
	outputs []*ort.Tensor[float32]
}

// sessionOptions turns o into onnxruntime session options; the caller
// destroys them.
func sessionOptions(o SessionOptions) (*ort.SessionOptions, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	if err := configure(opts, o); err != nil {
		opts.Destroy()
		return nil, err
	}
	return opts, nil
}

func configure(opts *ort.SessionOptions, o SessionOptions) error {
	threads := o.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	if err := opts.SetIntraOpNumThreads(threads); err != nil {
		return err
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		return err
	}
	// Idle pool threads sleep instead of spinning: the decoder, the encoder
	// and other files' workers need the same cores, and spinning threads
	// make every inference several times slower when they have to share.
	if err := opts.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
		return err
	}
	switch o.Device {
	case "", CPU:
		// Inputs change size from run to run (regions round faces, frames
		// of each video's size), and onnxruntime keeps a memory pattern
		// planned for every input shape it has seen: memory would grow
		// with the number of shapes a long video shows.
		if err := opts.SetMemPattern(false); err != nil {
			return err
		}
	case CUDA:
		env.Lock()
		lib := env.lib
		env.Unlock()
		if err := CheckCUDA(lib, nvidiaHost); err != nil {
			return err
		}
		return appendCUDA(opts, lib, o.GPUID)
	default:
		return fmt.Errorf("unknown device %q (want cpu or cuda)", o.Device)
	}
	return nil
}

// loadModelError explains a failure to build a session. On CUDA it is where
// the provider meets the GPU (its driver, cuDNN), so the failure becomes one
// line wrapping ErrNoCUDA.
func loadModelError(o SessionOptions, err error) error {
	if o.Device != CUDA {
		return fmt.Errorf("load model: %w", err)
	}
	env.Lock()
	lib := env.lib
	env.Unlock()
	return cudaError(lib, fmt.Errorf("load model on CUDA: %w", err))
}

// NewSession loads model bytes into a session whose inputs and outputs are
// float32 tensors of the given fixed shapes.
func (r *Runtime) NewSession(model []byte, inputs, outputs []Tensor, o SessionOptions) (*Session, error) {
	opts, err := sessionOptions(o)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()

	s := &Session{}
	fail := func(err error) (*Session, error) {
		s.Close()
		return nil, err
	}
	var inNames, outNames []string
	var inVals, outVals []ort.Value
	for _, t := range inputs {
		v, err := ort.NewEmptyTensor[float32](ort.NewShape(t.Shape...))
		if err != nil {
			return fail(fmt.Errorf("input %s: %w", t.Name, err))
		}
		s.inputs = append(s.inputs, v)
		inNames = append(inNames, t.Name)
		inVals = append(inVals, v)
	}
	for _, t := range outputs {
		v, err := ort.NewEmptyTensor[float32](ort.NewShape(t.Shape...))
		if err != nil {
			return fail(fmt.Errorf("output %s: %w", t.Name, err))
		}
		s.outputs = append(s.outputs, v)
		outNames = append(outNames, t.Name)
		outVals = append(outVals, v)
	}
	s.s, err = ort.NewAdvancedSessionWithONNXData(model, inNames, outNames, inVals, outVals, opts)
	if err != nil {
		return fail(loadModelError(o, err))
	}
	return s, nil
}

// Input returns the backing slice of input i, to be filled before Run.
func (s *Session) Input(i int) []float32 { return s.inputs[i].GetData() }

// Output returns the backing slice of output i, valid until the next Run.
func (s *Session) Output(i int) []float32 { return s.outputs[i].GetData() }

// Run executes the model once.
func (s *Session) Run() error { return s.s.Run() }

// Close frees the session and its tensors.
func (s *Session) Close() error {
	var errs []error
	if s.s != nil {
		errs = append(errs, s.s.Destroy())
	}
	for _, t := range s.inputs {
		errs = append(errs, t.Destroy())
	}
	for _, t := range s.outputs {
		errs = append(errs, t.Destroy())
	}
	return errors.Join(errs...)
}

// DynamicSession runs a model whose input shapes change from run to run
// (fully convolutional detectors fed whole frames of any size). It is safe
// for concurrent use: each Run brings its own tensors.
type DynamicSession struct {
	s       *ort.DynamicAdvancedSession
	outputs int
}

// NewDynamicSession loads model bytes into a session with the named float32
// inputs and outputs, whose shapes are given at each Run.
func (r *Runtime) NewDynamicSession(model []byte, inputs, outputs []string, o SessionOptions) (*DynamicSession, error) {
	opts, err := sessionOptions(o)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, inputs, outputs, opts)
	if err != nil {
		return nil, loadModelError(o, err)
	}
	return &DynamicSession{s: s, outputs: len(outputs)}, nil
}

// Output is one output of a DynamicSession run.
type Output struct {
	Shape []int64
	Data  []float32
}

// Run feeds one float32 input per model input (data laid out in shape
// order) and returns copies of the outputs, whose shapes the model decides.
func (s *DynamicSession) Run(inputs [][]float32, shapes [][]int64) ([]Output, error) {
	if len(inputs) != len(shapes) {
		return nil, fmt.Errorf("%d inputs but %d shapes", len(inputs), len(shapes))
	}
	ins := make([]ort.Value, len(inputs))
	defer func() {
		for _, v := range ins {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for i := range inputs {
		t, err := ort.NewTensor(ort.NewShape(shapes[i]...), inputs[i])
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		ins[i] = t
	}
	outs := make([]ort.Value, s.outputs)
	defer func() {
		for _, v := range outs {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	if err := s.s.Run(ins, outs); err != nil {
		return nil, err
	}
	res := make([]Output, len(outs))
	for i, v := range outs {
		t, ok := v.(*ort.Tensor[float32])
		if !ok {
			return nil, fmt.Errorf("output %d is not a float32 tensor", i)
		}
		res[i] = Output{Shape: []int64(t.GetShape()), Data: append([]float32(nil), t.GetData()...)}
	}
	return res, nil
}

// Close frees the session.
func (s *DynamicSession) Close() error { return s.s.Destroy() }

// InputShapes returns the shapes of a model's inputs, in order (-1 for a
// dimension given at run time): fixed-size models are fed to their size.
func InputShapes(model []byte) ([][]int64, error) {
	in, _, err := ort.GetInputOutputInfoWithONNXData(model)
	if err != nil {
		return nil, fmt.Errorf("read model inputs: %w", err)
	}
	out := make([][]int64, len(in))
	for i, t := range in {
		out[i] = []int64(t.Dimensions)
	}
	return out, nil
}
