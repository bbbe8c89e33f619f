-- An officer's explicit acceptance to publish a snapshot whose framework has components that are
-- not from the decision (source: assumed). `dti publish` refuses such a snapshot without one;
-- the published pages show who accepted, when and why.
CREATE TABLE IF NOT EXISTS assumed_acceptances (
    snapshot_id   VARCHAR PRIMARY KEY,
    n_assumed     INTEGER NOT NULL,   -- components marked assumed in the snapshot's framework
    n_components  INTEGER NOT NULL,
    accepted_by   VARCHAR NOT NULL,
    reason        VARCHAR NOT NULL,
    accepted_at   TIMESTAMP NOT NULL  -- UTC
);
