package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/dokstamp/dokstamp-go"
	"github.com/dokstamp/dokstamp-go/dokstamptest"
)

// The scripts in testdata/*.txtar run the dokstamp binary (this test binary, re-executed as
// "dokstamp") against an in-process dokstamptest server, one per script, reached through a
// gate (below) that can hold certificate creations to stop a run mid-way.

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"dokstamp": main})
}

func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:   "testdata",
		Setup: setupScript,
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"fake": cmdFake, "exits": cmdExits, "json": cmdJSON, "mode": cmdMode, "expand": cmdExpand, "freeport": cmdFreePort, "waitport": cmdWaitPort,
		},
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
	})
}

// scriptStudents is how many students (each with a completed enrollment on course CS) every
// script's server is seeded with: student1@acme-university.test and so on.
const scriptStudents = 10

// scriptToken is the scripts' API token, distinctive so that a script can check it is never
// printed.
const scriptToken = "tok-SECRET-5e1f0c9a7b"

// scriptFake is one script's server and gate.
type scriptFake struct {
	srv  *dokstamptest.Server
	gate *gate
	c    *dokstamp.Client
	n    int // PDFs made by `fake cert`
}

func setupScript(env *testscript.Env) error {
	srv, err := dokstamptest.New(dokstamptest.WithStudents(scriptStudents), dokstamptest.WithToken(scriptToken))
	if err != nil {
		return err
	}
	g := newGate(srv.URL)
	front := httptest.NewServer(g)
	env.Defer(func() {
		g.release(0)
		front.Close()
		srv.Close()
	})
	c, err := dokstamp.NewClient(dokstamp.WithBaseURL(srv.URL), dokstamp.WithToken(srv.Token), dokstamp.WithTenant(srv.Tenant))
	if err != nil {
		return err
	}
	env.Values["fake"] = &scriptFake{srv: srv, gate: g, c: c}
	for k, v := range map[string]string{
		"DOKSTAMP_BASE_URL": front.URL,
		"DOKSTAMP_TOKEN":    srv.Token,
		"DOKSTAMP_TENANT":   srv.Tenant,
		"COURSE_UUID":       srv.CourseUUID,
		"INSTITUTION_UUID":  srv.InstitutionUUID,
		"CLIENT_ID":         srv.ClientID,
		"CLIENT_SECRET":     srv.ClientSecret,
		"HOME":              env.WorkDir,
		"XDG_CONFIG_HOME":   filepath.Join(env.WorkDir, ".config"),
		"DOKSTAMP_PROFILE":  "",
		"DOKSTAMP_CONFIG":   "",
		"DOKSTAMP_PIN":      "",
	} {
		env.Setenv(k, v)
	}
	// A binary built with -race waits a second before it exits, by default: not for every
	// command of a script.
	env.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	for i, id := range srv.StudentUUIDs {
		env.Setenv(fmt.Sprintf("STUDENT%d_UUID", i+1), id)
	}
	return nil
}

func fakeOf(ts *testscript.TestScript) *scriptFake { return ts.Value("fake").(*scriptFake) }

// cmdExits runs dokstamp with args and checks its exit code:  exits N dokstamp args...
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: code %q is not a number", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}

