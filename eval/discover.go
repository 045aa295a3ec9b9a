package eval

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

// skipDirs are never searched for suites.
var skipDirs = map[string]bool{".git": true, "vendor": true, "node_modules": true}

// IsSuiteFile reports whether name is a suite file name.
func IsSuiteFile(name string) bool {
	return strings.HasSuffix(name, ".eval.yaml") || strings.HasSuffix(name, ".eval.yml")
}

// Discover finds *.eval.yaml / *.eval.yml under root, skipping .git,
// vendor and node_modules, sorted so runs are reproducible.
func Discover(root string) ([]string, error) {
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
		if IsSuiteFile(d.Name()) && (d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0) {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("discover suites under %s: %w", root, err)
	}
	sort.Strings(out)
	return out, nil
}
