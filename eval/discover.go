package eval

import (
	"bytes"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// skipDirs are never searched for suites.
var skipDirs = map[string]bool{".git": true, "vendor": true, "node_modules": true, ".aieval": true}

// IsSuiteFile reports whether name is a suite file name.
func IsSuiteFile(name string) bool {
	return strings.HasSuffix(name, ".eval.yaml") || strings.HasSuffix(name, ".eval.yml")
}

// Discover finds *.eval.yaml / *.eval.yml under root, skipping .git,
// vendor, node_modules and .aieval, sorted so runs are reproducible.
func Discover(root string) ([]string, error) {
	return Find(root, func(path string) bool { return IsSuiteFile(filepath.Base(path)) })
}

// Find walks root like Discover, returning the files match accepts; match
// gets the path (its base name is what Discover looks at).
func Find(root string, match func(path string) bool) ([]string, error) {
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
		if (d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0) && match(path) {
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

// maxShapeBytes bounds the files read to recognise an aiconfig by content.
const maxShapeBytes = 10 << 20

// IsAIConfigName reports whether name has an aiconfig file name
// (*.aiconfig.json, *.aiconfig.yaml, *.aiconfig.yml).
func IsAIConfigName(name string) bool {
	for _, ext := range []string{".aiconfig.json", ".aiconfig.yaml", ".aiconfig.yml"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// AIConfigShape tells whether a file is an aiconfig by its content, not its
// name (chained_gpt_config.json, rag_aiconfig.json and aiconfig.json are
// aiconfigs too): a JSON or YAML file (.json, .yaml, .yml) whose top level
// is a mapping with a "prompts" list and a "schema_version" or "metadata"
// key. The AIConfig schema requires all three, so every aiconfig has them,
// and a file with them is surely meant as one (a broken one is then
// reported by validate rather than skipped). A file named *.aiconfig.* is
// always one. When it is not, why says so, for `validate -v`.
func AIConfigShape(path string) (ok bool, why string) {
	name := filepath.Base(path)
	if IsAIConfigName(name) {
		return true, ""
	}
	if IsSuiteFile(name) {
		return false, "a suite file"
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json", ".yaml", ".yml":
	default:
		return false, "not a .json, .yaml or .yml file"
	}
	data, err := readLimited(path, maxShapeBytes)
	if err != nil {
		return false, "unreadable: " + describeFSError(err)
	}
	if bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
		return false, "not a text file"
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return false, "not valid JSON or YAML"
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return false, "its top level is not a mapping"
	}
	top := map[string]*yaml.Node{}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		top[m.Content[i].Value] = m.Content[i+1]
	}
	p := top["prompts"]
	switch {
	case p == nil:
		return false, `no "prompts" key`
	case p.Kind != yaml.SequenceNode:
		return false, `"prompts" is not a list`
	case top["schema_version"] == nil && top["metadata"] == nil:
		return false, `a "prompts" list but neither "schema_version" nor "metadata"`
	}
	return true, ""
}

// FindAIConfigs lists the aiconfig files below root by content (see
// AIConfigShape), skipping the directories Discover skips. skipped, when
// set, hears about every other .json/.yaml/.yml file and why.
func FindAIConfigs(root string, skipped func(path, why string)) ([]string, error) {
	return Find(root, func(path string) bool {
		ok, why := AIConfigShape(path)
		if !ok && skipped != nil && why != "not a .json, .yaml or .yml file" && why != "a suite file" {
			skipped(path, why)
		}
		return ok
	})
}
