using Loom.Cluster.Tests.Support;
using Loom.Tests.Support;

namespace Loom.Cluster.Tests;

/// <summary>Settings that cannot work give one clear error naming the setting, host and port — as `loom` processes.</summary>
public class ClusterErrorTests
{
    [Fact]
    public void A_malformed_connection_string_names_the_option()
    {
        var (exit, _, err) = CliRunner.Run("score", "m.txt", "d.csv", "--out", "o.csv", "--cluster", "Host=db;Nonsense Keyword=1");
        Assert.Equal(1, exit);
        Assert.Contains("error: --cluster: not a PostgreSQL connection string", err);
        (exit, _, err) = CliRunner.Run("silo", "--cluster-db", "Port=5432;Database=loom");
        Assert.Equal(1, exit);
        Assert.Contains("error: --cluster-db: the connection string names no Host", err);
    }

    [Fact]
    public void An_unreachable_database_names_host_port_and_database()
    {
        int port = PostgresInstance.FreePort(); // nothing listens there
        var (exit, _, err) = CliRunner.Run("jobs", "--cluster", $"Host=127.0.0.1;Port={port};Database=loomdb;Username=loom;Timeout=3");
        Assert.Equal(1, exit);
        Assert.Contains($"error: --cluster: cannot reach PostgreSQL database 'loomdb' at 127.0.0.1:{port} as 'loom'", err);
        (exit, _, err) = CliRunner.Run("silo", "--cluster-db", $"Host=127.0.0.1;Port={port};Database=loomdb;Username=loom;Timeout=3");
        Assert.Equal(1, exit);
        Assert.Contains($"error: --cluster-db: cannot reach PostgreSQL database 'loomdb' at 127.0.0.1:{port}", err);
    }

    [Fact]
    public void Silo_settings_are_checked_before_starting()
    {
        var (exit, _, err) = CliRunner.Run("silo", "--localhost", "--port", "30000", "--gateway", "30000");
        Assert.Equal(1, exit);
        Assert.Contains("--port and --gateway are both 30000", err);
        (exit, _, err) = CliRunner.Run("silo");
        Assert.Equal(1, exit);
        Assert.Contains("exactly one of --cluster-db CONNSTR and --localhost", err);
        (exit, _, err) = CliRunner.Run("score", "--resume", "j123");
        Assert.Equal(1, exit);
        Assert.Contains("--resume needs --cluster", err);
    }
}
