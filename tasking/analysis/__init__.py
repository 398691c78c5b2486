"""Pure computations behind directed assignments: time windows (``schedule``) and patrol dosage
from AVL breadcrumbs (``dosage``). No Django imports, so they can be tested and benchmarked alone.
"""
