package dokstamp

// Ref is an embedded reference to another resource: its UUID and its name (or code, for cohorts).
type Ref struct {
	UUID string `json:"uuid"`
	Name string `json:"name,omitempty"`
	Code string `json:"code,omitempty"`
}
