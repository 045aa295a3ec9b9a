package history

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/aieval/aieval/eval/history/historytest"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{".aieval/history.db", ".aieval/history.db"},
		{"postgres://db.example.com/aieval", "postgres://db.example.com/aieval"},
		{"postgres://ci:hunter2@db.example.com:5432/aieval?sslmode=require", "postgres://REDACTED@db.example.com:5432/aieval?sslmode=require"},
		{"postgresql://ci@db/aieval", "postgresql://REDACTED@db/aieval"},
		{"POSTGRES://a:b@h/d", "postgres://REDACTED@h/d"},
		{"postgres://h/d?password=hunter2&sslmode=disable", "postgres://h/d?password=REDACTED&sslmode=disable"},
		{"postgres://h/d?sslpassword=hunter2", "postgres://h/d?sslpassword=REDACTED"},
		{"postgres://ci:hun%zzter2@h/d", "postgres://REDACTED"}, // unparseable
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestPostgresErrorsNeverShowThePassword: a server that is down or
// refuses the login gives a one-line error naming the server without
// its credentials, whatever form the password takes.
func TestPostgresErrorsNeverShowThePassword(t *testing.T) {
	// A loopback port with nothing listening: connection refused at once.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	// A server that accepts and hangs up: the driver's startup fails.
	hangup, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hangup.Close()
	go func() {
		for {
			c, err := hangup.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	const pw = "s3cr=t/pw"
	dsns := []string{
		"postgres://alice:s3cr%3Dt%2Fpw@" + addr + "/hist?connect_timeout=5&sslmode=disable",
		"postgresql://alice@" + addr + "/hist?password=s3cr%3Dt%2Fpw&sslmode=disable",
		"postgres://alice:s3cr%3Dt%2Fpw@" + hangup.Addr().String() + "/hist?sslmode=disable",
		"postgres://alice:s3cr%3Dt%2Fpw@" + addr + "/hist?sslmode=bogus", // a parse error
		"PostgreSQL://alice:s3cr%3Dt%2Fpw@" + addr + "/hist",
	}
	for _, dsn := range dsns {
		h, err := Open(dsn)
		if err == nil {
			h.Close()
			t.Fatalf("Open(%s): want an error", Redact(dsn))
		}
		msg := err.Error()
		for _, leak := range []string{pw, "s3cr%3Dt%2Fpw", "s3cr=t%2Fpw", "s3cr"} {
			if strings.Contains(msg, leak) {
				t.Errorf("error shows the password (%q): %s", leak, msg)
			}
		}
		if !strings.Contains(msg, "REDACTED") || strings.Contains(msg, "\n") {
			t.Errorf("want one line naming the redacted server: %q", msg)
		}
	}
}

// TestPostgresNewerSchema: a store migrated by a newer aieval is refused
// with the upgrade hint, as a SQLite file is.
func TestPostgresNewerSchema(t *testing.T) {
	target := historytest.Target(t)
	h, err := Open(target)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.ExecContext(context.Background(), "UPDATE schema_version SET version = 99"); err != nil {
		t.Fatal(err)
	}
	h.Close()
	if h, err := Open(target); err == nil {
		h.Close()
		t.Fatal("want an error")
	} else if !strings.Contains(err.Error(), "schema version 99 is newer than this aieval knows") {
		t.Errorf("error %q", err)
	}
}
