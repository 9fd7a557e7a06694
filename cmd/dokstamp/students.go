package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dokstamp/dokstamp-go"
)

func newStudentsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "students",
		Aliases: []string{"student"},
		Short:   "Find and import students",
	}
	cmd.AddCommand(newStudentsFindCmd(a), newStudentsImportCmd(a))
	return cmd
}

func studentListing(a *app) *listing {
	if a.table() {
		return &listing{headers: []string{"UUID", "NAME", "EMAIL", "BORN"}}
	}
	return &listing{headers: []string{"uuid", "name", "email", "date_of_birth"}}
}

func newStudentsFindCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "find EMAIL|UUID...",
		Short: "Find students by e-mail address or uuid",
		Long:  "Find students by e-mail address or uuid. Exits 3 when some were not found (they are named on stderr).",
		Args:  minArgs(1, "e-mail addresses or uuids"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.Client()
			if err != nil {
				return err
			}
			var emails []string
			for _, s := range args {
				if !isUUID(s) {
					emails = append(emails, s)
				}
			}
			found, err := findStudentsByEmail(a.ctx, c, emails)
			if err != nil {
				return err
			}
			l := studentListing(a)
			missing := 0
			for _, s := range args {
				var st *dokstamp.Student
				if isUUID(s) {
					st, err = c.Students.Get(a.ctx, s)
					if errors.Is(err, dokstamp.ErrNotFound) {
						err = nil
					}
					if err != nil {
						return err
					}
				} else if f, ok := found[s]; ok {
					st = &f
				}
				if st == nil {
					a.warnf("not found: %s", s)
					missing++
					continue
				}
				l.add(st, st.UUID, st.Name, st.Email, st.DateOfBirth)
			}
			if err := a.print(l, len(args) == 1); err != nil {
				return err
			}
			if missing > 0 {
				return &quietError{code: exitSomeFailed}
			}
			return nil
		},
	}
}

func newStudentsImportCmd(a *app) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Create the students of a CSV file that do not exist yet",
		Long: `Create students from a CSV file with the columns name, email and date_of_birth
(YYYY-MM-DD), and optionally gender and social_name, in any order, separated by ',' or ';'.
A student whose e-mail address already exists is left as it is. Every message names the
line. Exits 3 when some rows failed.`,
		Args: exactArgs(1, "the CSV file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			rows, err := readStudentsCSV(args[0])
			if err != nil {
				return err
			}
			c, err := a.Client()
			if err != nil {
				return err
			}
			var emails []string
			for _, r := range rows {
				if r.problem == "" {
					emails = append(emails, r.p.Email)
				}
			}
			found, err := findStudentsByEmail(a.ctx, c, emails)
			if err != nil {
				return err
			}
			l := &listing{headers: []string{"LINE", "EMAIL", "STATUS", "UUID"}}
			if !a.table() {
				l.headers = []string{"line", "email", "status", "uuid"}
			}
			failed := 0
			for _, r := range rows {
				line := strconv.Itoa(r.line)
				type result struct {
					Line   int    `json:"line"`
					Email  string `json:"email"`
					Status string `json:"status"`
					UUID   string `json:"uuid,omitempty"`
					Error  string `json:"error,omitempty"`
				}
				if r.problem != "" {
					a.warnf("%s:%d: %s", args[0], r.line, r.problem)
					l.add(result{r.line, r.p.Email, "failed", "", r.problem}, line, r.p.Email, "failed", "")
					failed++
					continue
				}
				if st, ok := found[r.p.Email]; ok {
					l.add(result{r.line, r.p.Email, "exists", st.UUID, ""}, line, r.p.Email, "exists", st.UUID)
					continue
				}
				if dryRun {
					l.add(result{r.line, r.p.Email, "would-create", "", ""}, line, r.p.Email, "would-create", "")
					continue
				}
				st, err := c.Students.Create(a.ctx, &r.p)
				if err != nil {
					if errors.Is(err, dokstamp.ErrUnauthorized) || errors.Is(err, dokstamp.ErrForbidden) || a.ctx.Err() != nil {
						return err
					}
					a.warnf("%s:%d: %v", args[0], r.line, err)
					l.add(result{r.line, r.p.Email, "failed", "", err.Error()}, line, r.p.Email, "failed", "")
					failed++
					continue
				}
				found[r.p.Email] = *st
				l.add(result{r.line, r.p.Email, "created", st.UUID, ""}, line, r.p.Email, "created", st.UUID)
			}
			if err := a.print(l, false); err != nil {
				return err
			}
			if failed > 0 {
				return &quietError{code: exitSomeFailed}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check the file and say what would be created, send no write")
	return cmd
}

type studentRow struct {
	line    int
	p       dokstamp.StudentCreateParams
	problem string
}

// readStudentsCSV reads a students file: a header, then one student per line.
func readStudentsCSV(path string) ([]studentRow, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	first, _, _ := bytes.Cut(b, []byte("\n"))
	r := csv.NewReader(bytes.NewReader(b))
	r.Comma = sniffComma(first)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, usageErrorf("%s is empty: it needs a header line name,email,date_of_birth", path)
	}
	if err != nil {
		return nil, manifestSyntax(path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		switch normalizeHeader(h) {
		case "name", "fullname":
			col["name"] = i
		case "email", "e-mail", "mail":
			col["email"] = i
		case "dateofbirth", "birthdate", "dob", "born":
			col["dob"] = i
		case "gender":
			col["gender"] = i
		case "socialname", "preferredname":
			col["social"] = i
		}
	}
	for _, need := range []string{"name", "email", "dob"} {
		if _, ok := col[need]; !ok {
			return nil, usageErrorf("%s:1: the header needs the columns name, email and date_of_birth (got %q)", path, strings.Join(header, string(r.Comma)))
		}
	}
	var rows []studentRow
	err = eachRecord(r, path, func(line int, rec []string) {
		get := func(k string) string { return field(col, rec, k) }
		row := studentRow{line: line, p: dokstamp.StudentCreateParams{Name: get("name"), Email: get("email"),
			DateOfBirth: get("dob"), Gender: get("gender"), SocialName: get("social")}}
		if err := row.p.Validate(); err != nil {
			row.problem = strings.TrimPrefix(err.Error(), "dokstamp: ")
		}
		rows = append(rows, row)
	})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, usageErrorf("%s: no students after the header line", path)
	}
	return rows, nil
}
