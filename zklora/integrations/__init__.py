"""Integrations of zkLoRA with training frameworks (imported lazily; they need the
framework installed): `zklora.integrations.transformers.ZkLoraCallback`."""
