package storage

import (
	"fmt"
	"regexp"
	"strings"
)

// Provider holds what differs between services that speak the S3 API.
// Every such difference lives in the providers table below, as data, so
// supporting another service means adding a row, not another if statement
// in the backend (rclone keeps these as YAML for the same reason).
type Provider struct {
	Name string
	// Endpoint is the endpoint URL, with "{region}" replaced by the region;
	// empty means the AWS SDK's own resolution (AWS, or AWS_ENDPOINT_URL).
	Endpoint string
	// PathStyle puts the bucket in the path (http://host/bucket/key), which
	// self-hosted servers need because they have no wildcard DNS.
	PathStyle bool
	// Region is used when neither the config nor the AWS environment gives
	// one; empty with RequireRegion means the user must say.
	Region        string
	RequireRegion bool
	// BucketName, when set, is a pattern every bucket name must match.
	BucketName *regexp.Regexp
	// BucketHint explains BucketName in errors.
	BucketHint string
}

var providers = []Provider{
	{Name: "aws", Region: "us-east-1"},
	{
		// Tencent Cloud Object Storage: virtual-host style only, endpoint
		// per region, and bucket names carry the account's APPID.
		Name:          "cos",
		Endpoint:      "https://cos.{region}.myqcloud.com",
		RequireRegion: true,
		BucketName:    regexp.MustCompile(`^[a-z0-9][a-z0-9-]*-[0-9]+$`),
		BucketHint:    "COS bucket names are <name>-<APPID>, e.g. videos-1250000000",
	},
	{Name: "minio", PathStyle: true, Region: "us-east-1"},
	{Name: "ceph", PathStyle: true, Region: "us-east-1"},
	{Name: "versitygw", PathStyle: true, Region: "us-east-1"},
}

// LookupProvider returns the provider named name ("" means "aws").
func LookupProvider(name string) (Provider, bool) {
	if name == "" {
		name = "aws"
	}
	for _, p := range providers {
		if p.Name == strings.ToLower(name) {
			return p, true
		}
	}
	return Provider{}, false
}

// ProviderNames lists the known providers, for help texts.
func ProviderNames() []string {
	names := make([]string, len(providers))
	for i, p := range providers {
		names[i] = p.Name
	}
	return names
}

// endpointFor fills the provider's endpoint template.
func (p Provider) endpointFor(region string) (string, error) {
	if p.Endpoint == "" {
		return "", nil
	}
	if strings.Contains(p.Endpoint, "{region}") && region == "" {
		return "", fmt.Errorf("provider %s needs a region to build its endpoint %s", p.Name, p.Endpoint)
	}
	return strings.ReplaceAll(p.Endpoint, "{region}", region), nil
}

func (p Provider) checkBucket(name string) error {
	if name == "" {
		return fmt.Errorf("empty bucket name")
	}
	if strings.ContainsAny(name, "/\\?#") {
		return fmt.Errorf("bucket name %q has '/', '\\', '?' or '#'", name)
	}
	if p.BucketName != nil && !p.BucketName.MatchString(name) {
		return fmt.Errorf("bucket name %q: %s", name, p.BucketHint)
	}
	return nil
}
