// Package parquetsink writes Parquet files atomically and deterministically.
//
// A file is written under a temporary name beside its final path and renamed
// into place only after it has been closed successfully, so a reader (or a
// retried Beam bundle) never sees a partial file under the final name. The
// bytes depend only on the rows: the created_by field is a fixed string and
// no timestamps or random values are written, so identical rows give
// byte-identical files and reruns can be compared with a checksum.
//
// The FileSystem interface keeps the package free of Beam and cloud SDKs: the
// pipeline adapts its own file system (gs://, ...) to it; Local covers disk.
package parquetsink
