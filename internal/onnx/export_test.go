package onnx

// RunStacked runs the calls (each its inputs and their shapes) in one
// stacked model run, as a batch of them runs, and splits the outputs back.
func (s *BatchedSession) RunStacked(inputs [][][]float32, shapes [][][]int64) ([][]Output, error) {
	calls := make([]batchInput, len(inputs))
	for i := range inputs {
		calls[i] = batchInput{data: inputs[i], shapes: shapes[i]}
	}
	return s.runBatch(calls)
}
