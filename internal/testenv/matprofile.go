//go:build matprofile

package testenv

import (
	"bytes"

	"gocv.io/x/gocv"
)

// LiveMats counts gocv Mats not yet closed, and where they were made.
// Build with -tags matprofile (make test does).
func LiveMats() (int, string) {
	var b bytes.Buffer
	_ = gocv.MatProfile.WriteTo(&b, 1)
	return gocv.MatProfile.Count(), b.String()
}
