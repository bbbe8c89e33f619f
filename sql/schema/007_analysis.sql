-- Analysis for analysts (issue #5, docs/analysis.md): method comparison, rank uncertainty and
-- sensitivity, statistical coherence, trends, strengths and weaknesses, backfills. Each table is
-- rewritten per (year, level) by its Dagster asset (group "analysis") or `dti … --store`.

-- Method comparison: every unit's total, rank and class under each scenario
-- (method setting | missing rule), against the reference scenario (the preset's nominal one).
CREATE TABLE IF NOT EXISTS method_comparison (
    year                INTEGER NOT NULL,
    level               VARCHAR NOT NULL,
    scenario            VARCHAR NOT NULL,   -- e.g. minmax:observed|zero, zscore:rescaled|mean
    setting             VARCHAR NOT NULL,   -- points | minmax:observed | … | zscore:rescaled
    method              VARCHAR NOT NULL,
    missing             VARCHAR NOT NULL,   -- zero | exclude | mean
    group_id            VARCHAR NOT NULL,
    unit_id             VARCHAR NOT NULL,
    points              DOUBLE NOT NULL,
    ratio               DOUBLE,
    rank                INTEGER NOT NULL,
    class_label         VARCHAR,
    reference_scenario  VARCHAR NOT NULL,
    reference_rank      INTEGER NOT NULL,
    reference_class     VARCHAR,
    rank_shift          INTEGER NOT NULL,   -- reference rank − rank: positive = better here
    class_changed       BOOLEAN NOT NULL,
    PRIMARY KEY (year, level, scenario, unit_id)
);

-- Rank correlations between scenarios, per comparison group ('*': size-weighted mean).
CREATE TABLE IF NOT EXISTS method_correlations (
    year        INTEGER NOT NULL,
    level       VARCHAR NOT NULL,
    group_id    VARCHAR NOT NULL,
    scenario_a  VARCHAR NOT NULL,
    scenario_b  VARCHAR NOT NULL,
    n_units     INTEGER NOT NULL,
    spearman    DOUBLE,
    spearman_p  DOUBLE,
    kendall     DOUBLE,                     -- Kendall's tau-b
    kendall_p   DOUBLE,
    PRIMARY KEY (year, level, group_id, scenario_a, scenario_b)
);

-- Monte Carlo runs: seed and every parameter, so any run can be replayed.
CREATE TABLE IF NOT EXISTS uncertainty_runs (
    run_id            VARCHAR PRIMARY KEY,  -- hash of source, year, level, framework, parameters
    year              INTEGER,
    level             VARCHAR NOT NULL,
    source            VARCHAR NOT NULL,     -- warehouse:<preset> | files:<iMeta>+<iData>
    seed              BIGINT NOT NULL,
    noise             DOUBLE NOT NULL,      -- weights × (1 + U(−noise, +noise))
    n_replications    INTEGER NOT NULL,
    params_json       VARCHAR NOT NULL,     -- settings, missing rules, factors, noisy nodes …
    nominal           VARCHAR NOT NULL,     -- the nominal scenario
    seconds           DOUBLE NOT NULL,
    replications_per_second DOUBLE NOT NULL,
    created_at        TIMESTAMP NOT NULL
);

-- The sampled parameters of every replication (replay with `dti uncertainty --replay`).
CREATE TABLE IF NOT EXISTS uncertainty_replications (
    run_id               VARCHAR NOT NULL,
    replication_id       INTEGER NOT NULL,
    block                VARCHAR NOT NULL,  -- A | B | AB:<factor> (Saltelli) | mc
    base_index           INTEGER NOT NULL,
    setting              VARCHAR NOT NULL,
    missing              VARCHAR NOT NULL,
    weight_multipliers   DOUBLE[] NOT NULL, -- one per noisy node, in the run's node order
    mean_abs_rank_shift  DOUBLE NOT NULL,
    PRIMARY KEY (run_id, replication_id)
);

-- Per unit: nominal rank and the distribution of its rank over the replications
-- (the public report draws the 5–95 % interval from these columns when the year has rows).
CREATE TABLE IF NOT EXISTS rank_uncertainty (
    year            INTEGER NOT NULL,
    level           VARCHAR NOT NULL,
    unit_id         VARCHAR NOT NULL,
    group_id        VARCHAR NOT NULL,
    nominal_rank    INTEGER NOT NULL,
    median_rank     DOUBLE NOT NULL,
    p05_rank        DOUBLE NOT NULL,
    p95_rank        DOUBLE NOT NULL,
    mean_rank       DOUBLE NOT NULL,
    min_rank        INTEGER NOT NULL,
    max_rank        INTEGER NOT NULL,
    interval_width  DOUBLE NOT NULL,        -- p95 − p05
    group_size      INTEGER NOT NULL,
    run_id          VARCHAR NOT NULL,
    PRIMARY KEY (year, level, unit_id)
);

-- Variance-based sensitivity indices (first order: Saltelli 2010; total: Jansen) per factor, for
-- the mean absolute rank shift (target 'mean_abs_rank_shift') and each unit's rank (target = id).
CREATE TABLE IF NOT EXISTS sensitivity_indices (
    run_id       VARCHAR NOT NULL,
    year         INTEGER,
    level        VARCHAR NOT NULL,
    target       VARCHAR NOT NULL,
    factor       VARCHAR NOT NULL,          -- method | missing | weights
    first_order  DOUBLE,
    total        DOUBLE,
    variance     DOUBLE NOT NULL,
    PRIMARY KEY (run_id, target, factor)
);

-- Statistical coherence.
CREATE TABLE IF NOT EXISTS coherence_alpha (
    year        INTEGER NOT NULL,
    level       VARCHAR NOT NULL,
    method      VARCHAR NOT NULL,           -- the scenario scored (nominal)
    node_id     VARCHAR NOT NULL,
    node_level  VARCHAR NOT NULL,
    n_children  INTEGER NOT NULL,
    n_units     INTEGER NOT NULL,
    alpha       DOUBLE,                     -- Cronbach's alpha over the node's children
    PRIMARY KEY (year, level, node_id)
);

CREATE TABLE IF NOT EXISTS coherence_correlations (
    year          INTEGER NOT NULL,
    level         VARCHAR NOT NULL,
    method        VARCHAR NOT NULL,
    kind          VARCHAR NOT NULL,         -- parent (node ~ its parent) | siblings (pair)
    parent_id     VARCHAR NOT NULL,
    node_a        VARCHAR NOT NULL,
    node_b        VARCHAR NOT NULL,         -- the parent, for kind = parent
    r             DOUBLE,                   -- Pearson
    p_value       DOUBLE,
    spearman      DOUBLE,
    significant   BOOLEAN,                  -- p < 0.05
    negative      BOOLEAN NOT NULL,         -- r < 0
    redundant     BOOLEAN NOT NULL,         -- siblings with r > 0.9
    PRIMARY KEY (year, level, kind, parent_id, node_a, node_b)
);

CREATE TABLE IF NOT EXISTS indicator_outliers (
    year              INTEGER NOT NULL,
    level             VARCHAR NOT NULL,
    node_id           VARCHAR NOT NULL,
    n_values          INTEGER NOT NULL,
    skew              DOUBLE,               -- e1071 type 2 (COINr skew())
    kurtosis          DOUBLE,               -- excess, e1071 type 2 (COINr kurt())
    flagged           BOOLEAN NOT NULL,     -- |skew| > 2 and kurtosis > 3.5
    n_winsorised      INTEGER NOT NULL,
    treated_skew      DOUBLE,
    treated_kurtosis  DOUBLE,
    still_flagged     BOOLEAN,
    PRIMARY KEY (year, level, node_id)
);

-- Values changed by the optional winsorisation: recorded, never applied silently.
CREATE TABLE IF NOT EXISTS winsorised_values (
    year      INTEGER NOT NULL,
    level     VARCHAR NOT NULL,
    unit_id   VARCHAR NOT NULL,
    node_id   VARCHAR NOT NULL,
    original  DOUBLE NOT NULL,
    treated   DOUBLE NOT NULL,
    side      VARCHAR NOT NULL,             -- high | low
    PRIMARY KEY (year, level, unit_id, node_id)
);

-- Trends, from each year's latest snapshot of the method.
CREATE TABLE IF NOT EXISTS score_trends (
    year_to            INTEGER NOT NULL,
    year_from          INTEGER NOT NULL,
    level              VARCHAR NOT NULL,
    method             VARCHAR NOT NULL,
    group_id           VARCHAR NOT NULL,
    unit_id            VARCHAR NOT NULL,
    node_id            VARCHAR NOT NULL,
    node_level         VARCHAR NOT NULL,
    points_before      DOUBLE,
    points             DOUBLE NOT NULL,
    points_change      DOUBLE,
    ratio_before       DOUBLE,
    ratio              DOUBLE,
    ratio_change       DOUBLE,
    rank_before        INTEGER,
    rank               INTEGER NOT NULL,
    rank_change        INTEGER,             -- previous rank − rank: positive = moved up
    framework_changed  BOOLEAN NOT NULL,
    via_lineage        BOOLEAN NOT NULL,    -- the earlier year is the successor grouping's
    PRIMARY KEY (year_to, level, method, unit_id, node_id)
);

CREATE TABLE IF NOT EXISTS score_growth (
    up_to_year         INTEGER NOT NULL,
    level              VARCHAR NOT NULL,
    method             VARCHAR NOT NULL,
    unit_id            VARCHAR NOT NULL,
    node_id            VARCHAR NOT NULL,
    node_level         VARCHAR NOT NULL,
    first_year         INTEGER NOT NULL,
    last_year          INTEGER NOT NULL,
    n_years            INTEGER NOT NULL,
    first_ratio        DOUBLE,
    last_ratio         DOUBLE,
    cagr               DOUBLE,              -- (last / first)^(1 / years) − 1 of the ratio
    first_rank         INTEGER,
    last_rank          INTEGER,
    framework_changed  BOOLEAN NOT NULL,
    via_lineage        BOOLEAN NOT NULL,
    PRIMARY KEY (up_to_year, level, method, unit_id, node_id)
);

CREATE TABLE IF NOT EXISTS trend_warnings (
    year_to    INTEGER NOT NULL,
    year_from  INTEGER NOT NULL,
    level      VARCHAR NOT NULL,
    method     VARCHAR NOT NULL,
    kind       VARCHAR NOT NULL,            -- framework_changed | gap | merged | ended
    message    VARCHAR NOT NULL
);

-- Strengths and weaknesses: per unit, the components furthest above and below its group.
CREATE TABLE IF NOT EXISTS unit_strengths (
    year              INTEGER NOT NULL,
    level             VARCHAR NOT NULL,
    method            VARCHAR NOT NULL,
    group_id          VARCHAR NOT NULL,
    unit_id           VARCHAR NOT NULL,
    kind              VARCHAR NOT NULL,     -- strength | weakness
    position          INTEGER NOT NULL,     -- 1 = furthest from the group mean
    node_id           VARCHAR NOT NULL,
    points            DOUBLE NOT NULL,
    max_points        DOUBLE NOT NULL,
    ratio             DOUBLE NOT NULL,
    group_mean_ratio  DOUBLE NOT NULL,
    difference        DOUBLE NOT NULL,      -- ratio − group mean ratio
    z                 DOUBLE,
    PRIMARY KEY (year, level, unit_id, kind, position)
);

-- Snapshots written by `dti backfill` (one framework for every year); never updates snapshots.
CREATE TABLE IF NOT EXISTS backfill_runs (
    snapshot_id           VARCHAR NOT NULL,
    year                  INTEGER NOT NULL,
    level                 VARCHAR NOT NULL,
    method                VARCHAR NOT NULL,
    framework_id          VARCHAR NOT NULL,
    framework_version     VARCHAR NOT NULL,
    framework_hash        VARCHAR NOT NULL,
    framework_origin      VARCHAR NOT NULL,
    n_units               INTEGER NOT NULL,
    absent_leaves         INTEGER NOT NULL,
    unmatched_indicators  INTEGER NOT NULL,
    created               BOOLEAN NOT NULL,  -- false: the snapshot existed and was left alone
    published             BOOLEAN NOT NULL,
    requested_at          TIMESTAMP NOT NULL
);
