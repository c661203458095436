package video

import (
	"slices"
	"strings"
	"testing"
)

func TestFilterEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ []string
		want    []string
	}{
		{"empty", nil, []string{}},
		{"nothing kept", []string{"HOME=/root", "AWS_SECRET_ACCESS_KEY=s"}, []string{}},
		{"kept in order", []string{"LC_ALL=C.UTF-8", "AWS_PROFILE=p", "PATH=/usr/bin", "TMPDIR=/scratch"},
			[]string{"LC_ALL=C.UTF-8", "PATH=/usr/bin", "TMPDIR=/scratch"}},
		{"locale, zone and libraries", []string{"LANG=en_US.UTF-8", "LANGUAGE=en", "LC_CTYPE=C", "TZ=UTC", "LD_LIBRARY_PATH=/opt/ffmpeg/lib"},
			[]string{"LANG=en_US.UTF-8", "LANGUAGE=en", "LC_CTYPE=C", "TZ=UTC", "LD_LIBRARY_PATH=/opt/ffmpeg/lib"}},
		{"proxies dropped", []string{"http_proxy=http://proxy:3128", "HTTPS_PROXY=http://proxy:3128", "no_proxy=*"}, []string{}},
		{"names matched whole", []string{"PATHS=x", "PATH_EXTRA=x", "TZDIR=x", "XLC_ALL=x"}, []string{}},
		{"empty value kept", []string{"TMPDIR="}, []string{"TMPDIR="}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := filterEnv(tc.environ)
			if got == nil || !slices.Equal(got, tc.want) {
				t.Errorf("filterEnv(%q) = %#v, want %q", tc.environ, got, tc.want)
			}
		})
	}
}

// TestChildEnvDropsSecrets sets credentials and desens settings in this
// process's environment and checks that none reach a child.
func TestChildEnvDropsSecrets(t *testing.T) {
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":        "AKIAEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":    "secret",
		"AWS_SESSION_TOKEN":        "token",
		"AWS_PROFILE":              "prod",
		"DESENS_TRAJECTORY_OFFSET": "12.5,-3.25",
		"DESENS_S3TEST_DIR":        "/tmp/s3",
		"http_proxy":               "http://proxy:3128",
		"PATH":                     "/usr/local/bin:/usr/bin:/bin",
		"LC_ALL":                   "en_US.UTF-8",
		"TMPDIR":                   "/scratch",
	} {
		t.Setenv(k, v)
	}
	env := ChildEnv()
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "DESENS_") || strings.HasSuffix(strings.ToLower(k), "_proxy") {
			t.Errorf("child environment holds %s", kv)
		}
	}
	for _, kv := range []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=en_US.UTF-8", "TMPDIR=/scratch"} {
		if !slices.Contains(env, kv) {
			t.Errorf("child environment lacks %s: %q", kv, env)
		}
	}
}
