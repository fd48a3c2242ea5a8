module github.com/twinex/twinex

go 1.26
