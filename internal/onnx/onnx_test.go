package onnx_test

import (
	"sync"
	"testing"

	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/internal/testenv"
	"github.com/desens/desens/models"
)

func TestDynamicSession(t *testing.T) {
	rt := testenv.ORT(t)
	s, err := rt.NewDynamicSession(models.FaceVerify().Data, []string{"input:0"},
		[]string{"Identity:0", "Identity_2:0"}, onnx.SessionOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in := make([]float32, 256*256*3)
	// Concurrent runs must not share tensors.
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := s.Run([][]float32{in}, [][]int64{{1, 256, 256, 3}})
			if err != nil {
				t.Error(err)
				return
			}
			if len(out) != 2 || len(out[0].Data) != 512 || len(out[1].Data) != 512*16 {
				t.Errorf("outputs: got %d, sizes %v", len(out), out)
			}
		}()
	}
	wg.Wait()
	if _, err := s.Run([][]float32{in[:10]}, [][]int64{{1, 256, 256, 3}}); err == nil {
		t.Error("Run with too little data: no error")
	}
}

func TestUnknownDevice(t *testing.T) {
	rt := testenv.ORT(t)
	if _, err := rt.NewDynamicSession(models.FaceVerify().Data, []string{"input:0"}, []string{"Identity:0"},
		onnx.SessionOptions{Device: "tpu"}); err == nil {
		t.Error("device tpu: no error")
	}
}
