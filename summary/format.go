package summary

import (
	"strconv"

	"github.com/faultline/faultline/internal/format"
)

// The summary's number formats (internal/format).
var ms, rate, pct, plural = format.Ms, format.Rate, format.Percent, format.Plural

func count(n uint64) string { return strconv.FormatUint(n, 10) }
