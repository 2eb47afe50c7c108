"""AWS rules (pulumi-aws 7 type tokens and camelCase inputs), one per file."""
