"""One module per CLI command: ``add_arguments(parser)`` and ``run(args) -> int``.

Keep module-level imports light (argparse, pathlib); import numpy/pandas/sklearn/bleak
inside ``run``.
"""
