-- Heatmaps (src/heatmap.rs): counts per page, viewport bucket, day and point, added to by the
-- writer with the events they come from (never recomputed from stored events). `selector` is
-- the clicked element's path and (gx, gy) the offset within it in twentieths, or '' and page
-- pixels on a grid; px_sum / py_sum add up page coordinates, whose mean places an element's
-- points when the element is not found. Kinds: click, rage, dead, move, scroll (gy = depth).
CREATE TABLE heatmap_points (
    project_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    bucket TEXT NOT NULL,
    path TEXT NOT NULL,
    day BIGINT NOT NULL,
    selector TEXT NOT NULL,
    gx BIGINT NOT NULL,
    gy BIGINT NOT NULL,
    count BIGINT NOT NULL,
    px_sum BIGINT NOT NULL,
    py_sum BIGINT NOT NULL,
    PRIMARY KEY (project_id, kind, bucket, path, day, selector, gx, gy)
);
-- Per page and bucket, the latest full snapshot (with its Meta) to draw the heatmap on.
CREATE TABLE heatmap_snapshots (
    project_id TEXT NOT NULL,
    path TEXT NOT NULL,
    bucket TEXT NOT NULL,
    session_id TEXT NOT NULL,
    meta_seq BIGINT NOT NULL,
    full_seq BIGINT NOT NULL,
    width BIGINT NOT NULL,
    height BIGINT NOT NULL,
    taken_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, path, bucket)
);
