// Package ident is the one rule for names k8slab checks everywhere: ids in
// a course (modules, lessons, quizzes, labs, tasks) and the Kubernetes
// names made from them (namespaces, workshop learners).
package ident

import "regexp"

var dnsLabelRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// Valid reports whether id is lowercase kebab-case (letters, digits and
// inner dashes), the form every id in a course takes so that it can be
// typed on a command line and become part of a Kubernetes name. It sets
// no length; see DNSLabel.
func Valid(id string) bool { return dnsLabelRE.MatchString(id) }

// DNSLabel reports whether s is a valid RFC 1123 label, the form a
// namespace name takes: Valid and at most 63 characters.
func DNSLabel(s string) bool { return len(s) <= 63 && Valid(s) }
