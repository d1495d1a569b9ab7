package credentials

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// isoDuration accepts the ISO 8601 durations a rate may use: days, hours,
// minutes and seconds (PnDTnHnMnS). Months and years have no fixed length,
// so they are refused rather than guessed.
var isoDuration = regexp.MustCompile(`^P(?:(\d{1,5})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,7})M)?(?:(\d{1,9})S)?)?$`)

// maxDurationSeconds caps a rate period at 366 days.
const maxDurationSeconds = 366 * 86400

// ParseDuration parses an ISO 8601 duration such as "PT1H" or "P1D".
func ParseDuration(s string) (time.Duration, error) {
	m := isoDuration.FindStringSubmatch(s)
	if m == nil || s == "P" || s == "PT" {
		return 0, fmt.Errorf("credentials: %q is not an ISO 8601 duration of days, hours, minutes, seconds", s)
	}
	units := []int64{86400, 3600, 60, 1}
	var secs int64 // the regexp bounds the digits, so this sum cannot overflow
	for i, u := range units {
		if m[i+1] == "" {
			continue
		}
		n, _ := strconv.ParseInt(m[i+1], 10, 64)
		secs += n * u
	}
	if secs <= 0 || secs > maxDurationSeconds {
		return 0, fmt.Errorf("credentials: duration %q must be positive and at most 366 days", s)
	}
	return time.Duration(secs) * time.Second, nil
}
