"""Out-of-tree example op plugins (docs/writing-an-op.md), registered in tests with
`zklora.zkcore.plugins.registry_with`."""
