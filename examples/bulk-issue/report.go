package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dokstamp/dokstamp-go"
)

// Report statuses.
const (
	statusIssued        = "issued"         // issued by this run
	statusAlreadyIssued = "already_issued" // the journal says an earlier run issued it, or the server holds it
	statusFailed        = "failed"         // followed by ": " and the reason
)

// writeReport writes one CSV line per graduate to path (replacing it only
// once complete): student, certificate_uuid, public_verification_url, status.
//
// The journal keeps certificate UUIDs, not verification URLs, so for the
// graduates an earlier run issued the URL comes from the earlier report, or
// else from one listing of the course's certificates (cheaper than one GET
// per certificate); when that fails, the report is written without them and
// a note goes to note.
func writeReport(ctx context.Context, c *dokstamp.Client, path, courseUUID string, rows []row, rep *dokstamp.BatchReport, note io.Writer) error {
	urls := previousURLs(path)
	listed := false
	lines := [][]string{{"student", "certificate_uuid", "public_verification_url", "status"}}
	for i, r := range rows {
		res := rep.Results[i]
		var certUUID, url, status string
		if cert := res.Certificate; cert != nil {
			certUUID, url = cert.UUID, cert.PublicVerificationURL
		}
		switch {
		case res.Err != nil:
			status = statusFailed + ": " + res.Err.Error()
		case res.Skipped, res.AlreadyIssued:
			status = statusAlreadyIssued
		default:
			status = statusIssued
		}
		if certUUID != "" && url == "" {
			url = urls[certUUID]
			if url == "" && !listed {
				listed = true
				if err := listURLs(ctx, c, courseUUID, urls); err != nil {
					// The report is worth more than the missing URLs.
					fmt.Fprintf(note, "Note: some verification URLs are missing from the report: list the course's certificates: %v\n", err)
				}
				url = urls[certUUID]
			}
		}
		lines = append(lines, []string{r.student, certUUID, url, status})
	}

	tmp, err := os.CreateTemp(filepath.Dir(path), ".report-*.csv")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := csv.NewWriter(tmp)
	_ = w.WriteAll(lines)
	if err := w.Error(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// previousURLs reads certificate_uuid -> public_verification_url from an
// earlier report at path; a missing or unreadable report gives none.
func previousURLs(path string) map[string]string {
	urls := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return urls
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) == 0 {
		return urls
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	ci, ok1 := col["certificate_uuid"]
	ui, ok2 := col["public_verification_url"]
	if !ok1 || !ok2 {
		return urls
	}
	for _, rec := range recs[1:] {
		if ci < len(rec) && ui < len(rec) && rec[ci] != "" && rec[ui] != "" {
			urls[rec[ci]] = rec[ui]
		}
	}
	return urls
}

// listURLs adds the verification URL of every certificate of the course.
func listURLs(ctx context.Context, c *dokstamp.Client, courseUUID string, urls map[string]string) error {
	opts := &dokstamp.ListOptions{PerPage: 500, Where: map[string]string{"course_uuid": courseUUID}}
	for cert, err := range c.Certificates.All(ctx, opts) {
		if err != nil {
			return err
		}
		if cert.PublicVerificationURL != "" {
			urls[cert.UUID] = cert.PublicVerificationURL
		}
	}
	return nil
}
