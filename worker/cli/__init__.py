"""The `tomecast` command line: one entry point, one module per group of subcommands."""