// cmdFake inspects and drives the script's server:
//
//	fake cert N STATUS           give seeded student N a certificate: draft, issued or revoked
//	fake certs                   print the live certificates, "studentN status" sorted
//	fake one-per-graduate N      seeded students 1..N hold exactly one active certificate each
//	fake hold N                  let N more certificate creations through, hold the next ones
//	fake wait-held N             wait until N creations are held
//	fake release [-commit K]     apply the first K held creations (their answers are lost,
//	                             as when the client was stopped), drop the others, stop holding
func cmdFake(ts *testscript.TestScript, neg bool, args []string) {
	f := fakeOf(ts)
	if len(args) == 0 {
		ts.Fatalf("usage: fake cert|certs|one-per-graduate|hold|wait-held|release ...")
	}
	num := func(i int) int {
		if len(args) <= i {
			ts.Fatalf("fake %s: missing number", args[0])
		}
		n, err := strconv.Atoi(args[i])
		if err != nil {
			ts.Fatalf("fake %s: %q is not a number", args[0], args[i])
		}
		return n
	}
	student := func(n int) string {
		if n < 1 || n > len(f.srv.StudentUUIDs) {
			ts.Fatalf("no seeded student %d", n)
		}
		return f.srv.StudentUUIDs[n-1]
	}
	switch args[0] {
	case "cert":
		st := student(num(1))
		if len(args) != 3 {
			ts.Fatalf("usage: fake cert N draft|issued|revoked")
		}
		f.n++
		ctx := context.Background()
		files, err := f.c.Files.Upload(ctx, dokstamp.UploadBytes("x.pdf", fmt.Appendf(nil, "%%PDF-1.4\n%% script %d\n%%%%EOF\n", f.n)))
		ts.Check(err)
		p := &dokstamp.CertificateCreateParams{InstitutionUUID: f.srv.InstitutionUUID, CourseUUID: f.srv.CourseUUID,
			StudentUUID: st, FileUUID: files[0].UUID, Status: dokstamp.StatusIssued}
		if args[2] == "draft" {
			p.Status = dokstamp.StatusDraft
		}
		cert, err := f.c.Certificates.Create(ctx, p)
		ts.Check(err)
		if args[2] == "revoked" {
			_, err = f.c.Certificates.Revoke(ctx, cert.UUID, "wrong name")
			ts.Check(err)
		}
		ts.Setenv("CERT_UUID", cert.UUID)
		ts.Logf("certificate %s (%s) for student %s", cert.UUID, args[2], st)
	case "doc":
		ctx := context.Background()
		dt, err := f.c.Documents.CreateType(ctx, &dokstamp.DocumentTypeCreateParams{Description: "Transcript"})
		ts.Check(err)
		f.n++
		files, err := f.c.Files.Upload(ctx, dokstamp.UploadBytes("t.pdf", fmt.Appendf(nil, "%%PDF-1.4\n%% doc %d\n%%%%EOF\n", f.n)))
		ts.Check(err)
		doc, err := f.c.Documents.Create(ctx, &dokstamp.DocumentCreateParams{Description: "Transcript", DocumentTypeID: dt.ID, FileUUID: files[0].UUID})
		ts.Check(err)
		ts.Setenv("DOC_ID", strconv.Itoa(doc.ID))
		ts.Setenv("SIGNING_CERT_ID", strconv.Itoa(f.srv.SigningCertID))
		ts.Check(os.WriteFile(ts.MkAbs("pin.txt"), []byte(f.srv.SigningPIN+"\n"), 0o600))
	case "drop-after-commit":
		if len(args) != 2 {
			ts.Fatalf("usage: fake drop-after-commit 'METHOD /route'")
		}
		f.srv.SetRouteFaults(args[1], dokstamptest.Faults{DropAfterCommitRate: 1})
	case "certs":
		names := map[string]string{}
		for i, s := range f.srv.StudentUUIDs {
			names[s] = fmt.Sprintf("student%d", i+1)
		}
		var lines []string
		for _, c := range f.srv.Certificates() {
			lines = append(lines, names[c.StudentUUID]+" "+c.Status)
		}
		sort.Strings(lines)
		fmt.Fprintln(ts.Stdout(), strings.Join(lines, "\n"))
	case "one-per-graduate":
		n := num(1)
		active := map[string]int{}
		for _, c := range f.srv.Certificates() {
			if c.Status == "issued" || c.Status == "draft" {
				active[c.StudentUUID]++
			}
		}
		var bad []string
		for i := 1; i <= n; i++ {
			if k := active[student(i)]; k != 1 {
				bad = append(bad, fmt.Sprintf("student%d has %d", i, k))
			}
		}
		if d := f.srv.Duplicates(); len(d) > 0 {
			bad = append(bad, fmt.Sprintf("duplicates: %+v", d))
		}
		if (len(bad) == 0) == neg {
			ts.Fatalf("one certificate per graduate: %v", bad)
		}
	case "hold":
		f.gate.hold(num(1))
	case "wait-held":
		n := num(1)
		select {
		case <-f.gate.heldN(n):
		case <-time.After(30 * time.Second):
			ts.Fatalf("fake wait-held: %d creations not held after 30s", n)
		}
	case "release":
		k := 0
		if len(args) == 3 && args[1] == "-commit" {
			k = num(2)
		}
		f.gate.release(k)
	default:
		ts.Fatalf("fake: unknown sub-command %q", args[0])
	}
}

