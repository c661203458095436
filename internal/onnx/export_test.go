package onnx

import (
	"fmt"

	ort "github.com/yalue/onnxruntime_go"
)

// APIIndices exposes apiIndices to the tests outside the package.
var APIIndices = apiIndices

// EpDevices lists the environment's execution-provider devices as
// "provider/type".
func (r *Runtime) EpDevices() ([]string, error) {
	api, err := loadAPI(r.Library())
	if err != nil {
		return nil, err
	}
	ds, err := api.devices()
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = d.String()
	}
	return names, err
}

// NewDynamicSessionOn is NewDynamicSession on the execution-provider device
// named "provider/type" (as EpDevices lists it), appended through the
// plug-in route.
func (r *Runtime) NewDynamicSessionOn(device string, model []byte, inputs, outputs []string) (*DynamicSession, error) {
	api, err := loadAPI(r.Library())
	if err != nil {
		return nil, err
	}
	ds, err := api.devices()
	if err != nil {
		return nil, err
	}
	opts, err := sessionOptions(SessionOptions{Threads: 1})
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	found := false
	for _, d := range ds {
		if d.String() == device {
			if err := api.appendDevice(opts, d, nil); err != nil {
				return nil, err
			}
			found = true
			break
		}
	}
	if !found {
		return nil, fmt.Errorf("no device %s among %s", device, deviceList(ds))
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, inputs, outputs, opts)
	if err != nil {
		return nil, err
	}
	return &DynamicSession{s: s, outputs: len(outputs)}, nil
}

// AppendCUDA runs the CUDA set-up of --device cuda past the host checks of
// CheckCUDA, on throw-away session options, and reports its error.
func (r *Runtime) AppendCUDA(gpu int) error {
	opts, err := sessionOptions(SessionOptions{Threads: 1})
	if err != nil {
		return err
	}
	defer opts.Destroy()
	return appendCUDA(opts, r.Library(), gpu)
}

// ConfigEntry reads back, through the C API and optionsPointer, the
// session configuration entry key of the options sessions get.
func (r *Runtime) ConfigEntry(key string) (string, error) {
	api, err := loadAPI(r.Library())
	if err != nil {
		return "", err
	}
	opts, err := sessionOptions(SessionOptions{Threads: 1})
	if err != nil {
		return "", err
	}
	defer opts.Destroy()
	return api.configEntry(opts, key)
}

// RunStacked runs the calls (each its inputs and their shapes) in one
// stacked model run, as a batch of them runs, and splits the outputs back.
func (s *BatchedSession) RunStacked(inputs [][][]float32, shapes [][][]int64) ([][]Output, error) {
	calls := make([]batchInput, len(inputs))
	for i := range inputs {
		calls[i] = batchInput{data: inputs[i], shapes: shapes[i]}
	}
	return s.runBatch(calls)
}
