package lessons

import (
	"fmt"
	"sync"

	"charm.land/glamour/v2"
	"charm.land/glamour/v2/ansi"
	"charm.land/glamour/v2/styles"
)

// Style picks a Markdown theme to suit the terminal.
type Style string

const (
	// Dark suits terminals with a dark background.
	Dark Style = Style(styles.DarkStyle)
	// Light suits terminals with a light background.
	Light Style = Style(styles.LightStyle)
	// NoColor is for output without colours (NO_COLOR) or without any escape
	// codes (a pipe): the dark layout, with inline code between backticks.
	NoColor Style = "k8slab-nocolor"
)

// Output without colour (NO_COLOR) or without any escape codes (a pipe) is
// made by passing text rendered in the NoColor style through a colorprofile
// writer, which keeps glamour's layout; glamour's own plain styles print
// Markdown markers such as **bold** instead.
//
// The dark and light styles pad inline code and first-level headings with a
// space on each side, drawn as a coloured chip; with the colours dropped those
// spaces are stray gaps ("image  shop/api:2.4 ,"), so NoColor marks inline
// code with backticks and drops the heading padding.
func noColorStyle() ansi.StyleConfig {
	cfg := styles.DarkStyleConfig
	cfg.Code = ansi.StyleBlock{StylePrimitive: ansi.StylePrimitive{Prefix: "`", Suffix: "`"}}
	cfg.H1.Prefix, cfg.H1.Suffix = "", ""
	cfg.H1.BackgroundColor = nil
	return cfg
}

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
		styleOpt := glamour.WithStandardStyle(string(style))
		if style == NoColor {
			styleOpt = glamour.WithStyles(noColorStyle())
		}
		tr, err := glamour.NewTermRenderer(styleOpt, glamour.WithWordWrap(width))
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
