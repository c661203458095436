// Package models embeds the detection models desens ships, so a single binary
// needs no model files on disk. See README.md in this folder for each
// model's source, licence, checksum, inputs, outputs and thresholds.
package models

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

//go:embed retinaface_mnet025.onnx
var retinafaceMnet025 []byte

//go:embed yunet_n_dynamic.onnx
var yunetNDynamic []byte

//go:embed blazeface_back_256.onnx
var blazefaceBack256 []byte

//go:embed plate_det.onnx
var plateDet []byte

//go:embed plate_verify.onnx
var plateVerify []byte

//go:embed plate_verify_quick.onnx
var plateVerifyQuick []byte

//go:embed y5fu_640x_sim.onnx
var plateCorners []byte

//go:embed ppocr_v4_det.onnx
var ppocrV4Det []byte

//go:embed ppocr_v4_rec.onnx
var ppocrV4Rec []byte

//go:embed ppocr_keys_v1.txt
var ppocrKeys string

// Model is one ONNX model's bytes and identity.
type Model struct {
	Name   string // short name, e.g. "blazeface-back-256"
	Source string // where it came from (embedded or a file path)
	Data   []byte
	SHA256 string
}

func newModel(name, source string, data []byte) Model {
	sum := sha256.Sum256(data)
	return Model{Name: name, Source: source, Data: data, SHA256: hex.EncodeToString(sum[:])}
}

// Face returns the embedded face detector: RetinaFace MobileNet-0.25 with a
// dynamic input size.
func Face() Model {
	return newModel("retinaface-mnet025", "embedded", retinafaceMnet025)
}

// FaceYuNet returns the embedded YuNet face detector (the `n` model with a
// dynamic input size): a cheaper face proposer that can stand in for
// RetinaFace.
func FaceYuNet() Model {
	return newModel("yunet-n", "embedded", yunetNDynamic)
}

// FaceVerify returns the embedded MediaPipe BlazeFace back-camera model,
// which looks again at the face detector's uncertain boxes.
func FaceVerify() Model {
	return newModel("blazeface-back-256", "embedded", blazefaceBack256)
}

// TextDet returns the embedded PaddleOCR PP-OCRv4 text detection model
// (burned-in overlays).
func TextDet() Model {
	return newModel("ppocr-v4-det", "embedded", ppocrV4Det)
}

// TextRec returns the embedded PaddleOCR PP-OCRv4 text recognition model,
// which reads plate candidates (a box whose text no plate carries is not
// one).
func TextRec() Model {
	return newModel("ppocr-v4-rec", "embedded", ppocrV4Rec)
}

// TextRecKeys returns the characters TextRec's output classes 1 to N stand
// for (class 0 is the CTC blank): PaddleOCR's ppocr_keys_v1.txt, one per
// line, then a space.
func TextRecKeys() []string {
	keys := strings.Split(strings.TrimSuffix(strings.ReplaceAll(ppocrKeys, "\r\n", "\n"), "\n"), "\n")
	return append(keys, " ")
}

// Plate returns the embedded licence-plate detector, trained by the project
// on synthetic plates (models/train/plates).
func Plate() Model {
	return newModel("plate-det", "embedded", plateDet)
}

// PlateVerify returns the embedded plate verifier: the project's own
// classifier that looks again at each plate candidate (models/train/plates).
func PlateVerify() Model {
	return newModel("plate-verify", "embedded", plateVerify)
}

// PlateVerifyQuick returns the embedded verifier's first look: its first
// member alone, on the crop alone, which spares the whole verifier the
// candidates that plainly are not plates.
func PlateVerifyQuick() Model {
	return newModel("plate-verify-quick", "embedded", plateVerifyQuick)
}

// PlateCorners returns the embedded plate detector with four corner
// points: HyperLPR3's y5fu_640x, trained on real photos of Chinese plates,
// run beside the project's own detector.
func PlateCorners() Model {
	return newModel("hyperlpr3-y5fu-640", "embedded", plateCorners)
}

// Or returns the model file at path, or the embedded model when path is
// empty: every model can be replaced by a file of the same shape.
func Or(path string, embedded func() Model) (Model, error) {
	if path == "" {
		return embedded(), nil
	}
	return Load(path)
}

// Load reads a model file to use instead of an embedded one.
func Load(path string) (Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Model{}, fmt.Errorf("model %s: %w", path, err)
	}
	return newModel(filepath.Base(path), path, data), nil
}
