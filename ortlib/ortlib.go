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
)

// Path returns the library to load: GLASSBOX_ORT_LIB if set, else the cached
// copy found in .cache/ort/ above the working directory or the executable.
func Path() (string, error) {
	if p := os.Getenv(EnvVar); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("ONNX Runtime library %s=%s cannot be read (%v): %s", EnvVar, p, err, fixHint)
		}
		return p, nil
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
	return "", fmt.Errorf("ONNX Runtime library not found (no %s and no .cache/ort/%s above %v): %s", EnvVar, LibraryName, starts, fixHint)
}

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

func initLocked() error {
	p, err := Path()
	if err != nil {
		return err
	}
	if os.Getenv(EnvVar) == "" {
		// The cached copy must be exactly the file the project pinned; a
		// truncated download would otherwise fail later in obscure ways.
		if err := verify(p); err != nil {
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

func verify(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("ONNX Runtime library %s cannot be read (%v): %s", p, err, fixHint)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("ONNX Runtime library %s cannot be read (%v): %s", p, err, fixHint)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != LibrarySHA256 {
		return fmt.Errorf("ONNX Runtime library %s has sha256 %s, not the pinned %s: delete it and %s", p, got, LibrarySHA256, fixHint)
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
