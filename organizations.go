package dokstamp

// OrganizationsService: work in progress.
type OrganizationsService service
