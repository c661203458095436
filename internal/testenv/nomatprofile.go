//go:build !matprofile

package testenv

// LiveMats returns -1 without -tags matprofile: leaks are not counted.
func LiveMats() (int, string) { return -1, "" }
