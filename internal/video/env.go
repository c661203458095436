package video

import (
	"os"
	"strings"
)

// ChildEnv is the environment ffmpeg and ffprobe run with: this process's
// program and library search paths, locale, time zone and temporary
// directory, and nothing else. Credentials (AWS_*) and desens's own
// settings (DESENS_*) stay behind, since any variable a child holds can
// leak through it; so do proxy settings, because FFmpeg reads only local
// files and desens's loopback server, which must be reached directly.
func ChildEnv() []string { return filterEnv(os.Environ()) }

// filterEnv keeps the variables of environ that a child needs. It never
// returns nil, which exec.Cmd would take as "inherit everything".
func filterEnv(environ []string) []string {
	env := []string{}
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if childVar(k) {
			env = append(env, kv)
		}
	}
	return env
}

func childVar(k string) bool {
	switch k {
	case "PATH", "LD_LIBRARY_PATH", "TMPDIR", "TZ", "LANG", "LANGUAGE":
		return true
	}
	return strings.HasPrefix(k, "LC_")
}
