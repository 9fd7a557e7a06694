package dokstamp

// ModulesService: work in progress.
type ModulesService service
