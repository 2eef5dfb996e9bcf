from . import bench_row
