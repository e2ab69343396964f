package bench

// chart is one rendered SVG and what it shows.
type chart struct {
	svg     string
	caption string
}

func (r *Report) charts() []chart { return nil }
