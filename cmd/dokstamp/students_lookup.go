package main

import (
	"context"

	"github.com/dokstamp/dokstamp-go"
)

// findStudentsByEmail looks up students by e-mail address, in bulk (c.Students.FindByEmails:
// a few listing pages, not one request per student); the map is keyed by the address as given,
// and the addresses not found are absent from it.
func findStudentsByEmail(ctx context.Context, c *dokstamp.Client, emails []string) (map[string]dokstamp.Student, error) {
	if len(emails) == 0 {
		return map[string]dokstamp.Student{}, nil
	}
	return c.Students.FindByEmails(ctx, emails)
}
