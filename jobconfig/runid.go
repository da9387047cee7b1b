package jobconfig

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"slices"
)

// RunIDLength is the number of hex digits of a derived run id (64 bits).
const RunIDLength = 16

// RunID derives a run id from the canonical config, the model's sha256 and
// the input listing: the first RunIDLength hex digits of a sha256 over
// length-prefixed fields (so no two different inputs concatenate alike). The
// listing is sorted first, so the order files were listed in does not matter.
func RunID(canonicalConfig []byte, modelSHA256 string, inputListing []string) string {
	h := sha256.New()
	write := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	h.Write([]byte("glassbox-run-id-v1"))
	write(canonicalConfig)
	write([]byte(modelSHA256))
	inputs := slices.Clone(inputListing)
	slices.Sort(inputs)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(inputs)))
	h.Write(n[:])
	for _, in := range inputs {
		write([]byte(in))
	}
	return hex.EncodeToString(h.Sum(nil))[:RunIDLength]
}

// SHA256File returns the lower-case hex sha256 of a file's contents.
func SHA256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("sha256: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("sha256 %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
