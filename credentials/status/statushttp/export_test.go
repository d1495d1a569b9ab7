package statushttp

// SetJoinHook makes f call hook each time a Get joins a fetch that another
// Get started, so that a test can wait until every caller is waiting without
// sleeping.
func SetJoinHook(f *Fetcher, hook func()) {
	f.testHookJoin = hook
}
