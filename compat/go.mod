// The client compatibility tests are a module of their own, like e2e/: they
// build ../cmd/twinex with the go command and drive it over HTTP, so they
// import nothing of Twinex and need no replace directive.
module github.com/twinex/twinex/compat

go 1.26.0
