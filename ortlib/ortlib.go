package ortlib

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// EnvVar names the environment variable that overrides the library path.
const EnvVar = "GLASSBOX_ORT_LIB"

// LibraryName is the file name of the cached library.
const LibraryName = "libonnxruntime.so.1"

// LibrarySHA256 is the checksum of libonnxruntime.so.1 from onnxruntime-node@1.30.0 (linux x64).
const LibrarySHA256 = "ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23"

// fixHint is appended to every error so the user knows what to run.
const fixHint = "run `make setup` (or scripts/fetch-ort.sh) to fetch it, or set " + EnvVar + " to the path of libonnxruntime.so from ONNX Runtime 1.24 or newer"

var (
	mu      sync.Mutex
	initErr error
	inited  bool
	libPath string

	// offered is the library a job's launcher loaded (see Offer).
	offered, offeredSHA string
)

// Offer names the library the job's launcher loaded and its sha256, for
// workers in other processes on hosts that share the launcher's filesystem:
// Beam's boot copies the worker binary to a temporary folder, so the search
// beside the executable cannot find the project's cache there. It takes
// effect before the first Init and is tried after GLASSBOX_ORT_LIB, and the
// file must still have that sha256.
func Offer(path, sha256 string) {
	mu.Lock()
	defer mu.Unlock()
	offered, offeredSHA = path, sha256
}

// Path returns the library to load: GLASSBOX_ORT_LIB if set, else the
// library the launcher offered (Offer) when this host has it, else the cached
// copy found in .cache/ort/ above the working directory or the executable.
func Path() (string, error) {
	if p := os.Getenv(EnvVar); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("ONNX Runtime library %s=%s cannot be read (%v): %s", EnvVar, p, err, fixHint)
		}
		return p, nil
	}
	if offered != "" {
		if _, err := os.Stat(offered); err == nil {
			return offered, nil
		}
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, start := range starts {
		for dir := start; ; dir = filepath.Dir(dir) {
			p := filepath.Join(dir, ".cache", "ort", LibraryName)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			if parent := filepath.Dir(dir); parent == dir {
				break
			}
		}
	}
	if offered != "" {
		return "", fmt.Errorf("ONNX Runtime library not found on this host (no %s; the job's launcher loaded %s, which this host does not have; no .cache/ort/%s above %v): %s", EnvVar, offered, LibraryName, starts, workerHint)
	}
	return "", fmt.Errorf("ONNX Runtime library not found (no %s and no .cache/ort/%s above %v): %s", EnvVar, LibraryName, starts, fixHint)
}

// workerHint says how to give a worker outside the launcher's process its library.
const workerHint = "set " + EnvVar + " in the workers' environment to the path of libonnxruntime.so.1 (the worker image built from deploy/worker.Dockerfile sets it), " +
	"or run the workers on hosts that share the launcher's filesystem (--shared_fs), where they load the launcher's library"

// Init loads the library and creates the process-wide ORT environment; later
// calls return the first call's result, so it is safe to call from every worker.
func Init() error {
	mu.Lock()
	defer mu.Unlock()
	if inited {
		return initErr
	}
	inited = true
	initErr = initLocked()
	return initErr
}

// LoadConfigFromModelEnv is the environment variable that, set to 1, makes ONNX
// Runtime read session options (threads, optimisation level, profiling, …)
// from an "ort_config" entry in the model's metadata when a session is
// created. Models come from elsewhere, so Init unsets it: only Glassbox's own
// options (inference's sessionOptions) apply.
const LoadConfigFromModelEnv = "ORT_LOAD_CONFIG_FROM_MODEL"

func initLocked() error {
	// ONNX Runtime reads the variable with getenv at each session's creation;
	// os.Unsetenv reaches the C environment too, since cgo is linked in.
	if err := os.Unsetenv(LoadConfigFromModelEnv); err != nil {
		return fmt.Errorf("unset %s: %w", LoadConfigFromModelEnv, err)
	}
	p, err := Path()
	if err != nil {
		return err
	}
	switch {
	case os.Getenv(EnvVar) != "":
	case p == offered && offeredSHA != "":
		// The launcher's library, as the launcher loaded it.
		if err := verify(p, offeredSHA); err != nil {
			return err
		}
	default:
		// The cached copy must be exactly the file the project pinned; a
		// truncated download would otherwise fail later in obscure ways.
		if err := verify(p, LibrarySHA256); err != nil {
			return err
		}
	}
	if ort.IsInitialized() {
		libPath = p
		return nil
	}
	ort.SetSharedLibraryPath(p)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("ONNX Runtime library %s could not be loaded (%v): %s", p, err, fixHint)
	}
	libPath = p
	return nil
}

// SHA256 returns the hex sha256 of the library file at p.
func SHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("ONNX Runtime library %s cannot be read (%v): %s", p, err, fixHint)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("ONNX Runtime library %s cannot be read (%v): %s", p, err, fixHint)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func verify(p, want string) error {
	got, err := SHA256(p)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("ONNX Runtime library %s has sha256 %s, not %s: delete it and %s", p, got, want, fixHint)
	}
	return nil
}

// Loaded returns the path of the library in use, or an error if Init has not succeeded.
func Loaded() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if !inited {
		return "", errors.New("ONNX Runtime not initialised: call ortlib.Init first")
	}
	if initErr != nil {
		return "", initErr
	}
	return libPath, nil
}

// Version returns the ONNX Runtime version string of the loaded library.
func Version() string { return ort.GetVersion() }

// UseEnvAllocatorsKey is the session option that makes a session allocate from
// the environment's shared allocator (SharedArena) instead of its own arena.
const UseEnvAllocatorsKey = "session.use_env_allocators"

var (
	arenaOnce sync.Once
	arenaErr  error
)

// SharedArena registers, once per process, a CPU arena allocator with the ORT
// environment; sessions that set UseEnvAllocatorsKey to "1" share it. Each
// session otherwise keeps an arena as large as its biggest run held, so many
// open sessions (backward graphs per length) would each pin a peak working
// set; sharing one arena bounds the process by the largest run in flight.
func SharedArena() error {
	if err := Init(); err != nil {
		return err
	}
	arenaOnce.Do(func() {
		info, err := ort.GetMemoryInfo()
		if err != nil {
			arenaErr = fmt.Errorf("ONNX Runtime shared arena: %w", err)
			return
		}
		cfg, err := ort.NewArenaCfg(0, -1, -1, -1)
		if err != nil {
			arenaErr = fmt.Errorf("ONNX Runtime shared arena: %w", err)
			return
		}
		defer cfg.Destroy()
		if err := ort.CreateAndRegisterAllocator(info, cfg); err != nil {
			arenaErr = fmt.Errorf("ONNX Runtime shared arena: %w", err)
		}
	})
	return arenaErr
}
