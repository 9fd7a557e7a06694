package main

import (
	"github.com/spf13/cobra"
)

func newAPICmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "api METHOD PATH",
		Short: "Call any route of the API (the raw escape hatch)",
		Args:  exactArgs(2, "the method and the path"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErrorf("not available yet")
		},
	}
}
