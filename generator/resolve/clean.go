package resolve

// clean drops placeholder rows and non-literal enum values (clean.go).
func (r *resolver) clean() {}
