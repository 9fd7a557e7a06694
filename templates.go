package dokstamp

// TemplatesService: work in progress.
type TemplatesService service
