package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/dokstamp/dokstamp-go"
)

// cliVersion is the module version the binary was built from ("(devel)" in a checkout), or the
// SDK's version.
func cliVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return dokstamp.Version
}

func versionString() string {
	return fmt.Sprintf("dokstamp %s (dokstamp-go %s, %s %s/%s)", cliVersion(), dokstamp.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintln(a.io.out, versionString())
			return err
		},
	}
}
