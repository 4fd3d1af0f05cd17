namespace Loom.Cluster.Postgres;

/// <summary>
/// Loom's own PostgreSQL schema for a cluster: membership (a version row per cluster and a row per silo) and
/// grain state (a row per grain and state name). Created by <c>loom cluster-init</c>; every statement is
/// idempotent, so running it twice is harmless.
/// </summary>
public static class ClusterSchema
{
    /// <summary>Tables whose presence tells a database has been initialised.</summary>
    public const string VersionTable = "loom_cluster_version", SiloTable = "loom_cluster_silo", StateTable = "loom_grain_state";

    public const string Create = $"""
        CREATE TABLE IF NOT EXISTS {VersionTable} (
            cluster_id  text        PRIMARY KEY,
            version     integer     NOT NULL,
            changed_at  timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE IF NOT EXISTS {SiloTable} (
            cluster_id    text        NOT NULL REFERENCES {VersionTable} (cluster_id) ON DELETE CASCADE,
            silo          text        NOT NULL,
            silo_name     text        NOT NULL,
            host_name     text        NOT NULL,
            status        integer     NOT NULL,
            proxy_port    integer     NOT NULL,
            update_zone   integer     NOT NULL,
            fault_zone    integer     NOT NULL,
            suspect_times text        NOT NULL,
            start_time    timestamptz NOT NULL,
            i_am_alive    timestamptz NOT NULL,
            etag          integer     NOT NULL,
            PRIMARY KEY (cluster_id, silo)
        );
        CREATE TABLE IF NOT EXISTS {StateTable} (
            state_name  text        NOT NULL,
            grain_id    text        NOT NULL,
            payload     bytea       NOT NULL,
            version     integer     NOT NULL,
            written_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (state_name, grain_id)
        );
        """;
}
