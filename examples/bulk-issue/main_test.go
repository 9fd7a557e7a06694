package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokstamp/dokstamp-go/dokstamptest"
	"github.com/dokstamp/dokstamp-go/examples/internal/exampleenv"
)

// embedded makes the example use its embedded server whatever the
// developer's environment holds.
func embedded(t *testing.T) {
	for _, k := range exampleenv.Vars {
		t.Setenv(k, "")
	}
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestRunTwiceResumesFromTheJournal(t *testing.T) {
	embedded(t)
	out := filepath.Join(t.TempDir(), "out")
	ctx := context.Background()

	var first bytes.Buffer
	require.NoError(t, run(ctx, []string{"-out", out, "-concurrency", "6"}, &first), first.String())
	lines := strings.Split(first.String(), "\n")
	assert.True(t, strings.HasPrefix(lines[0], "Using the embedded DokStamp test server"), lines[0])
	assert.Contains(t, first.String(), "(40 graduates)")
	assert.Contains(t, first.String(), "40/40 (100%)")
	assert.Contains(t, first.String(), "Plan: 40 to issue, 0 already issued (journal or server), 0 blocked")
	assert.Contains(t, first.String(), "Issued 40, already done 0 (from the journal), already issued 0 (found on the server), failed 0, not settled 0, of 40 graduates")
	assert.Contains(t, first.String(), "Report: "+filepath.Join(out, "report.csv"))
	firstReport := readReport(t, filepath.Join(out, "report.csv"))
	for _, rec := range firstReport {
		assert.Equal(t, "issued", rec[3], rec)
	}

	var second bytes.Buffer
	require.NoError(t, run(ctx, []string{"-out", out}, &second), second.String())
	assert.Contains(t, second.String(), "Issued 0, already done 40 (from the journal), already issued 0 (found on the server), failed 0, not settled 0, of 40 graduates")
	assert.Contains(t, second.String(), "All graduates were already done: nothing was sent.")
	assert.Contains(t, second.String(), "Plan: 0 to issue, 40 already issued (journal or server), 0 blocked")

	report := readReport(t, filepath.Join(out, "report.csv"))
	require.Len(t, report, 40)
	seen := map[string]bool{}
	for i, rec := range report {
		assert.Contains(t, rec[0], "@students.acme.example", rec)
		assert.Regexp(t, uuidPattern, rec[1], rec)
		assert.True(t, strings.HasPrefix(rec[2], "https://verificar.dokstamp.eu/"), rec)
		assert.Equal(t, "already_issued", rec[3], rec)
		// The second run reports the certificates the first one issued.
		assert.Equal(t, firstReport[i][:3], rec[:3])
		assert.False(t, seen[rec[1]], "certificate %s twice", rec[1])
		seen[rec[1]] = true
	}

	// The sample PDFs are distinct per graduate.
	pdfs, err := filepath.Glob(filepath.Join(out, "sample", "pdfs", "*.pdf"))
	require.NoError(t, err)
	require.Len(t, pdfs, 40)
	contents := map[string]bool{}
	for _, p := range pdfs {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.True(t, bytes.HasPrefix(b, []byte("%PDF-1.4")), p)
		contents[string(b)] = true
	}
	assert.Len(t, contents, 40)
}

// readReport returns the report's lines after the header, checking the header.
func readReport(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	require.Equal(t, []string{"student", "certificate_uuid", "public_verification_url", "status"}, recs[0])
	return recs[1:]
}

func TestBadInput(t *testing.T) {
	embedded(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ok.pdf"), []byte("%PDF-1.4\n% a diploma\n%%EOF\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "photo.pdf"), []byte("\x89PNG\r\n\x1a\n not a pdf"), 0o644))
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}

	for _, tc := range []struct {
		name     string
		manifest string
		want     []string
	}{
		{"missing manifest", filepath.Join(dir, "nope.csv"), []string{"manifest: open", "nope.csv: no such file"}},
		{"no pdf column", write("nocol.csv", "student,name\na@b.example,A\n"), []string{`no "pdf" column`}},
		{"bad rows", write("bad.csv", "student,name,pdf\n"+
			"a@b.example,A,ok.pdf\n"+
			"b@b.example,B,\n"+
			"c@b.example,C,photo.pdf\n"+
			"d@b.example,D,missing.pdf\n"), []string{
			"line 3: no pdf",
		}},
		{"bad files", write("files.csv", "student,name,pdf\n"+
			"a@b.example,A,ok.pdf\n"+
			"c@b.example,C,photo.pdf\n"+
			"d@b.example,D,missing.pdf\n"+
			"A@b.example,A again,ok.pdf\n"+
			"nobody,N,ok.pdf\n"), []string{
			"4 problem(s)",
			"line 3: " + filepath.Join(dir, "photo.pdf") + " is not a PDF",
			"line 4: " + filepath.Join(dir, "missing.pdf") + ": no such file",
			"line 5: student A@b.example is already on line 2",
			`line 6: student "nobody" is neither a uuid nor an e-mail address`,
		}},
		{"empty", write("empty.csv", ""), []string{"is empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			var stdout bytes.Buffer
			err := run(context.Background(), []string{"-manifest", tc.manifest, "-out", out}, &stdout)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NoFileExists(t, filepath.Join(out, "journal.jsonl"), "nothing may start on bad input")
		})
	}
}

