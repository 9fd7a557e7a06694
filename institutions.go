package dokstamp

// InstitutionsService: work in progress.
type InstitutionsService service
