package main

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/dokstamp/dokstamp-go/examples/internal/samplepdf"
)

// sampleManifest is the cohort used when -manifest is not given; its PDFs are
// generated into the output directory at first run.
//
//go:embed sample/manifest.csv
var sampleManifest []byte

// row is one graduate of the manifest.
type row struct {
	line    int    // line in the manifest, for messages
	student string // the student column: a uuid or an e-mail address
	name    string
	pdf     string // the PDF's path, resolved against the manifest's directory
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func isUUID(s string) bool { return uuidRE.MatchString(s) }

// problemsError lists every problem found in the input, so that it can be
// fixed in one go.
type problemsError struct {
	what     string
	problems []string
}

func (e *problemsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problem(s):", e.what, len(e.problems))
	for i, p := range e.problems {
		if i == 20 {
			fmt.Fprintf(&b, "\n  ... and %d more", len(e.problems)-i)
			break
		}
		b.WriteString("\n  " + p)
	}
	return b.String()
}

// writeSample writes the embedded sample manifest to dir/manifest.csv and the
// PDF of each of its graduates that does not exist yet, and returns the
// manifest's path.
func writeSample(dir string) (string, error) {
	path := filepath.Join(dir, "manifest.csv")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, sampleManifest, 0o644); err != nil {
		return "", err
	}
	rows, err := parseManifest(path, bytes.NewReader(sampleManifest))
	if err != nil {
		return "", err
	}
	for _, r := range rows {
		if _, err := os.Stat(r.pdf); err == nil {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(r.pdf), 0o755); err != nil {
			return "", err
		}
		// The student column is in the PDF too: the bytes are distinct per
		// graduate even if two share a name.
		pdf := samplepdf.New("Acme University", "Diploma awarded to "+r.name,
			"for completing the degree in Computer Science.", "Graduate id: "+r.student)
		if err := os.WriteFile(r.pdf, pdf, 0o644); err != nil {
			return "", err
		}
	}
	return path, nil
}

// readManifest reads and checks the manifest at path: every row needs a
// student and a PDF that exists and is a PDF, and no student may appear
// twice. All problems are reported at once.
func readManifest(path string) ([]row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	defer f.Close()
	rows, err := parseManifest(path, f)
	if err != nil {
		return nil, err
	}
	var problems []string
	seen := map[string]int{}
	for _, r := range rows {
		key := strings.ToLower(r.student)
		if first, dup := seen[key]; dup {
			problems = append(problems, fmt.Sprintf("line %d: student %s is already on line %d", r.line, r.student, first))
		} else {
			seen[key] = r.line
		}
		if !isUUID(r.student) && !strings.Contains(r.student, "@") {
			problems = append(problems, fmt.Sprintf("line %d: student %q is neither a uuid nor an e-mail address", r.line, r.student))
		}
		if err := checkPDF(r.pdf); err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %v", r.line, err))
		}
	}
	if len(problems) > 0 {
		return nil, &problemsError{what: "manifest " + path, problems: problems}
	}
	return rows, nil
}

// parseManifest reads the CSV: a header naming the columns student, pdf and
// optionally name, in any order, then one graduate per line.
func parseManifest(path string, r io.Reader) ([]row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("manifest %s is empty: it needs a header line with the columns student,name,pdf", path)
	}
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, need := range []string{"student", "pdf"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("manifest %s: no %q column in the header %q (want student,name,pdf)", path, need, strings.Join(header, ","))
		}
	}
	field := func(rec []string, name string) string {
		i, ok := col[name]
		if !ok || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	dir := filepath.Dir(path)
	var rows []row
	var problems []string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %w", path, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		r := row{line: line, student: field(rec, "student"), name: field(rec, "name"), pdf: field(rec, "pdf")}
		if r.student == "" {
			problems = append(problems, fmt.Sprintf("line %d: no student (a uuid or an e-mail address)", line))
		}
		if r.pdf == "" {
			problems = append(problems, fmt.Sprintf("line %d: no pdf", line))
		} else if !filepath.IsAbs(r.pdf) {
			r.pdf = filepath.Join(dir, r.pdf)
		}
		rows = append(rows, r)
	}
	if len(problems) > 0 {
		return nil, &problemsError{what: "manifest " + path, problems: problems}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("manifest %s has no graduates", path)
	}
	return rows, nil
}

// checkPDF says why the file at path cannot be uploaded as a PDF, or nil.
func checkPDF(path string) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s: no such file", path)
		}
		return err
	}
	defer f.Close()
	head := make([]byte, 5)
	n, _ := io.ReadFull(f, head)
	if n == 0 {
		return fmt.Errorf("%s is empty", path)
	}
	if string(head[:n]) != "%PDF-" {
		return fmt.Errorf("%s is not a PDF (it does not start with %%PDF-)", path)
	}
	return nil
}
