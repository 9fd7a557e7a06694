package main

import (
	"context"
	"errors"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/dokstamp/dokstamp-go"
)

// findStudentsByEmail looks up students by e-mail address; the map is keyed by the address as
// given, and the addresses not found are absent from it.
func findStudentsByEmail(ctx context.Context, c *dokstamp.Client, emails []string) (map[string]dokstamp.Student, error) {
	out := map[string]dokstamp.Student{}
	if len(emails) == 0 {
		return out, nil
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	seen := map[string]bool{}
	for _, e := range emails {
		key := strings.ToLower(e)
		if seen[key] {
			continue
		}
		seen[key] = true
		g.Go(func() error {
			st, err := c.Students.FindByEmail(gctx, e)
			if errors.Is(err, dokstamp.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			mu.Lock()
			out[e] = *st
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
