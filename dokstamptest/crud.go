package dokstamptest

import (
	"net/http"
	"strconv"
)

// resource describes a standard REST resource: list, create, get, update,
// delete and (optionally) batch destroy, all tenant-scoped.
type resource[P any] struct {
	path string // "/certificates"
	tbl  func(*tenant) *table
	// create validates p and, when v stays ok, returns the new entity built
	// on r (not yet in the table) after applying its side effects.
	create func(c *call, p *P, v *validator, r rec) entity
	// update validates p and, when v stays ok, applies it to e.
	update func(c *call, e entity, p *P, v *validator)
	// blocked returns why the entities in victims cannot be deleted ("" when
	// they can); victims maps uuid -> entity.
	blocked func(t *tenant, victims map[string]entity) string
	// deleted runs after an entity is soft-deleted.
	deleted func(t *tenant, e entity)
	// batch registers DELETE {path}/batch/destroy.
	batch bool
}

func register[P any](s *Server, res resource[P]) {
	s.handle("GET "+res.path, scopeTenant, func(c *call) { s.list(c, res.tbl(c.t), nil) })
	if res.create != nil {
		s.handle("POST "+res.path, scopeTenant, func(c *call) { createResource(s, res, c) })
	}
	s.handle("GET "+res.path+"/{uuid}", scopeTenant, func(c *call) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		e := res.tbl(c.t).get(c.r.PathValue("uuid"))
		if e == nil {
			c.notFound()
			return
		}
		c.data(http.StatusOK, e.view(s))
	})
	if res.update != nil {
		upd := func(c *call) {
			var p P
			if !c.decode(&p) {
				return
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			e := res.tbl(c.t).get(c.r.PathValue("uuid"))
			if e == nil {
				c.notFound()
				return
			}
			var v validator
			res.update(c, e, &p, &v)
			if !v.ok() {
				c.invalid(v.errs)
				return
			}
			e.meta().updated = s.now()
			c.data(http.StatusOK, e.view(s))
		}
		s.handle("PATCH "+res.path+"/{uuid}", scopeTenant, upd)
		s.handle("PUT "+res.path+"/{uuid}", scopeTenant, upd)
	}
	s.handle("DELETE "+res.path+"/{uuid}", scopeTenant, func(c *call) {
		s.mu.Lock()
		defer s.mu.Unlock()
		e := res.tbl(c.t).get(c.r.PathValue("uuid"))
		if e == nil {
			c.notFound()
			return
		}
		if res.blocked != nil {
			if msg := res.blocked(c.t, map[string]entity{e.meta().uuid: e}); msg != "" {
				c.fail(http.StatusUnprocessableEntity, msg)
				return
			}
		}
		s.softDelete(c.t, e, res.deleted)
		c.noContent()
	})
	if res.batch {
		s.handle("DELETE "+res.path+"/batch/destroy", scopeTenant, func(c *call) {
			var p struct {
				UUIDs []string `json:"uuids"`
			}
			if !c.decode(&p) {
				return
			}
			if msg := s.checkBatchUUIDs(c, p.UUIDs); !msg {
				return
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			tb := res.tbl(c.t)
			victims := map[string]entity{}
			for _, u := range p.UUIDs {
				if e := tb.get(u); e != nil {
					victims[e.meta().uuid] = e
				}
			}
			if res.blocked != nil && len(victims) > 0 {
				if msg := res.blocked(c.t, victims); msg != "" {
					c.fail(http.StatusUnprocessableEntity, msg)
					return
				}
			}
			for _, u := range p.UUIDs {
				if e := tb.get(u); e != nil {
					s.softDelete(c.t, e, res.deleted)
				}
			}
			c.noContent()
		})
	}
}

// checkBatchUUIDs validates the uuids of a batch destroy.
func (s *Server) checkBatchUUIDs(c *call, uuids []string) bool {
	var v validator
	switch {
	case len(uuids) == 0:
		v.requiredMsg("uuids")
	case len(uuids) > s.cfg.maxBatch:
		v.add("uuids", "The uuids may not have more than "+strconv.Itoa(s.cfg.maxBatch)+" items.")
	default:
		for i, u := range uuids {
			if !isUUID(u) {
				f := "uuids." + strconv.Itoa(i)
				v.add(f, "The "+f+" must be a valid UUID.")
			}
		}
	}
	if !v.ok() {
		c.invalid(v.errs)
		return false
	}
	return true
}

func (s *Server) softDelete(t *tenant, e entity, after func(*tenant, entity)) {
	now := s.now()
	m := e.meta()
	m.deleted, m.updated = now, now
	if after != nil {
		after(t, e)
	}
}

// referenced reports whether any live entity of tb points at one of
// victims, through the refs function.
func referenced(tb *table, victims map[string]entity, refs func(entity) []entity) bool {
	found := false
	tb.live(func(e entity) {
		if found {
			return
		}
		for _, r := range refs(e) {
			if r != nil {
				if _, ok := victims[r.meta().uuid]; ok {
					found = true
					return
				}
			}
		}
	})
	return found
}

// createResource answers POST {path}: decode outside the lock, validate and
// insert under it, encode after it.
func createResource[P any](s *Server, res resource[P], c *call) {
	var p P
	if !c.decode(&p) {
		return
	}
	var v validator
	s.mu.Lock()
	e := res.create(c, &p, &v, s.newRec(c.t))
	if !v.ok() || e == nil {
		s.mu.Unlock()
		c.invalid(v.errs)
		return
	}
	res.tbl(c.t).add(e)
	out := e.view(s)
	s.mu.Unlock()
	c.data(http.StatusCreated, out)
}

// writeWith decodes the JSON body into a P and, when it decodes, runs fn with
// it under the store's write lock.
func writeWith[P any](s *Server, c *call, fn func(*P)) {
	var p P
	if !c.decode(&p) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(&p)
}
