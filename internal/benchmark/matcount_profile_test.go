//go:build matprofile

package benchmark

import "gocv.io/x/gocv"

// matCount is the number of live gocv Mats (-tags matprofile only).
func matCount() int { return gocv.MatProfile.Count() }
