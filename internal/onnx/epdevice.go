package onnx

// The execution-provider device calls of onnxruntime's C API (1.22 and
// later) that onnxruntime_go does not wrap: listing the devices that the
// registered providers offer (GetEpDevices) and appending one of them to a
// session's options (SessionOptionsAppendExecutionProvider_V2). A plug-in
// provider, such as the CUDA provider that ships beside onnxruntime 1.29 on
// npm, is reachable only this way.
//
// The C function table comes from the library onnxruntime_go has already
// loaded: dlopen with RTLD_NOLOAD finds it without loading anything, and
// OrtGetApiBase()->GetApi hands out the table. OrtApi is a struct of
// function pointers to which onnxruntime only ever appends, so a function is
// found by its position in it; the positions below are those in
// onnxruntime_c_api.h, and TestAPIIndices checks them against that header as
// shipped with onnxruntime_go.

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
	desens_GetErrorMessage = 2,
	desens_CreateEnv = 3,
	desens_ReleaseEnv = 92,
	desens_ReleaseStatus = 93,
	desens_GetSessionConfigEntry = 238,
	desens_GetEpDevices = 303,
	desens_SessionOptionsAppendExecutionProvider_V2 = 304,
	desens_HardwareDevice_Type = 307,
	desens_EpDevice_EpName = 312,
	desens_EpDevice_Device = 316,
};

// desens_api_version is the C API version that first has every function
// above.
enum { desens_api_version = 22 };

typedef void *(*desens_fn)(void);
typedef struct {
	const desens_fn *(*GetApi)(uint32_t version);
	const char *(*GetVersionString)(void);
} desens_api_base;

// desens_api returns the function table of the loaded library lib, or NULL
// when lib is not loaded or is older than desens_api_version.
static const desens_fn *desens_api(const char *lib) {
	void *h = dlopen(lib, RTLD_NOW | RTLD_NOLOAD);
	if (h == NULL) return NULL;
	const desens_api_base *(*base)(void) = (const desens_api_base *(*)(void))dlsym(h, "OrtGetApiBase");
	// The library stays loaded: onnxruntime_go holds it open.
	dlclose(h);
	if (base == NULL) return NULL;
	return base()->GetApi(desens_api_version);
}

// desens_status turns a status into a copied message (free it), releasing
// the status; NULL for success.
static char *desens_status(const desens_fn *api, void *status) {
	if (status == NULL) return NULL;
	const char *msg = ((const char *(*)(const void *))api[desens_GetErrorMessage])(status);
	char *copy = strdup(msg != NULL ? msg : "unknown onnxruntime error");
	((void (*)(void *))api[desens_ReleaseStatus])(status);
	return copy;
}

// desens_env_acquire returns the process's environment: CreateEnv hands out
// the existing one (taking a reference) and ignores its arguments.
static char *desens_env_acquire(const desens_fn *api, void **env) {
	return desens_status(api, ((void *(*)(int, const char *, void **))api[desens_CreateEnv])(3, "desens", env));
}

static void desens_env_release(const desens_fn *api, void *env) {
	((void (*)(void *))api[desens_ReleaseEnv])(env);
}

static char *desens_ep_devices(const desens_fn *api, void *env, const void *const **devs, size_t *n) {
	return desens_status(api, ((void *(*)(const void *, const void *const **, size_t *))api[desens_GetEpDevices])(env, devs, n));
}

static const void *desens_ep_device_at(const void *const *devs, size_t i) { return devs[i]; }

static const char *desens_ep_name(const desens_fn *api, const void *dev) {
	return ((const char *(*)(const void *))api[desens_EpDevice_EpName])(dev);
}

static int desens_ep_hardware_type(const desens_fn *api, const void *dev) {
	const void *hw = ((const void *(*)(const void *))api[desens_EpDevice_Device])(dev);
	return ((int (*)(const void *))api[desens_HardwareDevice_Type])(hw);
}

static char *desens_append_v2(const desens_fn *api, void *opts, void *env, const void *dev,
		const char *const *keys, const char *const *vals, size_t nkv) {
	const void *devs[1] = {dev};
	return desens_status(api, ((void *(*)(void *, void *, const void *const *, size_t, const char *const *,
		const char *const *, size_t))api[desens_SessionOptionsAppendExecutionProvider_V2])(opts, env, devs, 1, keys, vals, nkv));
}

// desens_config_entry reads a session configuration entry into buf (size
// bytes); *need gets the size it needs.
static char *desens_config_entry(const desens_fn *api, const void *opts, const char *key, char *buf, size_t size, size_t *need) {
	*need = size;
	return desens_status(api, ((void *(*)(const void *, const char *, char *, size_t *))api[desens_GetSessionConfigEntry])(opts, key, buf, need));
}
*/
import "C"

import (
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"
)

// hardwareType is OrtHardwareDeviceType.
type hardwareType int

const (
	hardwareCPU hardwareType = iota
	hardwareGPU
	hardwareNPU
)

func (h hardwareType) String() string {
	switch h {
	case hardwareCPU:
		return "CPU"
	case hardwareGPU:
		return "GPU"
	case hardwareNPU:
		return "NPU"
	}
	return fmt.Sprintf("device type %d", int(h))
}

// epDevice is one OrtEpDevice: an execution provider on one device. The
// pointer belongs to the environment and stays valid while the provider
// that offered it is registered.
type epDevice struct {
	ep       string
	hardware hardwareType
	p        unsafe.Pointer
}

func (d epDevice) String() string { return d.ep + "/" + d.hardware.String() }

// cAPI is onnxruntime's C function table.
type cAPI struct {
	t *C.desens_fn
}

