package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// manifest is a graduates' CSV as exported from a spreadsheet or a student-information system.
type manifest struct {
	path   string
	comma  rune
	bom    bool
	header []string
	rows   []*manifestRow
}

// manifestRow is one graduate: the record as read (for --failed) and the columns used.
type manifestRow struct {
	line        int      // line of the record in the file, for every message
	record      []string // the fields as read, written back unchanged by --failed
	student     string   // e-mail address or uuid
	pdf         string   // the PDF's path, resolved against the manifest's directory
	pdfRaw      string
	cohort      string
	studentUUID string // resolved
	cohortUUID  string // resolved
	enrollment  string
	template    string
	name        string

	problem string // why the row cannot be issued, found before anything is sent
}

// The columns a manifest may have, each under any of its names (case, spaces, '-' and '_'
// ignored); other columns are kept but not used.
var manifestColumns = map[string][]string{
	"student":    {"student", "email", "e-mail", "mail", "studentemail", "studentuuid", "studentid"},
	"pdf":        {"pdf", "file", "path", "diploma", "certificate", "pdfpath", "filepath"},
	"cohort":     {"cohort", "cohortuuid", "cohortcode"},
	"enrollment": {"enrollment", "enrollmentuuid"},
	"template":   {"template", "templateuuid"},
	"name":       {"name", "studentname", "fullname"},
}

func normalizeHeader(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	return strings.NewReplacer(" ", "", "_", "", "-", "", ".", "").Replace(h)
}

var (
	uuidRE  = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	emailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

func isUUID(s string) bool { return uuidRE.MatchString(s) }

// sniffComma picks the separator of a CSV from its header line: ';' (Excel in much of Europe),
// a tab, or ','.
func sniffComma(header []byte) rune {
	counts := map[rune]int{}
	inQuote := false
	for _, c := range string(header) {
		switch {
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == ',' || c == ';' || c == '\t'):
			counts[c]++
		}
	}
	best := ','
	for _, c := range []rune{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return best
}

// readManifest reads and checks a manifest. A problem with the file as a whole (no student or
// pdf column, a broken quote) is an error naming the line; a problem with one row is kept on
// the row, so that the others can still go.
func readManifest(path string) (*manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the manifest: %w", err)
	}
	return parseManifest(path, b)
}

func parseManifest(path string, b []byte) (*manifest, error) {
	m := &manifest{path: path}
	if rest, ok := bytes.CutPrefix(b, []byte("\xef\xbb\xbf")); ok {
		b, m.bom = rest, true
	}
	first, _, _ := bytes.Cut(b, []byte("\n"))
	m.comma = sniffComma(first)

	r := csv.NewReader(bytes.NewReader(b))
	r.Comma = m.comma
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, usageErrorf("%s: the manifest is empty: it needs a header line with at least the columns student and pdf", path)
	}
	if err != nil {
		return nil, manifestSyntax(path, err)
	}
	m.header = header
	col := map[string]int{}
	for i, h := range header {
		n := normalizeHeader(h)
		for name, aliases := range manifestColumns {
			for _, al := range aliases {
				if n == normalizeHeader(al) {
					if j, dup := col[name]; dup && j != i {
						return nil, usageErrorf("%s:1: columns %q and %q both give the %s: keep one", path, header[j], h, name)
					}
					col[name] = i
				}
			}
		}
	}
	for _, need := range []string{"student", "pdf"} {
		if _, ok := col[need]; !ok {
			return nil, usageErrorf("%s:1: no %s column in the header %q (separator %q): name one of the columns %s",
				path, need, strings.Join(header, string(m.comma)), string(m.comma), strings.Join(manifestColumns[need][:3], ", "))
		}
	}
	get := func(rec []string, name string) string { return field(col, rec, name) }
	dir := filepath.Dir(path)
	seen := map[string]int{}
	err = eachRecord(r, path, func(line int, rec []string) {
		row := &manifestRow{line: line, record: rec,
			student: get(rec, "student"), pdfRaw: get(rec, "pdf"),
			cohort: get(rec, "cohort"), enrollment: get(rec, "enrollment"), template: get(rec, "template"), name: get(rec, "name")}
		if row.pdfRaw != "" {
			row.pdf = row.pdfRaw
			if !filepath.IsAbs(row.pdf) {
				row.pdf = filepath.Join(dir, row.pdf)
			}
		}
		switch {
		case len(rec) != len(header):
			row.problem = fmt.Sprintf("%d fields, the header has %d (separator %q)", len(rec), len(header), string(m.comma))
		case row.student == "":
			row.problem = "no student (an e-mail address or a student uuid)"
		case !isUUID(row.student) && !emailRE.MatchString(row.student):
			row.problem = fmt.Sprintf("student %q is neither an e-mail address nor a uuid", row.student)
		case row.pdfRaw == "":
			row.problem = "no pdf path"
		case row.enrollment != "" && !isUUID(row.enrollment):
			row.problem = fmt.Sprintf("enrollment %q is not a uuid", row.enrollment)
		case row.template != "" && !isUUID(row.template):
			row.problem = fmt.Sprintf("template %q is not a uuid", row.template)
		}
		key := strings.ToLower(row.student)
		if prev, dup := seen[key]; dup && row.problem == "" {
			row.problem = fmt.Sprintf("student %s is also on line %d: one certificate per graduate", row.student, prev)
		} else if !dup && row.student != "" {
			seen[key] = line
		}
		if row.problem == "" {
			row.problem = checkPDF(row.pdf)
		}
		m.rows = append(m.rows, row)
	})
	if err != nil {
		return nil, err
	}
	if len(m.rows) == 0 {
		return nil, usageErrorf("%s: no graduates after the header line", path)
	}
	return m, nil
}

