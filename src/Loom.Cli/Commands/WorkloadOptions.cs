using System.CommandLine;
using Loom.Workload;

namespace Loom.Cli.Commands;

/// <summary>Options shared by <c>loom workload</c> and its sweep: the cluster file, training, the batch.</summary>
internal static class WorkloadOptions
{
    public static Option<string?> Cluster() => new("--cluster") { Description = "cluster description (JSON: devices, device peakFlops/memoryBandwidth/memoryBytes, link bandwidth/latency, topology ring|switch|torus2D)" };
    public static Option<string?> TopologyOverride() => new("--topology") { Description = "override the cluster's topology: ring, switch or torus2D" };

    /// <summary>The cluster file (or a default cluster of <paramref name="devices"/>), with the topology given on the command line.</summary>
    public static ClusterSpec LoadCluster(string? path, int devices, string? topology)
    {
        var c = LoadCluster(path, devices);
        if (topology is null) return c;
        return c with
        {
            Topology = topology.ToLowerInvariant() switch
            {
                "ring" => Topology.Ring,
                "switch" => Topology.Switch,
                "torus2d" => Topology.Torus2D,
                _ => throw new InputException($"--topology '{topology}' must be ring, switch or torus2D"),
            },
        };
    }

    public static Option<bool> Train() => new("--train") { Description = "a training step: backward pass, optimizer update, data-parallel gradient all-reduce" };
    public static Option<string> Optimizer() => new("--optimizer") { Description = "sgd, momentum (default) or adam", DefaultValueFactory = _ => "momentum" };

    public static ClusterSpec LoadCluster(string? path, int devices) =>
        path is null ? new ClusterSpec { Name = "default", Devices = devices } : ClusterSpec.Load(path);

    public static OptimizerKind ParseOptimizer(string name) => name.ToLowerInvariant() switch
    {
        "sgd" => OptimizerKind.Sgd,
        "momentum" => OptimizerKind.Momentum,
        "adam" => OptimizerKind.Adam,
        _ => throw new InputException($"--optimizer '{name}' must be sgd, momentum or adam"),
    };

    /// <summary>--dim batch=B is the batch; other --dim values bind the model's other symbols.</summary>
    public static (Dictionary<string, long> Dims, long? Batch) SplitBatch(Dictionary<string, long> dims)
    {
        long? batch = dims.Remove("batch", out var b) ? b : null;
        return (dims, batch);
    }

    /// <summary>Tables as wide as $COLUMNS when output goes to a file or pipe (Spectre assumes 80 there).</summary>
    public static void ConsoleWidth()
    {
        if (Console.IsOutputRedirected && int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out var w) && w >= 40)
            Spectre.Console.AnsiConsole.Profile.Width = w;
    }

    public static string Bytes(double b) => b >= 1 << 30 ? $"{b / (1 << 30):F2} GiB" : b >= 1 << 20 ? $"{b / (1 << 20):F1} MiB" : $"{b / 1024:F1} KiB";
    public static string Time(double s) => s >= 1 ? $"{s:F3} s" : s >= 1e-3 ? $"{s * 1e3:F3} ms" : $"{s * 1e6:F1} µs";
}
