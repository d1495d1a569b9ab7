package crossorg

// RenderPolicy exposes renderPolicy to the tests.
var RenderPolicy = renderPolicy
