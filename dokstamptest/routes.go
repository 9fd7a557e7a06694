package dokstamptest

// registerRoutes wires every route of the API, one resource family per file.
func (s *Server) registerRoutes() {
	s.registerAuth()
	s.registerInstitutions()
	s.registerCourses()
	s.registerStudents()
	s.registerPortfolio()
	s.registerFiles()
	s.registerTemplates()
	s.registerCertificates()
	s.registerDocuments()

	s.handle("/", scopePublic, func(c *call) { c.notFound() })
}
