package load

// ParseStat is parseStat, for the tests.
var ParseStat = parseStat