func TestBadFlags(t *testing.T) {
	embedded(t)
	var stdout bytes.Buffer
	err := run(context.Background(), []string{"-concurrency", "0"}, &stdout)
	assert.ErrorContains(t, err, "-concurrency must be at least 1")
	err = run(context.Background(), []string{"-nope"}, &stdout)
	assert.ErrorContains(t, err, "flag provided but not defined: -nope")
	require.NoError(t, run(context.Background(), []string{"-h"}, &stdout))
	assert.Contains(t, stdout.String(), "-manifest")
}

func TestFailedGraduatesExitNonZeroWithAReport(t *testing.T) {
	embedded(t)
	dir := t.TempDir()
	twin := []byte("%PDF-1.4\n% the same bytes twice\n%%EOF\n")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.pdf"), twin, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.pdf"), twin, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c.pdf"), []byte("%PDF-1.4\n% another\n%%EOF\n"), 0o644))
	manifest := filepath.Join(dir, "m.csv")
	require.NoError(t, os.WriteFile(manifest, []byte("student,name,pdf\n"+
		"a@school.example,A,a.pdf\nb@school.example,B,b.pdf\nc@school.example,C,c.pdf\n"), 0o644))

	out := filepath.Join(dir, "out")
	var stdout bytes.Buffer
	err := run(context.Background(), []string{"-manifest", manifest, "-out", out}, &stdout)
	require.Error(t, err, stdout.String())
	assert.Contains(t, err.Error(), "2 of 3 graduates failed")
	assert.Contains(t, stdout.String(), "Issued 1, already done 0 (from the journal), already issued 0 (found on the server), failed 2, not settled 0, of 3 graduates")
	assert.Contains(t, stdout.String(), "FAILED line 2 (a@school.example)")

	report := readReport(t, filepath.Join(out, "report.csv"))
	require.Len(t, report, 3)
	assert.True(t, strings.HasPrefix(report[0][3], "failed: "), report[0])
	assert.Contains(t, report[0][3], "byte-identical")
	assert.Empty(t, report[0][1])
	assert.Equal(t, "issued", report[2][3])
	assert.Regexp(t, uuidPattern, report[2][1])
}

// TestRealAPIPath runs the example as against the real API, with a
// dokstamptest server standing in for it: existing students only, the
// institution and course from flags.
func TestRealAPIPath(t *testing.T) {
	embedded(t)
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(3))
	t.Setenv("DOKSTAMP_BASE_URL", srv.URL)
	t.Setenv("DOKSTAMP_TOKEN", srv.Token)
	t.Setenv("DOKSTAMP_TENANT", srv.Tenant)

	dir := t.TempDir()
	for i := 1; i <= 4; i++ {
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.pdf", i)), []byte(fmt.Sprintf("%%PDF-1.4\n%% %d\n%%%%EOF\n", i)), 0o644))
	}
	manifest := filepath.Join(dir, "m.csv")
	require.NoError(t, os.WriteFile(manifest, []byte("student,pdf\n"+
		"student1@acme-university.test,1.pdf\n"+
		srv.StudentUUIDs[1]+",2.pdf\n"+
		"student3@acme-university.test,3.pdf\n"), 0o644))
	out := filepath.Join(dir, "out")
	args := []string{"-manifest", manifest, "-out", out, "-institution", srv.InstitutionUUID, "-course", srv.CourseUUID}
	ctx := context.Background()

	var stdout bytes.Buffer
	require.NoError(t, run(ctx, args, &stdout), stdout.String())
	assert.True(t, strings.HasPrefix(stdout.String(), "Using the DokStamp API at "+srv.URL), stdout.String())
	assert.Contains(t, stdout.String(), "Students: 3 found\n")
	assert.Contains(t, stdout.String(), "Issued 3, already done 0 (from the journal), already issued 0 (found on the server), failed 0, not settled 0, of 3 graduates")
	certs := srv.Certificates()
	require.Len(t, certs, 3)
	first := readReport(t, filepath.Join(out, "report.csv"))
	for i, rec := range first {
		assert.Equal(t, srv.StudentUUIDs[i], certs[indexOf(t, certs, rec[1])].StudentUUID)
	}

	// Without the earlier report, the second run finds the URLs by listing.
	require.NoError(t, os.Remove(filepath.Join(out, "report.csv")))
	stdout.Reset()
	require.NoError(t, run(ctx, args, &stdout), stdout.String())
	assert.Contains(t, stdout.String(), "Issued 0, already done 3 (from the journal), already issued 0 (found on the server), failed 0, not settled 0, of 3 graduates")
	second := readReport(t, filepath.Join(out, "report.csv"))
	for i := range first {
		assert.Equal(t, first[i][:3], second[i][:3])
		assert.Equal(t, "already_issued", second[i][3])
	}
	assert.Len(t, srv.Certificates(), 3, "nothing issued twice")

	// A student who does not exist is reported, and nothing is sent.
	require.NoError(t, os.WriteFile(manifest, []byte("student,pdf\nnobody@acme-university.test,4.pdf\n"), 0o644))
	err := run(ctx, []string{"-manifest", manifest, "-out", filepath.Join(dir, "out2"), "-institution", srv.InstitutionUUID, "-course", srv.CourseUUID}, &stdout)
	assert.ErrorContains(t, err, "line 2: no student with e-mail nobody@acme-university.test in this tenant (create it first)")

	err = run(ctx, []string{"-manifest", manifest, "-out", filepath.Join(dir, "out3")}, &stdout)
	assert.ErrorContains(t, err, "-institution is required against the real API (or set DOKSTAMP_INSTITUTION_UUID)")
	assert.Len(t, srv.Certificates(), 3)
}

