package main

import (
	"strings"
	"testing"

	"github.com/aieval/aieval/assertions"
	"github.com/aieval/aieval/reporters"
)

// --help and validate --list-assertions come from the registries: every
// type registered is listed, with its help.
func TestHelpListsTheRegistries(t *testing.T) {
	help := newCLI(t).run("--help")
	list := newCLI(t).run("validate", "--list-assertions")
	if list.code != 0 {
		t.Fatalf("validate --list-assertions: exit %d\n%s", list.code, list.stderr)
	}
	for _, name := range assertions.Names() {
		if !strings.Contains(help.stdout+help.stderr, " "+name) {
			t.Errorf("--help does not list assertion type %s", name)
		}
		if assertions.Describe(name) == "" {
			t.Errorf("assertion type %s has no description", name)
		}
		if !strings.Contains(list.stdout, name+" ") {
			t.Errorf("--list-assertions does not list %s", name)
		}
	}
	for _, name := range reporters.Names() {
		if !strings.Contains(help.stdout+help.stderr, " "+name) {
			t.Errorf("--help does not list report format %s", name)
		}
	}
}
