//go:build !matprofile

package eval

// matCount is -1 without -tags matprofile: Mats are not counted.
func matCount() int { return -1 }
