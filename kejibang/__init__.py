"""科技帮 (kejibang): the command line, settings and process launcher that tie the rooms together."""
