package eval

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

// skipDirs are never searched for suites.
var skipDirs = map[string]bool{".git": true, "vendor": true, "node_modules": true, ".aieval": true}

// IsSuiteFile reports whether name is a suite file name.
func IsSuiteFile(name string) bool {
	return strings.HasSuffix(name, ".eval.yaml") || strings.HasSuffix(name, ".eval.yml")
}

// Discover finds *.eval.yaml / *.eval.yml under root, skipping .git,
// vendor, node_modules and .aieval, sorted so runs are reproducible.
func Discover(root string) ([]string, error) { return Find(root, IsSuiteFile) }

// Find walks root like Discover, returning the files whose base name match
// accepts (validate also looks for aiconfig files).
func Find(root string, match func(name string) bool) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return err
			}
			return nil // an unreadable subdirectory holds no suite we can run
		}
		if d.IsDir() {
			if path != root && skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if match(d.Name()) && (d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0) {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", root, err)
	}
	sort.Strings(out)
	return out, nil
}
