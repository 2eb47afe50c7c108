"""Azure rules (azure-native 3 type tokens and camelCase inputs), one per file."""