func indexOf(t *testing.T, certs []dokstamptest.Certificate, uuid string) int {
	t.Helper()
	for i, c := range certs {
		if c.UUID == uuid {
			return i
		}
	}
	t.Fatalf("certificate %s not on the server", uuid)
	return -1
}

// TestLostAnswersAreNotIssuedTwice drops the connection after some
// certificates were created: the run looks them up instead of sending again.
func TestLostAnswersAreNotIssuedTwice(t *testing.T) {
	embedded(t)
	srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(12), dokstamptest.WithSeed(3),
		dokstamptest.WithRouteFaults("POST /certificates", dokstamptest.Faults{DropAfterCommitRate: 0.3}))
	t.Setenv("DOKSTAMP_BASE_URL", srv.URL)
	t.Setenv("DOKSTAMP_TOKEN", srv.Token)
	t.Setenv("DOKSTAMP_TENANT", srv.Tenant)

	dir := t.TempDir()
	manifest := "student,pdf\n"
	for i, st := range srv.StudentUUIDs {
		name := fmt.Sprintf("%d.pdf", i)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(fmt.Sprintf("%%PDF-1.4\n%% %s\n%%%%EOF\n", st)), 0o644))
		manifest += st + "," + name + "\n"
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "m.csv"), []byte(manifest), 0o644))

	var stdout bytes.Buffer
	err := run(context.Background(), []string{"-manifest", filepath.Join(dir, "m.csv"), "-out", filepath.Join(dir, "out"),
		"-institution", srv.InstitutionUUID, "-course", srv.CourseUUID}, &stdout)
	require.NoError(t, err, stdout.String())
	assert.Contains(t, stdout.String(), "Issued 12, already done 0 (from the journal), already issued 0 (found on the server), failed 0, not settled 0, of 12 graduates")
	assert.Contains(t, stdout.String(), "found by look-up")
	assert.Len(t, srv.Certificates(), 12)
	assert.Empty(t, srv.Duplicates())
	for _, rec := range readReport(t, filepath.Join(dir, "out", "report.csv")) {
		assert.Equal(t, "issued", rec[3])
		assert.NotEmpty(t, rec[2])
	}
}

// TestEditedManifestResumes: between two runs on one -out directory, the manifest gains a late
// graduate; the second run sends only the new graduate.
func TestEditedManifestResumes(t *testing.T) {
	embedded(t)
	out := filepath.Join(t.TempDir(), "out")
	ctx := context.Background()
	var first bytes.Buffer
	require.NoError(t, run(ctx, []string{"-out", out}, &first), first.String())

	sample, err := os.ReadFile(filepath.Join(out, "sample", "manifest.csv"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(sample)), "\n")
	header, rows := lines[0], lines[1:]
	// The embedded server starts empty on every run and creates the students in manifest order,
	// with UUIDs fixed by that order: the late graduate comes last, so that the others keep theirs.
	rows = append(rows, "late.grad@students.acme.example,Late Grad,pdfs/late-grad.pdf")
	late := filepath.Join(out, "sample", "pdfs", "late-grad.pdf")
	require.NoError(t, os.WriteFile(late, []byte("%PDF-1.4\n% the late graduate's diploma\n%%EOF\n"), 0o644))
	edited := filepath.Join(out, "sample", "edited.csv")
	require.NoError(t, os.WriteFile(edited, []byte(header+"\n"+strings.Join(rows, "\n")+"\n"), 0o644))

	var second bytes.Buffer
	err = run(ctx, []string{"-out", out, "-manifest", edited}, &second)
	require.NoError(t, err, second.String())
	assert.Contains(t, second.String(), "Plan: 1 to issue, 40 already issued (journal or server), 0 blocked")
	assert.Contains(t, second.String(), "Issued 1, already done 40 (from the journal)", second.String())
}
