DROP TABLE heatmap_snapshots;
DROP TABLE heatmap_points;