// eachRecord calls fn with each record after the header and its line in the file, skipping
// blank ones (a spreadsheet's trailing ";;;" lines); a syntax error names the file and line.
func eachRecord(r *csv.Reader, path string, fn func(line int, rec []string)) error {
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return manifestSyntax(path, err)
		}
		if line, _ := r.FieldPos(0); !blank(rec) {
			fn(line, rec)
		}
	}
}

// field is the trimmed value of the named column of rec ("" when the column is absent or short).
func field(col map[string]int, rec []string, name string) string {
	if i, ok := col[name]; ok && i < len(rec) {
		return strings.TrimSpace(rec[i])
	}
	return ""
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// checkPDF says what is wrong with a row's PDF, or "".
func checkPDF(path string) string {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Sprintf("pdf %s does not exist", path)
		}
		return fmt.Sprintf("pdf %s: %v", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return fmt.Sprintf("pdf %s is not a regular file", path)
	}
	head := make([]byte, 5)
	if n, _ := io.ReadFull(bufio.NewReader(f), head); n < 5 || string(head) != "%PDF-" {
		return fmt.Sprintf("pdf %s is not a PDF (it does not start with %%PDF-)", path)
	}
	return ""
}

func manifestSyntax(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return usageErrorf("%s:%d: %v", path, pe.StartLine, pe.Err)
	}
	return usageErrorf("%s: %v", path, err)
}

// writeRows writes rows in the manifest's own format (separator, BOM, header), so that a file
// of failed rows can be fixed and given back as a manifest.
func (m *manifest) writeRows(path string, rows []*manifestRow) error {
	var buf bytes.Buffer
	if m.bom {
		buf.WriteString("\xef\xbb\xbf")
	}
	w := csv.NewWriter(&buf)
	w.Comma = m.comma
	recs := [][]string{m.header}
	for _, r := range rows {
		rec := r.record
		// A relative pdf path is relative to the manifest: keep it valid from the new file.
		if i := m.column("pdf"); i >= 0 && i < len(rec) && r.pdf != "" && !filepath.IsAbs(r.pdfRaw) {
			if rel, err := filepath.Rel(filepath.Dir(path), r.pdf); err == nil {
				rec = append([]string(nil), rec...)
				rec[i] = rel
			}
		}
		recs = append(recs, rec)
	}
	if err := w.WriteAll(recs); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// column is the index of a known column in the header, or -1.
func (m *manifest) column(name string) int {
	for i, h := range m.header {
		n := normalizeHeader(h)
		for _, al := range manifestColumns[name] {
			if n == normalizeHeader(al) {
				return i
			}
		}
	}
	return -1
}
