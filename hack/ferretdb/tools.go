//go:build tools

// Package tools pins FerretDB for hack/testbed, which vendors this module and builds
// github.com/FerretDB/FerretDB/cmd/ferretdb from it.
package tools

import _ "github.com/FerretDB/FerretDB/cmd/ferretdb"
