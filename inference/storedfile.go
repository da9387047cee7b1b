package inference

// StoredFile is one file of a model kept in remote storage and its sha256
// (hex), Name being its slash-separated path under the model's root folder:
// the launcher lists them once, and every worker fetches and verifies exactly
// these bytes.
type StoredFile struct {
	// Name is the file's path relative to the model's root folder, with slashes.
	Name string `json:"name"`
	// SHA256 is the file's sha256, hex.
	SHA256 string `json:"sha256"`
}
