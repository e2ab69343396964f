// Package outfile writes the files faultline produces (run --csv, bench's
// reports and shards) without ever losing what was at the path or half of
// what is written.
//
// A regular file, or a path where nothing is yet, is replaced atomically:
// the data goes to a temporary file in the same directory, which is then
// renamed over the path, so that a reader sees the old file or the whole
// new one (rename(2) is atomic within a file system:
// https://pubs.opengroup.org/onlinepubs/9799919799/functions/rename.html).
// A symbolic link is followed and its target replaced, so the link stays.
// Anything else at the path (a terminal, /dev/stdout, a FIFO read by
// another process) is written through, as a shell's > does: renaming
// over it would put a regular file in its place.
//
// A new file gets mode 0644 minus the umask (the kernel applies the umask
// to the mode open(2) is given); a replaced file keeps its permissions.
package outfile

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// mode is the mode of a new file before the umask, that of bench's
// reports.
const mode = 0o644

// WriteFile writes data to path, as Write does.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write writes what write produces to path: atomically if the path is a
// regular file or does not exist yet, through the file otherwise. An error
// names path, never the temporary file; on an error a regular file at
// path is left as it was.
func Write(path string, write func(io.Writer) error) error {
	t, err := resolve(path)
	if err != nil {
		return err
	}
	if t.through {
		f, err := os.OpenFile(t.name, os.O_WRONLY, 0)
		if err != nil {
			return rename(err, path)
		}
		return finish(path, f, write, nil)
	}
	tmp, err := createTemp(t)
	if err != nil {
		return rename(err, path)
	}
	name := tmp.Name()
	err = finish(path, tmp, write, func() error { return os.Rename(name, t.name) })
	if err != nil {
		os.Remove(name)
	}
	return err
}

// finish runs write on f through a buffer, flushes and closes f, and then
// runs commit, if any; every error is reported under path.
func finish(path string, f *os.File, write func(io.Writer) error, commit func() error) error {
	bw := bufio.NewWriter(f)
	err := write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && commit != nil {
		err = commit()
	}
	return rename(err, path)
}

// CheckDir makes dir (and its parents) if need be and checks that a file
// can be created in it, by creating one and removing it: a command that
// writes there at the end of a long run finds out before it starts.
func CheckDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := createTemp(target{name: filepath.Join(dir, "probe"), perm: mode})
	if err != nil {
		return rename(err, dir)
	}
	name := f.Name()
	err = f.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	return rename(err, dir)
}

// Check reports whether Write could write path, without writing it: a
// file that would be replaced needs a temporary file beside it, which is
// created and removed; a file written through must exist and not be a
// directory (opening it could block, as a FIFO does until it has a
// reader).
func Check(path string) error {
	t, err := resolve(path)
	if err != nil || t.through {
		return err
	}
	f, err := createTemp(t)
	if err != nil {
		return rename(err, path)
	}
	name := f.Name()
	err = f.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	return rename(err, path)
}

// SameFile reports whether path names the regular file fi describes,
// such as stdout's with "> out.csv": writing there would overwrite what
// is written to stdout, or be overwritten by it. A device or a FIFO is
// never the same file: writing through it loses nothing.
func SameFile(path string, fi fs.FileInfo) bool {
	if fi == nil || !fi.Mode().IsRegular() {
		return false
	}
	pi, err := os.Stat(path)
	return err == nil && os.SameFile(fi, pi)
}

// target is where Write puts the data of a path.
type target struct {
	name    string      // the file to replace, or to write through
	through bool        // write into the file as it is
	perm    fs.FileMode // the mode of the new file (less the umask unless keep)
	keep    bool        // perm is that of the file replaced
}

// maxLinks bounds a chain of symbolic links, as Linux's MAXSYMLINKS (40)
// does.
const maxLinks = 40

// resolve finds what path leads to: following symbolic links to a regular
// file, or to the name a dangling link points at, where the file will be
// created.
func resolve(path string) (target, error) {
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return target{}, &fs.PathError{Op: "write", Path: path, Err: syscall.EISDIR}
	case err == nil && !fi.Mode().IsRegular():
		// Open the path itself, not where its links lead: /dev/stdout
		// leads to /proc/self/fd/1, whose link text for a pipe
		// ("pipe:[123]") is no file name, but opening it opens the pipe.
		return target{name: path, through: true}, nil
	case err == nil:
		name, err := filepath.EvalSymlinks(path)
		if err != nil {
			return target{}, err
		}
		return target{name: name, perm: fi.Mode().Perm(), keep: true}, nil
	case !errors.Is(err, fs.ErrNotExist):
		return target{}, err
	}
	// Nothing there yet, or a dangling link: create what the last link
	// names.
	name := path
	for range maxLinks {
		li, err := os.Lstat(name)
		if err != nil || li.Mode()&fs.ModeSymlink == 0 {
			return target{name: name, perm: mode}, nil
		}
		dest, err := os.Readlink(name)
		if err != nil {
			return target{}, err
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(name), dest)
		}
		name = dest
	}
	return target{}, &fs.PathError{Op: "write", Path: path, Err: syscall.ELOOP}
}

// createTemp creates a new file beside t's with t's mode: os.CreateTemp
// would make it 0600.
func createTemp(t target) (*os.File, error) {
	dir, base := filepath.Split(t.name)
	for range 100 {
		tmp := filepath.Join(dir, "."+base+".tmp-"+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, t.perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if t.keep {
			// A replaced file keeps its permissions, whatever the umask.
			if err := f.Chmod(t.perm); err != nil {
				f.Close()
				os.Remove(tmp)
				return nil, err
			}
		}
		return f, nil
	}
	return nil, &fs.PathError{Op: "createtemp", Path: t.name, Err: fs.ErrExist}
}

// rename reports err under path, the name the user gave, instead of the
// temporary file's or a link's target's.
func rename(err error, path string) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe):
		return &fs.PathError{Op: pe.Op, Path: path, Err: pe.Err}
	case errors.As(err, &le):
		return &fs.PathError{Op: le.Op, Path: path, Err: le.Err}
	}
	return err
}
