// Package k8s holds the Kubernetes manifests and Dockerfile that run desens
// as an Indexed Job; its test reads them with the upstream API types.
package k8s

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// decode reads a manifest strictly: a field the API type does not know
// (a typo, a wrong indent) fails.
func decode(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func TestIndexedJob(t *testing.T) {
	var job batchv1.Job
	decode(t, "job.yaml", &job)
	if job.APIVersion != "batch/v1" || job.Kind != "Job" {
		t.Fatalf("%s %s, want batch/v1 Job", job.APIVersion, job.Kind)
	}
	s := job.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Fatal("completionMode is not Indexed: pods would get no JOB_COMPLETION_INDEX")
	}
	if s.Completions == nil || s.Parallelism == nil || *s.Parallelism > *s.Completions {
		t.Fatal("completions and parallelism (at most completions) must be set")
	}
	pod := s.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q: podFailurePolicy needs Never", pod.RestartPolicy)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if len(c.Args) < 3 || c.Args[0] != "run" {
		t.Fatalf("args %q: want desens run ... INPUT OUTPUT", c.Args)
	}
	// Every pod must split the keys into as many shards as there are
	// completion indices, or keys are lost or done twice.
	want := "--shards=" + strconv.Itoa(int(*s.Completions))
	if !slices.Contains(c.Args, want) {
		t.Errorf("args %q lack %s", c.Args, want)
	}
	if slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--shard=") }) {
		t.Error("--shard fixes one shard for every pod; use --shards")
	}
	for _, a := range []string{"--min-success=0.95", "--progress=jsonl"} {
		if !slices.Contains(c.Args, a) {
			t.Errorf("args %q lack %s", c.Args, a)
		}
	}
	in, out := c.Args[len(c.Args)-2], c.Args[len(c.Args)-1]
	if !strings.HasSuffix(in, "/") || !strings.HasSuffix(out, "/") {
		t.Errorf("input %s and output %s must be prefixes (the report goes into the output)", in, out)
	}
	secrets := map[string]string{}
	for _, e := range c.Env {
		if e.Name == "JOB_COMPLETION_INDEX" {
			t.Error("JOB_COMPLETION_INDEX is set by Kubernetes; the manifest must not override it")
		}
		if strings.HasPrefix(e.Name, "AWS_") && strings.Contains(e.Name, "KEY") {
			if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
				t.Errorf("%s must come from a Secret", e.Name)
				continue
			}
			secrets[e.Name] = e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		}
	}
	var secret corev1.Secret
	decode(t, "secret.example.yaml", &secret)
	for _, n := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		ref, ok := secrets[n]
		if !ok {
			t.Errorf("%s not taken from a Secret", n)
			continue
		}
		name, key, _ := strings.Cut(ref, "/")
		if name != secret.Name {
			t.Errorf("%s from Secret %s, but secret.example.yaml makes %s", n, name, secret.Name)
		}
		if _, ok := secret.StringData[key]; !ok {
			t.Errorf("%s from key %s, which secret.example.yaml lacks", n, key)
		}
	}
	if _, ok := c.Resources.Requests[corev1.ResourceCPU]; !ok {
		t.Error("no CPU request")
	}
	if pf := s.PodFailurePolicy; pf == nil || len(pf.Rules) == 0 {
		t.Error("no podFailurePolicy: a usage error would be retried")
	}
}
