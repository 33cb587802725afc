package lessons

import (
	"fmt"
	"sync"

	"charm.land/glamour/v2"
	"charm.land/glamour/v2/styles"
)

// Style picks a Markdown theme to suit the terminal.
type Style string

const (
	// Dark suits terminals with a dark background.
	Dark Style = Style(styles.DarkStyle)
	// Light suits terminals with a light background.
	Light Style = Style(styles.LightStyle)
)

// Output without colour (NO_COLOR) or without any escape codes (a pipe) is
// made by passing rendered text through a colorprofile writer, which keeps
// glamour's layout; glamour's own plain styles print Markdown markers such
// as **bold** instead.

// Renderer turns lesson Markdown into terminal text. It keeps one glamour
// renderer per style and width, and the text it rendered, because glamour's
// wrapping and highlighting take milliseconds per lesson: going back to a
// lesson, or resizing to a width seen before, is then instant. Renderer is
// safe for concurrent use.
type Renderer struct {
	mu     sync.Mutex
	cache  map[rendererKey]*cachedRenderer
	output map[outputKey]string
}

type outputKey struct {
	rendererKey
	markdown string
}

// maxOutputs bounds the rendered-text cache; a resize sweeps through many
// widths, and the cache starts over when it is full.
const maxOutputs = 256

type rendererKey struct {
	style Style
	width int
}

type cachedRenderer struct {
	mu sync.Mutex // glamour's renderer keeps state while it converts
	tr *glamour.TermRenderer
}

// NewRenderer returns an empty renderer cache.
func NewRenderer() *Renderer {
	return &Renderer{cache: map[rendererKey]*cachedRenderer{}, output: map[outputKey]string{}}
}

// MinWidth is the narrowest text column lessons are wrapped to.
const MinWidth = 20

// Render renders markdown for a text column of width cells.
func (r *Renderer) Render(markdown string, style Style, width int) (string, error) {
	width = max(width, MinWidth)
	key := rendererKey{style, width}
	r.mu.Lock()
	if out, ok := r.output[outputKey{key, markdown}]; ok {
		r.mu.Unlock()
		return out, nil
	}
	cr, ok := r.cache[key]
	if !ok {
		tr, err := glamour.NewTermRenderer(
			glamour.WithStandardStyle(string(style)),
			glamour.WithWordWrap(width),
		)
		if err != nil {
			r.mu.Unlock()
			return "", fmt.Errorf("preparing the Markdown renderer: %w", err)
		}
		cr = &cachedRenderer{tr: tr}
		r.cache[key] = cr
	}
	r.mu.Unlock()

	cr.mu.Lock()
	out, err := cr.tr.Render(markdown)
	cr.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("rendering Markdown: %w", err)
	}
	r.mu.Lock()
	if len(r.output) >= maxOutputs {
		clear(r.output)
	}
	r.output[outputKey{key, markdown}] = out
	r.mu.Unlock()
	return out, nil
}
