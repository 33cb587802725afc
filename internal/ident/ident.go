// Package ident is the one rule for names k8slab checks everywhere: ids in
// a course (modules, lessons, quizzes, labs, tasks) and the Kubernetes
// names made from them (namespaces, workshop learners).
package ident

// Valid reports whether id is lowercase kebab-case (letters, digits and
// inner dashes), the form every id in a course takes so that it can be
// typed on a command line and become part of a Kubernetes name. It sets
// no length; see DNSLabel.
//
// It is ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ written out, as no regular
// expression is compiled before a command needs it.
func Valid(id string) bool {
	if id == "" || id[0] == '-' || id[len(id)-1] == '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// DNSLabel reports whether s is a valid RFC 1123 label, the form a
// namespace name takes: Valid and at most 63 characters.
func DNSLabel(s string) bool { return len(s) <= 63 && Valid(s) }
