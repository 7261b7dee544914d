"""The compute engine: the only package that imports ibis."""