// cmdJSON checks a value in JSON output:  json stdout|FILE PATH WANT
// PATH is dot-separated, with numbers indexing arrays ("results.2.status"); "len" as the last
// element is the length of an array or object.
func cmdJSON(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: json stdout|FILE PATH WANT")
	}
	var data string
	if args[0] == "stdout" {
		data = ts.ReadFile("stdout")
	} else {
		data = ts.ReadFile(args[0])
	}
	var v any
	if err := json.Unmarshal([]byte(data), &v); err != nil {
		ts.Fatalf("json: %s is not JSON: %v\n%s", args[0], err, data)
	}
	for _, k := range strings.Split(args[1], ".") {
		switch x := v.(type) {
		case map[string]any:
			if k == "len" {
				v = float64(len(x))
				continue
			}
			var ok bool
			if v, ok = x[k]; !ok {
				ts.Fatalf("json: no %q in %s", k, args[1])
			}
		case []any:
			if k == "len" {
				v = float64(len(x))
				continue
			}
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				ts.Fatalf("json: index %q of %s out of range (%d items)", k, args[1], len(x))
			}
			v = x[i]
		default:
			ts.Fatalf("json: %s: %q indexes a %T", args[1], k, v)
		}
	}
	got := fmt.Sprint(v)
	if (got == args[2]) == neg {
		ts.Fatalf("json %s = %q, want %s%q", args[1], got, map[bool]string{true: "not ", false: ""}[neg], args[2])
	}
}

// cmdExpand replaces $VAR and ${VAR} in files with the script's environment:  expand FILE...
func cmdExpand(ts *testscript.TestScript, neg bool, args []string) {
	for _, name := range args {
		data := os.Expand(ts.ReadFile(name), ts.Getenv)
		ts.Check(os.WriteFile(ts.MkAbs(name), []byte(data), 0o644))
	}
}

// cmdFreePort sets VAR to a free loopback port:  freeport VAR
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	ts.Setenv(args[0], strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	ts.Check(ln.Close())
}

// cmdWaitPort waits until something accepts connections on ADDR (a background command that
// is starting):  waitport HOST:PORT
func cmdWaitPort(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitport HOST:PORT")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", args[0], time.Second)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("nothing listens on %s: %v", args[0], err)
		}
		time.Sleep(20 * time.Millisecond) // polling a port another process opens: no event to wait on
	}
}

// cmdMode checks a file's permission bits:  mode FILE 0600
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mode FILE PERM")
	}
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	if (uint64(fi.Mode().Perm()) == want) == neg {
		ts.Fatalf("%s has mode %#o, want %#o", args[0], fi.Mode().Perm(), want)
	}
}

// gate forwards every request to the fake; when holding, it lets a number of certificate
// creations through and keeps the next ones waiting until release, which applies some of them
// (their answers never reach the client: it was stopped meanwhile) and drops the others.
type gate struct {
	target string
	mu     sync.Mutex
	pass   int // creations still let through; -1: not holding
	held   []chan bool
	notify []chan struct{}
	want   []int
	wg     sync.WaitGroup
}

func newGate(target string) *gate { return &gate{target: target, pass: -1} }

func (g *gate) hold(n int) {
	g.mu.Lock()
	g.pass = n
	g.mu.Unlock()
}

// heldN is closed once n creations are held.
func (g *gate) heldN(n int) <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	ch := make(chan struct{})
	if len(g.held) >= n {
		close(ch)
		return ch
	}
	g.notify, g.want = append(g.notify, ch), append(g.want, n)
	return ch
}

// release applies the first k held creations, drops the rest, stops holding, and returns once
// the applied ones are done.
func (g *gate) release(k int) {
	g.mu.Lock()
	held := g.held
	g.held, g.pass = nil, -1
	g.mu.Unlock()
	for i, ch := range held {
		ch <- i < k
	}
	g.wg.Wait()
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	ctx := r.Context()
	if r.Method == http.MethodPost && r.URL.Path == "/certificates" {
		g.mu.Lock()
		switch {
		case g.pass > 0:
			g.pass--
			g.mu.Unlock()
		case g.pass == 0:
			ch := make(chan bool, 1)
			g.held = append(g.held, ch)
			g.wg.Add(1)
			for i := 0; i < len(g.notify); i++ {
				if len(g.held) >= g.want[i] {
					close(g.notify[i])
					g.notify, g.want = append(g.notify[:i], g.notify[i+1:]...), append(g.want[:i], g.want[i+1:]...)
					i--
				}
			}
			g.mu.Unlock()
			defer g.wg.Done()
			if !<-ch {
				dropConn(w)
				return
			}
			ctx = context.WithoutCancel(ctx) // the client is gone; the server acts anyway
		default:
			g.mu.Unlock()
		}
	}
	out, err := http.NewRequestWithContext(ctx, r.Method, g.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		dropConn(w)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func dropConn(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