// loadAPI takes the C function table from the loaded library lib.
func loadAPI(lib string) (cAPI, error) {
	cl := C.CString(lib)
	defer C.free(unsafe.Pointer(cl))
	t := C.desens_api(cl)
	if t == nil {
		return cAPI{}, fmt.Errorf("%s is not loaded or offers no C API version %d (onnxruntime 1.22 or later)", lib, C.desens_api_version)
	}
	return cAPI{t: t}, nil
}

// goError turns a message from the shim (freed here) into an error; nil
// for success.
func goError(msg *C.char) error {
	if msg == nil {
		return nil
	}
	defer C.free(unsafe.Pointer(msg))
	return errors.New(C.GoString(msg))
}

// withEnv calls f with the process's onnxruntime environment.
func (a cAPI) withEnv(f func(env unsafe.Pointer) error) error {
	var env unsafe.Pointer
	if err := goError(C.desens_env_acquire(a.t, &env)); err != nil {
		return fmt.Errorf("onnxruntime environment: %w", err)
	}
	defer C.desens_env_release(a.t, env)
	return f(env)
}

// devices lists the execution-provider devices of the environment, the
// CPU provider's included.
func (a cAPI) devices() ([]epDevice, error) {
	var list []epDevice
	err := a.withEnv(func(env unsafe.Pointer) error {
		var devs *unsafe.Pointer
		var n C.size_t
		if err := goError(C.desens_ep_devices(a.t, env, &devs, &n)); err != nil {
			return fmt.Errorf("list execution-provider devices: %w", err)
		}
		for i := range C.size_t(n) {
			p := C.desens_ep_device_at(devs, i)
			list = append(list, epDevice{
				ep:       C.GoString(C.desens_ep_name(a.t, p)),
				hardware: hardwareType(C.desens_ep_hardware_type(a.t, p)),
				p:        p,
			})
		}
		return nil
	})
	return list, err
}

// appendDevice makes sessions built from opts run on the provider device d,
// configured by options.
func (a cAPI) appendDevice(opts *ort.SessionOptions, d epDevice, options map[string]string) error {
	so, err := optionsPointer(opts)
	if err != nil {
		return err
	}
	var keys, vals []*C.char
	for k, v := range options {
		keys = append(keys, C.CString(k))
		vals = append(vals, C.CString(v))
	}
	defer func() {
		for i := range keys {
			C.free(unsafe.Pointer(keys[i]))
			C.free(unsafe.Pointer(vals[i]))
		}
	}()
	var ck, cv **C.char
	if len(keys) > 0 {
		ck, cv = &keys[0], &vals[0]
	}
	return a.withEnv(func(env unsafe.Pointer) error {
		if err := goError(C.desens_append_v2(a.t, so, env, d.p, ck, cv, C.size_t(len(keys)))); err != nil {
			return fmt.Errorf("append %s: %w", d, err)
		}
		return nil
	})
}

// configEntry reads the session configuration entry key from opts through
// the C API (onnxruntime_go only writes them): it shows that
// optionsPointer finds the options onnxruntime_go made.
func (a cAPI) configEntry(opts *ort.SessionOptions, key string) (string, error) {
	so, err := optionsPointer(opts)
	if err != nil {
		return "", err
	}
	ck := C.CString(key)
	defer C.free(unsafe.Pointer(ck))
	const size = 256
	var need C.size_t
	cbuf := (*C.char)(C.malloc(size))
	defer C.free(unsafe.Pointer(cbuf))
	if err := goError(C.desens_config_entry(a.t, so, ck, cbuf, size, &need)); err != nil {
		return "", err
	}
	return C.GoString(cbuf), nil
}

// optionsPointer is the OrtSessionOptions behind opts. onnxruntime_go keeps
// it in the struct's only field, unexported; the layout is checked here on
// every call, so that a change in onnxruntime_go fails with an error
// instead of handing onnxruntime a wrong pointer, and TestOptionsPointer
// reads back through it a setting made through onnxruntime_go.
func optionsPointer(opts *ort.SessionOptions) (unsafe.Pointer, error) {
	if err := optionsLayout(reflect.TypeFor[ort.SessionOptions]()); err != nil {
		return nil, err
	}
	p := *(*unsafe.Pointer)(unsafe.Pointer(opts))
	if p == nil {
		return nil, errors.New("session options already destroyed")
	}
	return p, nil
}

// optionsLayout checks that t, onnxruntime_go's SessionOptions, is one
// pointer field (named o, to the C options) and nothing else.
func optionsLayout(t reflect.Type) error {
	if t.Kind() != reflect.Struct || t.NumField() != 1 || t.Field(0).Name != "o" ||
		t.Field(0).Type.Kind() != reflect.Pointer || t.Size() != unsafe.Sizeof(unsafe.Pointer(nil)) {
		return fmt.Errorf("onnxruntime_go's SessionOptions is no longer one pointer field (%v): the CUDA plug-in route needs updating", t)
	}
	return nil
}

// apiIndices are the positions in OrtApi of the functions the shim calls,
// by name, for TestAPIIndices.
func apiIndices() map[string]int {
	return map[string]int{
		"GetErrorMessage":       C.desens_GetErrorMessage,
		"CreateEnv":             C.desens_CreateEnv,
		"ReleaseEnv":            C.desens_ReleaseEnv,
		"ReleaseStatus":         C.desens_ReleaseStatus,
		"GetSessionConfigEntry": C.desens_GetSessionConfigEntry,
		"GetEpDevices":          C.desens_GetEpDevices,
		"SessionOptionsAppendExecutionProvider_V2": C.desens_SessionOptionsAppendExecutionProvider_V2,
		"HardwareDevice_Type":                      C.desens_HardwareDevice_Type,
		"EpDevice_EpName":                          C.desens_EpDevice_EpName,
		"EpDevice_Device":                          C.desens_EpDevice_Device,
	}
}
