// Package assets embeds the built-in course, so the k8slab binary needs no
// files beside it.
package assets

import (
	"embed"
	"io/fs"
)

//go:embed course
var files embed.FS

// Course returns the built-in course folder.
func Course() fs.FS {
	sub, err := fs.Sub(files, "course")
	if err != nil {
		panic(err) // the embed directive above guarantees the folder exists
	}
	return sub
}
