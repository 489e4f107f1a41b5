package resolve

// entities assembles one entity per method family (entity.go).
func (r *resolver) entities() {}
