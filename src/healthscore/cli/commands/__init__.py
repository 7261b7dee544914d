"""The CLI's commands by area; `healthscore.cli.app` registers them. Each parses its options, calls the
`Project` facade and hands the result to `healthscore.cli.render`."""
