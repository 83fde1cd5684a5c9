"""The `linkback` command's groups, one module each: every module's `register` adds its commands to the
parser `linkback_infra.cli.build_parser` makes, next to the functions they run. Heavy modules are
imported only inside the command that needs them, so that `linkback dev --help` stays fast."""
